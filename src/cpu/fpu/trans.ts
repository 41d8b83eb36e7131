/**
 * The transcendental instructions in BigInt fixed point (SDM Vol.2 F2XM1, FYL2X, FYL2XP1, FSIN,
 * FCOS, FSINCOS, FPTAN, FPATAN): each result is computed with ≥ 128 correct bits and rounded once
 * to the destination precision, so it is within the x87's documented error (< 1 ulp of extended)
 * and correctly rounded in practice. π and ln 2 are computed here (Machin; 2·atanh(1/3)) to 640
 * bits, so the FSIN/FCOS/FPTAN argument reduction is exact for every |x| < 2^63 (real parts reduce
 * with a 66-bit π and are less accurate near multiples of π; SDM Vol.1 §8.3.8).
 */
import { bitLength, expOf, type F80, out, round } from './f80.ts';

const W = 640;

/** atan(1/n) × 2^f by its Taylor series (n ≥ 2). */
function atanInv(n: bigint, f: number): bigint {
  const x = (1n << BigInt(f)) / n;
  const n2 = n * n;
  let term = x;
  let sum = 0n;
  for (let k = 0n; term !== 0n; k++) {
    sum += (k & 1n ? -term : term) / (2n * k + 1n);
    term /= n2;
  }
  return sum;
}

/** Σ z^(2k+1)/(2k+1) (atanh; `alt`: alternating signs, atan) for |z| < 1, fixed point 2^f. */
function oddSeries(z: bigint, f: number, alt: boolean): bigint {
  const F = BigInt(f);
  const z2 = (z * z) >> F;
  let p = z;
  let sum = 0n;
  for (let k = 0n; p !== 0n; k++) {
    const t = p / (2n * k + 1n);
    sum += alt && k & 1n ? -t : t;
    p = (p * z2) >> F;
  }
  return sum;
}

const PI_W = 16n * atanInv(5n, W + 8) - 4n * atanInv(239n, W + 8);
const LN2_W = 2n * oddSeries((1n << BigInt(W + 8)) / 3n, W + 8, false);
/** π and ln 2 at `f` ≤ W fraction bits. */
const pi = (f: number) => PI_W >> BigInt(W + 8 - f);
const ln2 = (f: number) => LN2_W >> BigInt(W + 8 - f);

/** |a| as a fixed-point BigInt with f fraction bits (truncated; exact when f + expOf(a) ≥ 0). */
function fixed(a: F80, f: number): bigint {
  const sh = f + expOf(a);
  return sh >= 0 ? a.m << BigInt(sh) : a.m >> BigInt(-sh);
}

/** Exponent of a's leading bit (a finite, non-zero). */
const lead = (a: F80) => expOf(a) + bitLength(a.m) - 1;

/** Round (−1)^s × v × 2^−f (inexact unless `exact`). */
function result(s: number, v: bigint, f: number, p: number, rc: number, exact = false): F80 {
  if (v < 0n) {
    v = -v;
    s ^= 1;
  }
  const r = round(s, v, -f, !exact, p, rc);
  return r;
}

/** ln(m) for m in [1, 2) fixed at f: 2·atanh((m − 1)/(m + 1)). */
function lnMant(m: bigint, f: number): bigint {
  const one = 1n << BigInt(f);
  if (m === one) return 0n;
  const z = ((m - one) << BigInt(f)) / (m + one);
  return 2n * oddSeries(z, f, false);
}

/** FYL2X: y · log2(x), x > 0 finite, y finite non-zero. */
export function yl2x(x: F80, y: F80, p: number, rc: number): F80 {
  const f = 200;
  const n = bitLength(x.m);
  const e = expOf(x) + n - 1;
  const m = x.m << BigInt(f - (n - 1));
  const ln = lnMant(m, f);
  const l2 = (BigInt(e) << BigInt(f)) + (ln << BigInt(f)) / ln2(f);
  // y × log2(x) exactly (y = y.m × 2^expOf(y)); inexact unless x is a power of two.
  const s = y.s ^ (l2 < 0n ? 1 : 0);
  const mag = (l2 < 0n ? -l2 : l2) * y.m;
  return result(s, mag, f - expOf(y), p, rc, ln === 0n);
}

/** FYL2XP1: y · log2(1 + x) for |x| < 1 − √2/2: ln(1 + x) = 2·atanh(x / (2 + x)). */
export function yl2xp1(x: F80, y: F80, p: number, rc: number): F80 {
  if (lead(x) < -100) {
    // log2(1 + x) = x / ln 2 · (1 − x/2 + …): the correction is below every rounding position.
    const q = (x.m << 200n) / ln2(200);
    return round(x.s ^ y.s, q * y.m, expOf(x) + expOf(y), true, p, rc);
  }
  const f = 200 + Math.max(0, -lead(x));
  const X = x.s ? -fixed(x, f) : fixed(x, f);
  const z = (X << BigInt(f)) / ((2n << BigInt(f)) + X);
  const l2 = ((2n * oddSeries(z, f, false)) << BigInt(f)) / ln2(f);
  const s = y.s ^ (l2 < 0n ? 1 : 0);
  return result(s, (l2 < 0n ? -l2 : l2) * y.m, f - expOf(y), p, rc);
}

/** F2XM1: 2^x − 1 for |x| ≤ 1 (x ≠ 0): Σ_{k≥1} t^k/k! with t = x·ln 2. */
export function twoXm1(x: F80, p: number, rc: number): F80 {
  if (lead(x) < -100) return round(x.s, x.m * ln2(200), expOf(x) - 200, true, p, rc);
  const f = 200 + Math.max(0, -lead(x));
  const F = BigInt(f);
  const X = fixed(x, f);
  const t = ((x.s ? -X : X) * ln2(f)) >> F;
  let term = t;
  let sum = 0n;
  for (let k = 2n; term !== 0n; k++) {
    sum += term;
    term = (term * t) >> F;
    term /= k;
  }
  return result(0, sum, f, p, rc);
}

/** sin and cos of a finite |x| < 2^63, fixed at f, with exact reduction by π/2. */
function sinCos(x: F80, f: number): { s: bigint; c: bigint } {
  const F = BigInt(f);
  const g = f + 80;
  const X = fixed(x, g);
  const halfPi = pi(g + 64) >> 65n; // π/2 at g bits
  const q = (X + (halfPi >> 1n)) / halfPi;
  let r = (X - q * halfPi) >> 80n; // |r| ≤ π/4, at f bits
  if (x.s) r = -r;
  const quad = Number((x.s ? -q : q) & 3n);
  // Taylor series for sin r and cos r.
  const r2 = (r * r) >> F;
  let ts = r;
  let s = 0n;
  for (let k = 1n; ts !== 0n; k += 2n) {
    s += ts;
    ts = -((ts * r2) >> F) / ((k + 1n) * (k + 2n));
  }
  let tc = 1n << F;
  let c = 0n;
  for (let k = 0n; tc !== 0n; k += 2n) {
    c += tc;
    tc = -((tc * r2) >> F) / ((k + 1n) * (k + 2n));
  }
  switch (quad) {
    case 0:
      return { s, c };
    case 1:
      return { s: c, c: -s };
    case 2:
      return { s: -s, c: -c };
    default:
      return { s: -c, c: s };
  }
}

/** Working precision for sin/cos/tan: enough that a result near 0 keeps ≥ 128 bits. */
function trigBits(x: F80): number {
  return 256 + Math.max(0, -lead(x));
}

/**
 * For |x| < 2^-70 the series' second term is below every rounding position: sin x = x − ε,
 * tan x = x + ε, cos x = 1 − ε (ε > 0 tiny), rounded as such.
 */
function tiny(x: F80, dir: number, p: number, rc: number): F80 {
  return round(x.s, (x.m << 2n) + BigInt(dir), expOf(x) - 2, true, p, rc);
}

export function fsin(x: F80, p: number, rc: number): F80 {
  if (lead(x) < -70) return tiny(x, -1, p, rc);
  const f = trigBits(x);
  return result(0, sinCos(x, f).s, f, p, rc);
}
export function fcos(x: F80, p: number, rc: number): F80 {
  if (lead(x) < -70) return round(0, (1n << 66n) - 1n, -66, true, p, rc);
  const f = trigBits(x);
  return result(0, sinCos(x, f).c, f, p, rc);
}
export function ftan(x: F80, p: number, rc: number): F80 {
  if (lead(x) < -70) return tiny(x, 0, p, rc);
  const f = trigBits(x);
  const { s, c } = sinCos(x, f);
  return result(0, (s << BigInt(f)) / c, f, p, rc);
}

/** atan(z) for 0 ≤ z ≤ 1 at f bits: two half-angle steps, then the series. */
function atanUnit(z: bigint, f: number): bigint {
  const F = BigInt(f);
  const one = 1n << F;
  for (let i = 0; i < 2; i++) {
    const h = isqrt(one * one + z * z); // √(1 + z²) at f bits
    z = (z << F) / (one + h);
  }
  return 4n * oddSeries(z, f, true);
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

/** Compare |a| with |b| (finite, non-zero): −1, 0, 1. */
function cmpMag(a: F80, b: F80): number {
  if (lead(a) !== lead(b)) return lead(a) < lead(b) ? -1 : 1;
  const ma = a.m << BigInt(64 - bitLength(a.m));
  const mb = b.m << BigInt(64 - bitLength(b.m));
  return ma === mb ? 0 : ma < mb ? -1 : 1;
}

/** FPATAN: the angle of (x, y), both finite and non-zero. */
export function atan2(y: F80, x: F80, p: number, rc: number): F80 {
  const swap = cmpMag(y, x) > 0;
  const num = swap ? x : y;
  const den = swap ? y : x;
  const diff = lead(den) - lead(num);
  if (diff > 100 && !swap && x.s === 0) {
    // atan(r) = r − r³/3 + …: r − ε, with r = |y|/|x| to 130 bits.
    const q = (y.m << 130n) / x.m;
    return round(y.s, (q << 2n) - 1n, expOf(y) - expOf(x) - 132, true, p, rc);
  }
  const f = 200 + Math.min(diff, 100);
  // ratio = |num| / |den| ≤ 1 at f bits, from the exact significands.
  const sh = f + expOf(num) - expOf(den);
  const ratio = sh >= 0 ? (num.m << BigInt(sh)) / den.m : num.m / (den.m << BigInt(-sh));
  let a = atanUnit(ratio, f);
  const halfPi = pi(f) >> 1n;
  if (swap) a = halfPi - a;
  if (x.s) a = (halfPi << 1n) - a;
  return result(y.s, a, f, p, rc);
}

/** k·π/4 (FPATAN's special cases), rounded. */
export function piQuarters(k: number, s: number, p: number, rc: number): F80 {
  const f = 200;
  return result(s, (BigInt(k) * pi(f)) >> 2n, f, p, rc);
}

export { out };
