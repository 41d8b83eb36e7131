/**
 * Intel 8254 programmable interval timer (datasheet: Intel 8254, order 231164), ports 0x40–0x43,
 * clocked at 1.193182 MHz. Channel 0's OUT drives IRQ 0; channel 2's GATE and OUT are wired to
 * port 0x61 (see `SystemControlPortB`); channel 1 (DRAM refresh on old PCs) counts but drives nothing.
 *
 * The counters are evaluated lazily from virtual time: each channel remembers the PIT clock at which
 * its current count started, and reads compute the counter and OUT from the elapsed clocks. The only
 * scheduled event is channel 0's next OUT rising edge (the IRQ 0 edge).
 *
 * Modes 0–5 are implemented (6 and 7 alias 2 and 3), binary and BCD counting, lobyte / hibyte /
 * lobyte-then-hibyte access, the counter-latch command and the read-back command (count and status).
 * Simplifications, all deterministic: a new count takes effect when written (the datasheet loads it
 * on the next CLK, and in modes 2/3 only at the end of the current period); the mode-3 counter
 * sequence for odd counts follows the datasheet (N-1, N-3, … per half period).
 */
import { type Clock, cyclesToTicks, type Timer, ticksToCycles } from '../clock.ts';
import type { IoPortBus, PortHandler } from '../io-bus.ts';
import type { IrqLine } from './irq.ts';

export const PIT_HZ = 1_193_182;

const INF = Number.POSITIVE_INFINITY;

function toBcd(v: number): number {
  return (
    (v % 10) |
    ((Math.floor(v / 10) % 10) << 4) |
    ((Math.floor(v / 100) % 10) << 8) |
    ((Math.floor(v / 1000) % 10) << 12)
  );
}
function fromBcd(v: number): number {
  return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 + ((v >> 12) & 0xf) * 1000;
}

export class PitChannel {
  mode = 0;
  /** Access mode from the control word: 1 lobyte, 2 hibyte, 3 lobyte then hibyte. */
  access = 3;
  bcd = false;
  /** The initial count N as a number of clocks (1…65536, or 1…10000 in BCD). */
  reload = 0x10000;
  /** A count has been written since the last control word. */
  armed = false;
  /** Modes 1 and 5: a gate rising edge has started the count. */
  triggered = false;
  gate: boolean;
  /** Counting: elapsed = now - start; otherwise elapsed is frozen at `pausedElapsed`. */
  running = false;
  start = 0;
  pausedElapsed = 0;
  /** PIT clock at which the last count/control word was written (null-count flag). */
  writeClock = -1;
  // Latches and flip-flops.
  latchedCount: number | null = null;
  latchedStatus: number | null = null;
  readHigh = false;
  writeHigh = false;
  lowByte = 0;

  constructor(
    readonly index: number,
    gate: boolean,
  ) {
    this.gate = gate;
  }

  private get modulus(): number {
    return this.bcd ? 10000 : 0x10000;
  }

  private elapsed(now: number): number {
    return this.running ? now - this.start : this.pausedElapsed;
  }

  /** Counter value at PIT clock `now` (0…modulus-1; 0 also stands for the full count). */
  count(now: number): number {
    if (!this.armed) return 0;
    const n = this.reload;
    const m = this.modulus;
    const e = this.elapsed(now);
    switch (this.mode) {
      case 1:
      case 5:
        if (!this.triggered) return n % m;
        return (((n - e) % m) + m) % m;
      case 2: {
        return n - (e % n);
      }
      case 3: {
        const p = e % n;
        const h = Math.ceil(n / 2);
        if (n % 2 === 0) return p < h ? 2 * (h - p) : 2 * (n - p);
        return p < h ? n - 1 - 2 * p : n - 1 - 2 * (p - h);
      }
      default: // 0, 4
        return (((n - e) % m) + m) % m;
    }
  }

  /** OUT at PIT clock `now`. */
  out(now: number): boolean {
    switch (this.mode) {
      case 0:
        return this.armed && this.elapsed(now) >= this.reload;
      case 1:
        return !(this.armed && this.triggered && this.elapsed(now) < this.reload);
      case 2:
        if (!this.armed || !this.gate) return true;
        return this.elapsed(now) % this.reload !== this.reload - 1;
      case 3:
        if (!this.armed || !this.gate) return true;
        return this.elapsed(now) % this.reload < Math.ceil(this.reload / 2);
      case 4:
        return !(this.armed && this.elapsed(now) === this.reload);
      default: // 5
        return !(this.armed && this.triggered && this.elapsed(now) === this.reload);
    }
  }

  /** The first PIT clock > `now` at which OUT rises, or Infinity. */
  nextRisingEdge(now: number): number {
    if (!this.armed || !this.running) return INF;
    const n = this.reload;
    const e = Math.max(0, now - this.start);
    switch (this.mode) {
      case 0:
      case 1:
        if (this.mode === 1 && !this.triggered) return INF;
        return e < n ? this.start + n : INF;
      case 2:
      case 3:
        return this.start + (Math.floor(e / n) + 1) * n;
      default: // 4, 5: OUT low for the one clock at count 0, high again one clock later
        if (this.mode === 5 && !this.triggered) return INF;
        return e < n + 1 ? this.start + n + 1 : INF;
    }
  }

  status(now: number): number {
    const nullCount = this.writeClock >= now || (this.armed === false && this.writeClock >= 0) ? 0x40 : 0;
    return (
      (this.out(now) ? 0x80 : 0) | nullCount | (this.access << 4) | (this.mode << 1) | (this.bcd ? 1 : 0)
    );
  }

  latch(now: number): void {
    if (this.latchedCount === null) this.latchedCount = this.readValue(now);
  }

  private readValue(now: number): number {
    const c = this.count(now);
    return this.bcd ? toBcd(c) : c & 0xffff;
  }

  control(value: number, now: number): void {
    this.access = (value >> 4) & 3;
    let mode = (value >> 1) & 7;
    if (mode > 5) mode -= 4;
    this.mode = mode;
    this.bcd = (value & 1) !== 0;
    this.armed = false;
    this.triggered = false;
    this.running = false;
    this.pausedElapsed = 0;
    this.latchedCount = null;
    this.latchedStatus = null;
    this.readHigh = false;
    this.writeHigh = false;
    this.writeClock = now;
  }

  readByte(now: number): number {
    if (this.latchedStatus !== null) {
      const s = this.latchedStatus;
      this.latchedStatus = null;
      return s;
    }
    const latched = this.latchedCount !== null;
    const v = latched ? (this.latchedCount as number) : this.readValue(now);
    let byte: number;
    let done = true;
    if (this.access === 1) byte = v & 0xff;
    else if (this.access === 2) byte = v >> 8;
    else if (!this.readHigh) {
      byte = v & 0xff;
      this.readHigh = true;
      done = false;
    } else {
      byte = v >> 8;
      this.readHigh = false;
    }
    if (latched && done) this.latchedCount = null;
    return byte;
  }

  /** Returns true when a full count was written. */
  writeByte(value: number, now: number): boolean {
    let raw: number;
    if (this.access === 1) raw = value;
    else if (this.access === 2) raw = value << 8;
    else if (!this.writeHigh) {
      this.lowByte = value;
      this.writeHigh = true;
      if (this.mode === 0 && this.armed) {
        // Mode 0: writing the first byte stops the current count (datasheet, mode 0).
        this.pausedElapsed = this.elapsed(now);
        this.running = false;
        this.armed = false;
      }
      return false;
    } else {
      raw = this.lowByte | (value << 8);
      this.writeHigh = false;
    }
    let n = this.bcd ? fromBcd(raw) : raw;
    if (n === 0) n = this.modulus;
    this.reload = n;
    this.writeClock = now;
    this.armed = true;
    switch (this.mode) {
      case 1:
      case 5:
        // Wait for a gate trigger; a count in progress continues with the old value until then.
        if (!this.triggered) this.running = false;
        break;
      case 0:
      case 4:
        this.start = now;
        this.pausedElapsed = 0;
        this.running = this.gate;
        break;
      default: // 2, 3
        this.start = now;
        this.pausedElapsed = 0;
        this.running = this.gate;
    }
    return true;
  }

  setGate(level: boolean, now: number): void {
    if (level === this.gate) return;
    this.gate = level;
    switch (this.mode) {
      case 1:
      case 5:
        if (level && this.armed) {
          this.triggered = true;
          this.running = true;
          this.start = now;
        }
        break;
      case 0:
      case 4:
        if (!this.armed) break;
        if (level) {
          this.start = now - this.pausedElapsed;
          this.running = true;
        } else {
          this.pausedElapsed = this.elapsed(now);
          this.running = false;
        }
        break;
      default: // 2, 3: gate low forces OUT high and stops; the rising edge reloads
        if (!this.armed) break;
        if (level) {
          this.start = now;
          this.running = true;
        } else {
          this.pausedElapsed = this.elapsed(now);
          this.running = false;
        }
    }
  }
}

export interface PitChannelSnapshot {
  mode: number;
  /** 1 lobyte, 2 hibyte, 3 lobyte/hibyte. */
  access: number;
  bcd: boolean;
  /** Initial count in clocks (1…65536). */
  reload: number;
  armed: boolean;
  count: number;
  out: boolean;
  gate: boolean;
  latched: boolean;
}

export interface PitOptions {
  clock: Clock;
  /** Channel 0's OUT → IRQ 0 (pulsed at every rising edge). */
  irq0: IrqLine;
}

export class Pit8254 implements PortHandler {
  readonly channels: PitChannel[];
  private readonly clock: Clock;
  private readonly irq0: IrqLine;
  private readonly timer: Timer;
  /** PIT clock up to which channel 0's edges have been delivered. */
  private deliveredUpTo = 0;
  /** Number of IRQ 0 edges delivered (diagnostics/tests). */
  irq0Edges = 0;

  constructor(options: PitOptions) {
    this.clock = options.clock;
    this.irq0 = options.irq0;
    this.channels = [new PitChannel(0, true), new PitChannel(1, true), new PitChannel(2, false)];
    this.timer = this.clock.createTimer('pit-ch0', () => this.onTimer());
  }

  attach(io: IoPortBus): void {
    io.register(0x40, 4, this, 'pit');
  }

  reset(): void {
    this.channels.forEach((c, i) => {
      c.control(0x30 | (i << 6), this.pitNow());
      c.writeClock = -1;
      c.gate = i !== 2;
    });
    this.timer.clear();
  }

  /** Plain-data view of the three counters now (no side effects). */
  snapshot(): PitChannelSnapshot[] {
    const now = this.pitNow();
    return this.channels.map((c) => ({
      mode: c.mode,
      access: c.access,
      bcd: c.bcd,
      reload: c.reload,
      armed: c.armed,
      count: c.armed ? c.count(now) : 0,
      out: c.out(now),
      gate: c.gate,
      latched: c.latchedCount !== null || c.latchedStatus !== null,
    }));
  }

  /** Current PIT clock. */
  pitNow(): number {
    return ticksToCycles(this.clock.now(), PIT_HZ);
  }

  read8(port: number): number {
    const ch = port & 3;
    if (ch === 3) return 0xff; // the control word register cannot be read
    return this.channels[ch].readByte(this.pitNow());
  }

  write8(port: number, value: number): void {
    const now = this.pitNow();
    const ch = port & 3;
    if (ch !== 3) {
      if (this.channels[ch].writeByte(value, now) && ch === 0) this.channel0Changed(now);
      else if (ch === 0) this.reschedule(now);
      return;
    }
    const sc = value >> 6;
    if (sc === 3) {
      // Read-back: bit 5 = 0 latches counts, bit 4 = 0 latches status, bits 3:1 select counters.
      for (let i = 0; i < 3; i++) {
        if ((value & (2 << i)) === 0) continue;
        const c = this.channels[i];
        if ((value & 0x10) === 0 && c.latchedStatus === null) c.latchedStatus = c.status(now);
        if ((value & 0x20) === 0) c.latch(now);
      }
      return;
    }
    const c = this.channels[sc];
    if ((value & 0x30) === 0) {
      c.latch(now);
      return;
    }
    c.control(value, now);
    if (sc === 0) this.channel0Changed(now);
  }

  /** Drive channel `ch`'s GATE input (channel 2: port 0x61 bit 0). */
  setGate(ch: number, level: boolean): void {
    const now = this.pitNow();
    this.channels[ch].setGate(level, now);
    if (ch === 0) this.channel0Changed(now);
  }

  out(ch: number): boolean {
    return this.channels[ch].out(this.pitNow());
  }

  private channel0Changed(now: number): void {
    // OUT0 may have dropped (mode 0 on a new count / control word); let the line follow, so the
    // next rising edge is a fresh edge for the PIC.
    if (!this.channels[0].out(now)) this.irq0(false);
    this.deliveredUpTo = now;
    this.reschedule(now);
  }

  private reschedule(now: number): void {
    const edge = this.channels[0].nextRisingEdge(Math.max(now, this.deliveredUpTo));
    if (edge === INF) this.timer.clear();
    else this.timer.set(cyclesToTicks(edge, PIT_HZ));
  }

  private onTimer(): void {
    const now = this.pitNow();
    const c = this.channels[0];
    const edge = c.nextRisingEdge(this.deliveredUpTo);
    if (edge <= now) {
      // One edge per deadline; edges missed while the CPU could not run collapse into one, as
      // they would in the PIC's IRR.
      this.irq0(false);
      this.irq0(true);
      this.irq0Edges++;
    }
    this.deliveredUpTo = now;
    this.reschedule(now);
  }
}
