/**
 * Adams & Agesen (ASPLOS 2006) reproduced: minikernel's own `bench` nanobenchmarks run under every
 * technique with a CPU-generation preset, so the guest's RDTSC reads modelled cycles and the guest
 * prints cycles per operation itself. This module boots the guests, types `bench NAME` for each
 * benchmark, parses what the guest printed and counts the trap-log records each benchmark left.
 * The CLI (`traplab aa`), the data script behind the `?view=adams-agesen` page and the tests all
 * use it. The paper's numbers are quoted beside ours (`PAPER`).
 */

import type { CpuModelId } from '../hypervisor/vmm/cost-model.ts';
import { TrapKind } from '../hypervisor/vmm/trap-kinds.ts';
import { Session } from './session.ts';
import type { Technique } from './types.ts';

export const AA_BENCHMARKS = [
  'syscall',
  'in',
  'cr-write',
  'call/ret',
  'pgfault',
  'divzero',
  'ptemod',
] as const;
export type AaBenchmark = (typeof AA_BENCHMARKS)[number];

export type AaColumnId =
  | 'native'
  | 'trap-and-emulate'
  | 'binary-translation'
  | 'vtx-shadow'
  | 'vtx-ept'
  | 'paravirtual';

export interface AaColumn {
  id: AaColumnId;
  label: string;
  technique: Technique;
  paging?: 'ept' | 'shadow';
  guest: 'minikernel' | 'minikernel-pv';
}

export const AA_COLUMNS: readonly AaColumn[] = [
  { id: 'native', label: 'native', technique: 'native', guest: 'minikernel' },
  { id: 'trap-and-emulate', label: 'trap-and-emulate', technique: 'trap-and-emulate', guest: 'minikernel' },
  {
    id: 'binary-translation',
    label: 'binary translation',
    technique: 'binary-translation',
    guest: 'minikernel',
  },
  {
    id: 'vtx-shadow',
    label: 'VT-x, shadow paging',
    technique: 'hardware-assisted',
    paging: 'shadow',
    guest: 'minikernel',
  },
  { id: 'vtx-ept', label: 'VT-x, EPT', technique: 'hardware-assisted', paging: 'ept', guest: 'minikernel' },
  { id: 'paravirtual', label: 'paravirtual', technique: 'paravirtual', guest: 'minikernel-pv' },
];

/** One paper figure: cycles, or null where the paper gives none; `approx` = derived from its text. */
export interface PaperFigure {
  cycles: number | null;
  approx?: boolean;
  text: string;
}

/**
 * Adams & Agesen 2006, §6 nanobenchmarks on a 3.8 GHz Pentium 4 672 (quoted from the paper's text,
 * ../../../shared/reference/virtualization.md §3 — copied here, not read from there). Their
 * `cr8wr` is our `cr-write` (IA-32 has no CR8; minikernel toggles CR0.TS). Their software VMM is
 * VMware's binary translator, their hardware VMM first-generation VT-x with shadow paging.
 */
export const PAPER: Record<AaBenchmark, { native: PaperFigure; bt: PaperFigure; vtx: PaperFigure }> = {
  syscall: {
    native: { cycles: null, text: 'not given in the text' },
    bt: { cycles: null, text: 'about 2,000 more than native' },
    vtx: { cycles: null, text: 'native speed' },
  },
  in: {
    native: { cycles: 3_209, text: '3,209' },
    bt: { cycles: 214, approx: true, text: 'about 15× faster than native (≈ 214)' },
    vtx: { cycles: 15_826, text: '15,826' },
  },
  'cr-write': {
    native: { cycles: 140, approx: true, text: 'about 4× BT (≈ 140; cr8wr)' },
    bt: { cycles: 35, text: '35 (cr8wr)' },
    vtx: { cycles: 140, approx: true, text: 'similar to native (no exit)' },
  },
  'call/ret': {
    native: { cycles: 11, text: '11' },
    bt: { cycles: 51, text: '51' },
    vtx: { cycles: 11, text: '11' },
  },
  pgfault: {
    native: { cycles: 1_093, text: '1,093' },
    bt: { cycles: 3_927, text: '3,927' },
    vtx: { cycles: 11_242, text: '11,242' },
  },
  divzero: {
    native: { cycles: 889, text: '889' },
    bt: { cycles: 3_223, text: '3,223' },
    vtx: { cycles: 1_014, text: '1,014' },
  },
  ptemod: {
    native: { cycles: 1, approx: true, text: 'a single-cycle store' },
    bt: { cycles: 391, text: '391 (adaptive translation)' },
    vtx: { cycles: 12_733, text: '12,733' },
  },
};

/** One benchmark as the guest reported it. */
export interface AaResult {
  /** Cycles per operation (best of the guest's 3 runs), as printed; null if the guest said failed. */
  cyclesPerOp: number | null;
  ops: number;
  /** Trap-log records per operation during this benchmark (all 3 runs), and of those VM exits. */
  recordsPerOp: number;
  exitsPerOp: number;
}

export interface AaRun {
  column: AaColumnId;
  /** The preset; absent = none (the TSC then counts instructions). */
  cpuModel?: CpuModelId;
  /** ok: bench ran; failed: the guest never reached `bench` (reason says why). */
  status: 'ok' | 'failed';
  reason?: string;
  results: Partial<Record<AaBenchmark, AaResult>>;
}

/** The guest images the lab boots. */
export type AaKernels = Record<AaColumn['guest'], Uint8Array>;

const PROMPT = 'mini$ ';
/** Instructions allowed to reach the prompt, and per benchmark. */
const BOOT_BUDGET = 150_000_000;
const BENCH_BUDGET = 200_000_000;

/** Parse one `bench` line: "  divzero        852.0 cycles/op  (1000 ops: …)" or "  in  failed (-1)". */
export function parseBenchLine(
  line: string,
): { name: string; cyclesPerOp: number | null; ops: number } | null {
  const ok = /^\s+(\S+)\s+(\d+)\.(\d) cycles\/op\s+\((\d+) ops/.exec(line);
  if (ok) return { name: ok[1], cyclesPerOp: Number(ok[2]) + Number(ok[3]) / 10, ops: Number(ok[4]) };
  const bad = /^\s+(\S+)\s+failed \(-?\d+\)/.exec(line);
  if (bad) return { name: bad[1], cyclesPerOp: null, ops: 0 };
  return null;
}

/** Boot one column's guest with `cpuModel` and run each benchmark; never throws for guest trouble. */
export function runAaColumn(
  col: AaColumn,
  cpuModel: CpuModelId | undefined,
  kernels: AaKernels,
  only: readonly AaBenchmark[] = AA_BENCHMARKS,
): AaRun {
  const run: AaRun = { column: col.id, ...(cpuModel ? { cpuModel } : {}), status: 'ok', results: {} };
  const session = new Session({
    guest: { kind: 'kernel', kernel: kernels[col.guest] },
    technique: col.technique,
    vms: 1,
    memMiB: 64,
    noReboot: true,
    ...(cpuModel ? { cpuModel } : {}),
    ...(col.paging ? { paging: col.paging } : {}),
  });
  const dec = new TextDecoder();
  let text = '';
  const until = (needle: string, from: number, budget: number): string | null => {
    const limit = session.instructions + budget;
    while (!text.includes(needle, from)) {
      if (session.instructions >= limit) return `no "${needle.trim()}" within ${budget} instructions`;
      const s = session.run(2_000_000);
      text += dec.decode(session.takeSerial(0), { stream: true });
      if (s.state !== 'running' && s.state !== 'idle') return s.reason ?? s.state;
    }
    return null;
  };
  try {
    const err = until(PROMPT, 0, BOOT_BUDGET);
    if (err !== null) return { ...run, status: 'failed', reason: err };
    for (const name of only) {
      const from = text.length;
      const log = session.traps;
      const total0 = log.total;
      const exits0 = log.countByKind(TrapKind.VmExit);
      session.sendSerial(0, new TextEncoder().encode(`bench ${name}\n`));
      const e = until(PROMPT, from, BENCH_BUDGET);
      if (e !== null) return { ...run, status: 'failed', reason: `bench ${name}: ${e}` };
      for (const line of text.slice(from).split(/\r?\n/)) {
        const p = parseBenchLine(line);
        if (p === null || p.name !== name) continue;
        const n = Math.max(1, p.ops * 3);
        run.results[name] = {
          cyclesPerOp: p.cyclesPerOp,
          ops: p.ops,
          recordsPerOp: (log.total - total0) / n,
          exitsPerOp: (log.countByKind(TrapKind.VmExit) - exits0) / n,
        };
      }
    }
    return run;
  } finally {
    session.stop();
  }
}

/** Every column for one preset. */
export function runAaPreset(cpuModel: CpuModelId, kernels: AaKernels): AaRun[] {
  return AA_COLUMNS.map((c) => runAaColumn(c, cpuModel, kernels));
}
