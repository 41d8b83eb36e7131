/**
 * The PC/AT interrupt controller: a master 8259A at ports 0x20/0x21 and a slave at 0xA0/0xA1 whose
 * INT pin drives the master's IR2 (IRQ 8–15 arrive through IRQ 2). Implements the CPU's INTR pin.
 * ISA IRQs are numbered 0–15; `setIrq(n, level)` drives the wire of IRQ n.
 */
import type { InterruptLine } from '../../cpu/bus.ts';
import type { IoPortBus, PortHandler } from '../io-bus.ts';
import type { IrqLine } from './irq.ts';
import { Pic8259 } from './pic8259.ts';

export class DualPic implements InterruptLine, PortHandler {
  readonly master: Pic8259;
  readonly slave: Pic8259;
  /** Count of spurious acknowledges (IRQ 7 or 15 returned with nothing pending). */
  spuriousCount = 0;
  /** Called when INTR rises (the run loop may tell the CPU to re-check). */
  onIntr: (() => void) | null = null;
  /** Every IRQ wire change, for an I/O APIC wired beside the 8259s (Pc option `apic`). */
  tap: ((irq: number, level: boolean) => void) | null = null;

  constructor() {
    this.master = new Pic8259('pic-master', true, (level) => {
      if (level) this.onIntr?.();
    });
    this.slave = new Pic8259('pic-slave', false, (level) => this.master.setIrq(2, level));
  }

  /** Standard ports: 0x20–0x21 and 0xA0–0xA1. */
  attach(io: IoPortBus): void {
    io.register(0x20, 2, this, 'pic-master');
    io.register(0xa0, 2, this, 'pic-slave');
  }

  reset(): void {
    this.master.reset();
    this.slave.reset();
    this.spuriousCount = 0;
  }

  setIrq(irq: number, level: boolean): void {
    this.tap?.(irq, level);
    if (irq < 8) this.master.setIrq(irq, level);
    else this.slave.setIrq(irq - 8, level);
  }

  /** A wire for IRQ `irq` (0–15) to hand to a device. */
  line(irq: number): IrqLine {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15 || irq === 2) throw new Error(`pic: no ISA IRQ ${irq}`);
    return (level) => this.setIrq(irq, level);
  }

  hasInterrupt(): boolean {
    return this.master.output;
  }

  acknowledge(): number {
    const m = this.master.acknowledgeIrq();
    if (m.spurious) {
      this.spuriousCount++;
      return this.master.vector(7);
    }
    if (this.master.icw3 & (1 << m.irq)) {
      const s = this.slave.acknowledgeIrq();
      if (s.spurious) this.spuriousCount++;
      return this.slave.vector(s.irq);
    }
    return this.master.vector(m.irq);
  }

  read8(port: number): number {
    const chip = (port & 0xf0) === 0xa0 ? this.slave : this.master;
    return chip.read(port & 1);
  }

  write8(port: number, value: number): void {
    const chip = (port & 0xf0) === 0xa0 ? this.slave : this.master;
    chip.write(port & 1, value);
  }
}
