/**
 * `npm run bench -- --browser`: the Linux boot to `guest# ` in the playground's Web Worker, in
 * Debian chromium driven by Playwright, beside the same boot cold in Node (a fresh process with the
 * playground's RAM), the two alternated run by run. The page is the production build (dist/,
 * rebuilt when src/ is newer) served by `vite preview`; each run opens a new page (a fresh worker:
 * cold, as a user's new tab) and times, inside the page, from the Run click to the prompt on the
 * console; the worker thread's and the whole browser's CPU come from /proc (proc-cpu.ts).
 * BENCH_TRACE=dir also writes a Chrome trace of each run there and prints where its CPU went
 * (browser-trace.ts: per thread, V8's concurrent compiles and which isolate they were for); tracing
 * costs time of its own, so a traced run's wall figures are not the bench's.
 */
import { type ChildProcess, execSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser } from '@playwright/test';
import type { BenchArgs } from './args.ts';
import {
  formatTraceSummary,
  MARK_PROMPT,
  MARK_RUN,
  summarizeTrace,
  TRACE_CATEGORIES,
} from './browser-trace.ts';
import { cpuBetween, descendants, treeCpu } from './proc-cpu.ts';

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function waitForServer(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`vite preview exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`vite preview did not answer at ${url}`);
}

interface BrowserRun {
  seconds: number;
  instructions: number;
  /** CPU seconds of the emulator's worker thread, and of the whole browser (every process). */
  workerCpu: number;
  browserCpu: number;
  /** CPU seconds by thread name, largest first (the page's main thread, compositor, GPU …). */
  byName: [string, number][];
}

interface NodeRun {
  instructions: number;
  cpu: number;
  wall: number;
  /** The main thread alone (the emulator), without V8's compile and GC threads. */
  mainCpu?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** RAM the playground gives a guest with an initrd (worker/core.ts resolveGuest): the same boot. */
const PLAYGROUND_LINUX_MIB = 128;

/** The same boot cold in Node: a fresh process, like the browser's fresh worker. */
function nodeCold(args: BenchArgs): NodeRun | null {
  const node = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      process.argv[1]!,
      '--child',
      'linux-boot',
      '--tier',
      args.tier,
      '--mem',
      String(args.memMiB ?? PLAYGROUND_LINUX_MIB),
    ],
    { encoding: 'utf8' },
  );
  const line = node.stdout.split('\n').find((l) => l.startsWith('COLD '));
  return line ? (JSON.parse(line.slice(5)) as NodeRun) : null;
}

/**
 * One boot in a new page (a fresh renderer and worker): wall to the prompt, and the CPU spent.
 * With `tracePath`, a Chrome trace of the run (browser-trace.ts) is written there.
 */
async function browserRun(
  browser: Browser,
  base: string,
  server: ChildProcess,
  tracePath?: string,
): Promise<BrowserRun> {
  const page = await browser.newPage();
  let tracing = false;
  try {
    await page.goto(`${base}/?guest=linux&technique=native&vms=1`);
    await page
      .getByTestId('status-note')
      .filter({ hasText: 'Loaded — press Run' })
      .waitFor({ timeout: 120_000 });
    // This process's children minus the preview server: the browser this bench launched.
    const skip = new Set([server.pid ?? -1, ...descendants(server.pid ?? -1)]);
    const pids = descendants(process.pid).filter((p) => !skip.has(p));
    if (tracePath) {
      await browser.startTracing(page, { path: tracePath, categories: TRACE_CATEGORIES });
      tracing = true;
    }
    const c0 = treeCpu(pids);
    const r = await page.evaluate(
      ([markRun, markPrompt]) =>
        new Promise<{ seconds: number; instructions: number }>((resolve, reject) => {
          // The console draws on a canvas; its element offers the terminal's text (ui/Consoles.tsx).
          const con = document.querySelector('[data-testid=console-0]') as Element & {
            traplabText?: () => string;
          };
          const bar = document.querySelector('[data-testid=statusbar]')!;
          const t0 = performance.now();
          performance.mark(markRun);
          const timer = setInterval(() => {
            if ((con.traplabText?.() ?? con.textContent ?? '').includes('guest#')) {
              clearInterval(timer);
              performance.mark(markPrompt);
              resolve({
                seconds: (performance.now() - t0) / 1000,
                instructions: Number(bar.getAttribute('data-instructions')),
              });
            } else if (performance.now() - t0 > 300_000) {
              clearInterval(timer);
              reject(new Error('no prompt within 300 s'));
            }
          }, 10);
          document.querySelector<HTMLButtonElement>('[data-testid=run-pause]')!.click();
        }),
      [MARK_RUN, MARK_PROMPT],
    );
    const d = cpuBetween(c0, treeCpu(descendants(process.pid).filter((p) => !skip.has(p))));
    return { ...r, workerCpu: d.worker, browserCpu: d.total, byName: d.byName };
  } finally {
    if (tracing) await browser.stopTracing();
    await page.close();
  }
}

export async function benchBrowser(args: BenchArgs): Promise<number> {
  const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
  if (!existsSync('guests/linux/bzImage')) {
    log('skipping the browser figure: guests/linux/bzImage not built');
    return 0;
  }
  const dist = 'dist/index.html';
  if (!existsSync(dist) || statSync(dist).mtimeMs < newestMtime('src')) {
    log('building dist/ (vite build)…');
    const b = spawnSync('npx', ['vite', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (b.status !== 0) {
      log('vite build failed');
      return 1;
    }
  }
  let exe = process.env.CHROMIUM_PATH;
  if (!exe) {
    try {
      exe = execSync('command -v chromium', { shell: '/bin/sh' }).toString().trim();
    } catch {
      log('Debian chromium not found: apt-get install -y chromium, or set CHROMIUM_PATH');
      return 1;
    }
  }
  const port = await freePort();
  const server = spawn(
    'npx',
    ['vite', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    {
      stdio: 'ignore',
      detached: true,
    },
  );
  const { chromium } = await import('@playwright/test');
  const browser = await chromium.launch({
    executablePath: exe,
    // BENCH_CHROMIUM_ARGS adds flags (space-separated), e.g. "--js-flags=--no-maglev" to see what
    // V8's own compilers cost the page (a user's browser has none of them).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      ...(process.env.BENCH_CHROMIUM_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
  });
  const runs: BrowserRun[] = [];
  const nodes: NodeRun[] = [];
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(base, server);
    // Browser and Node alternate (B N B N …): a drift in the machine's speed hits both alike.
    // BENCH_TRACE=dir: a Chrome trace of each run (dir/browser-run-N.json) and where its CPU went.
    const traceDir = process.env.BENCH_TRACE;
    if (traceDir) mkdirSync(traceDir, { recursive: true });
    for (let i = 0; i < Math.max(1, Math.min(args.runs, 10)); i++) {
      const tracePath = traceDir ? join(traceDir, `browser-run-${i + 1}.json`) : undefined;
      const r = await browserRun(browser, base, server, tracePath);
      runs.push(r);
      if (tracePath)
        for (const line of formatTraceSummary(
          summarizeTrace(JSON.parse(readFileSync(tracePath, 'utf8'))),
        ).split('\n'))
          log(line);
      log(
        `run ${i + 1}: the browser's CPU by thread: ${r.byName
          .slice(0, 8)
          .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
          .join(', ')}`,
      );
      const n = nodeCold(args);
      if (n) nodes.push(n);
      log(
        `run ${i + 1}: chromium ${r.seconds.toFixed(3)} s wall, worker ${r.workerCpu.toFixed(2)} s CPU, ` +
          `browser ${r.browserCpu.toFixed(2)} s CPU (${r.instructions} instructions shown); ` +
          (n
            ? `Node cold ${n.wall.toFixed(3)} s wall, ${n.cpu.toFixed(3)} s CPU, main thread ${n.mainCpu?.toFixed(2) ?? '?'} s (${n.instructions} instructions)`
            : 'Node cold run failed'),
      );
    }
  } finally {
    await browser.close();
    if (server.pid) process.kill(-server.pid);
  }
  const r3 = (x: number): number => Number(x.toFixed(3));
  const pairs = Math.min(runs.length, nodes.length);
  const ratio = (f: (i: number) => number): number | null =>
    pairs ? r3(median(Array.from({ length: pairs }, (_, i) => f(i)))) : null;
  const out = {
    name: 'linux-boot-browser',
    browserWall: runs.map((r) => r3(r.seconds)),
    workerCpu: runs.map((r) => r3(r.workerCpu)),
    browserCpu: runs.map((r) => r3(r.browserCpu)),
    nodeColdWall: nodes.map((n) => r3(n.wall)),
    nodeColdCpu: nodes.map((n) => r3(n.cpu)),
    nodeMainThreadCpu: nodes.map((n) => r3(n.mainCpu ?? Number.NaN)),
    /** Medians of the pairs' ratios (browser run i over Node run i). */
    ratioWall: ratio((i) => runs[i]!.seconds / nodes[i]!.wall),
    ratioWorkerCpu: ratio((i) => runs[i]!.workerCpu / nodes[i]!.cpu),
    ratioWorkerToMainThread: ratio((i) => runs[i]!.workerCpu / (nodes[i]!.mainCpu ?? Number.NaN)),
    ratioBrowserCpu: ratio((i) => runs[i]!.browserCpu / nodes[i]!.cpu),
  };
  if (args.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else {
    const med = (xs: number[]): string => (xs.length ? median(xs).toFixed(3) : '—');
    process.stdout.write(
      `linux-boot, cold, to 'guest# ' (median of ${runs.length} alternated runs):\n` +
        `  chromium's worker: ${med(out.browserWall)} s wall, worker thread ${med(out.workerCpu)} s CPU, whole browser ${med(out.browserCpu)} s CPU\n` +
        `  Node, fresh process: ${med(out.nodeColdWall)} s wall, ${med(out.nodeColdCpu)} s CPU, main thread ${med(out.nodeMainThreadCpu)} s CPU\n` +
        `  browser / Node (median of pair ratios): wall ${out.ratioWall}×, worker thread / process CPU ${out.ratioWorkerCpu}×, ` +
        `worker thread / main thread CPU ${out.ratioWorkerToMainThread}×, whole-browser / process CPU ${out.ratioBrowserCpu}×\n`,
    );
  }
  return 0;
}
