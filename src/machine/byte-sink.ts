/**
 * Collects bytes a device emits (serial output, debug console) until the host takes them, and
 * forwards each byte to an optional listener. Bounded: beyond `capacity` untaken bytes the oldest
 * are dropped (and counted), so a chatty guest with no reader cannot exhaust memory.
 */
export class ByteSink {
  private buf: Uint8Array;
  private length = 0;
  /** Bytes ever written. */
  total = 0;
  /** Bytes dropped because nobody took them in time. */
  dropped = 0;
  /** Called for every byte, in addition to buffering. */
  listener: ((byte: number) => void) | null = null;

  constructor(readonly capacity = 1 << 24) {
    this.buf = new Uint8Array(Math.min(4096, capacity));
  }

  push(byte: number): void {
    this.total++;
    if (this.length === this.buf.length) {
      if (this.buf.length < this.capacity) {
        const next = new Uint8Array(Math.min(this.capacity, this.buf.length * 2));
        next.set(this.buf);
        this.buf = next;
      } else {
        const drop = this.buf.length >>> 2;
        this.buf.copyWithin(0, drop, this.length);
        this.length -= drop;
        this.dropped += drop;
      }
    }
    this.buf[this.length++] = byte;
    this.listener?.(byte);
  }

  /** Bytes written since the last take (a fresh copy), and forget them. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.length);
    this.length = 0;
    return out;
  }

  /** Untaken bytes without consuming them. */
  peek(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** Untaken bytes decoded as UTF-8 (without consuming them). */
  text(): string {
    return new TextDecoder().decode(this.peek());
  }
}
