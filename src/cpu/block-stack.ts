/**
 * Runs of PUSH r32 / POP r32 (function prologues and epilogues) as one pre-decoded record each:
 * on the BusyBox loop ~2/3 of these records came in runs of 2–4 (PERF.md, "Session 12 — loop12").
 * The record stands for `count` one-byte instructions; blocks.ts builds it and never leaves one at
 * the end of a block. Slots: D = count (2–4), S, B, X, SC = the registers in program order (never
 * ESP, whose PUSH/POP reads or writes the pointer itself); the record's EIP and next IP are the
 * first instruction's.
 *
 * Fast path: a 32-bit stack, SS flat, and every slot of the run in one page with a direct-RAM TLB
 * entry for the access (so no fault, no A/D bit to set, no code page, no watched page, no device)
 * and 4-aligned: the whole run at once, exactly the stores/loads and the final ESP the single
 * records make; the handler retires count - 1 instructions itself (the run loop the last).
 * Otherwise only the first instruction runs, with pushReg/popReg's full checks (faults, #SS, A/D
 * bits), and the handler sets `attention`: the run loop then stops after it as after any early
 * exit — EIP/IP from the record, the first instruction's — and the rest runs from the next block
 * lookup, one instruction at a time if need be. Nothing is visible to the guest: the same
 * accesses in the same order, the same count at every instruction boundary.
 */

import { FLAT_B } from './access.ts';
import { D, type Op, popReg, pushReg, S } from './block-ops.ts';
import { ESP, SS } from './constants.ts';
import type { CpuCore } from './core.ts';

/** Registers of a run at most (one per operand slot S, B, X, SC). */
export const STACK_RUN_MAX = 4;

/**
 * The ram32 word index of linear `l` when `bytes` from it can be accessed at once: a 32-bit SS
 * that is flat (`segB`, its read or write flags), one page behind a direct-RAM TLB entry `e` (the
 * inverted tlbR/tlbW entry), 4-aligned. Otherwise -1: the caller takes the single-instruction path.
 */
function flatRun(c: CpuCore, l: number, e: number, segB: number, bytes: number): number {
  if (c.ss32 && segB === FLAT_B && (e & 0xfff) === 0 && (l & 0xfff) <= 0x1000 - bytes && (l & 3) === 0)
    return (e ^ l) >>> 2;
  return -1;
}

export const pushRegs: Op = (c, a, k) => {
  const m = a[k + D];
  const r = c.regs;
  const s = (r[ESP] - 4 * m) | 0; // the last push's slot
  const l = (c.segBase[SS] + s) | 0;
  const w = flatRun(c, l, ~c.tlbW[l >>> 12], c.segWrB[(SS << 2) | 3], 4 * m);
  const ram32 = c.ram32;
  if (w >= 0 && ram32 !== null) {
    // The j-th push (program order) stores at s + 4 * (m - 1 - j).
    for (let j = 0; j < m; j++) ram32[w + m - 1 - j] = r[a[k + S + j]];
    r[ESP] = s;
    c.instructions += m - 1;
    return;
  }
  c.push32(r[a[k + S]]); // the first push alone, as pushReg
  c.attention = true;
};

export const popRegs: Op = (c, a, k) => {
  const m = a[k + D];
  const r = c.regs;
  const s = r[ESP];
  const l = (c.segBase[SS] + s) | 0;
  const w = flatRun(c, l, ~c.tlbR[l >>> 12], c.segRdB[(SS << 2) | 3], 4 * m);
  const ram32 = c.ram32;
  if (w >= 0 && ram32 !== null) {
    for (let j = 0; j < m; j++) r[a[k + S + j]] = ram32[w + j];
    r[ESP] = (s + 4 * m) | 0;
    c.instructions += m - 1;
    return;
  }
  r[a[k + S]] = c.pop32(); // the first pop alone, as popReg
  c.attention = true;
};

/**
 * POP r32 (1–4 of them: D = count, S… the registers) then RET near, as the block's last record:
 * an epilogue. The run loop has set EIP/IP to the first POP's. Fast path as popRegs, the return
 * address included and within CS's limit: all of it, IP = the return address, count retired
 * instructions but the last (the run loop's). Otherwise the first POP alone and `attention`: the run
 * loop stops after it with IP on the next instruction, as it would after a single POP record.
 */
export const popsRet: Op = (c, a, k) => {
  const m = a[k + D];
  const r = c.regs;
  const s = r[ESP];
  const l = (c.segBase[SS] + s) | 0;
  const w = flatRun(c, l, ~c.tlbR[l >>> 12], c.segRdB[(SS << 2) | 3], 4 * (m + 1));
  const ram32 = c.ram32;
  if (w >= 0 && ram32 !== null) {
    const t = ram32[w + m] >>> 0;
    if (t <= c.csLim) {
      for (let j = 0; j < m; j++) r[a[k + S + j]] = ram32[w + j];
      r[ESP] = (s + 4 * (m + 1)) | 0;
      c.ip = t;
      c.instructions += m;
      return;
    }
  }
  r[a[k + S]] = c.pop32(); // the first pop alone, as popReg
  c.attention = true;
};

/**
 * A RET near that follows POP r32 records: merge it into the record at `rec` (handler `prev`, a
 * one-byte POP or a run of them) and return the merged handler, or null.
 */
export function mergeRet(prev: Op, a: Int32Array, rec: number): Op | null {
  const k = rec + 3;
  if (prev === popReg && a[k + D] !== ESP && ((a[rec + 2] - a[rec + 1]) | 0) === 1) {
    a[k + S] = a[k + D];
    a[k + D] = 1;
    return popsRet;
  }
  if (prev === popRegs) return popsRet;
  return null;
}

/**
 * Merge a PUSH/POP r32 (`op`, register `reg`, one byte long) into the record at arena offset
 * `rec` (handler `prev`) when that is the same one-byte instruction or a run of it with room left:
 * rewrites that record's slots and returns the run's handler, or null (nothing written).
 */
export function mergeStackRun(prev: Op, a: Int32Array, rec: number, op: Op, reg: number): Op | null {
  if (reg === ESP || (op !== pushReg && op !== popReg)) return null;
  const k = rec + 3;
  const run = op === pushReg ? pushRegs : popRegs;
  if (prev === op && a[k + D] !== ESP && ((a[rec + 2] - a[rec + 1]) | 0) === 1) {
    a[k + S] = a[k + D];
    a[k + S + 1] = reg;
    a[k + D] = 2;
    return run;
  }
  if (prev === run && a[k + D] < STACK_RUN_MAX) {
    a[k + S + a[k + D]] = reg;
    a[k + D]++;
    return run;
  }
  return null;
}

/**
 * A run left as a block's last record goes back to single records (the run loop gives the last
 * record EIP/IP before it runs, which a run's early stop would contradict): `single` is the
 * handler index of PUSH or POP r32. Returns the arena offset after them.
 */
export function splitStackRun(a: Int32Array, rec: number, single: number, size: number): number {
  const k = rec + 3;
  const m = a[k + D];
  const regs = a.slice(k + S, k + S + m);
  const ip = a[rec + 1];
  for (let j = 0; j < m; j++) {
    const q = rec + j * size;
    a.fill(0, q, q + size);
    a[q] = single;
    a[q + 1] = (ip + j) | 0;
    a[q + 2] = (ip + j + 1) | 0;
    a[q + 3 + D] = regs[j];
  }
  return rec + m * size;
}
