/**
 * One Intel 8259A programmable interrupt controller (datasheet: Intel 8259A, order 231468).
 *
 * Implemented: ICW1–ICW4 initialization sequence (single/cascade, ICW4 needed, edge or level
 * triggered via LTIM, 8086 mode, auto-EOI, special fully nested mode), OCW1 (IMR), OCW2
 * (non-specific / specific EOI, rotate on EOI, rotate in auto-EOI, set priority), OCW3 (read IRR /
 * ISR, poll command, special mask mode), fully nested priority with rotation, and the spurious
 * request: an INTA with no request still pending returns IR7 without setting ISR.
 *
 * Edge-triggered inputs latch IRR on a rising edge of the line (lowering the line later does not
 * withdraw an edge already latched); level-triggered inputs (LTIM=1) follow the line.
 * The chip has no idea whether it is a master or a slave except through ICW3 and the `onOutput`
 * callback, which reports changes of its INT pin. `DualPic` wires two of them into a PC.
 */

import { settleFields } from '../../cpu/field-reps.ts';
export interface PicSnapshot {
  irr: number;
  isr: number;
  imr: number;
  vectorBase: number;
  lowestPriority: number;
  autoEoi: boolean;
  levelTriggered: boolean;
  specialMask: boolean;
  /** In the middle of an ICW sequence. */
  initializing: boolean;
  /** The INT pin. */
  output: boolean;
}

export class Pic8259 {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Current level of each IR input (edge detection). */
  private lines = 0;
  /** Vector base from ICW2 (T7–T3). */
  vectorBase = 0;
  /** IR with the lowest priority; highest is (lowest + 1) & 7. */
  lowestPriority = 7;
  icw3 = 0;
  levelTriggered = false;
  autoEoi = false;
  rotateInAutoEoi = false;
  specialFullyNested = false;
  specialMask = false;
  /** OCW3 RIS: read ISR (true) or IRR (false) at the command port. */
  readIsr = false;
  private pollPending = false;
  /** Initialization state: 0 = ready, 2/3/4 = expecting that ICW. */
  private initStep = 0;
  private single = false;
  private needIcw4 = false;
  /** Current INT output. */
  output = false;

  /** `onOutput` is called whenever INT changes. `isMaster` selects the meaning of ICW3. */
  constructor(
    readonly name: string,
    readonly isMaster: boolean,
    private readonly onOutput: (level: boolean) => void,
  ) {
    settleFields(this);
  }

  /** Power-on state (what ICW1 also does, minus the init sequence). */
  reset(): void {
    this.irr = 0;
    this.isr = 0;
    this.imr = 0;
    this.lines = 0;
    this.vectorBase = 0;
    this.lowestPriority = 7;
    this.icw3 = 0;
    this.levelTriggered = false;
    this.autoEoi = false;
    this.rotateInAutoEoi = false;
    this.specialFullyNested = false;
    this.specialMask = false;
    this.readIsr = false;
    this.pollPending = false;
    this.initStep = 0;
    this.update();
  }

  /** Plain-data view for the UI and tests (no side effects). */
  snapshot(): PicSnapshot {
    return {
      irr: this.irr,
      isr: this.isr,
      imr: this.imr,
      vectorBase: this.vectorBase,
      lowestPriority: this.lowestPriority,
      autoEoi: this.autoEoi,
      levelTriggered: this.levelTriggered,
      specialMask: this.specialMask,
      initializing: this.initStep !== 0,
      output: this.output,
    };
  }

  /** Drive IR input `irq` (0–7) to `level`. */
  setIrq(irq: number, level: boolean): void {
    const bit = 1 << irq;
    if (level) {
      if (this.levelTriggered || (this.lines & bit) === 0) this.irr |= bit;
      this.lines |= bit;
    } else {
      this.lines &= ~bit;
      if (this.levelTriggered) this.irr &= ~bit;
    }
    this.update();
  }

  /** Priority rank of IR `irq` (0 = highest). */
  private rank(irq: number): number {
    return (irq - this.lowestPriority - 1) & 7;
  }

  /** Highest-priority set bit of `mask`, or -1. */
  private highest(mask: number): number {
    if (mask === 0) return -1;
    for (let i = 0; i < 8; i++) {
      const irq = (this.lowestPriority + 1 + i) & 7;
      if (mask & (1 << irq)) return irq;
    }
    return -1;
  }

  /**
   * The IR the chip would present now, or -1: the highest-priority unmasked request that outranks
   * every in-service level (fully nested mode). In special mask mode, in-service levels that are
   * masked do not block anything (datasheet "Special Mask Mode"). In special fully nested mode a
   * master's cascade input may interrupt its own in-service level (the slave has its own priorities).
   */
  pending(): number {
    const irq = this.highest(this.irr & ~this.imr);
    if (irq < 0) return -1;
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    if (this.specialFullyNested && this.isMaster) inService &= ~this.icw3;
    const top = this.highest(inService);
    if (top >= 0 && this.rank(top) <= this.rank(irq)) return -1;
    return irq;
  }

  private update(): void {
    const out = this.pending() >= 0;
    if (out !== this.output) {
      this.output = out;
      this.onOutput(out);
    }
  }

  /**
   * The INTA sequence: returns the IR being acknowledged (7 for a spurious request), updating
   * IRR/ISR. The caller turns it into a vector (or asks the slave).
   */
  acknowledgeIrq(): { irq: number; spurious: boolean } {
    const irq = this.pending();
    if (irq < 0) {
      this.update();
      return { irq: 7, spurious: true };
    }
    const bit = 1 << irq;
    if (!this.levelTriggered) this.irr &= ~bit;
    if (this.autoEoi) {
      if (this.rotateInAutoEoi) this.lowestPriority = irq;
    } else {
      this.isr |= bit;
    }
    this.update();
    return { irq, spurious: false };
  }

  /** Vector for an IR of this chip. */
  vector(irq: number): number {
    return (this.vectorBase & 0xf8) | irq;
  }

  /** Read port A0=0 (IRR/ISR/poll) or A0=1 (IMR). */
  read(a0: number): number {
    if (this.pollPending) {
      // Poll command (OCW3 P=1): the next read is an INTA of sorts (datasheet "The Poll Command").
      this.pollPending = false;
      const irq = this.pending();
      if (irq < 0) return 0;
      this.acknowledgeIrq();
      return 0x80 | irq;
    }
    if (a0) return this.imr;
    return this.readIsr ? this.isr : this.irr;
  }

  write(a0: number, value: number): void {
    value &= 0xff;
    if (a0 === 0) {
      if (value & 0x10) {
        this.icw1(value);
      } else if (value & 0x08) {
        this.ocw3(value);
      } else {
        this.ocw2(value);
      }
      return;
    }
    switch (this.initStep) {
      case 2:
        this.vectorBase = value & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? 4 : 0) : 3;
        return;
      case 3:
        this.icw3 = value;
        this.initStep = this.needIcw4 ? 4 : 0;
        return;
      case 4:
        // ICW4: bit 0 µPM (8086), bit 1 AEOI, bits 3:2 buffered mode, bit 4 SFNM.
        this.autoEoi = (value & 0x02) !== 0;
        this.specialFullyNested = (value & 0x10) !== 0;
        this.initStep = 0;
        return;
      default:
        this.imr = value; // OCW1
        this.update();
    }
  }

  private icw1(value: number): void {
    // ICW1 clears IMR and ISR, resets the edge detectors, gives IR7 lowest priority, clears special
    // mask mode and selects IRR for status reads (datasheet "Initialization Command Words").
    this.single = (value & 0x02) !== 0;
    this.needIcw4 = (value & 0x01) !== 0;
    this.levelTriggered = (value & 0x08) !== 0;
    this.imr = 0;
    this.isr = 0;
    this.irr = this.levelTriggered ? this.lines : 0;
    this.lines = this.levelTriggered ? this.lines : 0;
    this.lowestPriority = 7;
    this.specialMask = false;
    this.readIsr = false;
    this.pollPending = false;
    this.rotateInAutoEoi = false;
    if (!this.needIcw4) {
      this.autoEoi = false;
      this.specialFullyNested = false;
    }
    this.initStep = 2;
    this.update();
  }

  private ocw2(value: number): void {
    const level = value & 7;
    switch (value >> 5) {
      case 0: // rotate in automatic EOI mode (clear)
        this.rotateInAutoEoi = false;
        return;
      case 4: // rotate in automatic EOI mode (set)
        this.rotateInAutoEoi = true;
        return;
      case 1: // non-specific EOI
      case 5: {
        // rotate on non-specific EOI
        const irq = this.highest(this.isr);
        if (irq >= 0) {
          this.isr &= ~(1 << irq);
          if (value >> 5 === 5) this.lowestPriority = irq;
        }
        break;
      }
      case 3: // specific EOI
        this.isr &= ~(1 << level);
        break;
      case 7: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.lowestPriority = level;
        break;
      case 6: // set priority
        this.lowestPriority = level;
        break;
      default: // 2: no operation
        return;
    }
    this.update();
  }

  private ocw3(value: number): void {
    if (value & 0x40) this.specialMask = (value & 0x20) !== 0; // ESMM/SMM
    if (value & 0x04) this.pollPending = true;
    if (value & 0x02) this.readIsr = (value & 0x01) !== 0; // RR/RIS
    this.update();
  }
}
