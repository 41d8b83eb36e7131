/**
 * The perf spec's measurements (e2e/perf.spec.ts): frame intervals, long tasks, Chrome's
 * main-thread counters and task trace, the whole-process CPU time of the page's renderer, the GPU
 * process (which composites and, without a GPU, rasterises and runs WebGL in software) and the
 * browser process, pause latency and the Linux boot clock.
 *
 * On a shared, loaded machine frame rates swing two-fold from run to run; compare builds in
 * interleaved pairs, and read the CPU figures (`mainTaskCpuMax`, `mainTasksOver16`, the per-second
 * CPU columns), which the load hardly moves. The run's own figures (`mainCpuPerFrame`,
 * `runMainCpuMsPerS`, `runTasksOver8PerS`) cover the guests' run alone, between the page's
 * `perf-start` and `perf-ran-until` marks; `commitsPerS` counts React's commits (with
 * `countReactCommits`). PERF_NOMINIFY=1 builds unminified for PERF_PROFILE.
 */
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import type { CDPSession, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

// PERF_WINDOW=ms shortens it, e.g. to measure the Linux boot alone (it reaches its prompt in ~2 s).
export const WINDOW_MS = Number(process.env.PERF_WINDOW ?? 5000);

export interface FrameStats {
  /** Main-thread JavaScript, and all main-thread tasks, in ms per wall second (Chrome's metrics). */
  scriptMsPerS: number;
  taskMsPerS: number;
  mainCpuMsPerS: number;
  /** Whole-process CPU from /proc (ms per wall second): the renderer (main thread, worker, raster),
   *  the GPU process (compositing; without a GPU also WebGL in SwiftShader) and the browser. */
  rendererProcMsPerS: number;
  gpuProcMsPerS: number;
  browserProcMsPerS: number;
  workerCpuMsPerS: number;
  /**
   * Wall time the worker spent inside tasks, per wall second: near 1000 means it never waited of
   * its own accord (a CPU figure far below it means the OS gave its core to other processes).
   */
  workerTaskMsPerS: number;
  layoutsPerS: number;
  mutationsPerS: number;
  layoutMsPerS: number;
  /** Frames drawn in the run (up to the guests' own stop); `windowFrames` in the whole window. */
  frames: number;
  windowFrames: number;
  fps: number;
  p50: number;
  p95: number;
  worst: number;
  longTasks: number;
  longTaskMs: number;
  /**
   * Main-thread tasks by their own CPU time (thread time from the trace), not wall time: on a
   * loaded machine a task's wall time is mostly time the OS gave its core to other processes, so
   * these say what the page itself would drop on an idle machine (a task over a frame's 16.7 ms of
   * CPU drops a frame wherever it runs).
   */
  mainTaskCpuMax: number;
  mainTasksOver16: number;
  mainTasksOver50: number;
  /** Wall ms the guests ran within the window (the window itself when they ran throughout). */
  runMs: number;
  /**
   * Main-thread CPU (thread time of its tasks) while the guests ran, per frame drawn then, and per
   * wall second of the run: what the page itself asks of a core for each frame, which other
   * processes' load hardly changes (unlike fps). A frame at 60 fps has 16.7 ms.
   */
  mainCpuPerFrame: number;
  runMainCpuMsPerS: number;
  /** Main-thread tasks over 8 ms of CPU per second of the run (see `threadCpu`). */
  runTasksOver8PerS: number;
  /** React commits per second of the run (NaN without `countReactCommits`). */
  commitsPerS: number;
}

/**
 * Count React's commits in the page: a minimal stand-in for the DevTools hook, which React (also in
 * production builds) calls on every commit. Call before the page loads.
 */
export async function countReactCommits(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __reactCommits: number; __REACT_DEVTOOLS_GLOBAL_HOOK__?: unknown };
    w.__reactCommits = 0;
    w.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
      supportsFiber: true,
      renderers: new Map(),
      inject: () => 1,
      checkDCE: () => {},
      onScheduleFiberRoot: () => {},
      onCommitFiberRoot: () => {
        w.__reactCommits++;
      },
      onCommitFiberUnmount: () => {},
      onPostCommitFiberRoot: () => {},
    };
  });
}

/** Chrome's cumulative main-thread counters (seconds), read through the DevTools protocol. */
export async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics: m } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(m.map((x) => [x.name, x.value]));
}

export interface Collecting {
  cdp: CDPSession;
  m0: Record<string, number>;
  profile: string | undefined;
  events: TraceEvent[];
  trace: string | undefined;
  procs0: Map<number, number>;
}

/**
 * CPU ticks (user + system) of every chromium process on this machine, by pid. The run's own
 * processes are picked out afterwards by the pids in its trace (without a sandbox, trace pids are
 * the real ones); other processes on a shared machine are ignored.
 */
async function chromiumTicks(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  let pids: string[] = [];
  try {
    pids = (await readdir('/proc')).filter((x) => /^\d+$/.test(x));
  } catch {
    return out; // not Linux
  }
  await Promise.all(
    pids.map(async (pid) => {
      try {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        if (!/chrom/i.test(stat.slice(stat.indexOf('(') + 1, close))) return;
        const f = stat.slice(close + 2).split(' ');
        // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted from the state (field 3).
        out.set(Number(pid), Number(f[11]) + Number(f[12]));
      } catch {
        /* the process ended */
      }
    }),
  );
  return out;
}

/** Ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux this runs on). */
const USER_HZ = 100;

/**
 * Whole-process CPU (ms per wall second) of the renderer, GPU and browser processes of this run,
 * from /proc: unlike the task trace it includes threads that post no tasks (raster, SwiftShader).
 */
function processCpu(
  events: TraceEvent[],
  t0: Map<number, number>,
  t1: Map<number, number>,
  wallMs: number,
): { renderer: number; gpu: number; browser: number } {
  const role = new Map<number, 'renderer' | 'gpu' | 'browser'>();
  for (const e of events) {
    if (e.name !== 'thread_name') continue;
    if (e.args?.name === 'CrRendererMain') role.set(e.pid, 'renderer');
    else if (e.args?.name === 'VizCompositorThread' || e.args?.name === 'CrGpuMain') role.set(e.pid, 'gpu');
    else if (e.args?.name === 'CrBrowserMain') role.set(e.pid, 'browser');
  }
  const ms = { renderer: 0, gpu: 0, browser: 0 };
  for (const [pid, r] of role) {
    const a = t0.get(pid);
    const b = t1.get(pid);
    if (a !== undefined && b !== undefined) ms[r] += ((b - a) * 1000) / USER_HZ;
  }
  const per = (x: number) => (wallMs > 0 ? (1000 * x) / wallMs : 0);
  return { renderer: per(ms.renderer), gpu: per(ms.gpu), browser: per(ms.browser) };
}

export interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/**
 * CPU time of the page's threads (ms per wall second), from Chrome's own task trace: the thread time
 * (`tdur`) of every top-level task on the main thread and on the emulator's worker thread. Unlike
 * wall-clock durations it hardly grows when other processes compete for the CPU, so it compares runs
 * on a loaded machine; an idle guest should leave both near zero.
 */
export function threadCpu(
  events: TraceEvent[],
  wallMs: number,
  run?: { from: number; to: number },
): {
  main: number;
  worker: number;
  workerTask: number;
  mainMax: number;
  mainOver16: number;
  mainOver50: number;
  /** Main-thread CPU ms of the tasks that started within `run` (trace clock, µs). */
  mainInRun: number;
  /** Of those, tasks over 8 ms of CPU: half a frame, the ones a busy core turns into a dropped frame. */
  mainInRunOver8: number;
} {
  const kind = new Map<string, 'main' | 'worker'>();
  for (const e of events) {
    if (e.name !== 'thread_name') continue;
    if (e.args?.name === 'CrRendererMain') kind.set(`${e.pid}:${e.tid}`, 'main');
    else if (e.args?.name === 'DedicatedWorker thread') kind.set(`${e.pid}:${e.tid}`, 'worker');
  }
  const us = { main: 0, worker: 0 };
  let workerWall = 0;
  let mainMax = 0;
  let mainOver16 = 0;
  let mainOver50 = 0;
  let mainInRun = 0;
  let mainInRunOver8 = 0;
  // `ThreadControllerImpl::RunTask` wraps a `RunTask` of the same task: count each thread's
  // outermost task only (both were summed before, doubling these figures).
  const tasks = events
    .filter((e) => e.ph === 'X' && kind.has(`${e.pid}:${e.tid}`) && /(^|::)RunTask$/.test(e.name))
    .sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
  const endOf = new Map<string, number>();
  for (const e of tasks) {
    const key = `${e.pid}:${e.tid}`;
    const k = kind.get(key)!;
    const ts = e.ts ?? 0;
    if (ts < (endOf.get(key) ?? -1)) continue; // inside the task counted already
    endOf.set(key, ts + (e.dur ?? 0));
    us[k] += e.tdur ?? 0;
    if (k === 'worker') workerWall += e.dur ?? 0;
    else {
      const ms = (e.tdur ?? 0) / 1000;
      if (run && ts >= run.from && ts < run.to) {
        mainInRun += ms;
        if (ms > 8) mainInRunOver8++;
      }
      mainMax = Math.max(mainMax, ms);
      if (ms > 1000 / 60) mainOver16++;
      if (ms > 50) mainOver50++;
    }
  }
  const per = (x: number) => (wallMs > 0 ? x / wallMs : 0);
  return {
    main: per(us.main),
    worker: per(us.worker),
    workerTask: per(workerWall),
    mainMax,
    mainOver16,
    mainOver50,
    mainInRun,
    mainInRunOver8,
  };
}

/**
 * The run's span on the trace clock: from the page's `perf-start` mark to its `perf-ran-until`
 * mark (or the end of the trace when the guests ran throughout).
 */
function runSpan(events: TraceEvent[]): { from: number; to: number } | undefined {
  let from = -1;
  let to = Number.POSITIVE_INFINITY;
  for (const e of events) {
    if (e.name === 'perf-start' && e.ts !== undefined) from = e.ts;
    else if (e.name === 'perf-ran-until' && e.ts !== undefined) to = e.ts;
  }
  return from >= 0 ? { from, to } : undefined;
}

/** What the page-side collector keeps on `window` (startCollecting installs it, stopCollecting reads it). */
type PerfWindow = {
  __perf: {
    t: number[];
    long: [number, number][];
    stop: boolean;
    mut: number;
    ranUntil: number;
    commits0: number;
    commitsRun: number;
  };
  __reactCommits?: number;
};

/**
 * Start collecting rAF intervals and long tasks in the page, and Chrome's main-thread counters.
 * With PERF_PROFILE=<name> set, a CPU profile of the window goes to test-results/<name>-<scenario>.cpuprofile.
 */
export async function startCollecting(page: Page, scenario: string): Promise<Collecting> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const profile = process.env.PERF_PROFILE ? `${process.env.PERF_PROFILE}-${scenario}` : undefined;
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  // PERF_TRACE=1 also records Chrome's timeline (what each long task did: scripts, style, layout,
  // paint, GC; V8's concurrent compile jobs) to test-results/trace-<scenario>.json, for DevTools'
  // Performance panel.
  const trace = !!process.env.PERF_TRACE;
  await cdp.send('Tracing.start', {
    // blink.user_timing: the page's `perf-start` and `perf-ran-until` marks, which bound the run.
    categories: trace
      ? `toplevel,devtools.timeline,disabled-by-default-devtools.timeline,v8.execute,v8,disabled-by-default-v8.compile,blink.user_timing${
          // PERF_TRACE=stack: also the JavaScript stack of each forced layout and style recalculation,
          // and what invalidated them (heavier: the trace itself then costs the page time).
          process.env.PERF_TRACE === 'stack'
            ? ',disabled-by-default-devtools.timeline.stack,disabled-by-default-devtools.timeline.invalidationTracking'
            : ''
        }`
      : 'toplevel,blink.user_timing',
    transferMode: 'ReportEvents',
  });
  if (profile) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
  }
  await page.evaluate(() => {
    const w = window as unknown as PerfWindow;
    const commits = () => w.__reactCommits ?? Number.NaN;
    w.__perf = {
      t: [],
      long: [],
      stop: false,
      mut: 0,
      ranUntil: -1,
      commits0: commits(),
      commitsRun: Number.NaN,
    };
    const po = new PerformanceObserver((l) => {
      for (const e of l.getEntries()) w.__perf.long.push([e.startTime, e.duration]);
    });
    po.observe({ type: 'longtask', buffered: false });
    // DOM changes: what the page had to re-style, lay out and paint, whatever the machine's load.
    const mo = new MutationObserver((l) => {
      w.__perf.mut += l.length;
    });
    mo.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    // When the guests stop of their own accord within the window (they finished), the frames
    // after that show an idle page: `ranUntil` lets the figures cover the run alone.
    const bar = document.querySelector('[data-testid=statusbar]');
    const running = () => bar?.getAttribute('data-running') === 'yes';
    if (bar && running()) {
      const so = new MutationObserver(() => {
        if (!running() && w.__perf.ranUntil < 0) {
          w.__perf.ranUntil = performance.now();
          w.__perf.commitsRun = commits() - w.__perf.commits0;
          performance.mark('perf-ran-until');
          so.disconnect();
        }
      });
      so.observe(bar, { attributes: true, attributeFilter: ['data-running'] });
    }
    const tick = (t: number) => {
      if (w.__perf.stop) {
        po.disconnect();
        mo.disconnect();
        return;
      }
      w.__perf.t.push(t);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    performance.mark('perf-start');
  });
  const procs0 = await chromiumTicks();
  return {
    cdp,
    m0: await metrics(cdp),
    profile,
    events,
    trace: trace ? `trace-${scenario}` : undefined,
    procs0,
  };
}

export async function stopCollecting(page: Page, c: Collecting): Promise<FrameStats> {
  const raw = await page.evaluate(() => {
    const w = window as unknown as PerfWindow;
    w.__perf.stop = true;
    const p = w.__perf;
    const commits = p.ranUntil >= 0 ? p.commitsRun : (w.__reactCommits ?? Number.NaN) - p.commits0;
    return { t: p.t, long: p.long, mut: p.mut, ranUntil: p.ranUntil, commits };
  });
  // Frames and long tasks up to the guests' own stop, if they stopped within the window.
  const cut = raw.ranUntil >= 0 ? raw.ranUntil : Number.POSITIVE_INFINITY;
  const t = raw.t.filter((x) => x <= cut);
  const long = raw.long.filter(([at]) => at < cut).map(([, ms]) => ms);
  const m1 = await metrics(c.cdp);
  const procs1 = await chromiumTicks();
  const traced = new Promise((r) => c.cdp.once('Tracing.tracingComplete', r));
  await c.cdp.send('Tracing.end');
  await traced;
  if (c.profile) {
    const { profile } = await c.cdp.send('Profiler.stop');
    await mkdir('test-results', { recursive: true });
    await writeFile(`test-results/${c.profile}.cpuprofile`, JSON.stringify(profile));
  }
  await c.cdp.detach();
  if (c.trace) {
    await mkdir('test-results', { recursive: true });
    await writeFile(`test-results/${c.trace}.json`, JSON.stringify({ traceEvents: c.events }));
  }
  const wall = m1.Timestamp - c.m0.Timestamp;
  const span = runSpan(c.events);
  const cpu = threadCpu(c.events, wall * 1000, span);
  const proc = processCpu(c.events, c.procs0, procs1, wall * 1000);
  const perS = (k: string) => (wall > 0 ? (1000 * (m1[k] - c.m0[k])) / wall : 0);
  const d = t.slice(1).map((x, i) => x - t[i]);
  const sorted = [...d].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  const frameSpan = t.length > 1 ? t[t.length - 1] - t[0] : 0;
  const runMs = raw.ranUntil >= 0 && t.length ? raw.ranUntil - t[0] : frameSpan;
  return {
    scriptMsPerS: perS('ScriptDuration'),
    taskMsPerS: perS('TaskDuration'),
    mainCpuMsPerS: cpu.main,
    rendererProcMsPerS: proc.renderer,
    gpuProcMsPerS: proc.gpu,
    browserProcMsPerS: proc.browser,
    workerCpuMsPerS: cpu.worker,
    workerTaskMsPerS: cpu.workerTask,
    layoutsPerS: wall > 0 ? (m1.LayoutCount - c.m0.LayoutCount) / wall : 0,
    mutationsPerS: wall > 0 ? raw.mut / wall : 0,
    layoutMsPerS: perS('LayoutDuration') + perS('RecalcStyleDuration'),
    frames: d.length,
    windowFrames: Math.max(0, raw.t.length - 1),
    fps: frameSpan > 0 ? (1000 * d.length) / frameSpan : 0,
    p50: q(0.5),
    p95: q(0.95),
    worst: sorted[sorted.length - 1] ?? 0,
    longTasks: long.length,
    longTaskMs: long.reduce((a, b) => a + b, 0),
    mainTaskCpuMax: cpu.mainMax,
    mainTasksOver16: cpu.mainOver16,
    mainTasksOver50: cpu.mainOver50,
    runMs,
    mainCpuPerFrame: d.length > 0 ? cpu.mainInRun / d.length : 0,
    runMainCpuMsPerS: runMs > 0 ? (1000 * cpu.mainInRun) / runMs : 0,
    runTasksOver8PerS: runMs > 0 ? (1000 * cpu.mainInRunOver8) / runMs : 0,
    commitsPerS: runMs > 0 ? (1000 * raw.commits) / runMs : Number.NaN,
  };
}

/**
 * Click Pause in the page and time it until the status bar says the worker stopped running.
 * `ifRunning`: a guest that may end on its own gives NaN when it already has (no error).
 */
export async function pauseLatency(page: Page, ifRunning = false): Promise<number> {
  return page.evaluate(
    (lenient) =>
      new Promise<number>((resolve, reject) => {
        const bar = document.querySelector('[data-testid=statusbar]')!;
        const btn = document.querySelector<HTMLButtonElement>('[data-testid=run-pause]')!;
        if (bar.getAttribute('data-running') !== 'yes') {
          if (lenient) resolve(Number.NaN);
          else reject(new Error('not running'));
          return;
        }
        const mo = new MutationObserver(() => {
          if (bar.getAttribute('data-running') === 'no') {
            mo.disconnect();
            resolve(performance.now() - t0);
          }
        });
        mo.observe(bar, { attributes: true, attributeFilter: ['data-running'] });
        const t0 = performance.now();
        btn.click();
      }),
    ifRunning,
  );
}

/**
 * Start a clock in the page for the Linux boot: from the moment the status bar first says the
 * guest runs to the moment `guest#` appears on its console, less any time it spent paused.
 */
export async function startBootClock(page: Page): Promise<void> {
  await page.evaluate(() => {
    const bar = document.querySelector('[data-testid=statusbar]')!;
    const con = document.querySelector('[data-testid=console-0]') as HTMLElement & {
      traplabText?: () => string;
    };
    const b = { t0: -1, prompt: -1, paused: 0, pausedAt: -1 };
    (window as unknown as { __boot: typeof b }).__boot = b;
    const onState = () => {
      const now = performance.now();
      const running = bar.getAttribute('data-running') === 'yes';
      if (running && b.t0 < 0) b.t0 = now;
      else if (running && b.pausedAt >= 0) {
        b.paused += now - b.pausedAt;
        b.pausedAt = -1;
      } else if (!running && b.t0 >= 0 && b.pausedAt < 0) b.pausedAt = now;
    };
    new MutationObserver(onState).observe(bar, { attributes: true, attributeFilter: ['data-running'] });
    const poll = setInterval(() => {
      if (b.t0 >= 0 && (con.traplabText?.() ?? con.textContent ?? '').includes('guest#')) {
        b.prompt = performance.now();
        clearInterval(poll);
      }
    }, 20);
  });
}

/** Seconds from Run to the `guest#` prompt, paused time excluded (NaN if not there yet). */
export async function bootSeconds(page: Page): Promise<number> {
  return page.evaluate(() => {
    const b = (window as unknown as { __boot: { t0: number; prompt: number; paused: number } }).__boot;
    return b.prompt < 0 ? Number.NaN : (b.prompt - b.t0 - b.paused) / 1000;
  });
}

export const instructions = async (page: Page) =>
  Number(await page.getByTestId('statusbar').getAttribute('data-instructions'));

export async function report(name: string, f: FrameStats, extra: Record<string, number> = {}): Promise<void> {
  const r = (x: number) => Math.round(x * 10) / 10;
  const line = {
    scenario: name,
    fps: r(f.fps),
    frameP50: r(f.p50),
    frameP95: r(f.p95),
    worstFrame: r(f.worst),
    longTasks: f.longTasks,
    longTaskMs: r(f.longTaskMs),
    mainTaskCpuMax: r(f.mainTaskCpuMax),
    mainTasksOver16: f.mainTasksOver16,
    mainTasksOver50: f.mainTasksOver50,
    runMs: Math.round(f.runMs),
    mainCpuPerFrame: r(f.mainCpuPerFrame),
    runMainCpuMsPerS: r(f.runMainCpuMsPerS),
    runTasksOver8PerS: r(f.runTasksOver8PerS),
    commitsPerS: r(f.commitsPerS),
    mainCpuMsPerS: r(f.mainCpuMsPerS),
    rendererProcMsPerS: r(f.rendererProcMsPerS),
    gpuProcMsPerS: r(f.gpuProcMsPerS),
    browserProcMsPerS: r(f.browserProcMsPerS),
    workerCpuMsPerS: r(f.workerCpuMsPerS),
    workerTaskMsPerS: r(f.workerTaskMsPerS),
    layoutsPerS: r(f.layoutsPerS),
    mutationsPerS: r(f.mutationsPerS),
    scriptMsPerS: r(f.scriptMsPerS),
    taskMsPerS: r(f.taskMsPerS),
    styleLayoutMsPerS: r(f.layoutMsPerS),
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, r(v)])),
  };
  test.info().annotations.push({ type: 'perf', description: JSON.stringify(line) });
  console.log(`[perf] ${JSON.stringify(line)}`);
  await mkdir('test-results', { recursive: true });
  await appendFile(
    'test-results/perf.json',
    `${JSON.stringify({ at: new Date().toISOString(), ...line })}\n`,
  );
}

export async function loadAndWait(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 60_000 });
}
