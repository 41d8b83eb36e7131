/**
 * x87 value operations with their special cases and exception responses (SDM Vol.1 §4.8.3,
 * §4.9, §8.5; the per-instruction tables in Vol.2): NaN propagation, invalid operations, zero
 * divide, denormal operands, comparisons, FXAM, and the transcendental instructions.
 */
import { add, div, mul, prem, type Rnd, sqrt } from './arith.ts';
import {
  C1 as C1F,
  DE,
  type F80,
  f80,
  fromExact,
  fromNumber,
  IE,
  indefinite,
  inf,
  isDenormal,
  isInf,
  isNaN80,
  isSNaN,
  isUnsupported,
  isZero,
  out,
  quiet,
  round,
  toNumber,
  ZE,
  zero,
} from './f80.ts';
import { C0, C2, C3, type Fpu } from './fpu.ts';
import { atan2, fcos, fsin, ftan, piQuarters, twoXm1, yl2x, yl2xp1 } from './trans.ts';

/** Flags of the last operation (IE/DE/ZE/OE/UE/PE, C1 for "rounded up"). */
export const res = { flags: 0 };

export function rnd(f: Fpu): Rnd {
  return { p: f.precision, rc: f.rc, oeMasked: (f.cw & 0x08) !== 0, ueMasked: (f.cw & 0x10) !== 0 };
}

/** NaN operands (SDM Vol.1 Table 4-7): SNaN → #IA; the result is the quieted NaN with the larger significand. */
function nanResult(a: F80, b: F80 | null): F80 {
  if (isSNaN(a) || (b !== null && isSNaN(b))) res.flags |= IE;
  if (b === null || !isNaN80(b)) return quiet(a);
  if (!isNaN80(a)) return quiet(b);
  const qa = quiet(a);
  const qb = quiet(b);
  if (qa.m === qb.m) return qa.s === 0 ? qa : qb;
  return qa.m > qb.m ? qa : qb;
}

function denormalCheck(a: F80, b: F80 | null): void {
  if (isDenormal(a) || (b !== null && isDenormal(b))) res.flags |= DE;
}

/** op: 0 add, 1 mul, 4 sub (a − b), 5 subr (b − a), 6 div (a / b), 7 divr (b / a). */
export function arith(f: Fpu, op: number, a: F80, b: F80): F80 {
  res.flags = 0;
  if (op === 5 || op === 7) {
    [a, b] = [b, a];
    op -= 1;
  }
  if (isUnsupported(a) || isUnsupported(b)) {
    res.flags = IE;
    return indefinite();
  }
  if (isNaN80(a) || isNaN80(b)) return nanResult(a, b);
  const o = rnd(f);
  switch (op) {
    case 0:
    case 4: {
      const bs = op === 4 ? b.s ^ 1 : b.s;
      if (isInf(a) || isInf(b)) {
        if (isInf(a) && isInf(b) && a.s !== bs) {
          res.flags = IE;
          return indefinite();
        }
        denormalCheck(a, b);
        return isInf(a) ? a : inf(bs);
      }
      denormalCheck(a, b);
      const r = add(a, b, op === 4, o);
      res.flags |= out.flags;
      return r;
    }
    case 1: {
      if (isInf(a) || isInf(b)) {
        if (isZero(a) || isZero(b)) {
          res.flags = IE;
          return indefinite();
        }
        denormalCheck(a, b);
        return inf(a.s ^ b.s);
      }
      denormalCheck(a, b);
      const r = mul(a, b, o);
      res.flags |= out.flags;
      return r;
    }
    default: {
      const s = a.s ^ b.s;
      if (isInf(a)) {
        if (isInf(b)) {
          res.flags = IE;
          return indefinite();
        }
        denormalCheck(a, b);
        return inf(s);
      }
      if (isInf(b)) {
        denormalCheck(a, b);
        return zero(s);
      }
      if (isZero(b)) {
        if (isZero(a)) {
          res.flags = IE;
          return indefinite();
        }
        denormalCheck(a, null);
        res.flags |= ZE;
        return inf(s);
      }
      denormalCheck(a, b);
      const r = div(a, b, o);
      res.flags |= out.flags;
      return r;
    }
  }
}

export function fsqrt(f: Fpu, a: F80): F80 {
  res.flags = 0;
  if (isUnsupported(a)) {
    res.flags = IE;
    return indefinite();
  }
  if (isNaN80(a)) return nanResult(a, null);
  if (isZero(a)) return a;
  if (a.s === 1) {
    res.flags = IE;
    return indefinite();
  }
  if (isInf(a)) return a;
  denormalCheck(a, null);
  const r = sqrt(a, rnd(f));
  res.flags |= out.flags;
  return r;
}

/**
 * Compare (FCOM/FUCOM/FCOMI/FTST): −1 less, 0 equal, 1 greater, 2 unordered. `quietNaN`: FUCOM*
 * raise #IA only for SNaNs; FCOM* for any NaN (SDM Vol.2 FCOM, FUCOM).
 */
export function compare(a: F80, b: F80, quietNaN: boolean): number {
  res.flags = 0;
  if (isUnsupported(a) || isUnsupported(b)) {
    res.flags = IE;
    return 2;
  }
  if (isNaN80(a) || isNaN80(b)) {
    if (!quietNaN || isSNaN(a) || isSNaN(b)) res.flags = IE;
    return 2;
  }
  denormalCheck(a, b);
  if (isInf(a) || isInf(b)) {
    if (isInf(a) && isInf(b) && a.s === b.s) return 0;
    return isInf(a) ? (a.s ? -1 : 1) : b.s ? 1 : -1;
  }
  // The exact difference (its sign and whether it is zero survive rounding).
  const d = add(a, b, true, { p: 64, rc: 0, oeMasked: true, ueMasked: true });
  return isZero(d) ? 0 : d.s ? -1 : 1;
}

/** Condition codes C3 C2 C0 for a comparison result. */
export function ccOf(r: number): number {
  return r === 1 ? 0 : r === -1 ? C0 : r === 0 ? C3 : C3 | C2 | C0;
}

/** FXAM class codes (C3 C2 C0) for a register (SDM Vol.2 FXAM). */
export function examine(f: Fpu): number {
  const cc = f.sw & ~(C0 | C1F | C2 | C3);
  const a = f.get(0);
  const c1 = a.s ? C1F : 0;
  if (f.isEmpty(0)) return cc | c1 | C3 | C0;
  if (isUnsupported(a)) return cc | c1;
  if (isNaN80(a)) return cc | c1 | C0;
  if (isInf(a)) return cc | c1 | C2 | C0;
  if (isZero(a)) return cc | c1 | C3;
  if (isDenormal(a)) return cc | c1 | C3 | C2;
  return cc | c1 | C2;
}

/** FSCALE: ST0 × 2^trunc(ST1), exact then rounded (SDM Vol.2 FSCALE). */
export function fscale(f: Fpu, a: F80, b: F80): F80 {
  res.flags = 0;
  if (isUnsupported(a) || isUnsupported(b)) {
    res.flags = IE;
    return indefinite();
  }
  if (isNaN80(a) || isNaN80(b)) return nanResult(a, b);
  if (isInf(b)) {
    if (b.s === 0) {
      if (isZero(a)) {
        res.flags = IE;
        return indefinite();
      }
      return inf(a.s);
    }
    if (isInf(a)) {
      res.flags = IE;
      return indefinite();
    }
    return zero(a.s);
  }
  if (isInf(a) || isZero(a)) return a;
  denormalCheck(a, b);
  const n = toNumber(b);
  const k = Math.trunc(Math.max(-70000, Math.min(70000, n)));
  const o = rnd(f);
  const e = (a.e === 0 ? 1 : a.e) - 16383 - 63;
  const r = round(a.s, a.m, e + k, false, 64, o.rc, -16382, 16383, o.oeMasked, o.ueMasked);
  res.flags |= out.flags;
  return r;
}

/** FXTRACT: exponent (unbiased, as a value) and significand (exponent 0). */
export function fxtract(a: F80): { exp: F80; sig: F80 } | null {
  res.flags = 0;
  if (isZero(a)) {
    res.flags = ZE;
    return { exp: inf(1), sig: a };
  }
  if (isInf(a)) return { exp: inf(0), sig: a };
  if (isNaN80(a) || isUnsupported(a)) return null;
  if (isDenormal(a)) res.flags |= DE;
  const norm = fromExact(a.s, a.m, (a.e === 0 ? 1 : a.e) - 16383 - 63);
  const E = norm.e - 16383;
  return { exp: fromNumber(E), sig: f80(a.s, 16383, norm.m) };
}

export { prem };

// ---- transcendental instructions (trans.ts: ≥ 128-bit fixed point, rounded once) ------------

function inexact(f: Fpu, v: F80): F80 {
  res.flags |= out.flags;
  void f;
  return v;
}

/** |x| < 2^63 for FSIN/FCOS/FPTAN/FSINCOS; otherwise C2 = 1 and the operand is left alone. */
export function trigInRange(a: F80): boolean {
  return a.e < 16383 + 63;
}

export function trig(f: Fpu, kind: 'sin' | 'cos' | 'tan', a: F80): F80 {
  res.flags = 0;
  if (isUnsupported(a)) {
    res.flags = IE;
    return indefinite();
  }
  if (isNaN80(a)) return nanResult(a, null);
  if (isInf(a)) {
    res.flags = IE;
    return indefinite();
  }
  if (isZero(a)) return kind === 'cos' ? fromNumber(1) : a;
  denormalCheck(a, null);
  const o = rnd(f);
  return inexact(
    f,
    kind === 'sin' ? fsin(a, o.p, o.rc) : kind === 'cos' ? fcos(a, o.p, o.rc) : ftan(a, o.p, o.rc),
  );
}

/** FPATAN: arctan(ST1 / ST0) with the quadrant of (ST0, ST1); SDM Vol.2 FPATAN Table 3-29. */
export function fpatan(f: Fpu, x: F80, y: F80): F80 {
  res.flags = 0;
  if (isUnsupported(x) || isUnsupported(y)) {
    res.flags = IE;
    return indefinite();
  }
  if (isNaN80(x) || isNaN80(y)) return nanResult(y, x);
  denormalCheck(x, y);
  const o = rnd(f);
  if (isZero(x) || isZero(y) || isInf(x) || isInf(y)) {
    // The special cases are multiples of π/4 (with signed zeros): the same quadrant rules as atan2.
    const q = Math.atan2(toNumber(y), toNumber(x)) / (Math.PI / 4);
    const k = Math.round(Math.abs(q));
    if (k === 0) return zero(y.s);
    return inexact(f, piQuarters(k, y.s, o.p, o.rc));
  }
  return inexact(f, atan2(y, x, o.p, o.rc));
}

/** F2XM1: 2^x − 1 for −1 ≤ x ≤ 1. */
export function f2xm1(f: Fpu, a: F80): F80 {
  res.flags = 0;
  if (isUnsupported(a)) {
    res.flags = IE;
    return indefinite();
  }
  if (isNaN80(a)) return nanResult(a, null);
  if (isZero(a)) return a;
  if (isInf(a)) return a.s ? fromNumber(-1) : a;
  denormalCheck(a, null);
  const o = rnd(f);
  return inexact(f, twoXm1(a, o.p, o.rc));
}

/** FYL2X (y · log2 x) and FYL2XP1 (y · log2(x + 1)); SDM Vol.2 Tables 3-48, 3-49. */
export function fyl2x(f: Fpu, x: F80, y: F80, plus1: boolean): F80 {
  res.flags = 0;
  if (isUnsupported(x) || isUnsupported(y)) {
    res.flags = IE;
    return indefinite();
  }
  if (isNaN80(x) || isNaN80(y)) return nanResult(x, y);
  denormalCheck(x, y);
  const o = rnd(f);
  if (!plus1) {
    if (x.s === 1 && !isZero(x)) {
      res.flags = IE;
      return indefinite();
    }
    if (isZero(x)) {
      if (isZero(y)) {
        res.flags = IE;
        return indefinite();
      }
      if (!isInf(y)) res.flags |= ZE;
      return inf(y.s ^ 1);
    }
    if (isInf(x)) {
      if (isZero(y)) {
        res.flags = IE;
        return indefinite();
      }
      return inf(y.s);
    }
    // x = 1 exactly: log2 x = 0 (∞ × 0 is invalid).
    const one = x.e === 16383 && x.m === 1n << 63n;
    if (isInf(y)) {
      if (one) {
        res.flags = IE;
        return indefinite();
      }
      return inf(y.s ^ (x.e < 16383 ? 1 : 0));
    }
    if (isZero(y) || one) return zero(y.s ^ (x.e < 16383 ? 1 : 0));
    return inexact(f, yl2x(x, y, o.p, o.rc));
  }
  if (isZero(x)) return zero(x.s ^ y.s);
  if (isInf(x)) {
    res.flags = IE;
    return indefinite();
  }
  if (isInf(y)) return isZero(x) ? indefinite() : inf(y.s ^ x.s);
  if (isZero(y)) return zero(x.s ^ y.s);
  return inexact(f, yl2xp1(x, y, o.p, o.rc));
}
