/**
 * `npm run bench -- --tiers`: every workload under each CPU tier side by side, cold and warm, so a
 * higher tier that loses to the one below it shows (issue 15: "no tier is slower than the tier
 * below it on any bench workload, cold or warm"). Each (workload, tier) runs in its own fresh
 * process (main.ts `--child NAME --tier T --warm-runs N`): its first run is the cold figure (a
 * fresh V8 and an empty block cache, what a CLI call or a new tab gets) and the best of the runs
 * after it the warm one. A tier's setting is then the only difference, and no tier's V8 feedback
 * leaks into another's figures. The ratio column is CPU time over the tier below's (> 1: slower);
 * one run each is a hint, not a verdict — confirm a loss with interleaved whole-process pairs.
 */
import { spawnSync } from 'node:child_process';
import type { BenchArgs, Tier } from './args.ts';
import { BenchFailure, mipsOf } from './measure.ts';
import { FIGURE_COLUMNS, mips, sec } from './report.ts';

/** Above this CPU ratio to the tier below, a row is marked '>' (single runs: about the noise). */
export const TIER_MARGIN = 1.05;
/**
 * A warm figure is the best of `--runs` samples, each the mean of as many runs as fill this much
 * CPU time (measure.ts runSample): a workload of 2–100 ms (hello-boot, trapdemo-*, minikernel-*)
 * is otherwise one CPU-accounting tick or one V8 compile away from ±30 %. Longer runs are one run.
 */
export const WARM_SAMPLE_S = 0.3;
/**
 * A cold run cannot be repeated in its process (it is the process's first). A cold cell whose
 * lower tier's cold run took less than WARM_SAMPLE_S of CPU is re-run with SHORT_COLD_PAIRS × the
 * pairs instead, so that its median stands on as much measured time as a longer workload's.
 */
export const SHORT_COLD_PAIRS = 3;

export interface RunFigure {
  instructions: number;
  cpu: number;
  wall: number;
}

export interface TierFigure {
  workload: string;
  tier: Tier;
  cold: RunFigure;
  /** Best of the runs after the cold one; absent with `--runs` 0 warm runs (`--quick`). */
  warm?: RunFigure;
}

/** The child's `COLD {json}` and `WARM {json}` lines (main.ts, `--child`). */
export function parseChildLines(stdout: string): { cold: RunFigure | null; warm: RunFigure | null } {
  let cold: RunFigure | null = null;
  let warm: RunFigure | null = null;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('COLD ')) cold = JSON.parse(line.slice(5)) as RunFigure;
    else if (line.startsWith('WARM ')) warm = JSON.parse(line.slice(5)) as RunFigure;
  }
  return { cold, warm };
}

/** One workload under one tier in a fresh process: its cold run, then `warmRuns` warm ones. */
export function runTierChild(name: string, tier: Tier, args: BenchArgs, warmRuns: number): TierFigure {
  const pass = [
    '--tier',
    tier,
    '--warm-runs',
    String(warmRuns),
    ...(args.backend !== 'auto' ? ['--backend', args.backend] : []),
    ...(args.memMiB !== null ? ['--mem', String(args.memMiB)] : []),
  ];
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, '--child', name, ...pass], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const { cold, warm } = parseChildLines(r.stdout ?? '');
  if (r.status !== 0 || !cold)
    throw new BenchFailure(
      `${name} (tier ${tier}): the run failed: ${(r.stderr || r.stdout || String(r.error)).trim().slice(-500)}`,
    );
  return { workload: name, tier, cold, ...(warm ? { warm } : {}) };
}

const cpuRatio = (a: RunFigure | undefined, b: RunFigure | undefined): number | undefined =>
  a && b && b.cpu > 0 ? a.cpu / b.cpu : undefined;

/** The CPU-time ratios of `f` to the figure of the tier just below it (same workload), if any. */
export function ratiosToBelow(
  figs: TierFigure[],
  f: TierFigure,
): { below?: Tier; cold?: number; warm?: number } {
  const same = figs.filter((x) => x.workload === f.workload);
  const i = same.indexOf(f);
  const below = i > 0 ? same[i - 1] : undefined;
  if (!below) return {};
  return { below: below.tier, cold: cpuRatio(f.cold, below.cold), warm: cpuRatio(f.warm, below.warm) };
}

/** One cell of the table: a tier's cold or warm CPU time over the tier below's. */
export interface TierCell {
  workload: string;
  tier: Tier;
  below: Tier;
  kind: 'cold' | 'warm';
  ratio: number;
  /** The tier below's CPU seconds in this cell (what decides a short cold cell's pairs). */
  belowCpu: number;
}

/** Cells where a higher tier took more than `margin` × the CPU time of the tier below. */
export function suspectCells(figs: TierFigure[], margin = TIER_MARGIN): TierCell[] {
  const out: TierCell[] = [];
  for (const f of figs) {
    const r = ratiosToBelow(figs, f);
    const lower = figs.find((x) => x.workload === f.workload && x.tier === r.below);
    for (const kind of ['cold', 'warm'] as const) {
      const ratio = r[kind];
      const belowCpu = lower?.[kind]?.cpu;
      if (ratio !== undefined && r.below && belowCpu !== undefined && ratio > margin)
        out.push({ workload: f.workload, tier: f.tier, below: r.below, kind, ratio, belowCpu });
    }
  }
  return out;
}

/** Process pairs for re-running `cell`: `pairs`, or SHORT_COLD_PAIRS × that for a short cold cell. */
export function pairsFor(cell: TierCell, pairs: number): number {
  return cell.kind === 'cold' && cell.belowCpu < WARM_SAMPLE_S ? pairs * SHORT_COLD_PAIRS : pairs;
}

/** Rows where a higher tier took more than `margin` × the CPU time of the tier below. */
export function slowerThanBelow(figs: TierFigure[], margin = TIER_MARGIN): string[] {
  return suspectCells(figs, margin).map(
    (c) => `${c.workload}: ${c.tier} ${c.kind} ${c.ratio.toFixed(2)}× the CPU time of ${c.below}`,
  );
}

/** A suspect cell re-run as interleaved process pairs: the per-pair CPU ratios (higher / lower). */
export interface PairCheck {
  cell: TierCell;
  ratios: number[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/**
 * Re-run `cell` as `pairs` pairs of fresh processes (pairsFor: more for a short cold cell), the
 * higher tier and the one below in turn, which goes first alternating (the machine's speed
 * drifts: a pair's ratio cancels what both runs share). A cold cell compares the processes' first
 * runs; a warm one their best of `warmRuns` later samples (WARM_SAMPLE_S).
 */
export function checkCell(cell: TierCell, args: BenchArgs, pairs: number, warmRuns: number): PairCheck {
  const warm = cell.kind === 'warm' ? Math.max(1, warmRuns) : 0;
  const ratios: number[] = [];
  const n = pairsFor(cell, pairs);
  for (let i = 0; i < n; i++) {
    const order = i % 2 === 0 ? [cell.tier, cell.below] : [cell.below, cell.tier];
    const [a, b] = order.map((t) => runTierChild(cell.workload, t, args, warm)) as [TierFigure, TierFigure];
    const [hi, lo] = i % 2 === 0 ? [a, b] : [b, a];
    const x = cell.kind === 'warm' ? cpuRatio(hi.warm, lo.warm) : cpuRatio(hi.cold, lo.cold);
    if (x !== undefined) ratios.push(x);
  }
  return { cell, ratios };
}

const spread = (r: number[]): string =>
  `median of ${r.length} pair${r.length === 1 ? '' : 's'}, ${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)}`;

/**
 * One verdict line per workload, in table order: SLOWER when a higher tier's pairs (or, without
 * pairs, its single run: UNCONFIRMED) exceed `margin` × the tier below, else OK, naming the
 * suspects the pairs cleared.
 */
export function tierVerdicts(figs: TierFigure[], checks: PairCheck[], margin = TIER_MARGIN): string[] {
  const names = [...new Set(figs.map((f) => f.workload))];
  const suspects = suspectCells(figs, margin);
  return names.map((w) => {
    const slower: string[] = [];
    const unconfirmed: string[] = [];
    const cleared: string[] = [];
    for (const c of suspects.filter((x) => x.workload === w)) {
      const what = `${c.tier} ${c.kind}`;
      const check = checks.find(
        (k) => k.cell.workload === w && k.cell.tier === c.tier && k.cell.kind === c.kind,
      );
      if (!check || check.ratios.length === 0) {
        unconfirmed.push(`${what} ${c.ratio.toFixed(2)}× ${c.below} (one run)`);
        continue;
      }
      const m = median(check.ratios);
      const text = `${what} ${m.toFixed(2)}× ${c.below} (${spread(check.ratios)})`;
      (m > margin ? slower : cleared).push(text);
    }
    const tail = cleared.length ? `; level on re-run: ${cleared.join(', ')}` : '';
    if (slower.length) return `${w}: SLOWER: ${[...slower, ...unconfirmed].join(', ')}${tail}`;
    if (unconfirmed.length) return `${w}: UNCONFIRMED: ${unconfirmed.join(', ')}${tail}`;
    return `${w}: OK: no tier over ${Math.round((margin - 1) * 100)} % slower than the one below${tail}`;
  });
}

const cpuMips = (f: RunFigure | undefined): string =>
  mips(f && f.cpu > 0 ? mipsOf(f.instructions, f.cpu) : undefined);
const ratio = (x: number | undefined): string =>
  x === undefined ? '' : `${x.toFixed(2)}${x > TIER_MARGIN ? '>' : ' '}`;

function row(cells: string[]): string {
  const [name, tier, insns, ...rest] = cells;
  return `${name!.padEnd(28)} ${tier!.padEnd(11)} ${insns!.padStart(15)} ${rest.map((c) => c.padStart(9)).join(' ')}`.trimEnd();
}

export function tiersHeader(): string {
  return row(['workload', 'tier', 'instructions', ...FIGURE_COLUMNS, '÷ below', '÷ below']);
}

/** Side by side: one row per (workload, tier), ratios (CPU, cold then warm) to the tier below. */
export function tiersTable(figs: TierFigure[]): string {
  const head = tiersHeader();
  const lines = [
    head,
    `${' '.repeat(head.length - 19)}${'cold'.padStart(9)} ${'warm'.padStart(9)}`,
    '-'.repeat(head.length),
  ];
  let last = '';
  for (const f of figs) {
    const r = ratiosToBelow(figs, f);
    lines.push(
      row([
        f.workload === last ? '' : f.workload,
        f.tier,
        f.cold.instructions.toLocaleString('en-US'),
        sec(f.cold.cpu),
        sec(f.cold.wall),
        sec(f.warm?.cpu),
        sec(f.warm?.wall),
        cpuMips(f.cold),
        cpuMips(f.warm),
        ratio(r.cold),
        ratio(r.warm),
      ]),
    );
    last = f.workload;
  }
  return lines.join('\n');
}

export function tierJsonLine(figs: TierFigure[], f: TierFigure): string {
  const r3 = (x: number): number => Number(x.toFixed(3));
  const fig = (x: RunFigure) => ({
    instructions: x.instructions,
    cpu: r3(x.cpu),
    wall: r3(x.wall),
    cpuMips: r3(mipsOf(x.instructions, x.cpu)),
  });
  const r = ratiosToBelow(figs, f);
  return JSON.stringify({
    name: f.workload,
    tier: f.tier,
    cold: fig(f.cold),
    ...(f.warm ? { warm: fig(f.warm) } : {}),
    ...(r.below
      ? {
          below: r.below,
          cpuRatioToBelow: {
            ...(r.cold !== undefined ? { cold: r3(r.cold) } : {}),
            ...(r.warm !== undefined ? { warm: r3(r.warm) } : {}),
          },
        }
      : {}),
  });
}
