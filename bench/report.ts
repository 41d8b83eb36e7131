/**
 * Benchmark output: a readable table, or one JSON object per line (`--json`). Each row shows the
 * cold figure (the first run in a fresh process: what a CLI call or a new browser tab gets) beside
 * the warm one (best of the runs after a warm-up), CPU and wall seconds each.
 */
import { type BenchResult, mipsOf } from './measure.ts';

const r3 = (x: number): number => Number(x.toFixed(3));

/** Warm seconds on each clock: `seconds` is on the clock the bench was asked for. */
function warmClocks(r: BenchResult, clock: 'wall' | 'cpu'): { cpu?: number; wall?: number } {
  if (r.otherSeconds === undefined) return clock === 'cpu' ? { cpu: r.seconds } : { wall: r.seconds };
  return clock === 'cpu'
    ? { cpu: r.seconds, wall: r.otherSeconds }
    : { wall: r.seconds, cpu: r.otherSeconds };
}

export function jsonLine(r: BenchResult, clock: 'wall' | 'cpu' = 'wall'): string {
  const base: Record<string, unknown> = {
    name: r.name,
    instructions: r.instructions,
    seconds: Number(r.seconds.toFixed(6)),
    mips: r3(r.mips),
  };
  if (r.otherSeconds !== undefined) {
    const w = warmClocks(r, clock);
    base.warm = { cpu: r3(w.cpu!), wall: r3(w.wall!), cpuMips: r3(mipsOf(r.instructions, w.cpu!)) };
  }
  if (r.cold)
    base.cold = {
      instructions: r.cold.instructions,
      cpu: r3(r.cold.cpu),
      wall: r3(r.cold.wall),
      cpuMips: r3(mipsOf(r.cold.instructions, r.cold.cpu)),
    };
  return JSON.stringify(base);
}

/** The figure columns every bench table prints after its name columns (report.ts, tiers.ts). */
export const FIGURE_COLUMNS = ['cold cpu', 'cold wall', 'warm cpu', 'warm wall', 'MIPS cold', 'MIPS warm'];

export function tableHeader(): string {
  return row('name', 'instructions', ...FIGURE_COLUMNS);
}

export const sec = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(3));
export const mips = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(x < 10 ? 2 : 1));

/** MIPS columns are on CPU time when it was measured (steadier on a shared machine), else wall. */
export function tableRow(r: BenchResult, clock: 'wall' | 'cpu' = 'wall'): string {
  const w = warmClocks(r, clock);
  const coldT = r.cold ? (r.cold.cpu > 0 ? r.cold.cpu : r.cold.wall) : undefined;
  const warmT = w.cpu ?? w.wall;
  return row(
    r.name,
    r.instructions.toLocaleString('en-US'),
    sec(r.cold?.cpu),
    sec(r.cold?.wall),
    sec(w.cpu),
    sec(w.wall),
    mips(r.cold && coldT ? mipsOf(r.cold.instructions, coldT) : undefined),
    mips(warmT ? mipsOf(r.instructions, warmT) : undefined),
  );
}

export function table(results: BenchResult[], clock: 'wall' | 'cpu' = 'wall'): string {
  return [tableHeader(), tableRule(), ...results.map((r) => tableRow(r, clock))].join('\n');
}

export function tableRule(): string {
  return '-'.repeat(tableHeader().length);
}

function row(name: string, instructions: string, ...cols: string[]): string {
  return `${name.padEnd(24)} ${instructions.padStart(15)} ${cols.map((c) => c.padStart(10)).join(' ')}`;
}
