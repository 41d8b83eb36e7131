/**
 * A local APIC in xAPIC mode (SDM Vol.3 ch. 11): memory-mapped registers at IA32_APIC_BASE
 * (default FEE00000h), the task-priority register and processor priority, IRR/ISR with EOI, the
 * spurious-vector register (software enable), self-IPIs through the ICR, and the timer (one-shot
 * and periodic, divide configuration) counting in virtual time: the APIC bus runs at the tick rate
 * (100 MHz), so the count is exact and deterministic. It sits between the 8259 and the CPU as the
 * CPU's interrupt line: its own vectors first (by priority), then the PIC through LINT0 (ExtINT,
 * "virtual wire") unless LINT0 is masked while the APIC is software-enabled.
 * Not modelled: NMI/SMI/INIT/SIPI delivery, LINT1, the error LVT's interrupts, logical
 * destinations, other processors (an IPI to another APIC ID goes nowhere). The I/O APIC is
 * ioapic.ts.
 */
import type { InterruptLine } from '../../cpu/bus.ts';
import type { Clock, Timer } from '../clock.ts';
import type { MmioHandler } from '../memory.ts';

export const APIC_BASE = 0xfee00000;
const MASKED = 0x10000;
const DIVIDES = [2, 4, 8, 16, 32, 64, 128, 1];

export class LocalApic implements InterruptLine, MmioHandler {
  /** IA32_APIC_BASE: base address, BSP (bit 8), global enable (bit 11). */
  baseMsr = APIC_BASE | 0x900;
  id = 0;
  tpr = 0;
  svr = 0xff;
  ldr = 0;
  dfr = -1;
  esr = 0;
  icrLo = 0;
  icrHi = 0;
  lvtTimer = MASKED;
  lvtLint0 = MASKED;
  lvtLint1 = MASKED;
  lvtError = MASKED;
  divideReg = 0;
  initial = 0;
  readonly irr = new Uint32Array(8);
  readonly isr = new Uint32Array(8);
  /** Virtual time the current count was (re)loaded; the count falls one per `divide` ticks. */
  private loadTick = 0;
  private readonly timer: Timer;
  private readonly latch = new Map<number, number>();
  /** Called when a vector is accepted into IRR (the CPU re-samples its interrupt line). */
  onAccept: (() => void) | null = null;
  /** Called with the vector an EOI ended (the I/O APIC clears Remote IRR of level entries). */
  onEoi: ((vector: number) => void) | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly pic: InterruptLine,
  ) {
    this.timer = clock.createTimer('lapic-timer', (now) => this.expire(now));
  }

  /** Power-up / RESET state (SDM Vol.3 §11.4.7.1): software-disabled, every LVT masked. */
  reset(): void {
    this.baseMsr = APIC_BASE | 0x900;
    this.id = 0;
    this.tpr = 0;
    this.svr = 0xff;
    this.ldr = 0;
    this.dfr = -1;
    this.esr = 0;
    this.icrLo = 0;
    this.icrHi = 0;
    this.lvtTimer = MASKED;
    this.lvtLint0 = MASKED;
    this.lvtLint1 = MASKED;
    this.lvtError = MASKED;
    this.divideReg = 0;
    this.initial = 0;
    this.irr.fill(0);
    this.isr.fill(0);
    this.latch.clear();
    this.timer.clear();
  }

  get softwareEnabled(): boolean {
    return (this.baseMsr & 0x800) !== 0 && (this.svr & 0x100) !== 0;
  }
  private get divide(): number {
    const d = this.divideReg;
    return DIVIDES[(d & 3) | ((d >> 1) & 4)];
  }

  // ---- the CPU's interrupt line ------------------------------------------------------------

  private static highest(a: Uint32Array): number {
    for (let i = 7; i >= 0; i--) if (a[i] !== 0) return i * 32 + 31 - Math.clz32(a[i]);
    return -1;
  }
  /** Processor priority (SDM §11.8.3.1): the higher of TPR and the highest in-service class. */
  get ppr(): number {
    const isrv = LocalApic.highest(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr & 0xff : isrClass;
  }
  private ownPending(): number {
    if (!this.softwareEnabled) return -1;
    const v = LocalApic.highest(this.irr);
    return v >= 0 && (v & 0xf0) > (this.ppr & 0xf0) ? v : -1;
  }
  private picPasses(): boolean {
    if ((this.baseMsr & 0x800) === 0 || !this.softwareEnabled) return true;
    return (this.lvtLint0 & MASKED) === 0 && ((this.lvtLint0 >> 8) & 7) === 7;
  }
  hasInterrupt(): boolean {
    return this.ownPending() >= 0 || (this.picPasses() && this.pic.hasInterrupt());
  }
  acknowledge(): number {
    const v = this.ownPending();
    if (v >= 0) {
      this.irr[v >> 5] &= ~(1 << (v & 31));
      this.isr[v >> 5] |= 1 << (v & 31);
      return v;
    }
    return this.pic.acknowledge();
  }
  /** Accept a fixed interrupt (vectors 0–15 are illegal: send-accept error, SDM §11.5.3). */
  accept(v: number): void {
    if (v < 16) {
      this.esr |= 0x20;
      return;
    }
    this.irr[v >> 5] |= 1 << (v & 31);
    this.onAccept?.();
  }

  // ---- timer ---------------------------------------------------------------------------------

  private currentCount(now: number): number {
    if (this.initial === 0) return 0;
    const elapsed = Math.floor((now - this.loadTick) / this.divide);
    if (((this.lvtTimer >> 17) & 3) === 1) return this.initial - (elapsed % this.initial);
    return Math.max(0, this.initial - elapsed);
  }
  private arm(now: number): void {
    this.loadTick = now;
    if (this.initial === 0) this.timer.clear();
    else this.timer.set(now + this.initial * this.divide);
  }
  private expire(now: number): void {
    if ((this.lvtTimer & MASKED) === 0) this.accept(this.lvtTimer & 0xff);
    if (((this.lvtTimer >> 17) & 3) === 1 && this.initial !== 0) {
      // Periodic: the next period starts exactly where this one ended (no drift).
      this.loadTick += this.initial * this.divide;
      this.timer.set(this.loadTick + this.initial * this.divide);
    } else this.timer.clear();
    void now;
  }

  // ---- registers -----------------------------------------------------------------------------

  read32(off: number): number {
    switch (off) {
      case 0x20:
        return this.id << 24;
      case 0x30:
        return 0x00040014; // version 14h (xAPIC), max LVT entry 4 (P6 family)
      case 0x80:
        return this.tpr;
      case 0xa0:
        return this.ppr;
      case 0xd0:
        return this.ldr;
      case 0xe0:
        return this.dfr;
      case 0xf0:
        return this.svr;
      case 0x280:
        return this.esr;
      case 0x300:
        return this.icrLo & ~0x1000; // delivery status: always idle
      case 0x310:
        return this.icrHi;
      case 0x320:
        return this.lvtTimer;
      case 0x350:
        return this.lvtLint0;
      case 0x360:
        return this.lvtLint1;
      case 0x370:
        return this.lvtError;
      case 0x380:
        return this.initial;
      case 0x390:
        return this.currentCount(this.clock.now());
      case 0x3e0:
        return this.divideReg;
      default:
        if (off >= 0x100 && off < 0x180) return this.isr[(off - 0x100) >> 4];
        if (off >= 0x200 && off < 0x280) return this.irr[(off - 0x200) >> 4];
        return 0;
    }
  }

  write32(off: number, v: number): void {
    const lvtMask = this.softwareEnabled ? 0 : MASKED; // LVTs stay masked while disabled (§11.4.7.2)
    switch (off) {
      case 0x20:
        this.id = v >>> 24;
        return;
      case 0x80:
        this.tpr = v & 0xff;
        return;
      case 0xb0: {
        const s = LocalApic.highest(this.isr);
        if (s >= 0) {
          this.isr[s >> 5] &= ~(1 << (s & 31));
          this.onEoi?.(s);
        }
        return;
      }
      case 0xd0:
        this.ldr = v & 0xff000000;
        return;
      case 0xe0:
        this.dfr = v | 0x0fffffff;
        return;
      case 0xf0:
        this.svr = v & 0x3ff;
        if ((v & 0x100) === 0) {
          // Software disable masks every LVT entry (SDM §11.4.7.2).
          this.lvtTimer |= MASKED;
          this.lvtLint0 |= MASKED;
          this.lvtLint1 |= MASKED;
          this.lvtError |= MASKED;
        }
        return;
      case 0x280:
        this.esr = 0;
        return;
      case 0x300: {
        this.icrLo = v & 0xfffff;
        const shorthand = (v >> 18) & 3;
        const mode = (v >> 8) & 7;
        const toSelf =
          shorthand === 1 || shorthand === 2 || (shorthand === 0 && this.icrHi >>> 24 === this.id);
        if (mode === 0 && toSelf) this.accept(v & 0xff);
        return;
      }
      case 0x310:
        this.icrHi = v & 0xff000000;
        return;
      case 0x320:
        this.lvtTimer = (v & 0x300ff) | lvtMask;
        return;
      case 0x350:
        this.lvtLint0 = (v & 0x1a7ff) | lvtMask;
        return;
      case 0x360:
        this.lvtLint1 = (v & 0x1a7ff) | lvtMask;
        return;
      case 0x370:
        this.lvtError = (v & 0x100ff) | lvtMask;
        return;
      case 0x380:
        this.initial = v >>> 0;
        this.arm(this.clock.now());
        return;
      case 0x3e0:
        this.divideReg = v & 0xb;
        return;
      default:
        return;
    }
  }

  /** MMIO: registers are 32-bit at 16-byte strides; the CPU's dword accesses arrive bytewise, low byte first. */
  read8(addr: number): number {
    const off = addr & 0xfff;
    return (this.read32(off & 0xff0) >>> ((off & 3) * 8)) & 0xff;
  }
  write8(addr: number, value: number): void {
    const off = addr & 0xfff;
    const reg = off & 0xff0;
    if ((off & 0xc) !== 0) return;
    const sh = (off & 3) * 8;
    const cur = ((this.latch.get(reg) ?? 0) & ~(0xff << sh)) | (value << sh);
    if ((off & 3) === 3) {
      this.latch.delete(reg);
      this.write32(reg, cur >>> 0);
    } else this.latch.set(reg, cur);
  }

  /** IA32_APIC_BASE (MSR 1Bh). Moving the base is not modelled: the registers stay at FEE00000h. */
  msrWrite(v: number): void {
    this.baseMsr = (v & 0x900) | APIC_BASE;
  }

  // ---- snapshots -----------------------------------------------------------------------------

  /** Every register, IRR/ISR, the timer's reload time and deadline, partial MMIO writes. */
  saveState(): LocalApicState {
    return {
      // biome-ignore format: a register list
      regs: [
        this.baseMsr, this.id, this.tpr, this.svr, this.ldr, this.dfr, this.esr, this.icrLo, this.icrHi,
        this.lvtTimer, this.lvtLint0, this.lvtLint1, this.lvtError, this.divideReg, this.initial,
      ],
      irr: Array.from(this.irr),
      isr: Array.from(this.isr),
      loadTick: this.loadTick,
      deadline: this.timer.armed ? this.timer.deadline : -1,
      latch: [...this.latch],
    };
  }

  /** Put a saveState() back (the clock must already be at the snapshot's virtual time). */
  restoreState(s: LocalApicState): void {
    [
      this.baseMsr,
      this.id,
      this.tpr,
      this.svr,
      this.ldr,
      this.dfr,
      this.esr,
      this.icrLo,
      this.icrHi,
      this.lvtTimer,
      this.lvtLint0,
      this.lvtLint1,
      this.lvtError,
      this.divideReg,
      this.initial,
    ] = s.regs;
    this.irr.set(s.irr);
    this.isr.set(s.isr);
    this.loadTick = s.loadTick;
    if (s.deadline >= 0) this.timer.set(s.deadline);
    else this.timer.clear();
    this.latch.clear();
    for (const [k, v] of s.latch) this.latch.set(k, v);
  }
}

/** LocalApic.saveState(): plain data (JSON-safe). */
export interface LocalApicState {
  regs: number[];
  irr: number[];
  isr: number[];
  loadTick: number;
  /** Timer deadline in ticks, -1 when disarmed. */
  deadline: number;
  latch: Array<[number, number]>;
}
