/**
 * Adams & Agesen (ASPLOS 2006) reproduced — the plain data: the benchmarks, the columns (technique
 * + guest), the paper's figures and the result types. No emulator code, so the UI's page can
 * import it without pulling in the machine (adams-agesen.ts runs the benchmarks).
 */
import type { CpuModelId } from '../hypervisor/vmm/cost-model.ts';
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
