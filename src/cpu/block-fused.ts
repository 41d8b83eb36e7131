/**
 * Fused flag-setter + Jcc handlers for pre-decoded blocks (see block-ops.ts for the conventions).
 */

import {
  ALU_RI,
  ALU_RR,
  DISP,
  decReg,
  incReg,
  jcc,
  jecxz,
  nop,
  type Op,
  pushImm,
  S,
  SC,
  SG,
  sub32,
  T,
  testRI,
  testRI8,
  testRR,
} from './block-ops.ts';
import { ECX } from './constants.ts';
import type { CpuCore } from './core.ts';
import { R8 } from './core.ts';

// CMP/TEST/SUB/AND/INC/DEC on registers followed by Jcc run as one handler: the flags are still
// recorded (lazily) exactly as the pair leaves them, and the condition is decided from the
// operands directly. Neither instruction can fault (registers only; the branch target was
// limit-checked at decode) nor set `attention`, so no event could come between them anyway.
// The handler retires the first instruction itself (c.instructions++); the run loop the second.
// Slots: D, S as the flag-setter had them; SC = condition code; T = branch target.

/** Jcc after SUB/CMP x, y (r = x - y, all int32). SDM Vol.1 Appendix B condition codes. */
export function condSub(c: CpuCore, cc: number, x: number, y: number, r: number): boolean {
  switch (cc) {
    case 2:
      return x >>> 0 < y >>> 0;
    case 3:
      return x >>> 0 >= y >>> 0;
    case 4:
      return r === 0;
    case 5:
      return r !== 0;
    case 6:
      return x >>> 0 <= y >>> 0;
    case 7:
      return x >>> 0 > y >>> 0;
    case 8:
      return r < 0;
    case 9:
      return r >= 0;
    case 12:
      return x < y;
    case 13:
      return x >= y;
    case 14:
      return x <= y;
    case 15:
      return x > y;
    default:
      return c.cond(cc);
  }
}
/** Jcc after a logic operation (CF = OF = 0) with the sign-extended result r. */
export function condLogic(c: CpuCore, cc: number, r: number): boolean {
  switch (cc) {
    case 0:
    case 2:
      return false;
    case 1:
    case 3:
      return true;
    case 4:
    case 6:
      return r === 0;
    case 5:
    case 7:
      return r !== 0;
    case 8:
    case 12:
      return r < 0;
    case 9:
    case 13:
      return r >= 0;
    case 14:
      return r <= 0;
    case 15:
      return r > 0;
    default:
      return c.cond(cc);
  }
}
/** Jcc after INC/DEC (CF untouched): only ZF/SF conditions are decided directly. */
function condIncDec(c: CpuCore, cc: number, r: number): boolean {
  switch (cc) {
    case 4:
      return r === 0;
    case 5:
      return r !== 0;
    case 8:
      return r < 0;
    case 9:
      return r >= 0;
    default:
      return c.cond(cc);
  }
}

// Each pair is a predicate (did the branch go?) used by two handlers: the block's last record
// sets c.ip to the target itself; a record inside a block (the block went on at the fall-through,
// blocks.ts) leaves the block through `side` when the branch is taken.
type Taken = (c: CpuCore, a: Int32Array, k: number) => boolean;

const cmpRR: Taken = (c, a, k) => {
  const x = c.regs[a[k]];
  const y = c.regs[a[k + S]];
  const r = sub32(c, x, y);
  c.instructions++;
  return condSub(c, a[k + SC], x, y, r);
};
const cmpRI: Taken = (c, a, k) => {
  const x = c.regs[a[k]];
  const y = a[k + S];
  const r = sub32(c, x, y);
  c.instructions++;
  return condSub(c, a[k + SC], x, y, r);
};
const subRR: Taken = (c, a, k) => {
  const d = a[k];
  const x = c.regs[d];
  const y = c.regs[a[k + S]];
  const r = sub32(c, x, y);
  c.regs[d] = r;
  c.instructions++;
  return condSub(c, a[k + SC], x, y, r);
};
const subRI: Taken = (c, a, k) => {
  const d = a[k];
  const x = c.regs[d];
  const y = a[k + S];
  const r = sub32(c, x, y);
  c.regs[d] = r;
  c.instructions++;
  return condSub(c, a[k + SC], x, y, r);
};
const testRRc: Taken = (c, a, k) => {
  const r = c.regs[a[k]] & c.regs[a[k + S]];
  c.setLogic(r, 32);
  c.instructions++;
  return condLogic(c, a[k + SC], r);
};
const testRIc: Taken = (c, a, k) => {
  const r = c.regs[a[k]] & a[k + S];
  c.setLogic(r, 32);
  c.instructions++;
  return condLogic(c, a[k + SC], r);
};
const testRI8c: Taken = (c, a, k) => {
  const r = c.r8[R8[a[k]]] & a[k + S];
  c.setLogic(r, 8);
  c.instructions++;
  return condLogic(c, a[k + SC], (r << 24) >> 24);
};
const andRI: Taken = (c, a, k) => {
  const d = a[k];
  const r = c.regs[d] & a[k + S];
  c.regs[d] = r;
  c.setLogic(r, 32);
  c.instructions++;
  return condLogic(c, a[k + SC], r);
};
const dec: Taken = (c, a, k) => {
  decReg(c, a, k);
  c.instructions++;
  return condIncDec(c, a[k + SC], c.regs[a[k]]);
};
const inc: Taken = (c, a, k) => {
  incReg(c, a, k);
  c.instructions++;
  return condIncDec(c, a[k + SC], c.regs[a[k]]);
};

/**
 * A taken branch inside a block: the run loop's per-record `attention` test sees it and goes on at
 * c.ip (the target) with the next block, exactly where the interpreter goes. Nothing else can be
 * pending here: the loop left at the first record that set `attention`.
 */
function side(c: CpuCore, a: Int32Array, k: number): void {
  c.ip = a[k + T] >>> 0;
  c.sideRec = k;
  c.sideExit = true;
  c.attention = true;
}
/**
 * Operand slots a branch inside a block keeps its taken link in (none of its handlers reads them):
 * the block that followed the taken branch, valid while CodeMap.epoch equals LINK_EPOCH's value.
 */
export const LINK_BLK = DISP;
export const LINK_EPOCH = SG;

const cmpRRJcc: Op = (c, a, k) => {
  if (cmpRR(c, a, k)) c.ip = a[k + T] >>> 0;
};
const cmpRIJcc: Op = (c, a, k) => {
  if (cmpRI(c, a, k)) c.ip = a[k + T] >>> 0;
};
const subRRJcc: Op = (c, a, k) => {
  if (subRR(c, a, k)) c.ip = a[k + T] >>> 0;
};
const subRIJcc: Op = (c, a, k) => {
  if (subRI(c, a, k)) c.ip = a[k + T] >>> 0;
};
const testRRJcc: Op = (c, a, k) => {
  if (testRRc(c, a, k)) c.ip = a[k + T] >>> 0;
};
const testRIJcc: Op = (c, a, k) => {
  if (testRIc(c, a, k)) c.ip = a[k + T] >>> 0;
};
const testRI8Jcc: Op = (c, a, k) => {
  if (testRI8c(c, a, k)) c.ip = a[k + T] >>> 0;
};
const andRIJcc: Op = (c, a, k) => {
  if (andRI(c, a, k)) c.ip = a[k + T] >>> 0;
};
const decJcc: Op = (c, a, k) => {
  if (dec(c, a, k)) c.ip = a[k + T] >>> 0;
};
const incJcc: Op = (c, a, k) => {
  if (inc(c, a, k)) c.ip = a[k + T] >>> 0;
};

// The same inside a block (named for the BLOCKSTATS listing in perf-linux.ts).
const cmpRRJccSide: Op = (c, a, k) => {
  if (cmpRR(c, a, k)) side(c, a, k);
};
const cmpRIJccSide: Op = (c, a, k) => {
  if (cmpRI(c, a, k)) side(c, a, k);
};
const subRRJccSide: Op = (c, a, k) => {
  if (subRR(c, a, k)) side(c, a, k);
};
const subRIJccSide: Op = (c, a, k) => {
  if (subRI(c, a, k)) side(c, a, k);
};
const testRRJccSide: Op = (c, a, k) => {
  if (testRRc(c, a, k)) side(c, a, k);
};
const testRIJccSide: Op = (c, a, k) => {
  if (testRIc(c, a, k)) side(c, a, k);
};
const testRI8JccSide: Op = (c, a, k) => {
  if (testRI8c(c, a, k)) side(c, a, k);
};
const andRIJccSide: Op = (c, a, k) => {
  if (andRI(c, a, k)) side(c, a, k);
};
const decJccSide: Op = (c, a, k) => {
  if (dec(c, a, k)) side(c, a, k);
};
const incJccSide: Op = (c, a, k) => {
  if (inc(c, a, k)) side(c, a, k);
};
/** A plain Jcc inside a block (slot S: the condition code, T: the target). */
const jccSide: Op = (c, a, k) => {
  if (c.cond(a[k + S])) side(c, a, k);
};

const jecxzSide: Op = (c, a, k) => {
  if (c.regs[ECX] === 0) side(c, a, k);
};

const FUSE = new Map<Op, Op>([
  [ALU_RR[7], cmpRRJcc],
  [ALU_RI[7], cmpRIJcc],
  [ALU_RR[5], subRRJcc],
  [ALU_RI[5], subRIJcc],
  [testRR, testRRJcc],
  [testRI, testRIJcc],
  [testRI8, testRI8Jcc],
  [ALU_RI[4], andRIJcc],
  [decReg, decJcc],
  [incReg, incJcc],
]);

/** Block-ending branch handler → its variant inside a block. */
const SIDE = new Map<Op, Op>([
  [jcc, jccSide],
  [jecxz, jecxzSide],
  [cmpRRJcc, cmpRRJccSide],
  [cmpRIJcc, cmpRIJccSide],
  [subRRJcc, subRRJccSide],
  [subRIJcc, subRIJccSide],
  [testRRJcc, testRRJccSide],
  [testRIJcc, testRIJccSide],
  [testRI8Jcc, testRI8JccSide],
  [andRIJcc, andRIJccSide],
  [decJcc, decJccSide],
  [incJcc, incJccSide],
]);
const UNSIDE = new Map<Op, Op>([...SIDE].map(([end, mid]) => [mid, end]));

/** The handler for flag-setter `prev` fused with the Jcc that follows it, or null. */
export function fuseJcc(prev: Op): Op | null {
  return FUSE.get(prev) ?? null;
}

/** The variant of branch handler `end` for a record inside a block (the block goes on). */
export function sideJcc(end: Op): Op {
  const s = SIDE.get(end);
  if (s === undefined) throw new Error('not a conditional branch handler');
  return s;
}

/** The block-ending handler for `op` when it is a branch variant from sideJcc, else null. */
export function endJcc(op: Op): Op | null {
  return UNSIDE.get(op) ?? null;
}

/** Handlers a followed direct JMP/CALL becomes (the block continues at the target). */
export const followedJmp: Op = nop;
export const followedCall: Op = pushImm;
