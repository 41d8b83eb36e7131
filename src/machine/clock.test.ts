import { describe, expect, it } from 'vitest';
import { cyclesToTicks, TICKS_PER_SECOND, ticksToCycles, VirtualClock } from './clock.ts';

describe('virtual clock', () => {
  it('converts ticks to cycles of another clock exactly, even beyond 2^53 / hz', () => {
    expect(ticksToCycles(TICKS_PER_SECOND, 1_193_182)).toBe(1_193_182);
    expect(ticksToCycles(TICKS_PER_SECOND - 1, 1_193_182)).toBe(1_193_181);
    const big = 1e15 + 12345; // ~115 days of virtual time
    const exact = (BigInt(big) * 1_193_182n) / BigInt(TICKS_PER_SECOND);
    expect(ticksToCycles(big, 1_193_182)).toBe(Number(exact));
    for (const c of [1, 2, 11932, 65536, 1_193_182, 123_456_789]) {
      const t = cyclesToTicks(c, 1_193_182);
      expect(ticksToCycles(t, 1_193_182)).toBe(c);
      expect(ticksToCycles(t - 1, 1_193_182)).toBe(c - 1);
    }
  });

  it('adds HLT skips to the instruction count and never goes backwards', () => {
    let n = 100;
    const c = new VirtualClock(() => n);
    expect(c.now()).toBe(100);
    c.skipTo(1000);
    expect(c.now()).toBe(1000);
    n = 150;
    expect(c.now()).toBe(1050);
    c.skipTo(10);
    expect(c.now()).toBe(1050);
    expect(c.idleTicks).toBe(900);
    expect(c.nowNs()).toBe(10_500);
  });

  it('fires due timers earliest first, lets callbacks re-arm, and reports the next deadline', () => {
    let n = 0;
    const c = new VirtualClock(() => n);
    const log: string[] = [];
    const a = c.createTimer('a', (t) => {
      log.push(`a@${t}`);
      if (log.length < 3) a.set(t + 5);
    });
    const b = c.createTimer('b', () => log.push('b'));
    expect(c.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
    a.set(10);
    b.set(7);
    expect(c.nextDeadline()).toBe(7);
    n = 12;
    expect(c.runDue()).toBe(2); // b, then a (re-armed for 17, not yet due)
    expect(log).toEqual(['b', 'a@12']);
    expect(c.nextDeadline()).toBe(17);
    n = 30;
    c.runDue(30, 20); // only deadlines in [20, 30]: a@17 stays
    expect(log).toEqual(['b', 'a@12']);
    c.runDue();
    expect(log).toEqual(['b', 'a@12', 'a@30']);
    expect(b.armed).toBe(false);
  });
});
