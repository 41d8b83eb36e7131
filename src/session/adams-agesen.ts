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
import {
  AA_BENCHMARKS,
  AA_COLUMNS,
  type AaBenchmark,
  type AaColumn,
  type AaRun,
} from './adams-agesen-data.ts';
import { Session } from './session.ts';

export * from './adams-agesen-data.ts';

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
    // The next column's machine reuses this one's buffers.
    session.dispose();
  }
}

/** Every column for one preset. */
export function runAaPreset(cpuModel: CpuModelId, kernels: AaKernels): AaRun[] {
  return AA_COLUMNS.map((c) => runAaColumn(c, cpuModel, kernels));
}
