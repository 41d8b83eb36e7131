/**
 * The Adams & Agesen page's data, shaped for the chart and the table. The figures are
 * `aa-data.json`: `traplab aa --cpu-model all --json` (npm run aa-data), real runs of minikernel's
 * `bench` under every technique; src/session/adams-agesen.test.ts fails when it is not what the
 * emulator gives today. The paper's figures come from the same module the CLI prints them from.
 */
import type { CpuModelId } from '../../hypervisor/vmm/cost-model.ts';
import {
  AA_BENCHMARKS,
  AA_COLUMNS,
  type AaBenchmark,
  type AaColumnId,
  type AaRun,
  PAPER,
  type PaperFigure,
} from '../../session/adams-agesen-data.ts';
import data from './aa-data.json';

export interface AaPreset {
  id: CpuModelId;
  label: string;
  part: string;
  runs: AaRun[];
}

export const PRESETS: AaPreset[] = Object.entries(
  data.presets as Record<string, { label: string; part: string; runs: AaRun[] }>,
).map(([id, p]) => ({ id: id as CpuModelId, label: p.label, part: p.part, runs: p.runs }));

export function presetById(id: string | null): AaPreset {
  return PRESETS.find((p) => p.id === id) ?? PRESETS[0];
}

/** One bar series of the chart: one of our techniques, or one of the paper's columns. */
export interface AaSeries {
  key: string;
  label: string;
  paper: boolean;
  /** Cycles per operation per benchmark (null: none). */
  values: (number | null)[];
}

const PAPER_COLUMNS: { key: 'native' | 'bt' | 'vtx'; label: string }[] = [
  { key: 'native', label: 'A&A native' },
  { key: 'bt', label: 'A&A BT' },
  { key: 'vtx', label: 'A&A VT-x' },
];

export function columnLabel(id: AaColumnId): string {
  return AA_COLUMNS.find((c) => c.id === id)?.label ?? id;
}

/** Our techniques that ran (trap-and-emulate cannot boot minikernel), then the paper's columns. */
export function chartSeries(p: AaPreset): AaSeries[] {
  const ours: AaSeries[] = p.runs
    .filter((r) => r.status === 'ok')
    .map((r) => ({
      key: r.column,
      label: columnLabel(r.column),
      paper: false,
      values: AA_BENCHMARKS.map((b) => r.results[b]?.cyclesPerOp ?? null),
    }));
  const paper = PAPER_COLUMNS.map((c) => ({
    key: `paper-${c.key}`,
    label: c.label,
    paper: true,
    values: AA_BENCHMARKS.map((b) => PAPER[b][c.key].cycles),
  }));
  return [...ours, ...paper];
}

/**
 * uPlot takes one shared x array: each benchmark is a group of slots, one per series plus a gap,
 * and each series has its value in its own slot and null elsewhere — grouped bars.
 */
export function groupedData(series: AaSeries[]): { x: number[]; ys: (number | null)[][]; centers: number[] } {
  const per = series.length + 1;
  const n = AA_BENCHMARKS.length * per;
  const x = Array.from({ length: n }, (_, i) => i);
  const ys = series.map((s, si) =>
    x.map((i) =>
      i % per === si && s.values[Math.floor(i / per)] !== null ? s.values[Math.floor(i / per)] : null,
    ),
  );
  const centers = AA_BENCHMARKS.map((_, b) => b * per + (series.length - 1) / 2);
  return { x, ys, centers };
}

export function benchmarkAt(centers: number[], x: number): AaBenchmark | null {
  const i = centers.findIndex((c) => Math.abs(c - x) < 0.01);
  return i < 0 ? null : AA_BENCHMARKS[i];
}

export function paperCell(f: PaperFigure): string {
  if (f.cycles === null) return f.text;
  return `${f.approx ? '≈ ' : ''}${formatCycles(f.cycles)}`;
}

export function formatCycles(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1);
}

/** One of the paper's qualitative findings, judged from a preset's runs. */
export interface Finding {
  text: string;
  holds: boolean;
  evidence: string;
}

export function findings(p: AaPreset): Finding[] {
  const run = (id: AaColumnId) => p.runs.find((r) => r.column === id && r.status === 'ok');
  const cyc = (id: AaColumnId, b: AaBenchmark) => run(id)?.results[b]?.cyclesPerOp ?? null;
  const exits = (id: AaColumnId, b: AaBenchmark) => run(id)?.results[b]?.exitsPerOp ?? null;
  // VT-x with EPT is the same hardware VMM as with shadow paging: compare the techniques, not the two.
  const others = (id: AaColumnId) =>
    p.runs
      .filter((r) => r.status === 'ok' && r.column !== id && !(id === 'vtx-shadow' && r.column === 'vtx-ept'))
      .map((r) => r.column);
  const slowest = (id: AaColumnId, b: AaBenchmark) => {
    const v = cyc(id, b);
    return v !== null && others(id).every((o) => (cyc(o, b) ?? Number.POSITIVE_INFINITY) < v);
  };
  const near = (b: AaBenchmark) => {
    const n = cyc('native', b);
    const v = cyc('vtx-shadow', b);
    return n !== null && v !== null && v <= n * 1.1;
  };
  const f = formatCycles;
  const sh = exits('vtx-shadow', 'ptemod');
  const ept = exits('vtx-ept', 'ptemod');
  return [
    {
      text: 'VT-x runs syscall and divzero at native speed (no exit: the guest handles them at ring 0).',
      holds: near('syscall') && near('divzero'),
      evidence: `syscall ${f(cyc('vtx-shadow', 'syscall'))} vs native ${f(cyc('native', 'syscall'))}; divzero ${f(cyc('vtx-shadow', 'divzero'))} vs ${f(cyc('native', 'divzero'))}`,
    },
    {
      text: 'First-generation VT-x (shadow paging) is the slowest technique on in, pgfault and ptemod (each costs exits).',
      holds:
        slowest('vtx-shadow', 'in') && slowest('vtx-shadow', 'pgfault') && slowest('vtx-shadow', 'ptemod'),
      evidence: `in ${f(cyc('vtx-shadow', 'in'))}, pgfault ${f(cyc('vtx-shadow', 'pgfault'))}, ptemod ${f(cyc('vtx-shadow', 'ptemod'))}`,
    },
    {
      text: 'Binary translation is the slowest on call/ret (every RET is looked up).',
      holds: slowest('binary-translation', 'call/ret'),
      evidence: `${f(cyc('binary-translation', 'call/ret'))} vs native ${f(cyc('native', 'call/ret'))}`,
    },
    {
      text: 'EPT removes the ptemod exits.',
      holds: sh !== null && ept !== null && sh >= 1 && ept < 0.2,
      evidence: `VM exits per ptemod: ${sh?.toFixed(2) ?? '—'} with shadow paging, ${ept?.toFixed(2) ?? '—'} with EPT`,
    },
  ];
}

export { AA_BENCHMARKS, type AaBenchmark, type AaRun, PAPER };
