/**
 * How often V8 compiles and deoptimizes during one cold Linux boot (not a timing: counts from V8's
 * own trace, which move little when the machine is loaded). PERF.md "Session 9 — v8cold".
 *   npx tsx bench/v8-counts.ts            # Chromium: the playground's worker (and its page)
 *   npx tsx bench/v8-counts.ts --node     # Node: src/cpu/perf-linux.ts in a fresh process
 *   npx tsx bench/v8-counts.ts --node --top 20   # also the functions compiled most often
 * Chromium runs through `bench/main.ts --browser --runs 1` with `--js-flags=--trace-opt,--trace-deopt`;
 * Playwright's debug log (DEBUG=pw:browser) carries the renderer's stdout. The page's own
 * functions (React, xterm) are counted with the worker's: the trace does not say which isolate.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export interface V8Counts {
  /** Finished compile jobs by tier (MAGLEV, TURBOFAN, TURBOFAN_JS …), OSR jobs included. */
  jobs: Record<string, number>;
  /** Distinct functions compiled, by tier. */
  functions: Record<string, number>;
  /** Eager and lazy deopts by reason, without OSR entries ("prepare for on stack replacement"). */
  deopts: Record<string, number>;
  /** Maglev code leaving for TurboFan's OSR code. */
  osrEntries: number;
  /** Optimized functions thrown away at once because something they relied on changed, by reason. */
  invalidated: Record<string, number>;
  /** Compile jobs by function and tier, most first. */
  top: [string, number][];
}

const COMPILED =
  /\[completed compiling 0x[0-9a-f]+ <JSFunction (\S*) \(sfi = (0x[0-9a-f]+)\)> \(target (\w+)\)/;
const BAILOUT = /\[bailout \(kind: ([\w-]+), reason: (.*?)\): begin/;
const MARKED = /\[marking dependent code .* for deoptimization, reason: ([^\]]+)\]/;
/** Playwright's debug prefix on each line of the browser's output. */
const PW = /^\S+ pw:browser \[pid=\d+\]\[(?:out|err)\] ?/;

/** Count the events of a `--trace-opt --trace-deopt` log (Node's stdout or Playwright's debug log). */
export function countV8(log: string): V8Counts {
  const c: V8Counts = { jobs: {}, functions: {}, deopts: {}, osrEntries: 0, invalidated: {}, top: [] };
  const seen = new Set<string>();
  const byFn = new Map<string, number>();
  const bump = (m: Record<string, number>, k: string) => {
    m[k] = (m[k] ?? 0) + 1;
  };
  for (const raw of log.split('\n')) {
    const line = raw.replace(PW, '');
    let m = COMPILED.exec(line);
    if (m) {
      const [, name, sfi, tier] = m as unknown as [string, string, string, string];
      bump(c.jobs, tier);
      const key = `${name || '(anonymous)'} ${tier}`;
      byFn.set(key, (byFn.get(key) ?? 0) + 1);
      if (!seen.has(`${sfi} ${tier}`)) {
        seen.add(`${sfi} ${tier}`);
        bump(c.functions, tier);
      }
      continue;
    }
    m = BAILOUT.exec(line);
    if (m) {
      if (m[2]!.startsWith('prepare for on stack replacement')) c.osrEntries++;
      else bump(c.deopts, m[2]!);
      continue;
    }
    m = MARKED.exec(line);
    if (m) bump(c.invalidated, m[1]!);
  }
  c.top = [...byFn].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return c;
}

const sum = (m: Record<string, number>): number => Object.values(m).reduce((a, b) => a + b, 0);

/** A few lines for a person: totals first, then each kind by count. */
export function formatCounts(c: V8Counts, top = 0): string {
  const list = (m: Record<string, number>) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `    ${String(v).padStart(5)}  ${k}`);
  const perFn = Object.keys(c.jobs)
    .sort()
    .map((t) => `${t} ${c.jobs[t]} jobs / ${c.functions[t] ?? 0} functions`);
  return [
    `compile jobs ${sum(c.jobs)} (${perFn.join(', ')})`,
    `deopts ${sum(c.deopts)} (plus ${c.osrEntries} OSR entries)`,
    ...list(c.deopts),
    `optimized functions invalidated ${sum(c.invalidated)}`,
    ...list(c.invalidated),
    ...(top > 0
      ? ['most compiled:', ...c.top.slice(0, top).map(([k, v]) => `    ${String(v).padStart(5)}  ${k}`)]
      : []),
  ].join('\n');
}

function main(): number {
  const args = process.argv.slice(2);
  const node = args.includes('--node');
  const t = args.indexOf('--top');
  const top = t >= 0 ? Number(args[t + 1]) : 0;
  const root = resolve(import.meta.dirname, '..');
  const r = node
    ? spawnSync(
        process.execPath,
        // tsx's own loader (`--import tsx`), as `node --import tsx` runs it: the execArgv that
        // `npx tsx` passes on brings its IPC and watch machinery, whose functions deopt too.
        ['--import', 'tsx', '--trace-opt', '--trace-deopt', resolve(root, 'src/cpu/perf-linux.ts')],
        { cwd: root, encoding: 'utf8', env: { ...process.env, RUNS: '1' }, maxBuffer: 1 << 28 },
      )
    : spawnSync(
        process.execPath,
        [...process.execArgv, resolve(root, 'bench/main.ts'), '--browser', '--runs', '1'],
        {
          cwd: root,
          encoding: 'utf8',
          env: {
            ...process.env,
            DEBUG: 'pw:browser',
            BENCH_CHROMIUM_ARGS: `${process.env.BENCH_CHROMIUM_ARGS ?? ''} --js-flags=--trace-opt,--trace-deopt`,
          },
          maxBuffer: 1 << 28,
        },
      );
  if (r.status !== 0) {
    process.stderr.write(`v8-counts: the boot failed (exit ${r.status})\n${r.stderr.slice(-2000)}\n`);
    return 1;
  }
  const c = countV8(node ? r.stdout : r.stderr);
  if (sum(c.jobs) === 0) {
    process.stderr.write('v8-counts: no V8 trace found in the output\n');
    return 1;
  }
  process.stdout.write(`${node ? 'Node, perf-linux.ts' : 'Chromium, the playground'}: one cold Linux boot\n`);
  process.stdout.write(`${formatCounts(c, top)}\n`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main();
