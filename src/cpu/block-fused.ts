/**
 * Fused flag-setter + Jcc handlers for pre-decoded blocks (see block-ops.ts for the conventions).
 */

import {
  ALU_RI,
  ALU_RR,
  decReg,
  incReg,
  nop,
  type Op,
  pushImm,
  S,
  SC,
  sub32,
  T,
  testRI,
  testRI8,
  testRR,
} from './block-ops.ts';
import type { CpuCore } from './core.ts';
import { R8 } from './core.ts';

// CMP/TEST/SUB/AND/INC/DEC on registers followed by Jcc run as one handler: the flags are still
// recorded (lazily) exactly as the pair leaves them, and the condition is decided from the
// operands directly. Neither instruction can fault (registers only; the branch target was
// limit-checked at decode) nor set `attention`, so no event could come between them anyway.
// The handler retires the first instruction itself (c.instructions++); the run loop the second.
// Slots: D, S as the flag-setter had them; SC = condition code; T = branch target.

/** Jcc after SUB/CMP x, y (r = x - y, all int32). SDM Vol.1 Appendix B condition codes. */
function condSub(c: CpuCore, cc: number, x: number, y: number, r: number): boolean {
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
function condLogic(c: CpuCore, cc: number, r: number): boolean {
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

const cmpRRJcc: Op = (c, a, k) => {
  const x = c.regs[a[k]];
  const y = c.regs[a[k + S]];
  const r = sub32(c, x, y);
  c.instructions++;
  if (condSub(c, a[k + SC], x, y, r)) c.ip = a[k + T] >>> 0;
};
const cmpRIJcc: Op = (c, a, k) => {
  const x = c.regs[a[k]];
  const y = a[k + S];
  const r = sub32(c, x, y);
  c.instructions++;
  if (condSub(c, a[k + SC], x, y, r)) c.ip = a[k + T] >>> 0;
};
const subRRJcc: Op = (c, a, k) => {
  const d = a[k];
  const x = c.regs[d];
  const y = c.regs[a[k + S]];
  const r = sub32(c, x, y);
  c.regs[d] = r;
  c.instructions++;
  if (condSub(c, a[k + SC], x, y, r)) c.ip = a[k + T] >>> 0;
};
const subRIJcc: Op = (c, a, k) => {
  const d = a[k];
  const x = c.regs[d];
  const y = a[k + S];
  const r = sub32(c, x, y);
  c.regs[d] = r;
  c.instructions++;
  if (condSub(c, a[k + SC], x, y, r)) c.ip = a[k + T] >>> 0;
};
const testRRJcc: Op = (c, a, k) => {
  const r = c.regs[a[k]] & c.regs[a[k + S]];
  c.setLogic(r, 32);
  c.instructions++;
  if (condLogic(c, a[k + SC], r)) c.ip = a[k + T] >>> 0;
};
const testRIJcc: Op = (c, a, k) => {
  const r = c.regs[a[k]] & a[k + S];
  c.setLogic(r, 32);
  c.instructions++;
  if (condLogic(c, a[k + SC], r)) c.ip = a[k + T] >>> 0;
};
const testRI8Jcc: Op = (c, a, k) => {
  const r = c.r8[R8[a[k]]] & a[k + S];
  c.setLogic(r, 8);
  c.instructions++;
  if (condLogic(c, a[k + SC], (r << 24) >> 24)) c.ip = a[k + T] >>> 0;
};
const andRIJcc: Op = (c, a, k) => {
  const d = a[k];
  const r = c.regs[d] & a[k + S];
  c.regs[d] = r;
  c.setLogic(r, 32);
  c.instructions++;
  if (condLogic(c, a[k + SC], r)) c.ip = a[k + T] >>> 0;
};
const decJcc: Op = (c, a, k) => {
  decReg(c, a, k);
  c.instructions++;
  if (condIncDec(c, a[k + SC], c.regs[a[k]])) c.ip = a[k + T] >>> 0;
};
const incJcc: Op = (c, a, k) => {
  incReg(c, a, k);
  c.instructions++;
  if (condIncDec(c, a[k + SC], c.regs[a[k]])) c.ip = a[k + T] >>> 0;
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

/** The handler for flag-setter `prev` fused with the Jcc that follows it, or null. */
export function fuseJcc(prev: Op): Op | null {
  return FUSE.get(prev) ?? null;
}

/** Handlers a followed direct JMP/CALL becomes (the block continues at the target). */
export const followedJmp: Op = nop;
export const followedCall: Op = pushImm;
