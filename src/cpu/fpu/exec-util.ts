/**
 * x87 operand access and result rules shared by the ESC executors: memory operands in each format,
 * the operand checks on loads, committing a result (SDM Vol.1 §8.5: unmasked #I/#D/#Z leave the
 * destination unchanged), condition codes, stack underflow (#IS) and integer conversion on stores.
 */
import type { CpuCore } from '../core.ts';
import {
  C1 as C1F,
  DE,
  type F80,
  fromBits,
  fromInteger,
  fromWords,
  IE,
  indefinite,
  isSNaN,
  isUnsupported,
  out,
  PE,
  quiet,
  toInteger,
} from './f80.ts';
import { C0, C2, C3, type Fpu } from './fpu.ts';
import { arith, ccOf, compare, res } from './ops.ts';

const CC = C0 | C1F | C2 | C3;

export function rdF(c: CpuCore, kind: number): F80 {
  const s = c.eaSeg;
  const o = c.eaOff;
  switch (kind) {
    case 0: // m32real
      return fromBits(BigInt(c.rd32(s, o) >>> 0), 8, 23);
    case 1: // m32int
      return fromInteger(BigInt(c.rd32(s, o)));
    case 2: {
      // m64real
      c.checkWide(8);
      const lo = c.rd32(s, o) >>> 0;
      const hi = c.rd32(s, c.wideOff(4)) >>> 0;
      return fromBits((BigInt(hi) << 32n) | BigInt(lo), 11, 52);
    }
    default: // m16int
      return fromInteger(BigInt((c.rd16(s, o) << 16) >> 16));
  }
}

export function wr64(c: CpuCore, v: bigint): void {
  c.probeWrite(c.eaSeg, c.eaOff, 8);
  c.wr32(c.eaSeg, c.eaOff, Number(v & 0xffffffffn));
  c.wr32(c.eaSeg, c.wideOff(4), Number((v >> 32n) & 0xffffffffn));
}

export function rd80(c: CpuCore, off: number): F80 {
  const lo = c.rd32(c.eaSeg, off);
  const hi = c.rd32(c.eaSeg, (off + 4) >>> 0);
  const se = c.rd16(c.eaSeg, (off + 8) >>> 0);
  return fromWords(lo, hi, se);
}
export function wr80(c: CpuCore, off: number, v: F80): void {
  c.wr32(c.eaSeg, off, Number(v.m & 0xffffffffn));
  c.wr32(c.eaSeg, (off + 4) >>> 0, Number(v.m >> 32n));
  c.wr16(c.eaSeg, (off + 8) >>> 0, (v.s << 15) | v.e);
}

/** Operand check for a loaded memory value: SNaN → #IA (quieted if masked), denormal → #D. */
export function loadChecks(f: Fpu, v: F80): F80 | null {
  let fl = 0;
  if (isSNaN(v)) fl = IE;
  else if (v.e === 0 && v.m !== 0n) fl = DE;
  if (fl !== 0 && !f.signal(fl)) return null;
  return fl === IE ? quiet(v) : v;
}

/** Result of an arithmetic op into ST(i): store unless an unmasked #I/#D/#Z; O/U/P are recorded. */
export function commit(f: Fpu, i: number, v: F80): boolean {
  const fl = res.flags;
  f.sw &= ~C1F;
  if (f.unmasked(fl & (IE | DE | 0x04))) {
    f.signal(fl & (IE | DE | 0x04));
    return false;
  }
  f.set(i, v);
  if (fl & C1F) f.sw |= C1F;
  if (fl & 0x3f) f.signal(fl & 0x3f);
  return true;
}

export function setCC(f: Fpu, cc: number): void {
  f.sw = (f.sw & ~CC) | cc;
}

export function stackFault(f: Fpu, i: number): boolean {
  if (!f.isEmpty(i)) return false;
  if (f.underflow()) f.set(i === 0 ? 0 : i, indefinite());
  return true;
}

/** Integer store (FIST/FISTP): out-of-range or NaN → #IA, masked: the integer indefinite. */
export function toInt(f: Fpu, v: F80, bits: number): bigint | null {
  const min = -(1n << BigInt(bits - 1));
  if (v.e === 0x7fff || isUnsupported(v)) {
    if (!f.signal(IE)) return null;
    return min;
  }
  const n = toInteger(v, f.rc);
  const fl = out.flags;
  if (n < min || n > -min - 1n) {
    if (!f.signal(IE)) return null;
    return min;
  }
  f.sw &= ~C1F;
  if (fl & C1F) f.sw |= C1F;
  if (fl & PE) f.signal(PE);
  return n;
}

export function arithTo(f: Fpu, op: number, dst: number, a: F80, b: F80, popAfter: boolean): void {
  if (op === 2 || op === 3) {
    const r = compare(a, b, false);
    if (res.flags && !f.signal(res.flags)) return;
    setCC(f, ccOf(r));
    if (op === 3 || popAfter) f.pop();
    return;
  }
  const v = arith(f, op, a, b);
  if (commit(f, dst, v) || !popAfter) {
    if (popAfter) f.pop();
  }
}

/** SW.SF: a stack fault (#IS), with C1 telling overflow (1) from underflow (0). */
export const SF_BIT = 0x40;
