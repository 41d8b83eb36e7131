import { describe, expect, it } from 'vitest';
import { IoPortBus } from '../io-bus.ts';
import { DualPic } from './dual-pic.ts';

/** Program both chips the way a PC BIOS/Linux does: vectors 0x20/0x28, cascade on IR2, 8086 mode. */
function setup(icw4 = 0x01): { pic: DualPic; io: IoPortBus } {
  const pic = new DualPic();
  const io = new IoPortBus();
  pic.attach(io);
  io.out8(0x20, 0x11);
  io.out8(0x21, 0x20);
  io.out8(0x21, 0x04);
  io.out8(0x21, icw4);
  io.out8(0xa0, 0x11);
  io.out8(0xa1, 0x28);
  io.out8(0xa1, 0x02);
  io.out8(0xa1, icw4);
  return { pic, io };
}

function pulse(pic: DualPic, irq: number): void {
  pic.setIrq(irq, true);
  pic.setIrq(irq, false);
}

describe('8259A pair', () => {
  it('delivers an IRQ with the ICW2 vector and sets ISR until EOI', () => {
    const { pic, io } = setup();
    expect(pic.hasInterrupt()).toBe(false);
    pulse(pic, 1);
    expect(pic.hasInterrupt()).toBe(true);
    io.out8(0x20, 0x0a); // OCW3: read IRR
    expect(io.in8(0x20)).toBe(0x02);
    expect(pic.acknowledge()).toBe(0x21);
    expect(pic.hasInterrupt()).toBe(false);
    io.out8(0x20, 0x0b); // OCW3: read ISR
    expect(io.in8(0x20)).toBe(0x02);
    io.out8(0x20, 0x20); // non-specific EOI
    expect(io.in8(0x20)).toBe(0x00);
  });

  it('fully nested priority: a lower-priority request waits for EOI, a higher one preempts', () => {
    const { pic, io } = setup();
    pulse(pic, 3);
    expect(pic.acknowledge()).toBe(0x23);
    pulse(pic, 5);
    expect(pic.hasInterrupt()).toBe(false); // IRQ5 < IRQ3 in service
    pulse(pic, 0);
    expect(pic.hasInterrupt()).toBe(true); // IRQ0 outranks IRQ3
    expect(pic.acknowledge()).toBe(0x20);
    io.out8(0x20, 0x20); // EOI clears the highest in-service level: IRQ0
    expect(pic.hasInterrupt()).toBe(false);
    io.out8(0x20, 0x20); // now IRQ3
    expect(pic.acknowledge()).toBe(0x25);
  });

  it('specific EOI clears only the named level', () => {
    const { pic, io } = setup();
    pulse(pic, 4);
    pic.acknowledge();
    pulse(pic, 1);
    pic.acknowledge();
    io.out8(0x20, 0x0b);
    expect(io.in8(0x20)).toBe(0x12);
    io.out8(0x20, 0x64); // specific EOI level 4
    expect(io.in8(0x20)).toBe(0x02);
  });

  it('masks requests through OCW1 without losing them; reads IMR back', () => {
    const { pic, io } = setup();
    io.out8(0x21, 0xff & ~0x04);
    expect(io.in8(0x21)).toBe(0xfb);
    pulse(pic, 0);
    expect(pic.hasInterrupt()).toBe(false);
    io.out8(0x21, 0xfa);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x20);
  });

  it('is edge triggered: a held line raises one request; a new edge is needed for the next', () => {
    const { pic, io } = setup();
    pic.setIrq(6, true);
    expect(pic.acknowledge()).toBe(0x26);
    io.out8(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(6, true);
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(6, false);
    pic.setIrq(6, true);
    expect(pic.hasInterrupt()).toBe(true);
  });

  it('level-triggered mode (LTIM) follows the line', () => {
    const pic = new DualPic();
    const io = new IoPortBus();
    pic.attach(io);
    io.out8(0x20, 0x19); // ICW1 with LTIM
    io.out8(0x21, 0x40);
    io.out8(0x21, 0x04);
    io.out8(0x21, 0x01);
    pic.setIrq(3, true);
    expect(pic.hasInterrupt()).toBe(true);
    pic.setIrq(3, false);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('cascades the slave through IRQ2 with the slave vector and both ISRs', () => {
    const { pic, io } = setup();
    pulse(pic, 12);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x2c);
    io.out8(0x20, 0x0b);
    io.out8(0xa0, 0x0b);
    expect(io.in8(0x20)).toBe(0x04);
    expect(io.in8(0xa0)).toBe(0x10);
    // Another slave IRQ of higher slave priority is blocked at the master (IR2 in service).
    pulse(pic, 8);
    expect(pic.hasInterrupt()).toBe(false);
    io.out8(0xa0, 0x20);
    io.out8(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x28);
  });

  it('special fully nested mode lets a higher slave IRQ through while IR2 is in service', () => {
    const { pic } = setup(0x11);
    pulse(pic, 12);
    expect(pic.acknowledge()).toBe(0x2c);
    pulse(pic, 8);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x28);
  });

  it('a request withdrawn before INTA yields spurious IRQ 7 without setting ISR', () => {
    const { pic, io } = setup();
    pulse(pic, 5);
    expect(pic.hasInterrupt()).toBe(true);
    io.out8(0x21, 0x20); // masked between INTR and INTA
    expect(pic.acknowledge()).toBe(0x27);
    io.out8(0x20, 0x0b);
    expect(io.in8(0x20)).toBe(0);
    expect(pic.spuriousCount).toBe(1);
  });

  it('a spurious slave request yields IRQ 15 with the master IR2 in service', () => {
    const { pic, io } = setup();
    pulse(pic, 10);
    io.out8(0xa1, 0x04); // mask IRQ10 at the slave after the master saw IR2
    expect(pic.acknowledge()).toBe(0x2f);
    io.out8(0xa0, 0x0b);
    expect(io.in8(0xa0)).toBe(0);
    io.out8(0x20, 0x0b);
    expect(io.in8(0x20)).toBe(0x04);
  });

  it('auto-EOI leaves ISR clear', () => {
    const { pic, io } = setup(0x03);
    pulse(pic, 3);
    expect(pic.acknowledge()).toBe(0x23);
    io.out8(0x20, 0x0b);
    expect(io.in8(0x20)).toBe(0);
    pulse(pic, 4);
    expect(pic.acknowledge()).toBe(0x24);
  });

  it('rotates priority on EOI and by set-priority', () => {
    const { pic, io } = setup();
    pulse(pic, 1);
    pic.acknowledge();
    io.out8(0x20, 0xa0); // rotate on non-specific EOI: IRQ1 becomes lowest, IRQ2 highest
    pulse(pic, 1);
    pulse(pic, 3);
    expect(pic.acknowledge()).toBe(0x23);
    io.out8(0x20, 0x20);
    io.out8(0x20, 0xc4); // set priority: IRQ4 lowest → IRQ5 highest
    pulse(pic, 0);
    pulse(pic, 6);
    expect(pic.acknowledge()).toBe(0x26);
  });

  it('poll command returns 0x80 | level and acknowledges', () => {
    const { pic, io } = setup();
    pulse(pic, 6);
    io.out8(0x20, 0x0c); // OCW3 poll
    expect(io.in8(0x20)).toBe(0x86);
    io.out8(0x20, 0x0b);
    expect(io.in8(0x20)).toBe(0x40);
  });

  it('special mask mode lets lower priorities through while the masked level is in service', () => {
    const { pic, io } = setup();
    pulse(pic, 2 + 1); // IRQ3
    pic.acknowledge();
    io.out8(0x21, 0x08); // mask IRQ3
    io.out8(0x20, 0x68); // OCW3: set special mask mode
    pulse(pic, 5);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x25);
  });

  it('ICW1 clears IMR and ISR', () => {
    const { pic, io } = setup();
    io.out8(0x21, 0xff);
    pulse(pic, 0);
    io.out8(0x21, 0x00);
    pic.acknowledge();
    io.out8(0x20, 0x11);
    io.out8(0x21, 0x08);
    io.out8(0x21, 0x04);
    io.out8(0x21, 0x01);
    expect(io.in8(0x21)).toBe(0);
    io.out8(0x20, 0x0b);
    expect(io.in8(0x20)).toBe(0);
    pulse(pic, 0);
    expect(pic.acknowledge()).toBe(0x08);
  });
});
