/**
 * 80-bit extended-precision numbers (SDM Vol.1 §4.2.2, §8.2): sign, 15-bit biased exponent and a
 * 64-bit significand with an explicit integer bit. JavaScript doubles cannot hold 64 significant
 * bits, so arithmetic works on exact BigInt integers and rounds once (round()), with the x87's
 * precision control (24/53/64 bits) and rounding control, reporting P/U/O and C1 (rounded up).
 * BigInt allocates: the x87 is off the integer hot path (no FPU code runs in integer guests).
 */

/** An unpacked value: sign (0/1), biased exponent field (0..0x7FFF), 64-bit significand. */
export interface F80 {
  s: number;
  e: number;
  m: bigint;
}

export const BIAS = 16383;
export const M63 = 1n << 63n;
export const M64 = 1n << 64n;
export const MASK64 = M64 - 1n;

/** Rounding control (CW bits 11:10). */
export const RC_NEAREST = 0;
export const RC_DOWN = 1;
export const RC_UP = 2;
export const RC_ZERO = 3;

/** Status word exception bits (SDM Vol.1 §8.1.3). */
export const IE = 0x01;
export const DE = 0x02;
export const ZE = 0x04;
export const OE = 0x08;
export const UE = 0x10;
export const PE = 0x20;
export const SF = 0x40;
export const C1 = 0x200;

export const f80 = (s: number, e: number, m: bigint): F80 => ({ s, e, m });
export const zero = (s: number): F80 => f80(s, 0, 0n);
export const inf = (s: number): F80 => f80(s, 0x7fff, M63);
/** The QNaN floating-point indefinite (SDM Vol.1 §4.8.3.7). */
export const indefinite = (): F80 => f80(1, 0x7fff, 0xc000000000000000n);

export const isNaN80 = (a: F80) => a.e === 0x7fff && (a.m & (M63 - 1n)) !== 0n;
export const isSNaN = (a: F80) => isNaN80(a) && (a.m & (1n << 62n)) === 0n;
export const isInf = (a: F80) => a.e === 0x7fff && (a.m & (M63 - 1n)) === 0n;
export const isZero = (a: F80) => a.e === 0 && a.m === 0n;
export const isDenormal = (a: F80) => a.e === 0 && a.m !== 0n;
/** Unsupported encodings (pseudo-NaN/infinity, unnormals: integer bit clear with e ≠ 0): #IA. */
export const isUnsupported = (a: F80) => a.e !== 0 && (a.m & M63) === 0n;
export const quiet = (a: F80): F80 => f80(a.s, a.e, a.m | (1n << 62n));

export function bitLength(m: bigint): number {
  return m === 0n ? 0 : m.toString(2).length;
}

/** Exact value of a finite `a` as m × 2^exp2 (denormals use exponent 1 − bias). */
export function expOf(a: F80): number {
  return (a.e === 0 ? 1 : a.e) - BIAS - 63;
}

/** Flags raised by round() and friends; `tiny`: the exact result was below the normal range. */
export const out = { flags: 0, tiny: false };

/** Bias adjustment of the unmasked overflow/underflow response (SDM Vol.1 §8.5.3.1). */
const ADJUST = 24576;

/**
 * Round the exact value (−1)^s × (m + ε) × 2^exp2 (ε in (0,1) when `sticky`) to a `p`-bit
 * significand with leading-bit exponents emin..emax (unbiased), rounding mode `rc` (SDM Vol.1
 * §4.8.4). For the extended format (emax 16383) `oeMasked`/`ueMasked` false give the
 * bias-adjusted responses (§8.5.3–4); memory formats leave unmasked cases to the caller (no store).
 * Returns an F80; out.flags gets P/U/O and C1 (the significand was rounded up).
 */
export function round(
  s: number,
  m: bigint,
  exp2: number,
  sticky: boolean,
  p: number,
  rc: number,
  emin = -16382,
  emax = 16383,
  oeMasked = true,
  ueMasked = true,
): F80 {
  out.flags = 0;
  out.tiny = false;
  if (m === 0n && !sticky) return zero(s);
  const ext = emax === 16383;
  let E = exp2 + bitLength(m) - 1;
  let tiny = E < emin;
  out.tiny = tiny;
  let flags = 0;
  if (tiny && !ueMasked && ext) {
    exp2 += ADJUST;
    E += ADJUST;
    tiny = false;
    flags |= UE;
  }
  const lsb = Math.max(E, emin) - (p - 1);
  const shift = lsb - exp2;
  let r: bigint;
  let inexact = sticky;
  let up = false;
  if (shift > 0) {
    const sh = BigInt(shift);
    r = m >> sh;
    const rest = m & ((1n << sh) - 1n);
    const half = 1n << (sh - 1n);
    if (rest !== 0n) inexact = true;
    up = roundUp(s, rc, r, rest > half || (rest === half && sticky), rest === half && !sticky, inexact);
  } else {
    r = m << BigInt(-shift);
    if (sticky) up = roundUp(s, rc, r, false, false, true);
  }
  if (up) r += 1n;
  let lsbE = lsb;
  if (bitLength(r) > p) {
    r >>= 1n;
    lsbE += 1;
  }
  E = r === 0n ? emin - 1 : lsbE + bitLength(r) - 1;
  flags |= (inexact ? PE : 0) | (up ? C1 : 0);
  if (tiny && inexact) flags |= UE;
  if (E > emax) {
    if (oeMasked || !ext) {
      // Masked overflow: ∞ or the largest finite value, by rounding direction (§4.9.1.4).
      out.flags = flags | OE | PE;
      const toInf = rc === RC_NEAREST || (rc === RC_UP && s === 0) || (rc === RC_DOWN && s === 1);
      if (toInf) {
        out.flags |= C1;
        return inf(s);
      }
      out.flags &= ~C1;
      return fromExact(s, (1n << BigInt(p)) - 1n, emax - p + 1);
    }
    flags |= OE;
    lsbE -= ADJUST;
  }
  out.flags = flags;
  return fromExact(s, r, lsbE);
}

function roundUp(s: number, rc: number, r: bigint, above: boolean, tie: boolean, inexact: boolean): boolean {
  if (!inexact) return false;
  switch (rc) {
    case RC_NEAREST:
      return above || (tie && (r & 1n) === 1n);
    case RC_DOWN:
      return s === 1;
    case RC_UP:
      return s === 0;
    default:
      return false;
  }
}

/** An exactly representable value m × 2^exp2 as F80 (no rounding needed; denormal if tiny). */
export function fromExact(s: number, m: bigint, exp2: number): F80 {
  if (m === 0n) return zero(s);
  const n = bitLength(m);
  let e = exp2 + n - 1 + BIAS;
  if (e >= 1) return f80(s, e, m << BigInt(64 - n));
  // Extended denormal: exponent field 0, value = m × 2^(1 − bias − 63).
  const sh = exp2 - (1 - BIAS - 63);
  e = 0;
  return f80(s, e, sh >= 0 ? m << BigInt(sh) : m >> BigInt(-sh));
}

// ---- conversions ------------------------------------------------------------------------

/** IEEE single/double bits → F80 (exact). SNaNs stay signalling (the caller raises #IA). */
export function fromBits(bits: bigint, ebits: number, fbits: number): F80 {
  const s = Number((bits >> BigInt(ebits + fbits)) & 1n);
  const emax = (1 << ebits) - 1;
  const e = Number((bits >> BigInt(fbits)) & BigInt(emax));
  const f = bits & ((1n << BigInt(fbits)) - 1n);
  if (e === emax) return f80(s, 0x7fff, M63 | (f << BigInt(63 - fbits)));
  const bias = (emax >> 1) as number;
  if (e === 0) {
    if (f === 0n) return zero(s);
    return fromExact(s, f, 1 - bias - fbits);
  }
  return fromExact(s, f | (1n << BigInt(fbits)), e - bias - fbits);
}

/** F80 → IEEE single/double bits, rounded with `rc`; out.flags gets P/U/O/C1 (IE handled by the caller). */
export function toBits(
  a: F80,
  ebits: number,
  fbits: number,
  rc: number,
  oeMasked: boolean,
  ueMasked: boolean,
): bigint {
  const sb = BigInt(a.s) << BigInt(ebits + fbits);
  const emaxField = (1 << ebits) - 1;
  const bias = emaxField >> 1;
  out.flags = 0;
  if (a.e === 0x7fff) {
    if (isInf(a)) return sb | (BigInt(emaxField) << BigInt(fbits));
    // NaN: keep the top fraction bits (quieted by the caller).
    return sb | (BigInt(emaxField) << BigInt(fbits)) | ((a.m & (M63 - 1n)) >> BigInt(63 - fbits));
  }
  if (a.m === 0n) return sb;
  const r = round(a.s, a.m, expOf(a), false, fbits + 1, rc, 1 - bias, bias, oeMasked, ueMasked);
  if (r.e === 0x7fff) return sb | (BigInt(emaxField) << BigInt(fbits));
  if (r.m === 0n) return sb;
  const E = r.e === 0 ? 1 - BIAS : r.e - BIAS;
  const n = bitLength(r.m);
  const lead = E - (64 - n);
  if (lead < 1 - bias) {
    // Denormal in the target: fraction = value / 2^(1 − bias − fbits).
    const f = r.m >> BigInt(63 - fbits + (1 - bias - E));
    return sb | f;
  }
  const f = (r.m >> BigInt(63 - fbits)) & ((1n << BigInt(fbits)) - 1n);
  return sb | (BigInt(lead + bias) << BigInt(fbits)) | f;
}

/** Round a finite F80 to an integer (BigInt, signed) with `rc`; out.flags gets PE/C1. */
export function toInteger(a: F80, rc: number): bigint {
  out.flags = 0;
  if (a.m === 0n) return 0n;
  const e = expOf(a);
  let v: bigint;
  if (e >= 0) v = a.m << BigInt(e);
  else {
    const sh = BigInt(-e);
    if (-e > 70) {
      v = 0n;
      out.flags = PE;
      if ((rc === RC_UP && a.s === 0) || (rc === RC_DOWN && a.s === 1)) {
        v = 1n;
        out.flags |= C1;
      }
    } else {
      v = a.m >> sh;
      const rest = a.m & ((1n << sh) - 1n);
      const half = 1n << (sh - 1n);
      if (rest !== 0n) {
        out.flags = PE;
        if (roundUp(a.s, rc, v, rest > half, rest === half, true)) {
          v += 1n;
          out.flags |= C1;
        }
      }
    }
  }
  return a.s ? -v : v;
}

/** A signed integer → F80 (exact for up to 64 bits). */
export function fromInteger(v: bigint): F80 {
  const s = v < 0n ? 1 : 0;
  return fromExact(s, s ? -v : v, 0);
}

/** Read/write the 10-byte memory image (little-endian: significand, then sign|exponent). */
export function fromWords(lo: number, hi: number, se: number): F80 {
  return f80((se >> 15) & 1, se & 0x7fff, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

/** Number value of a finite F80 (for the transcendental functions, which work in doubles). */
export function toNumber(a: F80): number {
  if (a.e === 0x7fff) return isInf(a) ? (a.s ? -Infinity : Infinity) : Number.NaN;
  if (a.m === 0n) return a.s ? -0 : 0;
  // The top 64 bits as a double (rounded once by Number()), then scaled exactly.
  let v = Number(a.m) * 2 ** expOf(a);
  if (!Number.isFinite(v) || v === 0) {
    const e = expOf(a);
    v = Number(a.m) * 2 ** Math.trunc(e / 2) * 2 ** (e - Math.trunc(e / 2));
  }
  return a.s ? -Math.abs(v) : Math.abs(v);
}

/** Exact F80 of a double. */
export function fromNumber(v: number): F80 {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  return fromBits(dv.getBigUint64(0), 11, 52);
}
