/**
 * Port 0x80, the POST diagnostic port: every byte written is recorded (up to `limit` entries; the
 * count of all writes is kept) and handed to an optional listener. Reads return the last value
 * written, as POST cards latch it. Linux also writes here as an I/O delay.
 */
import type { IoPortBus, PortHandler } from '../io-bus.ts';

export class PostCodePort implements PortHandler {
  readonly codes: number[] = [];
  total = 0;
  last = 0xff;
  onCode: ((code: number) => void) | null = null;

  constructor(readonly limit = 65536) {}

  attach(io: IoPortBus, port = 0x80): void {
    io.register(port, 1, this, 'post');
  }

  read8(): number {
    return this.last;
  }

  write8(_port: number, value: number): void {
    this.last = value;
    this.total++;
    if (this.codes.length < this.limit) this.codes.push(value);
    this.onCode?.(value);
  }
}
