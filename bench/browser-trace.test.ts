import { describe, expect, it } from 'vitest';
import { formatTraceSummary, MARK_PROMPT, MARK_RUN, summarizeTrace } from './browser-trace.ts';

const meta = (pid: number, tid: number, name: string) => ({
  name: 'thread_name',
  ph: 'M',
  pid,
  tid,
  ts: 0,
  args: { name },
});
const task = (tid: number, name: string, ts: number, dur: number, tdur: number) => ({
  name,
  ph: 'X',
  pid: 1,
  tid,
  ts,
  dur,
  tdur,
});
const WORKER = 10;
const PAGE = 1;
const POOL_A = 20;
const POOL_B = 21;

/** A small trace: a page, its worker and two pool threads, with events before and after the run. */
function trace() {
  return {
    traceEvents: [
      meta(1, WORKER, 'DedicatedWorker thread'),
      meta(1, PAGE, 'CrRendererMain'),
      meta(1, POOL_A, 'ThreadPoolForegroundWorker'),
      meta(1, POOL_B, 'ThreadPoolForegroundWorker'),
      { name: MARK_RUN, ph: 'R', pid: 1, tid: PAGE, ts: 1_000_000 },
      { name: MARK_PROMPT, ph: 'R', pid: 1, tid: PAGE, ts: 3_000_000 },
      // Before the click: not counted.
      task(WORKER, 'RunTask', 0, 500_000, 400_000),
      // The worker: one task with a deopt, a scavenge and a finished Maglev job nested in it.
      task(WORKER, 'RunTask', 1_100_000, 1_000_000, 900_000),
      task(WORKER, 'V8.DeoptimizeCode', 1_200_000, 1_000, 1_000),
      task(WORKER, 'MinorGC', 1_300_000, 20_000, 15_000),
      task(WORKER, 'V8.FinalizeMaglevConcurrentCompilation', 1_400_000, 100, 100),
      task(WORKER, 'V8.OptimizeConcurrentFinalize', 1_500_000, 100, 100),
      task(WORKER, 'V8.OptimizeConcurrentFinalize', 1_600_000, 100, 100),
      // The page: one finished Maglev job.
      task(PAGE, 'RunTask', 1_500_000, 300_000, 200_000),
      task(PAGE, 'V8.FinalizeMaglevConcurrentCompilation', 1_600_000, 100, 100),
      // The pool: TurboFan and Maglev tasks inside the thread pool's own tasks.
      task(POOL_A, 'ThreadPool_RunTask', 1_100_000, 600_000, 300_000),
      task(POOL_A, 'V8.TurbofanTask', 1_100_000, 600_000, 300_000),
      task(POOL_B, 'ThreadPool_RunTask', 2_000_000, 200_000, 100_000),
      task(POOL_B, 'V8.MaglevTask', 2_000_000, 200_000, 100_000),
      // After the prompt: not counted.
      task(POOL_B, 'ThreadPool_RunTask', 3_500_000, 200_000, 100_000),
    ],
  };
}

describe('summarizeTrace', () => {
  it('sums thread CPU between the marks, outermost events only, and sorts out compile jobs by isolate', () => {
    const s = summarizeTrace(trace());
    expect(s.window).toBeCloseTo(2, 9);
    expect(Object.fromEntries(s.cpuByThread)).toEqual({
      'DedicatedWorker thread': 0.9,
      ThreadPoolForegroundWorker: 0.4,
      CrRendererMain: 0.2,
    });
    expect(s.cpuByThread[0]![0]).toBe('DedicatedWorker thread');
    expect(s.compileCpu).toEqual({ turbofan: 0.3, maglev: 0.1 });
    expect(s.finished).toEqual({ worker: { maglev: 1, turbofan: 2 }, page: { maglev: 1, turbofan: 0 } });
    expect(s.workerDeopts).toBe(1);
    expect(s.workerGcCpu).toBeCloseTo(0.015, 9);
    expect(formatTraceSummary(s)).toContain('TurboFan 0.30 s, Maglev 0.10 s');
  });

  it('without the marks, the whole trace counts', () => {
    const t = trace();
    t.traceEvents = t.traceEvents.filter((e) => e.name !== MARK_RUN && e.name !== MARK_PROMPT);
    const s = summarizeTrace(t);
    expect(s.window).toBe(0);
    expect(Object.fromEntries(s.cpuByThread)['DedicatedWorker thread']).toBeCloseTo(1.3, 9);
    expect(formatTraceSummary(s)).toContain('no marks');
  });
});
