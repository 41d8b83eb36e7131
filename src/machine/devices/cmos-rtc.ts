/**
 * Motorola MC146818A real-time clock and its 128 bytes of CMOS RAM, as wired in a PC/AT: port 0x70
 * selects the register (bits 0–6) and masks NMI (bit 7), port 0x71 reads/writes it; IRQ 8.
 *
 * Time is a pure function of virtual time: RTC seconds = start date + whole virtual seconds (+ an
 * offset when the guest sets the clock). Updates happen exactly at virtual second boundaries, and
 * the update-in-progress bit (status A bit 7) reads 1 during the 244 µs before each boundary — the
 * datasheet's t_BUC window — so guests that wait for UIP to fall behave the same on every run.
 *
 * Registers: 0–9 time/alarm/date (BCD or binary per status B DM, 12- or 24-hour per B 24/12 with
 * bit 7 = PM), status A (divider, periodic rate), B (SET, PIE, AIE, UIE, DM, 24/12), C (IRQF, PF,
 * AF, UF; cleared by reading), D (VRT = 1), 0x32 century. Periodic, alarm and update-ended
 * interrupts raise IRQ 8 through IRQF. Writes to the day-of-week register are ignored (it is
 * computed from the date). Memory-size bytes 0x15–0x18, 0x30–0x31, 0x34–0x35 describe `ramBytes`.
 */
import { settleFields } from '../../cpu/field-reps.ts';
import { type Clock, cyclesToTicks, TICKS_PER_SECOND, type Timer, ticksToCycles } from '../clock.ts';
import type { IoPortBus, PortHandler } from '../io-bus.ts';
import type { IrqLine } from './irq.ts';

const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
const REG_CENTURY = 0x32;
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_DM = 0x04;
const B_24H = 0x02;
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;
/** UIP is high for 244 µs before each update (MC146818A datasheet, "Update Cycle"). */
const UIP_TICKS = (244 * TICKS_PER_SECOND) / 1_000_000;
const RTC_HZ = 32_768;

export interface CmosOptions {
  clock: Clock;
  irq: IrqLine;
  /** RAM size for the memory-size bytes. */
  ramBytes: number;
  /** Wall-clock date the RTC shows at virtual time 0, in ms since the Unix epoch (UTC). */
  startTime?: number;
}

/** Default start date: 2026-01-01 00:00:00 UTC (fixed, for determinism). */
export const DEFAULT_RTC_START = Date.UTC(2026, 0, 1, 0, 0, 0);

export class CmosRtc implements PortHandler {
  readonly ram = new Uint8Array(128);
  index = 0;
  nmiMasked = false;
  private readonly clock: Clock;
  private readonly irq: IrqLine;
  private readonly timer: Timer;
  private readonly startSeconds: number;
  /** Seconds added by guest writes. */
  private offsetSeconds = 0;
  /** While SET=1: the frozen time in epoch seconds. */
  private frozen: number | null = null;
  /** Virtual tick up to which C flags have been computed. */
  private flagsUpTo = 0;
  private irqLevel = false;

  constructor(options: CmosOptions) {
    this.clock = options.clock;
    this.irq = options.irq;
    this.startSeconds = Math.floor((options.startTime ?? DEFAULT_RTC_START) / 1000);
    this.timer = this.clock.createTimer('rtc', () => this.onTimer());
    this.initRam(options.ramBytes);
    this.flagsUpTo = this.clock.now();
    settleFields(this);
  }

  attach(io: IoPortBus): void {
    io.register(0x70, 2, this, 'cmos-rtc');
  }

  private initRam(ramBytes: number): void {
    const r = this.ram;
    r[REG_A] = 0x26; // divider 010 (32.768 kHz), rate 6 (1024 Hz)
    r[REG_B] = B_24H; // 24-hour, BCD
    r[REG_D] = 0x80; // valid RAM and time
    const put16 = (lo: number, v: number) => {
      r[lo] = v & 0xff;
      r[lo + 1] = (v >> 8) & 0xff;
    };
    put16(0x15, 640); // base memory in KiB
    const extKiB = Math.min(0xffff, Math.max(0, (ramBytes - 0x100000) / 1024));
    put16(0x17, extKiB);
    put16(0x30, extKiB);
    put16(0x34, Math.min(0xffff, Math.max(0, (ramBytes - 0x1000000) / 65536)));
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += r[i];
    put16(0x2e, 0); // checksum is big-endian in the IBM layout
    r[0x2e] = (sum >> 8) & 0xff;
    r[0x2f] = sum & 0xff;
  }

  /** Guest-visible reset (RESET pin): clears PIE/AIE/UIE and the C flags; time and RAM persist. */
  reset(): void {
    this.ram[REG_B] &= ~(B_PIE | B_AIE | B_UIE);
    this.ram[REG_C] = 0;
    this.updateIrq();
    this.reschedule();
  }

  /** Plain-data view (no side effects). */
  snapshot(): { index: number; nmiMasked: boolean; time: string; a: number; b: number; c: number } {
    const now = this.clock.now();
    return {
      index: this.index,
      nmiMasked: this.nmiMasked,
      time: new Date(this.seconds(now) * 1000).toISOString(),
      a: (this.ram[REG_A] & 0x7f) | (this.uip(now) ? 0x80 : 0),
      b: this.ram[REG_B],
      c: this.ram[REG_C],
    };
  }

  /** The RTC's current time in Unix seconds. */
  seconds(now = this.clock.now()): number {
    if (this.frozen !== null) return this.frozen;
    return this.startSeconds + this.offsetSeconds + Math.floor(now / TICKS_PER_SECOND);
  }

  private get binary(): boolean {
    return (this.ram[REG_B] & B_DM) !== 0;
  }

  private enc(v: number): number {
    return this.binary ? v : (Math.floor(v / 10) << 4) | (v % 10);
  }

  private dec(v: number): number {
    return this.binary ? v : (v >> 4) * 10 + (v & 0xf);
  }

  private encHour(h: number): number {
    if (this.ram[REG_B] & B_24H) return this.enc(h);
    const pm = h >= 12;
    const h12 = h % 12 === 0 ? 12 : h % 12;
    return this.enc(h12) | (pm ? 0x80 : 0);
  }

  private decHour(v: number): number {
    if (this.ram[REG_B] & B_24H) return this.dec(v);
    const h12 = this.dec(v & 0x7f) % 12;
    return v & 0x80 ? h12 + 12 : h12;
  }

  /** Encoded value of time register `reg` at the current time. */
  private timeRegister(reg: number): number {
    const d = new Date(this.seconds() * 1000);
    switch (reg) {
      case 0:
        return this.enc(d.getUTCSeconds());
      case 2:
        return this.enc(d.getUTCMinutes());
      case 4:
        return this.encHour(d.getUTCHours());
      case 6:
        return this.enc(d.getUTCDay() + 1);
      case 7:
        return this.enc(d.getUTCDate());
      case 8:
        return this.enc(d.getUTCMonth() + 1);
      case 9:
        return this.enc(d.getUTCFullYear() % 100);
      default: // century
        return this.enc(Math.floor(d.getUTCFullYear() / 100));
    }
  }

  private setTimeRegister(reg: number, value: number): void {
    const d = new Date(this.seconds() * 1000);
    let [year, month, day, h, m, s] = [
      d.getUTCFullYear(),
      d.getUTCMonth(),
      d.getUTCDate(),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
    ];
    switch (reg) {
      case 0:
        s = this.dec(value);
        break;
      case 2:
        m = this.dec(value);
        break;
      case 4:
        h = this.decHour(value);
        break;
      case 6:
        return; // day of week follows the date
      case 7:
        day = this.dec(value);
        break;
      case 8:
        month = this.dec(value) - 1;
        break;
      case 9:
        year = Math.floor(year / 100) * 100 + this.dec(value);
        break;
      default:
        year = this.dec(value) * 100 + (year % 100);
    }
    const t = Math.floor(Date.UTC(year, month, day, h, m, s) / 1000);
    if (!Number.isFinite(t)) return;
    if (this.frozen !== null) this.frozen = t;
    else this.offsetSeconds += t - this.seconds();
  }

  private uip(now: number): boolean {
    if (this.ram[REG_B] & B_SET || (this.ram[REG_A] & 0x70) !== 0x20) return false;
    return now % TICKS_PER_SECOND >= TICKS_PER_SECOND - UIP_TICKS;
  }

  /** Periodic interrupt period in 32.768 kHz cycles, or 0 when off (datasheet Table 3). */
  private periodCycles(): number {
    const rate = this.ram[REG_A] & 0x0f;
    if (rate === 0 || (this.ram[REG_A] & 0x70) !== 0x20) return 0;
    return rate <= 2 ? 1 << (rate + 6) : 1 << (rate - 1);
  }

  private alarmMatches(t: number): boolean {
    const d = new Date(t * 1000);
    const match = (reg: number, v: number, hour: boolean) => {
      const a = this.ram[reg];
      if ((a & 0xc0) === 0xc0) return true; // "don't care"
      return (hour ? this.decHour(a) : this.dec(a)) === v;
    };
    return (
      match(1, d.getUTCSeconds(), false) &&
      match(3, d.getUTCMinutes(), false) &&
      match(5, d.getUTCHours(), true)
    );
  }

  /** Bring the C flags up to `now`: update-ended at each second boundary, periodic flag, alarm. */
  private updateFlags(now: number): void {
    const from = this.flagsUpTo;
    if (now <= from) return;
    this.flagsUpTo = now;
    let c = this.ram[REG_C];
    if (this.frozen === null && Math.floor(now / TICKS_PER_SECOND) > Math.floor(from / TICKS_PER_SECOND)) {
      c |= C_UF;
      // Only the latest boundary is checked against the alarm.
      if (this.alarmMatches(this.seconds(now))) c |= C_AF;
    }
    const p = this.periodCycles();
    if (p && Math.floor(ticksToCycles(now, RTC_HZ) / p) > Math.floor(ticksToCycles(from, RTC_HZ) / p))
      c |= C_PF;
    const b = this.ram[REG_B];
    if ((c & C_PF && b & B_PIE) || (c & C_AF && b & B_AIE) || (c & C_UF && b & B_UIE)) c |= C_IRQF;
    this.ram[REG_C] = c;
  }

  private updateIrq(): void {
    const level = (this.ram[REG_C] & C_IRQF) !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq(level);
    }
  }

  private reschedule(): void {
    const b = this.ram[REG_B];
    const now = this.clock.now();
    let next = Number.POSITIVE_INFINITY;
    if (b & (B_UIE | B_AIE) && this.frozen === null)
      next = (Math.floor(now / TICKS_PER_SECOND) + 1) * TICKS_PER_SECOND;
    const p = this.periodCycles();
    if (b & B_PIE && p) {
      const cyc = (Math.floor(ticksToCycles(now, RTC_HZ) / p) + 1) * p;
      next = Math.min(next, cyclesToTicks(cyc, RTC_HZ));
    }
    if (next === Number.POSITIVE_INFINITY) this.timer.clear();
    else this.timer.set(next);
  }

  private onTimer(): void {
    this.updateFlags(this.clock.now());
    this.updateIrq();
    this.reschedule();
  }

  read8(port: number): number {
    if ((port & 1) === 0) return 0xff; // the index register is write-only
    const reg = this.index;
    const now = this.clock.now();
    switch (reg) {
      case 0:
      case 2:
      case 4:
      case 6:
      case 7:
      case 8:
      case 9:
      case REG_CENTURY:
        return this.timeRegister(reg);
      case REG_A:
        return (this.ram[REG_A] & 0x7f) | (this.uip(now) ? 0x80 : 0);
      case REG_C: {
        this.updateFlags(now);
        const v = this.ram[REG_C];
        this.ram[REG_C] = 0;
        this.updateIrq();
        this.reschedule();
        return v;
      }
      case REG_D:
        return 0x80;
      default:
        return this.ram[reg];
    }
  }

  write8(port: number, value: number): void {
    if ((port & 1) === 0) {
      this.index = value & 0x7f;
      this.nmiMasked = (value & 0x80) !== 0;
      return;
    }
    const reg = this.index;
    switch (reg) {
      case 0:
      case 2:
      case 4:
      case 6:
      case 7:
      case 8:
      case 9:
      case REG_CENTURY:
        this.setTimeRegister(reg, value);
        return;
      case REG_A:
        this.updateFlags(this.clock.now());
        this.ram[REG_A] = value & 0x7f; // UIP is read-only
        this.reschedule();
        return;
      case REG_B: {
        this.updateFlags(this.clock.now());
        const wasSet = (this.ram[REG_B] & B_SET) !== 0;
        if (value & B_SET) value &= ~B_UIE; // SET clears UIE (datasheet, register B)
        if (!wasSet && value & B_SET) this.frozen = this.seconds();
        else if (wasSet && !(value & B_SET) && this.frozen !== null) {
          const running = this.startSeconds + Math.floor(this.clock.now() / TICKS_PER_SECOND);
          this.offsetSeconds = this.frozen - running;
          this.frozen = null;
        }
        this.ram[REG_B] = value;
        // Enabling a source whose flag is already set raises IRQF.
        const c = this.ram[REG_C];
        if ((c & C_PF && value & B_PIE) || (c & C_AF && value & B_AIE) || (c & C_UF && value & B_UIE)) {
          this.ram[REG_C] |= C_IRQF;
        }
        this.updateIrq();
        this.reschedule();
        return;
      }
      case REG_C:
      case REG_D:
        return; // read-only
      default:
        this.ram[reg] = value;
    }
  }
}
