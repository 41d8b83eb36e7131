import { describe, expect, it } from 'vitest';
import { TICKS_PER_SECOND } from '../clock.ts';
import { IoPortBus } from '../io-bus.ts';
import { IrqProbe, ManualClock } from '../test-util.ts';
import { CmosRtc } from './cmos-rtc.ts';

function setup(startTime = Date.UTC(2026, 1, 28, 23, 59, 58), ramBytes = 64 << 20) {
  const clock = new ManualClock();
  const irq = new IrqProbe();
  const rtc = new CmosRtc({ clock, irq: irq.line, ramBytes, startTime });
  const io = new IoPortBus();
  rtc.attach(io);
  const rd = (reg: number) => {
    io.out8(0x70, reg);
    return io.in8(0x71);
  };
  const wr = (reg: number, v: number) => {
    io.out8(0x70, reg);
    io.out8(0x71, v);
  };
  return { clock, irq, rtc, io, rd, wr };
}

describe('CMOS / RTC', () => {
  it('reads the start date in BCD, 24-hour by default, and advances with virtual time', () => {
    const { rd, clock } = setup();
    expect([rd(9), rd(8), rd(7), rd(4), rd(2), rd(0), rd(0x32)]).toEqual([
      0x26, 0x02, 0x28, 0x23, 0x59, 0x58, 0x20,
    ]);
    expect(rd(6)).toBe(0x07); // Saturday = 7 (Sunday = 1)
    clock.advance(2 * TICKS_PER_SECOND);
    expect([rd(8), rd(7), rd(4), rd(2), rd(0)]).toEqual([0x03, 0x01, 0x00, 0x00, 0x00]);
    expect(rd(6)).toBe(0x01);
  });

  it('binary mode (status B DM) and 12-hour mode with the PM bit', () => {
    const { rd, wr } = setup(Date.UTC(2026, 5, 15, 13, 45, 30));
    wr(0x0b, 0x02 | 0x04); // 24h, binary
    expect([rd(4), rd(2), rd(0), rd(9)]).toEqual([13, 45, 30, 26]);
    wr(0x0b, 0x04); // 12h, binary
    expect(rd(4)).toBe(0x80 | 1);
    wr(0x0b, 0x00); // 12h, BCD
    expect(rd(4)).toBe(0x81);
    const am = setup(Date.UTC(2026, 5, 15, 0, 5, 0));
    am.wr(0x0b, 0x00);
    expect(am.rd(4)).toBe(0x12); // midnight is 12 AM
  });

  it('UIP is set only in the 244 µs before each second boundary', () => {
    const { rd, clock } = setup(Date.UTC(2026, 0, 1));
    expect(rd(0x0a) & 0x80).toBe(0);
    clock.advanceTo(TICKS_PER_SECOND - 24_400 - 1);
    expect(rd(0x0a) & 0x80).toBe(0);
    clock.advanceTo(TICKS_PER_SECOND - 24_400);
    expect(rd(0x0a) & 0x80).toBe(0x80);
    expect(rd(0)).toBe(0x00);
    clock.advanceTo(TICKS_PER_SECOND);
    expect(rd(0x0a) & 0x80).toBe(0);
    expect(rd(0)).toBe(0x01);
  });

  it('setting the time with SET: the clock holds while SET=1 and runs from the new time after', () => {
    const { rd, wr, clock } = setup(Date.UTC(2026, 0, 1));
    wr(0x0b, 0x82);
    wr(4, 0x10);
    wr(2, 0x20);
    wr(0, 0x30);
    clock.advance(5 * TICKS_PER_SECOND);
    expect(rd(0)).toBe(0x30);
    expect(rd(0x0a) & 0x80).toBe(0); // no UIP while SET
    wr(0x0b, 0x02);
    clock.advance(3 * TICKS_PER_SECOND);
    expect([rd(4), rd(2), rd(0)]).toEqual([0x10, 0x20, 0x33]);
  });

  it('status C flags: update-ended, periodic; read clears; IRQ 8 through IRQF', () => {
    const { rd, wr, clock, irq } = setup(Date.UTC(2026, 0, 1));
    wr(0x0b, 0x02 | 0x10); // UIE
    clock.advance(TICKS_PER_SECOND);
    expect(irq.level).toBe(true);
    const c = rd(0x0c);
    expect(c & 0x90).toBe(0x90);
    expect(irq.level).toBe(false);
    expect(rd(0x0c)).toBe(0);
    // Periodic interrupt at 1024 Hz (rate 6): about 976.6 µs.
    wr(0x0b, 0x02 | 0x40);
    const t0 = clock.now();
    clock.advance(50_000);
    expect(irq.level).toBe(false);
    clock.advanceTo(t0 + 97_700);
    expect(irq.level).toBe(true);
    expect(rd(0x0c) & 0xc0).toBe(0xc0);
    expect(irq.rises).toBe(2);
  });

  it('alarm interrupt when the time matches (with don’t-care hours)', () => {
    const { rd, wr, clock, irq } = setup(Date.UTC(2026, 0, 1, 5, 0, 0));
    wr(1, 0x03); // seconds = 3
    wr(3, 0x00);
    wr(5, 0xc0); // any hour
    wr(0x0b, 0x02 | 0x20); // AIE
    clock.advance(2 * TICKS_PER_SECOND);
    expect(irq.level).toBe(false);
    clock.advance(TICKS_PER_SECOND);
    expect(irq.level).toBe(true);
    expect(rd(0x0c) & 0xa0).toBe(0xa0);
  });

  it('status D reports valid RAM; index port bit 7 masks NMI', () => {
    const { rd, io, rtc } = setup();
    expect(rd(0x0d)).toBe(0x80);
    io.out8(0x70, 0x8f);
    expect(rtc.nmiMasked).toBe(true);
    expect(rtc.index).toBe(0x0f);
    io.out8(0x70, 0x0f);
    expect(rtc.nmiMasked).toBe(false);
  });

  it('memory size bytes', () => {
    const { rd } = setup(undefined, 64 << 20);
    expect(rd(0x15) | (rd(0x16) << 8)).toBe(640);
    expect(rd(0x17) | (rd(0x18) << 8)).toBe(63 * 1024);
    expect(rd(0x30) | (rd(0x31) << 8)).toBe(63 * 1024);
    expect(rd(0x34) | (rd(0x35) << 8)).toBe((48 << 20) / 65536);
    const big = setup(undefined, 1024 << 20);
    expect(big.rd(0x17) | (big.rd(0x18) << 8)).toBe(0xffff);
  });

  it('general CMOS bytes are plain RAM', () => {
    const { rd, wr } = setup();
    wr(0x40, 0xa5);
    expect(rd(0x40)).toBe(0xa5);
    wr(0x0c, 0xff);
    expect(rd(0x0c)).toBe(0);
  });
});
