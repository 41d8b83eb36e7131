/**
 * An I/O APIC (Intel 82093AA datasheet; SDM Vol.3 §11.1 for the message it sends): 24
 * redirection entries behind IOREGSEL (FEC00000h) / IOWIN (FEC00010h), version 11h. The ISA IRQ
 * wires reach it beside the 8259s — IRQ 0 (the PIT) on pin 2, the others on the pin of their
 * number, as PC chipsets and their MP/ACPI tables route them. Edge-triggered entries send on a
 * rising edge; level-triggered ones while the pin is high and Remote IRR is clear, which the
 * local APIC's EOI of that vector clears. Fixed and lowest-priority delivery to APIC ID 0
 * (physical) or any logical destination reach the one local APIC; other modes are ignored.
 */
import type { MmioHandler } from '../memory.ts';
import type { LocalApic } from './lapic.ts';

export const IOAPIC_BASE = 0xfec00000;
const PINS = 24;
const MASKED = 0x10000;
const REMOTE_IRR = 0x4000;
const LEVEL = 0x8000;

export class IoApic implements MmioHandler {
  id = 0;
  sel = 0;
  /** Redirection entries: low and high dwords. */
  readonly redir = new Uint32Array(PINS * 2);
  private readonly pin = new Uint8Array(PINS);
  private readonly latch = new Map<number, number>();

  constructor(private readonly lapic: LocalApic) {
    this.reset();
    lapic.onEoi = (v) => this.eoi(v);
  }

  reset(): void {
    this.id = 0;
    this.sel = 0;
    for (let i = 0; i < PINS; i++) {
      this.redir[2 * i] = MASKED;
      this.redir[2 * i + 1] = 0;
    }
    this.pin.fill(0);
    this.latch.clear();
  }

  /** An ISA IRQ wire changed (IRQ 0 is wired to pin 2). */
  setIrq(irq: number, level: boolean): void {
    this.setPin(irq === 0 ? 2 : irq === 2 ? 0 : irq, level);
  }

  setPin(p: number, level: boolean): void {
    const was = this.pin[p];
    this.pin[p] = level ? 1 : 0;
    const lo = this.redir[2 * p];
    if (lo & LEVEL) {
      if (level) this.send(p);
    } else if (level && !was) this.send(p);
  }

  private send(p: number): void {
    const lo = this.redir[2 * p];
    if (lo & MASKED) return;
    if (lo & LEVEL) {
      if (lo & REMOTE_IRR) return;
      this.redir[2 * p] = lo | REMOTE_IRR;
    }
    const mode = (lo >> 8) & 7;
    if (mode > 1) return;
    const dest = this.redir[2 * p + 1] >>> 24;
    const logical = (lo & 0x800) !== 0;
    if (!logical && dest !== this.lapic.id && dest !== 0xff) return;
    if (logical && dest === 0) return;
    this.lapic.accept(lo & 0xff);
  }

  /** The local APIC ended `vector`: clear Remote IRR of level entries with it, resend if still high. */
  private eoi(vector: number): void {
    for (let p = 0; p < PINS; p++) {
      const lo = this.redir[2 * p];
      if (lo & LEVEL && lo & REMOTE_IRR && (lo & 0xff) === vector) {
        this.redir[2 * p] = lo & ~REMOTE_IRR;
        if (this.pin[p]) this.send(p);
      }
    }
  }

  private readReg(r: number): number {
    if (r === 0) return this.id << 24;
    if (r === 1) return ((PINS - 1) << 16) | 0x11;
    if (r === 2) return this.id << 24;
    if (r >= 0x10 && r < 0x10 + 2 * PINS) {
      const v = this.redir[r - 0x10];
      // Delivery status (bit 12) reads idle: messages are delivered at once.
      return v;
    }
    return 0;
  }
  private writeReg(r: number, v: number): void {
    if (r === 0) this.id = (v >>> 24) & 0xf;
    else if (r >= 0x10 && r < 0x10 + 2 * PINS) {
      const i = r - 0x10;
      if (i & 1) this.redir[i] = v & 0xff000000;
      else {
        // Remote IRR and delivery status are read-only.
        this.redir[i] = (v & 0x1afff) | (this.redir[i] & REMOTE_IRR);
        const p = i >> 1;
        // Unmasking a level entry whose pin is high sends it.
        if ((v & (LEVEL | MASKED)) === LEVEL && this.pin[p]) this.send(p);
      }
    }
  }

  read8(addr: number): number {
    const off = addr & 0xff;
    const v = (off & 0xf0) === 0 ? this.sel : (off & 0xf0) === 0x10 ? this.readReg(this.sel) : 0;
    return (v >>> ((off & 3) * 8)) & 0xff;
  }
  write8(addr: number, value: number): void {
    const off = addr & 0xff;
    const reg = off & 0xf0;
    if ((off & 0xc) !== 0 || reg > 0x10) return;
    if (reg === 0) {
      // IOREGSEL: an 8-bit register (byte writes take effect at once).
      if ((off & 3) === 0) this.sel = value;
      return;
    }
    const sh = (off & 3) * 8;
    const cur = ((this.latch.get(reg) ?? 0) & ~(0xff << sh)) | (value << sh);
    if ((off & 3) === 3) {
      this.latch.delete(reg);
      this.writeReg(this.sel, cur >>> 0);
    } else this.latch.set(reg, cur);
  }

  // ---- snapshots -----------------------------------------------------------------------------

  /** ID, IOREGSEL, the redirection table (with Remote IRR), pin levels, partial MMIO writes. */
  saveState(): IoApicState {
    return {
      id: this.id,
      sel: this.sel,
      redir: Array.from(this.redir),
      pins: Array.from(this.pin),
      latch: [...this.latch],
    };
  }

  restoreState(s: IoApicState): void {
    this.id = s.id;
    this.sel = s.sel;
    this.redir.set(s.redir);
    this.pin.set(s.pins);
    this.latch.clear();
    for (const [k, v] of s.latch) this.latch.set(k, v);
  }
}

/** IoApic.saveState(): plain data (JSON-safe). */
export interface IoApicState {
  id: number;
  sel: number;
  redir: number[];
  pins: number[];
  latch: Array<[number, number]>;
}
