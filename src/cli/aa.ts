/**
 * `traplab aa`: Adams & Agesen (ASPLOS 2006) reproduced. Boots minikernel (minikernel-pv for
 * paravirtual) under every technique with a CPU-generation preset, types `bench NAME` for each
 * nanobenchmark and prints the cycles per operation the guest measured with its own RDTSC, beside
 * the paper's numbers. `--json` prints the document the `?view=adams-agesen` page is built from
 * (src/ui/adams-agesen/aa-data.json is `traplab aa --cpu-model all --json`).
 */
import { join } from 'node:path';
import { CPU_MODEL_PRESETS, CPU_MODELS, type CpuModelId } from '../hypervisor/vmm/cost-model.ts';
import {
  AA_BENCHMARKS,
  AA_COLUMNS,
  type AaBenchmark,
  type AaKernels,
  type AaRun,
  PAPER,
  type PaperFigure,
  runAaColumn,
} from '../session/adams-agesen.ts';
import { type AaOptions, UsageError } from './args.ts';
import { readImage } from './guest-files.ts';
import { findGuest, guestsDir } from './manifest.ts';

/** The JSON document: the paper's figures, the columns, and per preset the runs. */
export interface AaDocument {
  source: string;
  paper: typeof PAPER;
  columns: typeof AA_COLUMNS;
  presets: Partial<Record<CpuModelId, { label: string; part: string; runs: AaRun[] }>>;
}

export function runAa(opts: AaOptions): AaDocument {
  const kernels = loadKernels();
  const models = opts.cpuModel === 'all' ? CPU_MODELS : [opts.cpuModel];
  const doc: AaDocument = {
    source: 'traplab aa: minikernel bench, cycles per operation from the guest RDTSC (modelled cycles)',
    paper: PAPER,
    columns: AA_COLUMNS,
    presets: {},
  };
  for (const m of models) {
    const runs = AA_COLUMNS.map((c) => runAaColumn(c, m, kernels, opts.only));
    doc.presets[m] = { label: CPU_MODEL_PRESETS[m].label, part: CPU_MODEL_PRESETS[m].part, runs };
  }
  return doc;
}

export function aaCommand(opts: AaOptions): number {
  const doc = runAa(opts);
  process.stdout.write(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : formatAa(doc));
  return 0;
}

function loadKernels(): AaKernels {
  const dir = guestsDir();
  const k = (id: 'minikernel' | 'minikernel-pv'): Uint8Array => {
    const file = findGuest(id, dir).files.kernel;
    if (typeof file !== 'string') throw new UsageError(`guest '${id}' is missing from guests/manifest.json`);
    return readImage(join(dir, file), `${id} kernel`);
  };
  return { minikernel: k('minikernel'), 'minikernel-pv': k('minikernel-pv') };
}

const SHORT: Record<string, string> = {
  native: 'native',
  'trap-and-emulate': 'T&E',
  'binary-translation': 'BT',
  'vtx-shadow': 'VT-x shadow',
  'vtx-ept': 'VT-x EPT',
  paravirtual: 'PV',
};

const fmt = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1);
const paperCell = (f: PaperFigure): string =>
  f.cycles === null ? '—' : `${f.approx ? '≈' : ''}${fmt(f.cycles)}`;

/** The text tables: cycles per operation, then trap-log records per operation, per preset. */
export function formatAa(doc: AaDocument): string {
  const out: string[] = [];
  for (const [model, p] of Object.entries(doc.presets)) {
    if (!p) continue;
    out.push(`Adams & Agesen (ASPLOS 2006) nanobenchmarks: minikernel bench, cycles per operation`);
    out.push(`CPU model ${model}: ${p.part}`);
    const head = [
      'benchmark',
      ...p.runs.map((r) => SHORT[r.column] ?? r.column),
      '│',
      'A&A native',
      'A&A BT',
      'A&A VT-x',
    ];
    const rows: string[][] = [head];
    for (const b of AA_BENCHMARKS) {
      const paper = PAPER[b];
      rows.push([
        b,
        ...p.runs.map((r) => (r.status === 'ok' ? fmt(r.results[b]?.cyclesPerOp) : 'failed')),
        '│',
        paperCell(paper.native),
        paperCell(paper.bt),
        paperCell(paper.vtx),
      ]);
    }
    out.push(...table(rows), '');
    out.push('trap-log records per operation (of which VM exits)');
    const rrows: string[][] = [['benchmark', ...p.runs.map((r) => SHORT[r.column] ?? r.column)]];
    for (const b of AA_BENCHMARKS) rrows.push([b, ...p.runs.map((r) => recordsCell(r, b))]);
    out.push(...table(rrows));
    for (const r of p.runs)
      if (r.status !== 'ok') out.push(`${SHORT[r.column] ?? r.column} failed: ${r.reason}`);
    out.push('');
  }
  out.push('A&A figures quoted from the paper (≈: derived from its text; cr-write is their cr8wr).');
  return `${out.join('\n')}\n`;
}

function recordsCell(r: AaRun, b: AaBenchmark): string {
  const x = r.results[b];
  if (r.status !== 'ok' || !x) return '—';
  const rec = x.recordsPerOp.toFixed(2);
  return x.exitsPerOp > 0 ? `${rec} (${x.exitsPerOp.toFixed(2)})` : rec;
}

function table(rows: string[][]): string[] {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
}
