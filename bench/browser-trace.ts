/**
 * Where the browser's CPU goes during one boot, from a Chrome trace (`BENCH_TRACE=dir npm run bench
 * -- --browser`, bench/browser.ts): per thread, the CPU its tasks took between the Run click and
 * the prompt (the page marks both with performance.mark), V8's concurrent compile jobs (Maglev and
 * TurboFan tasks on the thread pool, and which isolate finished them: the worker or the page),
 * deopts and GC. CPU is the trace's thread time of each top-level event (`tdur`), so it means
 * the same on a loaded machine; wall times there do not. PERF.md "Session 10 — web15".
 */

/** The trace categories this summary reads (V8's compile and GC events, the page's tasks). */
export const TRACE_CATEGORIES = [
  '-*',
  'toplevel',
  'devtools.timeline',
  'blink.user_timing',
  'v8',
  'disabled-by-default-v8.compile',
  'disabled-by-default-v8.gc',
];

/** performance.mark names the bench's page sets at the Run click and when it sees the prompt. */
export const MARK_RUN = 'traplab-bench-run';
export const MARK_PROMPT = 'traplab-bench-prompt';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

export interface TraceSummary {
  /** Seconds from the Run click to the prompt (0 when the marks are missing: the whole trace). */
  window: number;
  /** CPU seconds of each thread's top-level tasks in the window, by thread name (numbers dropped). */
  cpuByThread: [string, number][];
  /** CPU seconds of V8's concurrent compile tasks on the thread pool, by kind. */
  compileCpu: { turbofan: number; maglev: number };
  /** Compile jobs finished, by the thread (isolate) that installed them: the worker and the page. */
  finished: { worker: { maglev: number; turbofan: number }; page: { maglev: number; turbofan: number } };
  /** Deoptimizations (entries into OSR code count too), and the CPU of its GCs, on the worker thread. */
  workerDeopts: number;
  workerGcCpu: number;
}

const WORKER = /^DedicatedWorker/;
const PAGE = /^CrRendererMain$/;

/** Summarize a Chrome trace (the JSON Playwright's `browser.stopTracing()` writes). */
export function summarizeTrace(json: unknown): TraceSummary {
  const raw = (Array.isArray(json) ? json : (json as { traceEvents?: unknown[] }).traceEvents) ?? [];
  const events = raw as TraceEvent[];
  const names = new Map<string, string>();
  let t0 = Number.NEGATIVE_INFINITY;
  let t1 = Number.POSITIVE_INFINITY;
  for (const e of events) {
    if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name) names.set(`${e.pid}/${e.tid}`, e.args.name);
    else if (e.name === MARK_RUN) t0 = e.ts;
    else if (e.name === MARK_PROMPT) t1 = e.ts;
  }
  const inWindow = (e: TraceEvent) => e.ph === 'X' && e.ts >= t0 && e.ts <= t1;
  const spans = events.filter(inWindow).sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const thread = (e: TraceEvent) => names.get(`${e.pid}/${e.tid}`) ?? '?';
  const cpu = new Map<string, number>();
  const open = new Map<string, number[]>();
  const s: TraceSummary = {
    window: Number.isFinite(t0) && Number.isFinite(t1) ? (t1 - t0) / 1e6 : 0,
    cpuByThread: [],
    compileCpu: { turbofan: 0, maglev: 0 },
    finished: { worker: { maglev: 0, turbofan: 0 }, page: { maglev: 0, turbofan: 0 } },
    workerDeopts: 0,
    workerGcCpu: 0,
  };
  for (const e of spans) {
    const key = `${e.pid}/${e.tid}`;
    const name = thread(e);
    const tdur = (e.tdur ?? 0) / 1e6;
    // Nesting: only a thread's outermost events add to its CPU (the inner ones are within them).
    const stack = open.get(key) ?? [];
    open.set(key, stack);
    while (stack.length && stack[stack.length - 1]! <= e.ts) stack.pop();
    if (stack.length === 0) {
      const n = name.replace(/\d+$/, '');
      cpu.set(n, (cpu.get(n) ?? 0) + tdur);
    }
    stack.push(e.ts + (e.dur ?? 0));
    if (e.name === 'V8.TurbofanTask') s.compileCpu.turbofan += tdur;
    else if (e.name === 'V8.MaglevTask') s.compileCpu.maglev += tdur;
    const who = WORKER.test(name) ? s.finished.worker : PAGE.test(name) ? s.finished.page : null;
    if (who && e.name === 'V8.FinalizeMaglevConcurrentCompilation') who.maglev++;
    else if (who && e.name === 'V8.OptimizeConcurrentFinalize') who.turbofan++;
    if (WORKER.test(name)) {
      if (e.name === 'V8.DeoptimizeCode') s.workerDeopts++;
      else if (e.name === 'MinorGC' || e.name === 'MajorGC') s.workerGcCpu += tdur;
    }
  }
  s.cpuByThread = [...cpu].sort((a, b) => b[1] - a[1]);
  return s;
}

/** One line per figure, for the bench's log. */
export function formatTraceSummary(s: TraceSummary): string {
  const f = (x: number) => `${x.toFixed(2)} s`;
  return [
    `trace: ${s.window ? `${s.window.toFixed(3)} s from Run to the prompt` : 'no marks: the whole trace'}; CPU by thread: ${s.cpuByThread
      .slice(0, 6)
      .map(([k, v]) => `${k} ${f(v)}`)
      .join(', ')}`,
    `trace: V8's concurrent compiles ${f(s.compileCpu.turbofan + s.compileCpu.maglev)} CPU (TurboFan ${f(s.compileCpu.turbofan)}, Maglev ${f(s.compileCpu.maglev)}); ` +
      `jobs finished by the worker: Maglev ${s.finished.worker.maglev}, TurboFan ${s.finished.worker.turbofan}; by the page: Maglev ${s.finished.page.maglev}, TurboFan ${s.finished.page.turbofan}`,
    `trace: the worker deoptimized ${s.workerDeopts} times (OSR entries included); its GC ${f(s.workerGcCpu)} CPU`,
  ].join('\n');
}
