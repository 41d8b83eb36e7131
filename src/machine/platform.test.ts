import { describe, expect, it } from 'vitest';
import { cyclesToTicks } from './clock.ts';
import { PIT_HZ } from './devices/pit8254.ts';
import { IoPortBus } from './io-bus.ts';
import { PcPlatform } from './platform.ts';
import { ManualClock } from './test-util.ts';

function vm(name: string) {
  const clock = new ManualClock();
  const io = new IoPortBus();
  const events: string[] = [];
  const platform = new PcPlatform({
    clock,
    io,
    ramBytes: 16 << 20,
    com2: true,
    keyboardController: false,
    onExit: (s) => events.push(`${name}:exit:${s}`),
    onReset: (why) => events.push(`${name}:reset:${why}`),
    getA20: () => true,
    setA20: () => {},
  });
  return { clock, io, platform, events };
}

describe('PcPlatform (one per VM)', () => {
  it('two instances share nothing: ports, timers, interrupts and consoles are separate', () => {
    const a = vm('a');
    const b = vm('b');
    // Program a's PIC and PIT; leave b untouched.
    for (const [p, v] of [
      [0x20, 0x11],
      [0x21, 0x20],
      [0x21, 0x04],
      [0x21, 0x01],
      [0x21, 0xfe],
    ]) {
      a.io.out8(p, v);
    }
    a.io.out8(0x43, 0x34);
    a.io.out8(0x40, 100);
    a.io.out8(0x40, 0);
    a.clock.advanceTo(cyclesToTicks(100, PIT_HZ));
    b.clock.advanceTo(cyclesToTicks(100, PIT_HZ));
    expect(a.platform.pic.hasInterrupt()).toBe(true);
    expect(a.platform.pic.acknowledge()).toBe(0x20);
    expect(b.platform.pic.hasInterrupt()).toBe(false);
    a.io.out8(0x3f8, 0x41);
    b.io.out8(0x2f8, 0x42); // COM2 of b
    expect([...a.platform.serialOut[0].take()]).toEqual([0x41]);
    expect([...b.platform.serialOut[0].take()]).toEqual([]);
    expect([...b.platform.serialOut[1].take()]).toEqual([0x42]);
    a.io.out8(0xf4, 1);
    expect(a.events).toEqual(['a:exit:3']);
    expect(b.events).toEqual([]);
  });

  it('leaves the keyboard controller and port 0x92 out when asked', () => {
    const a = vm('a');
    expect(a.platform.kbc).toBeNull();
    expect(a.io.in8(0x64)).toBe(0xff);
    expect(a.io.owner(0x92)).toBeUndefined();
    expect(a.io.owner(0x70)).toBe('cmos-rtc');
  });
});

describe('PcPlatform.snapshot', () => {
  it('shows device registers without side effects', () => {
    const a = vm('a');
    a.io.out8(0x3f9, 0x02); // ETBEI: THRE pending
    a.io.out8(0x43, 0x34);
    a.io.out8(0x40, 0x10);
    a.io.out8(0x40, 0x00);
    const s1 = a.platform.snapshot();
    const s2 = a.platform.snapshot();
    expect(s2).toEqual(s1);
    expect(s1.uarts[0].iir).toBe(0x02);
    expect(s1.pit[0]).toMatchObject({ mode: 2, reload: 16, armed: true, count: 16, out: true });
    expect(s1.pic.master.initializing).toBe(false);
    expect(structuredClone(s1)).toEqual(s1);
    expect(a.io.in8(0x3fa)).toBe(0x02); // still pending: the snapshots did not read IIR
  });
});
