// The browser figure's CPU readings from /proc: a stat line whose name holds spaces and ')' parses,
// differences count new threads from zero, and a real process reads back its own CPU.
import { describe, expect, it } from 'vitest';
import { cpuBetween, statCpu, treeCpu } from './proc-cpu.ts';

describe('proc CPU readings', () => {
  it("parses utime + stime and the parent from a stat line, whatever the thread's name", () => {
    const line = '4242 (DedicatedWorker) t)) S 4200 4242 4242 0 -1 4194304 10 0 0 0 150 25 0 0 20 0 9 0 7';
    expect(statCpu(line)).toEqual({ ppid: 4200, seconds: 1.75 });
  });

  it('takes differences per thread, new threads from zero, and sums them by name', () => {
    const a = {
      total: 1,
      workers: new Map([['1/2', 0.5]]),
      threads: new Map([
        ['1/1', { name: 'CrRendererMain', seconds: 0.5 }],
        ['1/2', { name: 'DedicatedWorker thread', seconds: 0.5 }],
      ]),
    };
    const b = {
      total: 4,
      workers: new Map([
        ['1/2', 1.5],
        ['1/3', 0.25],
      ]),
      threads: new Map([
        ['1/1', { name: 'CrRendererMain', seconds: 1.5 }],
        ['1/2', { name: 'DedicatedWorker thread', seconds: 1.5 }],
        ['1/3', { name: 'DedicatedWorker thread', seconds: 0.25 }],
      ]),
    };
    expect(cpuBetween(a, b)).toEqual({
      total: 3,
      worker: 1.25,
      byName: [
        ['DedicatedWorker thread', 1.25],
        ['CrRendererMain', 1],
      ],
    });
  });

  it('reads a live process: this one has used CPU and has named threads', () => {
    let x = 0;
    for (let i = 0; i < 3e7; i++) x += i & 1; // ~tens of ms of CPU: beyond one 10 ms tick
    const t = treeCpu([process.pid]);
    expect(x).toBeGreaterThan(0);
    expect(t.total).toBeGreaterThan(0);
    expect(t.threads.size).toBeGreaterThan(0);
  });
});
