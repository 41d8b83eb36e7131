import { describe, expect, it } from 'vitest';
import { budgetCut, type FrameScheduler, fairShares, SerialBatcher } from './serial-batch.ts';

/** A manual clock and frame queue: `tick(ms)` advances time and runs the frames due by then. */
function harness(budget = 10, intervalMs = 50) {
  let t = 0;
  let queue: { at: number; fn: () => void; live: boolean }[] = [];
  const schedule: FrameScheduler = (fn, delayMs) => {
    const job = { at: t + delayMs, fn, live: true };
    queue.push(job);
    return () => {
      job.live = false;
    };
  };
  const b = new SerialBatcher(schedule, () => t, budget, intervalMs);
  const tick = (ms: number) => {
    t += ms;
    const due = queue.filter((j) => j.live && j.at <= t);
    queue = queue.filter((j) => !due.includes(j));
    for (const j of due) j.fn();
  };
  const sink = () => {
    const writes: string[] = [];
    return { writes, write: (s: string) => void writes.push(s) };
  };
  return { b, tick, sink, frames: () => queue.filter((j) => j.live).length };
}

describe('SerialBatcher', () => {
  it('coalesces writes into one per frame and terminal', () => {
    const h = harness(100);
    const a = h.sink();
    const c = h.sink();
    h.b.add(a, 'he');
    h.b.add(c, 'x');
    h.b.add(a, 'llo');
    expect(a.writes).toEqual([]);
    h.tick(0);
    expect(a.writes).toEqual(['hello']);
    expect(c.writes).toEqual(['x']);
    // The next batch waits for the interval.
    h.b.add(a, '!');
    h.tick(49);
    expect(a.writes).toEqual(['hello']);
    h.tick(1);
    expect(a.writes).toEqual(['hello', '!']);
  });

  it('hands a burst over a budget at a time, one piece per frame, in order and whole', () => {
    const h = harness(10);
    const a = h.sink();
    const burst = 'abcdefghijklmnopqrstuvwxyz0123456789';
    h.b.add(a, burst);
    h.tick(0);
    expect(a.writes).toEqual(['abcdefghij']);
    expect(h.b.queued).toBe(26);
    // The backlog continues on the very next frame, without waiting for the interval.
    h.b.add(a, '+');
    h.tick(0);
    h.tick(0);
    h.tick(0);
    expect(a.writes.join('')).toBe(`${burst}+`);
    expect(a.writes.every((w) => w.length <= 10)).toBe(true);
    expect(h.b.queued).toBe(0);
    expect(h.frames()).toBe(0);
  });

  it('flushAll writes everything at once, ignoring the budget, and cancels the pending frame', () => {
    const h = harness(4);
    const a = h.sink();
    h.b.add(a, 'abcdefghij');
    h.b.flushAll();
    expect(a.writes).toEqual(['abcdefghij']);
    h.tick(100);
    expect(a.writes).toEqual(['abcdefghij']);
  });

  it('clear drops what is queued (a new guest starts)', () => {
    const h = harness();
    const a = h.sink();
    h.b.add(a, 'old run');
    h.b.clear();
    h.tick(100);
    expect(a.writes).toEqual([]);
    h.b.add(a, 'new');
    h.tick(0);
    expect(a.writes).toEqual(['new']);
  });

  it('never splits a surrogate pair', () => {
    const emoji = '\u{1F600}'; // two UTF-16 units
    expect(budgetCut(`abc${emoji}`, 4)).toBe(3);
    expect(budgetCut(`abc${emoji}`, 5)).toBe(5);
    const h = harness(4);
    const a = h.sink();
    h.b.add(a, `abc${emoji}def`);
    h.tick(0);
    h.tick(0);
    h.tick(0);
    expect(a.writes[0]).toBe('abc');
    expect(a.writes.join('')).toBe(`abc${emoji}def`);
  });
});

describe('SerialBatcher: one budget for all terminals', () => {
  it('shares a frame budget fairly: small outputs whole, bursts split evenly, nothing lost', () => {
    const h = harness(30);
    const small = h.sink();
    const big1 = h.sink();
    const big2 = h.sink();
    const b1 = 'A'.repeat(50);
    const b2 = 'B'.repeat(40);
    h.b.add(small, 'hi');
    h.b.add(big1, b1);
    h.b.add(big2, b2);
    h.tick(0);
    // 30 for the frame: 'hi' whole, the 28 left split 14/14 between the two bursts.
    expect(small.writes).toEqual(['hi']);
    expect(big1.writes).toEqual(['A'.repeat(14)]);
    expect(big2.writes).toEqual(['B'.repeat(14)]);
    let frames = 1;
    while (h.b.queued > 0) {
      const before = big1.writes.join('').length + big2.writes.join('').length;
      h.tick(0);
      frames++;
      const after = big1.writes.join('').length + big2.writes.join('').length;
      expect(after - before).toBeLessThanOrEqual(30);
      expect(after - before).toBeGreaterThan(0);
    }
    expect(big1.writes.join('')).toBe(b1);
    expect(big2.writes.join('')).toBe(b2);
    // 92 characters at 30 a frame: four frames, none wasted.
    expect(frames).toBe(4);
  });

  it('gives every terminal at least a character a frame, and never half a surrogate pair', () => {
    const emoji = '\u{1F600}';
    const h = harness(2);
    const s = [h.sink(), h.sink(), h.sink()];
    h.b.add(s[0], `${emoji}x`);
    h.b.add(s[1], 'yz');
    h.b.add(s[2], 'w');
    h.tick(0);
    expect(s[0].writes).toEqual([emoji]);
    expect(s[1].writes).toEqual(['y']);
    expect(s[2].writes).toEqual(['w']);
    h.tick(0);
    expect(s[0].writes.join('')).toBe(`${emoji}x`);
    expect(s[1].writes.join('')).toBe('yz');
  });

  it('fairShares is max-min fair and never exceeds the budget with room for everyone', () => {
    const s = fairShares([5, 100, 100], 60);
    expect(s[0]).toBe(5);
    expect(s[1] + s[2]).toBe(55);
    expect(Math.abs(s[1] - s[2])).toBeLessThanOrEqual(1);
    expect(fairShares([3, 4], 100)).toEqual([3, 4]);
    expect(fairShares([0, 10], 4)).toEqual([0, 4]);
  });
});

describe('SerialBatcher: hand-off rate', () => {
  it('hands output over every 50 ms to one or two terminals, every 100 ms while three or more print', () => {
    const h = harness(1000);
    const s = [h.sink(), h.sink(), h.sink(), h.sink()];
    // Two terminals printing: 20 Hz.
    h.b.add(s[0], 'a');
    h.b.add(s[1], 'b');
    h.tick(0);
    h.b.add(s[0], 'c');
    h.tick(50);
    expect(s[0].writes).toEqual(['a', 'c']);
    // Four printing at once: the next hand-off waits 100 ms, and then carries all of it.
    for (const x of s) h.b.add(x, 'x');
    h.tick(50);
    expect(s[3].writes).toEqual(['x']);
    for (const x of s) h.b.add(x, 'y');
    h.tick(50);
    expect(s[3].writes).toEqual(['x']);
    h.tick(49);
    expect(s[3].writes).toEqual(['x']);
    h.tick(1);
    expect(s[3].writes).toEqual(['x', 'y']);
    expect(s[0].writes).toEqual(['a', 'c', 'x', 'y']);
    // Back to one terminal: 20 Hz again after the next hand-off.
    h.b.add(s[2], 'z');
    h.tick(100);
    h.b.add(s[2], 'w');
    h.tick(50);
    expect(s[2].writes).toEqual(['x', 'y', 'z', 'w']);
  });
});
