import { describe, expect, it } from 'vitest';
import { budgetCut, type FrameScheduler, SerialBatcher } from './serial-batch.ts';

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
