/**
 * Byte and memory compares fused with the Jcc after them (the block's last record): CMP/TEST
 * r8,r8 / r8,imm8 / r8,[m] / [m],r8 / [m],imm8 and CMP/TEST [m],r32 / r32,[m] / [m],imm. A shell
 * walking strings branches on byte compares: on the BusyBox loop these pairs were ~10 % of all
 * records (PERF.md, "Session 12 — loop12"). Like block-fused.ts's register pairs, the flags are
 * recorded exactly as the compare leaves them (the same `alu`/`setLogic` call) and the branch is
 * decided from the operands. A memory operand may fault: the compare's own read comes first and
 * the handler retires it (c.instructions++) only afterwards, so a fault reports the compare's EIP
 * and count, as the unfused records did. These forms have no variant inside a block (their
 * operand slots are full), so they are fused only where the Jcc ends the block.
 * Slots: the compare's own, plus the condition code where the compare has a free slot (`cc` below)
 * and T = the branch target (the operation is fixed per handler).
 */
import { LZ_SUB } from './base.ts';
import { condLogic, condSub, fuseJcc } from './block-fused.ts';
import {
  aluMI8,
  aluMR8,
  aluRI8,
  aluRM8,
  aluRR8,
  cmpMI,
  cmpRM,
  D,
  ea,
  flagsMR,
  movRM,
  movRM8,
  type Op,
  S,
  SC,
  SG,
  T,
  testMI,
  testMI8,
  testRR,
} from './block-ops.ts';
import { ARITH } from './constants.ts';
import type { CpuCore } from './core.ts';
import { R8 } from './core.ts';

/** Jcc after CMP x, y on bytes (0–255): SDM Vol.1 Appendix B, decided from the operands. */
export function condSub8(c: CpuCore, cc: number, x: number, y: number): boolean {
  switch (cc) {
    case 2:
      return x < y;
    case 3:
      return x >= y;
    case 4:
      return x === y;
    case 5:
      return x !== y;
    case 6:
      return x <= y;
    case 7:
      return x > y;
    case 8:
      return ((x - y) & 0x80) !== 0;
    case 9:
      return ((x - y) & 0x80) === 0;
    case 12:
      return (x << 24) >> 24 < (y << 24) >> 24;
    case 13:
      return (x << 24) >> 24 >= (y << 24) >> 24;
    case 14:
      return (x << 24) >> 24 <= (y << 24) >> 24;
    case 15:
      return (x << 24) >> 24 > (y << 24) >> 24;
    default:
      return c.cond(cc); // OF, PF: from the lazy flags just recorded
  }
}

// The flags as core.ts alu(7, x, y, bits) records them, without its switch.
function cmp8(c: CpuCore, a: Int32Array, k: number, cc: number, x: number, y: number): void {
  c.setLazy(LZ_SUB, x, y, (x - y) & 0xff, 8, ARITH);
  c.instructions++;
  if (condSub8(c, cc, x, y)) c.ip = a[k + T] >>> 0;
}
function test8(c: CpuCore, a: Int32Array, k: number, cc: number, v: number): void {
  c.setLogic(v, 8);
  c.instructions++;
  if (condLogic(c, cc, (v << 24) >> 24)) c.ip = a[k + T] >>> 0;
}
function cmp32(c: CpuCore, a: Int32Array, k: number, cc: number, x: number, y: number): void {
  const r = (x - y) | 0;
  c.setLazy(LZ_SUB, x, y, r, 32, ARITH);
  c.instructions++;
  if (condSub(c, cc, x, y, r)) c.ip = a[k + T] >>> 0;
}
function test32(c: CpuCore, a: Int32Array, k: number, cc: number, v: number): void {
  c.setLogic(v, 32);
  c.instructions++;
  if (condLogic(c, cc, v)) c.ip = a[k + T] >>> 0;
}

// Register byte forms: cc in SC (no memory operand).
const cmpRR8Jcc: Op = (c, a, k) => {
  const r = c.r8;
  cmp8(c, a, k, a[k + SC], r[R8[a[k + D]]], r[R8[a[k + S]]]);
};
const testRR8Jcc: Op = (c, a, k) => {
  const r = c.r8;
  test8(c, a, k, a[k + SC], r[R8[a[k + D]]] & r[R8[a[k + S]]]);
};
const cmpRI8Jcc: Op = (c, a, k) => {
  cmp8(c, a, k, a[k + SC], c.r8[R8[a[k + D]]], a[k + S]);
};
// Memory forms with a register in D: cc in S.
const cmpRM8Jcc: Op = (c, a, k) => {
  const y = c.rd8(a[k + SG], ea(c, a, k));
  cmp8(c, a, k, a[k + S], c.r8[R8[a[k + D]]], y);
};
const cmpMR8Jcc: Op = (c, a, k) => {
  const x = c.rd8(a[k + SG], ea(c, a, k));
  cmp8(c, a, k, a[k + S], x, c.r8[R8[a[k + D]]]);
};
const testMR8Jcc: Op = (c, a, k) => {
  const x = c.rd8(a[k + SG], ea(c, a, k));
  test8(c, a, k, a[k + S], x & c.r8[R8[a[k + D]]]);
};
const cmpRMJcc: Op = (c, a, k) => {
  const y = c.rd32(a[k + SG], ea(c, a, k));
  cmp32(c, a, k, a[k + S], c.regs[a[k + D]], y);
};
const cmpMRJcc: Op = (c, a, k) => {
  const x = c.rd32(a[k + SG], ea(c, a, k));
  cmp32(c, a, k, a[k + S], x, c.regs[a[k + D]]);
};
const testMRJcc: Op = (c, a, k) => {
  const x = c.rd32(a[k + SG], ea(c, a, k));
  test32(c, a, k, a[k + S], x & c.regs[a[k + D]]);
};
// Memory forms with an immediate in S: cc in D.
const cmpMI8Jcc: Op = (c, a, k) => {
  const x = c.rd8(a[k + SG], ea(c, a, k));
  cmp8(c, a, k, a[k + D], x, a[k + S]);
};
const testMI8Jcc: Op = (c, a, k) => {
  const x = c.rd8(a[k + SG], ea(c, a, k));
  test8(c, a, k, a[k + D], x & a[k + S]);
};
const cmpMIJcc: Op = (c, a, k) => {
  const x = c.rd32(a[k + SG], ea(c, a, k));
  cmp32(c, a, k, a[k + D], x, a[k + S]);
};
const testMIJcc: Op = (c, a, k) => {
  const x = c.rd32(a[k + SG], ea(c, a, k));
  test32(c, a, k, a[k + D], x & a[k + S]);
};

// MOV r, [m] ; TEST r, r ; Jcc — a string walk's "load the next character, stop at 0". The load
// may fault (nothing retired); then the MOV and the TEST retire here, the Jcc in the run loop.
// Slots: D = the register, S = cc, the memory operand, T = target.
const loadTest8Jcc: Op = (c, a, k) => {
  const v = c.rd8(a[k + SG], ea(c, a, k));
  c.r8[R8[a[k + D]]] = v;
  c.instructions++;
  test8(c, a, k, a[k + S], v);
};
const loadTestJcc: Op = (c, a, k) => {
  const v = c.rd32(a[k + SG], ea(c, a, k));
  c.regs[a[k + D]] = v;
  c.instructions++;
  test32(c, a, k, a[k + S], v);
};

const TEST_RR_JCC = fuseJcc(testRR);

/**
 * The fused TEST r, r + Jcc record at arena offset `test` (handler `fused`; condition code in SC,
 * target in T) right after the record at `load` (handler `prev`): when that is MOV r, [m] of the
 * same register, rewrite the load's record into all three and return its handler, else null
 * (nothing written). The caller sets the record's next IP.
 */
export function fuseLoadTest(fused: Op, prev: Op, a: Int32Array, load: number, test: number): Op | null {
  const kt = test + 3;
  const kl = load + 3;
  const reg = a[kt + D];
  if (a[kt + S] !== reg || a[kl + D] !== reg) return null;
  let h: Op | null = null;
  if (fused === testRR8Jcc && prev === movRM8) h = loadTest8Jcc;
  else if (fused === TEST_RR_JCC && prev === movRM) h = loadTestJcc;
  if (h === null) return null;
  a[kl + S] = a[kt + SC];
  a[kl + T] = a[kt + T];
  return h;
}

/** The predecoder's T for CMP and for TEST (4 | 8) in the byte and flags-only forms. */
const CMP = 7;
const TEST = 12;

/**
 * Fuse the compare record at arena offset `rec` (its operands at rec + 3) with the Jcc after it
 * (condition `cc`, target `target`): rewrites the record's operand slots and returns the fused
 * handler, or null (slots untouched) when the record is not one of these compares.
 */
export function fuseCmpJcc(prev: Op, a: Int32Array, rec: number, cc: number, target: number): Op | null {
  const k = rec + 3;
  const op = a[k + T];
  let h: Op | null = null;
  let slot = S;
  if (prev === aluRR8) {
    h = op === CMP ? cmpRR8Jcc : op === TEST ? testRR8Jcc : null;
    slot = SC;
  } else if (prev === aluRI8) {
    h = op === CMP ? cmpRI8Jcc : null;
    slot = SC;
  } else if (prev === aluRM8) h = op === CMP ? cmpRM8Jcc : null;
  else if (prev === aluMR8) h = op === CMP ? cmpMR8Jcc : op === TEST ? testMR8Jcc : null;
  else if (prev === cmpRM) h = cmpRMJcc;
  else if (prev === flagsMR) h = op === CMP ? cmpMRJcc : op === TEST ? testMRJcc : null;
  else if (prev === aluMI8) {
    h = op === CMP ? cmpMI8Jcc : null;
    slot = D;
  } else if (prev === cmpMI) {
    h = cmpMIJcc;
    slot = D;
  } else if (prev === testMI8) {
    h = testMI8Jcc;
    slot = D;
  } else if (prev === testMI) {
    h = testMIJcc;
    slot = D;
  }
  if (h === null) return null;
  a[k + slot] = cc;
  a[k + T] = target;
  return h;
}
