/**
 * `npm run bench`: measure TrapLab's speed on the workloads in workloads.ts.
 * Prints a table (name, instructions, seconds, MIPS) or, with --json, one JSON object per line.
 * Notes (skipped workloads, run times, failures) go to stderr so --json output stays clean.
 * Exit status: 0 if every runnable workload finished, 1 if one failed, 64 for bad arguments.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fastPaths } from '../src/cpu/fastpaths.ts';
import { BENCH_USAGE, type BenchArgs, BenchUsageError, parseBenchArgs, type Tier } from './args.ts';
import { BenchFailure, type BenchWorkload, cpuClock, defaultClock, measure, runOnce } from './measure.ts';
import { statCpu } from './proc-cpu.ts';
import { jsonLine, tableHeader, tableRow, tableRule } from './report.ts';
import {
  CLI_HELLO_GOAL_S,
  cliLine,
  creationTable,
  measureCliHello,
  measureSessionCreation,
  SESSION_CREATE_GOAL_MS,
  STARTUP_FIGURES,
  type StartupFigure,
} from './startup.ts';
import {
  checkCell,
  median,
  type PairCheck,
  pairsFor,
  runTierChild,
  SHORT_COLD_PAIRS,
  suspectCells,
  TIER_MARGIN,
  type TierFigure,
  tierJsonLine,
  tiersTable,
  tierVerdicts,
  WARM_SAMPLE_S,
} from './tiers.ts';
import { type Backend, type SessionClass, setBenchMemMiB, workloads } from './workloads.ts';

/** Each workload gets at most this much wall time for its repeats (the first run always completes). */
const TIME_LIMIT_PER_WORKLOAD_S = 40;

async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseBenchArgs>;
  try {
    args = parseBenchArgs(argv);
  } catch (e) {
    if (e instanceof BenchUsageError) {
      process.stderr.write(`bench: ${e.message}\n${BENCH_USAGE}\n`);
      return 64;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(BENCH_USAGE + '\n');
    return 0;
  }
  if (args.browser) return (await import('./browser.ts')).benchBrowser(args);
  let backend: Backend = args.backend === 'pc' ? 'pc' : 'session';
  let SessionCtor: SessionClass | undefined;
  if (backend === 'session') {
    try {
      SessionCtor = (await import('../src/session/index.ts')).Session;
    } catch (e) {
      if (args.backend === 'session') {
        process.stderr.write(
          `bench: the session layer cannot be loaded: ${e instanceof Error ? e.message : e}\n`,
        );
        return 1;
      }
      process.stderr.write('bench: the session layer cannot be loaded yet; measuring the Pc directly\n');
      backend = 'pc';
    }
  }
  if (args.memMiB !== null) setBenchMemMiB(args.memMiB);
  fastPaths.blockCache = args.tier !== 'interpreter';
  fastPaths.jit = args.tier === 'jit';
  let list = workloads({ kind: backend, SessionCtor });
  if (args.child !== null) {
    // One cold run in this fresh process: the parent reads the COLD line.
    const w = list.find((x) => x.name === args.child);
    if (!w) throw new Error(`unknown workload ${args.child}`);
    const main0 = mainThreadCpu();
    const r = runOnce(w, cpuClock, defaultClock);
    const main1 = mainThreadCpu();
    // mainCpu: this thread alone (the emulator; V8's compile and GC threads are in `cpu` only),
    // what the browser figure compares with the worker thread's CPU. It spans the whole run,
    // setup and any unmeasured part included (a loop workload's boot): compare it on linux-boot.
    process.stdout.write(
      `COLD ${JSON.stringify({ instructions: r.instructions, cpu: r.seconds, wall: r.otherSeconds, ...(main0 !== null && main1 !== null ? { mainCpu: main1 - main0 } : {}) })}\n`,
    );
    if (args.warmRuns > 0) {
      // --tiers: the cold run was this process's warm-up; the best of the next samples is the warm
      // figure, a sample being as many runs as fill WARM_SAMPLE_S of CPU (one, for most workloads).
      const m = measure(w, {
        runs: args.warmRuns,
        warmup: false,
        minSampleSeconds: WARM_SAMPLE_S,
        timeLimitSeconds: TIME_LIMIT_PER_WORKLOAD_S,
        clock: cpuClock,
        limitClock: defaultClock,
        otherClock: defaultClock,
      });
      process.stdout.write(
        `WARM ${JSON.stringify({ instructions: m.instructions, cpu: m.seconds, wall: m.otherSeconds })}\n`,
      );
    }
    return 0;
  }
  if (!args.json) process.stderr.write(`bench: backend ${backend}, ${args.clock} clock, tier ${args.tier}\n`);
  // The start-up figures (startup.ts) run after the workloads: all of them unless --only names some.
  let startup: StartupFigure[] = [...STARTUP_FIGURES];
  if (args.only) {
    const names = new Set<string>([...list.map((w) => w.name), ...STARTUP_FIGURES]);
    const bad = args.only.filter((n) => !names.has(n));
    if (bad.length) {
      process.stderr.write(`bench: unknown workload ${bad.join(', ')} (known: ${[...names].join(', ')})\n`);
      return 64;
    }
    list = list.filter((w) => args.only!.includes(w.name));
    startup = startup.filter((n) => args.only!.includes(n));
  }
  if (args.tiers && !args.list) return benchTiers(list, args.tiers, args);
  if (args.list) {
    for (const w of list) {
      const why = w.unavailable();
      process.stdout.write(
        `${w.name.padEnd(20)} ${why ? `[skipped: ${why}]` : '[ready]'}  ${w.description}\n`,
      );
    }
    return 0;
  }

  let failed = false;
  const seconds = new Map<string, number>();
  if (!args.json) process.stdout.write(`${tableHeader()}\n${tableRule()}\n`);
  for (const w of list) {
    const why = w.unavailable();
    if (why) {
      process.stderr.write(`bench: skipping ${w.name}: ${why}\n`);
      continue;
    }
    try {
      const cold = args.cold ? coldRun(w.name, args) : undefined;
      const r = measure(w, {
        runs: args.runs,
        warmup: args.warmup,
        timeLimitSeconds: TIME_LIMIT_PER_WORKLOAD_S,
        clock: args.clock === 'cpu' ? cpuClock : defaultClock,
        limitClock: defaultClock,
        otherClock: args.clock === 'cpu' ? defaultClock : cpuClock,
      });
      if (cold) r.cold = cold;
      process.stdout.write((args.json ? jsonLine(r, args.clock) : tableRow(r, args.clock)) + '\n');
      seconds.set(w.name, r.seconds);
      const nat = seconds.get('linux-boot');
      if (w.name === 'linux-boot-bt' && nat !== undefined && !args.json)
        process.stdout.write(
          `  binary translation / native (linux-boot): ${(r.seconds / nat).toFixed(1)}×\n`,
        );
      process.stderr.write(
        `bench: ${w.name}: ${r.runs.length} measured run(s): ${r.runs.map((s) => s.toFixed(3)).join(', ')} s${r.warmupCounted ? ' (the first was the warm-up run: slow enough to count)' : args.warmup ? ' (after a warm-up run)' : ''}\n`,
      );
      seconds.set(w.name, r.seconds);
      const base = w.ratioTo ? seconds.get(w.ratioTo) : undefined;
      if (base !== undefined)
        process.stderr.write(
          `bench: ${w.name}: ${(r.seconds / base).toFixed(2)}× the time of ${w.ratioTo}\n`,
        );
      if (r.nondeterministic)
        process.stderr.write(`bench: WARNING: ${w.name}: instruction counts differ between runs\n`);
    } catch (e) {
      failed = true;
      const msg =
        e instanceof BenchFailure ? e.message : `${w.name}: ${e instanceof Error ? e.message : String(e)}`;
      process.stderr.write(`bench: FAILED ${msg}\n`);
    }
  }
  if (!args.list && !failed) failed = !startupFigures(startup, args, SessionCtor);
  return failed ? 1 : 0;
}

/** `--tiers`: each workload under each tier in its own process (tiers.ts), side by side. */
function benchTiers(list: BenchWorkload[], tiers: Tier[], args: BenchArgs): number {
  const warmRuns = args.warmup ? args.runs : 0;
  if (!args.json) {
    process.stderr.write(
      `bench: tiers ${tiers.join(', ')}: each a fresh process per workload (cold run, then best of ${warmRuns} warm samples, each the mean of as many runs as fill ${WARM_SAMPLE_S} s of CPU); CPU and wall seconds\n`,
    );
  }
  const figs: TierFigure[] = [];
  let failed = false;
  for (const w of list) {
    const why = w.unavailable();
    if (why) {
      process.stderr.write(`bench: skipping ${w.name}: ${why}\n`);
      continue;
    }
    for (const tier of tiers) {
      try {
        const f = runTierChild(w.name, tier, args, warmRuns);
        figs.push(f);
        if (args.json) process.stdout.write(`${tierJsonLine(figs, f)}\n`);
        else
          process.stderr.write(
            `bench: ${w.name} (${tier}): cold ${f.cold.cpu.toFixed(3)} s CPU${f.warm ? `, warm ${f.warm.cpu.toFixed(3)} s CPU` : ''}\n`,
          );
        if (f.warm && f.warm.instructions !== f.cold.instructions)
          process.stderr.write(
            `bench: WARNING: ${w.name} (${tier}): instruction counts differ between runs\n`,
          );
      } catch (e) {
        failed = true;
        process.stderr.write(`bench: FAILED ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
  }
  if (!args.json) process.stdout.write(`${tiersTable(figs)}\n`);
  // One run per cell is a hint on this kind of machine: re-run each suspect as interleaved pairs.
  const checks: PairCheck[] = [];
  for (const cell of args.pairs > 0 ? suspectCells(figs) : []) {
    process.stderr.write(
      `bench: re-running ${cell.workload} ${cell.tier} ${cell.kind} (${cell.ratio.toFixed(2)}× ${cell.below}) as ${pairsFor(cell, args.pairs)} process pairs\n`,
    );
    try {
      checks.push(checkCell(cell, args, args.pairs, warmRuns));
    } catch (e) {
      failed = true;
      process.stderr.write(`bench: FAILED ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  const verdicts = tierVerdicts(figs, checks);
  if (args.json)
    for (const c of checks)
      process.stdout.write(
        `${JSON.stringify({ name: c.cell.workload, tier: c.cell.tier, below: c.cell.below, kind: c.cell.kind, pairRatios: c.ratios.map((x) => Number(x.toFixed(3))), medianRatio: Number(median(c.ratios).toFixed(3)) })}\n`,
      );
  else
    process.stdout.write(
      `\nverdict per workload (CPU time; a suspect over ${Math.round((TIER_MARGIN - 1) * 100)} % is re-run as ${args.pairs} interleaved process pairs, ${args.pairs * SHORT_COLD_PAIRS} for a cold run under ${WARM_SAMPLE_S} s; a warm figure is the best of ${warmRuns} samples of runs filling ${WARM_SAMPLE_S} s each):\n${verdicts.map((v) => `  ${v}`).join('\n')}\n`,
    );
  return failed ? 1 : 0;
}

/** CPU seconds of this process's main thread (Linux /proc), or null where there is none. */
function mainThreadCpu(): number | null {
  try {
    return statCpu(readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')).seconds;
  } catch {
    return null;
  }
}

/** Session creation and the hello CLI start-up (startup.ts); false if one failed. */
function startupFigures(which: StartupFigure[], args: BenchArgs, SessionCtor?: SessionClass): boolean {
  let ok = true;
  if (which.includes('session-create')) {
    if (!SessionCtor)
      process.stderr.write('bench: skipping session-create: the session layer is not loaded\n');
    else {
      const { figures, skipped } = measureSessionCreation(SessionCtor, { runs: Math.max(args.runs, 5) });
      for (const s of skipped) process.stderr.write(`bench: session-create: skipped ${s}\n`);
      if (args.json)
        for (const f of figures)
          process.stdout.write(
            `${JSON.stringify({ name: 'session-create', guest: f.guest, technique: f.technique, cold: f.cold, warm: f.warm, runs: f.runs, goalMs: SESSION_CREATE_GOAL_MS })}\n`,
          );
      else process.stdout.write(`\n${creationTable(figures)}\n`);
    }
  }
  if (which.includes('cli-hello')) {
    try {
      const f = measureCliHello(Math.max(args.runs, 5));
      if (args.json)
        process.stdout.write(
          `${JSON.stringify({ name: 'cli-hello', wall: { median: f.median, min: f.min, runs: f.runs }, status: f.status, goalS: CLI_HELLO_GOAL_S })}\n`,
        );
      else process.stdout.write(`\n${cliLine(f)}\n`);
    } catch (e) {
      ok = false;
      process.stderr.write(`bench: FAILED cli-hello: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  return ok;
}

/**
 * The workload's first run in a fresh Node process (this script again with --child): what a CLI
 * call gets, with no V8 warm-up and an empty block cache. CPU and wall seconds of that run alone.
 */
function coldRun(name: string, args: BenchArgs): { instructions: number; cpu: number; wall: number } {
  const pass = [
    '--tier',
    args.tier,
    ...(args.backend !== 'auto' ? ['--backend', args.backend] : []),
    ...(args.memMiB !== null ? ['--mem', String(args.memMiB)] : []),
  ];
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, '--child', name, ...pass], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('COLD '));
  if (r.status !== 0 || !line)
    throw new BenchFailure(`${name}: the cold run failed: ${(r.stderr || r.stdout).trim().slice(-500)}`);
  return JSON.parse(line.slice(5)) as { instructions: number; cpu: number; wall: number };
}

process.exitCode = await main(process.argv.slice(2));
