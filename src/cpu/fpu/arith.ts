/**
 * x87 arithmetic on exact values (SDM Vol.1 §8.3.5; Vol.2 FADD/FSUB/FMUL/FDIV/FSQRT/FPREM/
 * FPREM1/FSCALE/FRNDINT/FXTRACT): each operation forms the exact result (or a sticky-bit
 * approximation below the rounding position) and rounds once with round().
 * Operands are finite and supported here; NaN/∞/zero cases are handled by the caller (fpu.ts).
 */
import {
  bitLength,
  expOf,
  type F80,
  fromExact,
  fromInteger,
  out,
  RC_DOWN,
  round,
  toInteger,
  zero,
} from './f80.ts';

/** Rounding parameters of the current instruction. */
export interface Rnd {
  p: number;
  rc: number;
  oeMasked: boolean;
  ueMasked: boolean;
}

const r80 = (s: number, m: bigint, e: number, sticky: boolean, o: Rnd) =>
  round(s, m, e, sticky, o.p, o.rc, -16382, 16383, o.oeMasked, o.ueMasked);

/** a + b (sub: a − b). Exact alignment up to 200 bits; beyond that the small operand is sticky. */
export function add(a: F80, b: F80, sub: boolean, o: Rnd): F80 {
  const bs = sub ? b.s ^ 1 : b.s;
  let ea = expOf(a);
  let eb = expOf(b);
  let ma = a.m;
  let mb = b.m;
  let sa = a.s;
  let sb = bs;
  if (ma === 0n && mb === 0n) {
    // Exact zero: −0 only for (−0) + (−0), or for x − x under round-down (§4.8.3.4 / Table 4-? ).
    return zero(sa === sb ? sa : o.rc === RC_DOWN ? 1 : 0);
  }
  if (ma === 0n) return r80(sb, mb, eb, false, o);
  if (mb === 0n) return r80(sa, ma, ea, false, o);
  if (ea < eb) {
    [ma, mb] = [mb, ma];
    [ea, eb] = [eb, ea];
    [sa, sb] = [sb, sa];
  }
  const d = ea - eb;
  let m: bigint;
  let e: number;
  let sticky = false;
  if (d <= 200) {
    const big = ma << BigInt(d);
    m = sa === sb ? big + mb : big - mb;
    e = eb;
  } else {
    // The small operand lies entirely below every rounding position: keep it as ±ε.
    const big = ma << 3n;
    m = sa === sb ? big : big - 1n;
    e = ea - 3;
    sticky = true;
  }
  let s = sa;
  if (m < 0n) {
    m = -m;
    s ^= 1;
  }
  if (m === 0n) return zero(o.rc === RC_DOWN ? 1 : 0);
  return r80(s, m, e, sticky, o);
}

export function mul(a: F80, b: F80, o: Rnd): F80 {
  const s = a.s ^ b.s;
  if (a.m === 0n || b.m === 0n) return zero(s);
  return r80(s, a.m * b.m, expOf(a) + expOf(b), false, o);
}

/** a / b (b ≠ 0): a quotient with at least 68 significant bits, the remainder as sticky. */
export function div(a: F80, b: F80, o: Rnd): F80 {
  const s = a.s ^ b.s;
  if (a.m === 0n) return zero(s);
  const k = 68 + bitLength(b.m) - bitLength(a.m);
  const num = k >= 0 ? a.m << BigInt(k) : a.m;
  const q = num / b.m;
  const rem = num - q * b.m;
  return r80(s, q, expOf(a) - expOf(b) - Math.max(k, 0), rem !== 0n, o);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** √a for a ≥ 0. */
export function sqrt(a: F80, o: Rnd): F80 {
  if (a.m === 0n) return zero(a.s);
  let m = a.m;
  let e = expOf(a);
  if (e & 1) {
    m <<= 1n;
    e -= 1;
  }
  // 2k extra bits so the root has ≥ 68 bits.
  const k = Math.max(0, 68 - (bitLength(m) >> 1));
  m <<= BigInt(2 * k);
  const r = isqrt(m);
  return r80(0, r, e / 2 - k, r * r !== m, o);
}

/** Round to an integer in the current rounding mode (FRNDINT); out.flags gets PE/C1. */
export function rndint(a: F80, rc: number): F80 {
  if (expOf(a) >= 0 || a.m === 0n) {
    out.flags = 0;
    return a;
  }
  const v = toInteger(a, rc);
  return v === 0n ? zero(a.s) : fromInteger(v);
}

/**
 * Partial remainder (FPREM: truncating quotient; FPREM1: round-to-nearest quotient, IEEE).
 * SDM Vol.2 FPREM: when the exponent difference is ≥ 64 only a partial reduction is done (C2 = 1)
 * by a power-of-two multiple of the divisor; here the exponent drops by 32 + (difference mod 32).
 * Returns the remainder and the low three quotient bits (C0 = q2, C3 = q1, C1 = q0).
 */
export function prem(a: F80, b: F80, ieee: boolean): { r: F80; q: number; partial: boolean } {
  const ea = expOf(a) + bitLength(a.m);
  const eb = expOf(b) + bitLength(b.m);
  const d = ea - eb;
  if (a.m === 0n) return { r: a, q: 0, partial: false };
  if (d < 0 && !(ieee && d === -1)) return { r: a, q: 0, partial: false };
  if (d >= 64) {
    const n = 32 + (d % 32);
    // b' = b × 2^(d − n): remainder of a by b' with a truncating quotient.
    const sh = d - n;
    const e = Math.min(expOf(a), expOf(b) + sh);
    const A = a.m << BigInt(expOf(a) - e);
    const B = b.m << BigInt(expOf(b) + sh - e);
    const q = A / B;
    const r = A - q * B;
    return { r: fromExact(a.s, r, e), q: 0, partial: true };
  }
  const e = Math.min(expOf(a), expOf(b));
  const A = a.m << BigInt(expOf(a) - e);
  const B = b.m << BigInt(expOf(b) - e);
  let q = A / B;
  let r = A - q * B;
  let s = a.s;
  if (ieee) {
    const twice = r << 1n;
    if (twice > B || (twice === B && (q & 1n) === 1n)) {
      q += 1n;
      r = B - r;
      s ^= 1;
    }
  }
  // A zero remainder keeps the dividend's sign (SDM FPREM1 table).
  return { r: r === 0n ? zero(a.s) : fromExact(s, r, e), q: Number(q & 7n), partial: false };
}
