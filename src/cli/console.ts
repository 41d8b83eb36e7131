/**
 * The host side of `--serial stdio`: stdin → the guest's COM1 receive queue.
 *
 * On a terminal, stdin is switched to raw mode so every key reaches the guest (Ctrl-C included),
 * and QEMU's escape prefix applies: Ctrl-A X quits, Ctrl-A H prints help, Ctrl-A Ctrl-A sends a
 * literal Ctrl-A. Piped stdin is passed through untouched, with backpressure: it is held in a
 * bounded queue the run loop drains (`takeQueued`) as the guest's UART has room, and stdin is
 * paused while the queue is full — `yes | traplab run …` keeps a fixed amount of memory.
 */

const CTRL_A = 0x01;
/** Piped input held at most (stdin is paused above it; the pipe then blocks the writer). */
export const INPUT_QUEUE_HIGH = 256 * 1024;

export interface ConsoleEvents {
  /** Bytes for the guest. */
  input(bytes: Uint8Array): void;
  /** The user asked to quit (Ctrl-A X). */
  quit(): void;
  /** Text for the user (Ctrl-A H). */
  notice(text: string): void;
  /** Ctrl-A 0–9: send the keyboard to that VM's console. */
  select(vm: number): void;
}

export class HostConsole {
  readonly isTty: boolean;
  private escape = false;
  private ended = false;
  private started = false;
  private waiters: (() => void)[] = [];
  /** Piped input not yet taken by the run loop, oldest first; `queueHead` bytes of [0] are gone. */
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private paused = false;
  private readonly onData = (chunk: Buffer) => this.handle(chunk);
  private readonly onEnd = () => {
    this.ended = true;
    this.wake();
  };

  constructor(
    private readonly stdin: NodeJS.ReadStream,
    private readonly events: ConsoleEvents,
  ) {
    this.isTty = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  }

  /** True when no more input can ever arrive (piped stdin reached EOF and its queue is empty). */
  get closed(): boolean {
    return this.ended && this.queuedBytes === 0;
  }

  /** Stdin reached its end (queued input may remain). */
  get eof(): boolean {
    return this.ended;
  }

  /** Piped input waiting for the guest. */
  get queued(): number {
    return this.queuedBytes;
  }

  /** Take up to `max` bytes of piped input (resuming stdin once the queue has room again). */
  takeQueued(max: number): Uint8Array {
    const n = Math.min(max, this.queuedBytes);
    const out = new Uint8Array(Math.max(0, n));
    let o = 0;
    while (o < n) {
      const c = this.queue[0];
      const k = Math.min(n - o, c.length - this.queueHead);
      out.set(c.subarray(this.queueHead, this.queueHead + k), o);
      o += k;
      this.queueHead += k;
      if (this.queueHead === c.length) {
        this.queue.shift();
        this.queueHead = 0;
      }
    }
    this.queuedBytes -= n;
    if (this.paused && this.started && this.queuedBytes < INPUT_QUEUE_HIGH / 2) {
      this.paused = false;
      this.stdin.resume();
    }
    return out;
  }

  /** Wake a pending waitForInput (a signal arrived: the run loop must look at it). */
  interrupt(): void {
    this.wake();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.isTty) this.stdin.setRawMode(true);
    this.stdin.on('data', this.onData);
    this.stdin.on('end', this.onEnd);
    this.stdin.on('error', this.onEnd);
    this.stdin.resume();
  }

  /** Restore the terminal and let the process exit. Safe to call twice. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.stdin.off('data', this.onData);
    this.stdin.off('end', this.onEnd);
    this.stdin.off('error', this.onEnd);
    if (this.isTty) this.stdin.setRawMode(false);
    this.stdin.pause();
    this.stdin.unref?.();
    this.wake();
  }

  /** Resolves at the next input (or EOF/quit). */
  waitForInput(): Promise<void> {
    if (this.ended || !this.started) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private handle(chunk: Buffer): void {
    if (!this.isTty) {
      this.queue.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice());
      this.queuedBytes += chunk.byteLength;
      if (this.queuedBytes >= INPUT_QUEUE_HIGH && !this.paused) {
        this.paused = true;
        this.stdin.pause();
      }
      this.wake();
      return;
    }
    const out: number[] = [];
    for (const b of chunk) {
      if (this.escape) {
        this.escape = false;
        const c = String.fromCharCode(b).toLowerCase();
        if (c === 'x') {
          this.flush(out);
          this.events.quit();
          this.wake();
          return;
        }
        if (b === CTRL_A) {
          out.push(CTRL_A);
          continue;
        }
        // Keep the order of what the user typed: deliver the keys before the command's effect.
        this.flush(out);
        out.length = 0;
        if (c === 'h' || c === '?') this.events.notice(ESCAPE_HELP);
        else if (c >= '0' && c <= '9') this.events.select(b - 0x30);
        // Other keys after Ctrl-A are swallowed, as QEMU does.
        continue;
      }
      if (b === CTRL_A) this.escape = true;
      else out.push(b);
    }
    this.flush(out);
    this.wake();
  }

  private flush(out: number[]): void {
    if (out.length > 0) this.events.input(Uint8Array.from(out));
  }
}

export const ESCAPE_HELP =
  '\r\nC-a h    print this help\r\nC-a x    exit traplab\r\nC-a C-a  send C-a to the guest\r\n' +
  "C-a 0-9  type into that VM's console (with --vms N)\r\n";
