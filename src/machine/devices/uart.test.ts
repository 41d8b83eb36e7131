import { describe, expect, it } from 'vitest';
import { IoPortBus } from '../io-bus.ts';
import { IrqProbe, ManualClock } from '../test-util.ts';
import { Uart16550 } from './uart16550.ts';

const B = 0x3f8;
const RBR = B;
const IER = B + 1;
const IIR = B + 2;
const FCR = B + 2;
const LCR = B + 3;
const MCR = B + 4;
const LSR = B + 5;
const MSR = B + 6;
const SCR = B + 7;

function setup() {
  const clock = new ManualClock();
  const irq = new IrqProbe();
  const sent: number[] = [];
  const uart = new Uart16550({ clock, irq: irq.line, base: B, onTransmit: (b) => sent.push(b) });
  const io = new IoPortBus();
  uart.attach(io);
  return { clock, irq, uart, io, sent };
}

describe('16550A UART', () => {
  it('transmits bytes to the sink with THRE and TEMT always set', () => {
    const { io, sent } = setup();
    expect(io.in8(LSR) & 0x60).toBe(0x60);
    for (const c of 'Hi') io.out8(B, c.charCodeAt(0));
    expect(String.fromCharCode(...sent)).toBe('Hi');
    expect(io.in8(LSR) & 0x60).toBe(0x60);
  });

  it('DLAB switches ports 0/1 to the divisor latch', () => {
    const { io, sent } = setup();
    io.out8(LCR, 0x83);
    io.out8(B, 0x01);
    io.out8(IER, 0x00);
    expect(io.in8(B)).toBe(0x01);
    expect(io.in8(IER)).toBe(0x00);
    expect(sent).toEqual([]); // the write went to DLL, not THR
    io.out8(LCR, 0x03);
    io.out8(IER, 0x05);
    expect(io.in8(IER)).toBe(0x05);
    io.out8(LCR, 0x83);
    expect(io.in8(IER)).toBe(0x00); // DLM unchanged
  });

  it('scratch register holds a value', () => {
    const { io } = setup();
    io.out8(SCR, 0x5a);
    expect(io.in8(SCR)).toBe(0x5a);
  });

  it('THRE interrupt: raised on enabling ETBEI, cleared by reading IIR, re-raised by a THR write', () => {
    const { io, irq } = setup();
    io.out8(MCR, 0x08); // OUT2: connect INTR to the PIC
    expect(io.in8(IIR)).toBe(0x01);
    io.out8(IER, 0x02);
    expect(irq.level).toBe(true);
    expect(io.in8(IIR)).toBe(0x02);
    expect(irq.level).toBe(false);
    expect(io.in8(IIR)).toBe(0x01);
    io.out8(B, 0x41);
    expect(irq.level).toBe(true);
    expect(irq.rises).toBe(2);
    io.out8(B, 0x42); // each THR write produces a fresh edge
    expect(irq.rises).toBe(3);
  });

  it('the IRQ line is gated by MCR OUT2', () => {
    const { io, irq } = setup();
    io.out8(IER, 0x02);
    expect(io.in8(IIR) & 0x0f).toBe(0x02); // pending inside the UART…
    io.out8(B, 0x41);
    expect(irq.level).toBe(false); // …but not on the bus
    io.out8(MCR, 0x08);
    expect(irq.level).toBe(true);
  });

  it('received data: LSR.DR, IIR 0x04 at the trigger level, data in order', () => {
    const { io, uart, irq } = setup();
    io.out8(MCR, 0x08);
    io.out8(FCR, 0x81); // FIFO on, trigger 8
    io.out8(IER, 0x01);
    uart.enqueueInput('abcdefg');
    expect(io.in8(LSR) & 1).toBe(1);
    expect(io.in8(IIR)).toBe(0xc1); // 7 < 8: no RDA yet
    uart.enqueueInput('h');
    expect(io.in8(IIR)).toBe(0xc4);
    expect(irq.level).toBe(true);
    expect(io.in8(RBR)).toBe(0x61);
    expect(io.in8(IIR)).toBe(0xc1); // 7 left: below trigger
    let s = '';
    while (io.in8(LSR) & 1) s += String.fromCharCode(io.in8(RBR));
    expect(s).toBe('bcdefgh');
  });

  it('trigger levels 1, 4, 8, 14', () => {
    for (const [fcr, level] of [
      [0x01, 1],
      [0x41, 4],
      [0x81, 8],
      [0xc1, 14],
    ]) {
      const { io, uart } = setup();
      io.out8(FCR, fcr);
      io.out8(IER, 0x01);
      uart.enqueueInput(new Uint8Array(level - 1));
      expect(io.in8(IIR) & 0x0f).toBe(0x01);
      uart.enqueueInput([0]);
      expect(io.in8(IIR) & 0x0f).toBe(0x04);
    }
  });

  it('character timeout (IIR 0x0C) fires 4 character times after the last byte below the trigger', () => {
    const { io, uart, clock } = setup();
    io.out8(LCR, 0x83);
    io.out8(B, 1); // 115200 baud: 10 bits ≈ 86.8 µs = 8681 ticks
    io.out8(LCR, 0x03);
    io.out8(FCR, 0xc1);
    io.out8(IER, 0x01);
    uart.enqueueInput('x');
    clock.advance(4 * 8681 - 1);
    expect(io.in8(IIR)).toBe(0xc1);
    clock.advance(1);
    expect(io.in8(IIR)).toBe(0xcc);
    expect(io.in8(RBR)).toBe(0x78);
    expect(io.in8(IIR)).toBe(0xc1);
  });

  it('host input enters the FIFO only as it has room (16 bytes), never overrunning', () => {
    const { io, uart } = setup();
    io.out8(FCR, 0x01);
    uart.enqueueInput(new Uint8Array(40).map((_, i) => i));
    expect(uart.rxCount).toBe(16);
    expect(uart.pendingInput).toBe(24);
    const got: number[] = [];
    while (io.in8(LSR) & 1) got.push(io.in8(RBR));
    expect(got).toEqual([...Array(40).keys()]);
    expect(io.in8(LSR) & 0x02).toBe(0);
  });

  it('without FIFOs the receiver holds one byte', () => {
    const { io, uart } = setup();
    uart.enqueueInput('xy');
    expect(uart.rxCount).toBe(1);
    expect(io.in8(IIR)).toBe(0x01); // no 0xC0 bits with FIFOs off
    expect(io.in8(RBR)).toBe(0x78);
    expect(io.in8(RBR)).toBe(0x79);
  });

  it('IIR priority: line status > received data > THRE > modem status', () => {
    const { io, uart } = setup();
    io.out8(MCR, 0x18); // loopback + OUT2
    io.out8(IER, 0x0f);
    // Modem status change: loopback dropped CTS/DSR/DCD → deltas.
    expect(io.in8(IIR) & 0x0f).toBe(0x02); // THRE beats modem status
    expect(io.in8(IIR) & 0x0f).toBe(0x00); // THRE cleared by the read → modem status
    io.out8(B, 0x11); // loopback: received, and THRE again
    expect(io.in8(IIR) & 0x0f).toBe(0x04); // RDA beats THRE
    io.out8(B, 0x22); // 1-byte holding register full → overrun
    expect(io.in8(IIR) & 0x0f).toBe(0x06); // line status is the highest
    expect(io.in8(LSR) & 0x02).toBe(0x02); // OE, cleared by this read
    expect(io.in8(IIR) & 0x0f).toBe(0x04);
    expect(uart.rxCount).toBe(1);
  });

  it('loopback: transmitted bytes are received, nothing reaches the sink, MSR mirrors MCR', () => {
    const { io, sent } = setup();
    io.out8(FCR, 0x01);
    io.out8(MCR, 0x10);
    io.in8(MSR); // clear deltas from entering loopback
    for (const b of [1, 2, 3]) io.out8(B, b);
    expect(sent).toEqual([]);
    expect([io.in8(RBR), io.in8(RBR), io.in8(RBR)]).toEqual([1, 2, 3]);
    io.out8(MCR, 0x10 | 0x01 | 0x02); // DTR, RTS
    expect(io.in8(MSR)).toBe(0x30 | 0x03); // CTS, DSR + their deltas
    expect(io.in8(MSR)).toBe(0x30);
    io.out8(MCR, 0x10 | 0x04 | 0x08); // OUT1 → RI, OUT2 → DCD
    expect(io.in8(MSR) & 0xf0).toBe(0xc0);
    io.out8(MCR, 0x10);
    expect(io.in8(MSR) & 0x0f).toBe(0x04 | 0x08); // TERI on RI's falling edge, DDCD
  });

  it('loopback cuts the host input off until it ends', () => {
    const { io, uart } = setup();
    io.out8(MCR, 0x10);
    uart.enqueueInput('z');
    expect(io.in8(LSR) & 1).toBe(0);
    io.out8(MCR, 0x00);
    expect(io.in8(RBR)).toBe(0x7a);
  });

  it('FCR bit 1 clears the receive FIFO', () => {
    const { io, uart } = setup();
    io.out8(FCR, 0x01);
    io.out8(MCR, 0x10);
    io.out8(B, 9);
    expect(uart.rxCount).toBe(1);
    io.out8(FCR, 0x03);
    expect(uart.rxCount).toBe(0);
  });
});
