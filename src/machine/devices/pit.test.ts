import { describe, expect, it } from 'vitest';
import { cyclesToTicks } from '../clock.ts';
import { IoPortBus } from '../io-bus.ts';
import { IrqProbe, ManualClock } from '../test-util.ts';
import { PIT_HZ, Pit8254 } from './pit8254.ts';
import { SystemControlPortB } from './port61.ts';

function setup() {
  const clock = new ManualClock();
  const irq = new IrqProbe();
  const pit = new Pit8254({ clock, irq0: irq.line });
  const io = new IoPortBus();
  pit.attach(io);
  const port61 = new SystemControlPortB(clock, pit);
  port61.attach(io);
  /** Move to the moment PIT clock `c` begins. */
  const toClock = (c: number) => clock.advanceTo(cyclesToTicks(c, PIT_HZ));
  return { clock, irq, pit, io, toClock };
}

function readCount16(io: IoPortBus, port: number): number {
  const lo = io.in8(port);
  return lo | (io.in8(port) << 8);
}

describe('8254 PIT', () => {
  it('mode 2 (rate generator) on channel 0 raises IRQ0 once per period', () => {
    const { irq, io, toClock, pit } = setup();
    io.out8(0x43, 0x34); // ch0, lobyte/hibyte, mode 2, binary
    io.out8(0x40, 100);
    io.out8(0x40, 0);
    toClock(99);
    expect(irq.rises).toBe(0);
    toClock(100);
    expect(irq.rises).toBe(1);
    toClock(250);
    expect(irq.rises).toBe(2);
    toClock(300);
    expect(irq.rises).toBe(3);
    expect(pit.irq0Edges).toBe(3);
  });

  it('mode 2 counter counts N..1 and OUT is low only at count 1', () => {
    const { io, toClock, pit } = setup();
    io.out8(0x43, 0x34);
    io.out8(0x40, 10);
    io.out8(0x40, 0);
    toClock(3);
    io.out8(0x43, 0x00); // latch ch0
    expect(readCount16(io, 0x40)).toBe(7);
    toClock(9);
    expect(pit.out(0)).toBe(false);
    io.out8(0x43, 0x00);
    expect(readCount16(io, 0x40)).toBe(1);
    toClock(10);
    expect(pit.out(0)).toBe(true);
    io.out8(0x43, 0x00);
    expect(readCount16(io, 0x40)).toBe(10);
  });

  it('mode 0: OUT low after the count is written, high at terminal count, counter wraps on', () => {
    const { io, toClock, pit, irq } = setup();
    io.out8(0x43, 0x30); // ch0 lohi mode 0
    io.out8(0x40, 50);
    io.out8(0x40, 0);
    expect(pit.out(0)).toBe(false);
    toClock(49);
    expect(pit.out(0)).toBe(false);
    toClock(50);
    expect(pit.out(0)).toBe(true);
    expect(irq.rises).toBe(1);
    toClock(52);
    io.out8(0x43, 0x00);
    expect(readCount16(io, 0x40)).toBe(0xfffe);
    expect(pit.out(0)).toBe(true);
    toClock(500);
    expect(irq.rises).toBe(1); // one-shot
  });

  it('mode 3 square wave: high for N/2, low for N/2, counting down by 2', () => {
    const { io, toClock, pit, irq } = setup();
    io.out8(0x43, 0x36); // ch0 lohi mode 3
    io.out8(0x40, 10);
    io.out8(0x40, 0);
    const outs: boolean[] = [];
    const counts: number[] = [];
    for (let c = 0; c < 10; c++) {
      toClock(c);
      outs.push(pit.out(0));
      io.out8(0x43, 0x00);
      counts.push(readCount16(io, 0x40));
    }
    expect(outs).toEqual([true, true, true, true, true, false, false, false, false, false]);
    expect(counts).toEqual([10, 8, 6, 4, 2, 10, 8, 6, 4, 2]);
    toClock(10);
    expect(irq.rises).toBe(1);
    toClock(20);
    expect(irq.rises).toBe(2);
  });

  it('mode 3 with an odd count stays high one clock longer', () => {
    const { io, toClock, pit } = setup();
    io.out8(0x43, 0x36);
    io.out8(0x40, 5);
    io.out8(0x40, 0);
    const outs: boolean[] = [];
    for (let c = 0; c < 5; c++) {
      toClock(c);
      outs.push(pit.out(0));
    }
    expect(outs).toEqual([true, true, true, false, false]);
  });

  it('the latch command freezes the value until both bytes are read', () => {
    const { io, toClock } = setup();
    io.out8(0x43, 0x34);
    io.out8(0x40, 0x00);
    io.out8(0x40, 0x10); // 0x1000
    toClock(0x10);
    io.out8(0x43, 0x00);
    toClock(0x80);
    io.out8(0x43, 0x00); // ignored: already latched
    expect(io.in8(0x40)).toBe(0xf0);
    toClock(0x100);
    expect(io.in8(0x40)).toBe(0x0f);
    // Unlatched reads follow the counter.
    expect(readCount16(io, 0x40)).toBe(0x1000 - 0x100);
  });

  it('lobyte-only and hibyte-only access modes', () => {
    const { io, toClock } = setup();
    io.out8(0x43, 0x14); // ch0 lobyte only, mode 2
    io.out8(0x40, 200);
    toClock(50);
    expect(io.in8(0x40)).toBe(150);
    io.out8(0x43, 0x24); // hibyte only, mode 2
    io.out8(0x40, 0x02); // 0x200
    toClock(50 + 0x100);
    expect(io.in8(0x40)).toBe(0x01);
  });

  it('read-back command latches status and count; status reports OUT, null count, mode, access', () => {
    const { io, toClock } = setup();
    io.out8(0x43, 0xb0); // ch2 lohi mode 0
    let st: number;
    io.out8(0x43, 0xe8); // read-back status of ch2 (COUNT# = 1)
    st = io.in8(0x42);
    expect(st & 0x40).toBe(0x40); // null count: no count written yet
    expect(st & 0x3f).toBe(0x30);
    io.out8(0x61, 0x01); // gate 2 high
    io.out8(0x42, 20);
    io.out8(0x42, 0);
    toClock(5);
    io.out8(0x43, 0xc8); // read-back count + status of ch2
    st = io.in8(0x42);
    expect(st).toBe(0x30); // OUT low, count loaded, lohi, mode 0, binary
    expect(readCount16(io, 0x42)).toBe(15);
    toClock(30);
    io.out8(0x43, 0xe8);
    expect(io.in8(0x42) & 0x80).toBe(0x80); // OUT high after terminal count
  });

  it('BCD counting', () => {
    const { io, toClock } = setup();
    io.out8(0x43, 0x35); // ch0 lohi mode 2 BCD
    io.out8(0x40, 0x00);
    io.out8(0x40, 0x10); // 1000 decimal
    toClock(1);
    io.out8(0x43, 0x00);
    expect(readCount16(io, 0x40)).toBe(0x0999);
  });

  it('channel 2 is gated by port 0x61 bit 0 and OUT2 shows in bit 5', () => {
    const { io, toClock } = setup();
    io.out8(0x43, 0xb0); // ch2 mode 0
    io.out8(0x42, 100);
    io.out8(0x42, 0);
    expect(io.in8(0x61) & 0x20).toBe(0);
    toClock(200);
    expect(io.in8(0x61) & 0x20).toBe(0); // gate low: not counting
    io.out8(0x61, 0x01);
    expect(io.in8(0x61) & 0x01).toBe(1);
    toClock(299);
    expect(io.in8(0x61) & 0x20).toBe(0);
    toClock(300);
    expect(io.in8(0x61) & 0x20).toBe(0x20);
  });

  it('mode 1 one-shot starts on the gate rising edge and can be retriggered', () => {
    const { io, toClock, pit } = setup();
    io.out8(0x43, 0xb2); // ch2 lohi mode 1
    io.out8(0x42, 10);
    io.out8(0x42, 0);
    toClock(20);
    expect(pit.out(2)).toBe(true);
    io.out8(0x61, 0x01); // trigger at 20
    expect(pit.out(2)).toBe(false);
    toClock(25);
    io.out8(0x61, 0x00);
    io.out8(0x61, 0x01); // retrigger at 25
    toClock(34);
    expect(pit.out(2)).toBe(false);
    toClock(35);
    expect(pit.out(2)).toBe(true);
  });

  it('mode 4 strobes OUT low for one clock at terminal count', () => {
    const { io, toClock, pit, irq } = setup();
    io.out8(0x43, 0x38); // ch0 lohi mode 4
    io.out8(0x40, 8);
    io.out8(0x40, 0);
    toClock(7);
    expect(pit.out(0)).toBe(true);
    toClock(8);
    expect(pit.out(0)).toBe(false);
    toClock(9);
    expect(pit.out(0)).toBe(true);
    expect(irq.rises).toBe(1);
  });

  it('mode 5 strobes one clock after N clocks from the gate trigger', () => {
    const { io, toClock, pit } = setup();
    io.out8(0x43, 0xba); // ch2 lohi mode 5
    io.out8(0x42, 6);
    io.out8(0x42, 0);
    toClock(50);
    expect(pit.out(2)).toBe(true); // not triggered yet
    io.out8(0x61, 0x01); // trigger at 50
    toClock(55);
    expect(pit.out(2)).toBe(true);
    toClock(56);
    expect(pit.out(2)).toBe(false);
    toClock(57);
    expect(pit.out(2)).toBe(true);
  });

  it('mode 0 pauses while the gate is low and resumes where it stopped', () => {
    const { io, toClock } = setup();
    io.out8(0x61, 0x01);
    io.out8(0x43, 0xb0); // ch2 mode 0
    io.out8(0x42, 100);
    io.out8(0x42, 0);
    toClock(30);
    io.out8(0x61, 0x00); // pause at count 70
    toClock(500);
    io.out8(0x43, 0x80);
    expect(io.in8(0x42)).toBe(70);
    io.in8(0x42);
    io.out8(0x61, 0x01);
    toClock(569);
    expect(io.in8(0x61) & 0x20).toBe(0);
    toClock(570);
    expect(io.in8(0x61) & 0x20).toBe(0x20);
  });

  it('mode 2: gate low holds OUT high; the rising edge reloads the count', () => {
    const { io, toClock, pit } = setup();
    io.out8(0x61, 0x01);
    io.out8(0x43, 0xb4); // ch2 lohi mode 2
    io.out8(0x42, 10);
    io.out8(0x42, 0);
    toClock(9);
    expect(pit.out(2)).toBe(false);
    io.out8(0x61, 0x00);
    expect(pit.out(2)).toBe(true);
    toClock(15);
    io.out8(0x61, 0x01); // reload at 15
    toClock(23);
    expect(pit.out(2)).toBe(true);
    io.out8(0x43, 0x80);
    expect(io.in8(0x42)).toBe(2);
    io.in8(0x42);
    toClock(24);
    expect(pit.out(2)).toBe(false);
  });

  it('port 0x61 bit 4 toggles with the refresh clock', () => {
    const { io, clock } = setup();
    const a = io.in8(0x61) & 0x10;
    clock.advance(1600); // 16 µs > 15.085 µs
    expect(io.in8(0x61) & 0x10).not.toBe(a);
  });
});
