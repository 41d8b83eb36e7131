import { describe, expect, it } from 'vitest';
import { IoPortBus } from '../io-bus.ts';
import { IrqProbe } from '../test-util.ts';
import { DebugExit } from './debug-exit.ts';
import { DebugConsole } from './debugcon.ts';
import { I8042 } from './i8042.ts';
import { Port92 } from './port92.ts';
import { PostCodePort } from './post-codes.ts';

function kbcSetup() {
  const io = new IoPortBus();
  const irq1 = new IrqProbe();
  const state = { a20: true, resets: 0 };
  const kbc = new I8042({
    irq1: irq1.line,
    irq12: () => {},
    getA20: () => state.a20,
    setA20: (on) => {
      state.a20 = on;
    },
    onReset: () => {
      state.resets++;
    },
  });
  kbc.attach(io);
  return { io, kbc, state, irq1 };
}

describe('i8042 keyboard controller', () => {
  it('self-test 0xAA answers 0x55 through the output buffer', () => {
    const { io } = kbcSetup();
    expect(io.in8(0x64) & 1).toBe(0);
    io.out8(0x64, 0xaa);
    expect(io.in8(0x64) & 0x05).toBe(0x05); // OBF + system flag
    expect(io.in8(0x60)).toBe(0x55);
    expect(io.in8(0x64) & 1).toBe(0);
    io.out8(0x64, 0xab);
    expect(io.in8(0x60)).toBe(0x00);
  });

  it('reads and writes the command byte; OBF raises IRQ 1 when enabled', () => {
    const { io, irq1 } = kbcSetup();
    io.out8(0x64, 0x20);
    expect(irq1.level).toBe(true);
    expect(io.in8(0x60)).toBe(0x45);
    expect(irq1.level).toBe(false);
    io.out8(0x64, 0x60);
    io.out8(0x60, 0x44); // keyboard interrupt off
    io.out8(0x64, 0x20);
    expect(irq1.level).toBe(false);
    expect(io.in8(0x60)).toBe(0x44);
  });

  it('0xD1 writes the output port: bit 1 = A20; 0xD0 reads it back', () => {
    const { io, state } = kbcSetup();
    io.out8(0x64, 0xd1);
    io.out8(0x60, 0xdd); // A20 off, reset line high
    expect(state.a20).toBe(false);
    expect(state.resets).toBe(0);
    io.out8(0x64, 0xd0);
    expect(io.in8(0x60) & 0x03).toBe(0x01);
    io.out8(0x64, 0xd1);
    io.out8(0x60, 0xdf);
    expect(state.a20).toBe(true);
    io.out8(0x64, 0xd0);
    expect(io.in8(0x60) & 0x03).toBe(0x03);
  });

  it('0xFE pulses the reset line; 0xD1 with bit 0 clear resets too', () => {
    const { io, state } = kbcSetup();
    io.out8(0x64, 0xfe);
    expect(state.resets).toBe(1);
    io.out8(0x64, 0xff); // pulses nothing
    expect(state.resets).toBe(1);
    io.out8(0x64, 0xd1);
    io.out8(0x60, 0x02);
    expect(state.resets).toBe(2);
  });

  it('the keyboard answers reset and identify', () => {
    const { io } = kbcSetup();
    io.out8(0x60, 0xff);
    expect([io.in8(0x60), io.in8(0x60)]).toEqual([0xfa, 0xaa]);
    io.out8(0x60, 0xf2);
    expect([io.in8(0x60), io.in8(0x60), io.in8(0x60)]).toEqual([0xfa, 0xab, 0x83]);
    io.out8(0x60, 0xed);
    io.out8(0x60, 0x07);
    expect([io.in8(0x60), io.in8(0x60)]).toEqual([0xfa, 0xfa]);
    expect(io.in8(0x64) & 1).toBe(0);
  });
});

describe('port 0x92', () => {
  it('bit 1 gates A20, a 0→1 write of bit 0 resets', () => {
    const io = new IoPortBus();
    const state = { a20: false, resets: 0 };
    new Port92({
      getA20: () => state.a20,
      setA20: (on) => {
        state.a20 = on;
      },
      onReset: () => {
        state.resets++;
      },
    }).attach(io);
    expect(io.in8(0x92) & 2).toBe(0);
    io.out8(0x92, 0x02);
    expect(state.a20).toBe(true);
    expect(io.in8(0x92) & 2).toBe(2);
    expect(state.resets).toBe(0);
    io.out8(0x92, 0x03);
    expect(state.resets).toBe(1);
    io.out8(0x92, 0x03); // no new edge
    expect(state.resets).toBe(1);
    io.out8(0x92, 0x00);
    expect(state.a20).toBe(false);
  });
});

describe('debug ports', () => {
  it('isa-debug-exit reports (v << 1) | 1; a 16-bit write uses the low byte', () => {
    const io = new IoPortBus();
    const codes: number[] = [];
    new DebugExit((s) => codes.push(s)).attach(io);
    io.out8(0xf4, 0);
    io.out8(0xf4, 0x21);
    io.out16(0xf4, 0x0305);
    expect(codes).toEqual([1, 0x43, 11]);
  });

  it('debugcon forwards bytes and reads 0xE9; POST codes are recorded', () => {
    const io = new IoPortBus();
    const out: number[] = [];
    new DebugConsole((b) => out.push(b)).attach(io);
    const post = new PostCodePort(3);
    post.attach(io);
    io.out8(0xe9, 0x41);
    expect(io.in8(0xe9)).toBe(0xe9);
    expect(out).toEqual([0x41]);
    for (const c of [0x10, 0x20, 0x30, 0x40]) io.out8(0x80, c);
    expect(post.codes).toEqual([0x10, 0x20, 0x30]);
    expect(post.total).toBe(4);
    expect(io.in8(0x80)).toBe(0x40);
  });
});
