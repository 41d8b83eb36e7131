/**
 * Known answers for the x87 value core. With precision control at 53 bits and round-to-nearest
 * the x87's +, −, ×, ÷ and √ of doubles whose results stay in the normal double range are IEEE
 * double operations (SDM Vol.1 §8.1.5.2), so JavaScript's own arithmetic is an exact oracle; at
 * 24 bits, single-precision results are Math.fround of the double result (double rounding is
 * innocuous for these operations: 53 ≥ 2·24 + 2). Conversions round-trip every double, and the
 * transcendental functions are checked against libm within an ulp and against exact identities.
 */
import { describe, expect, it } from 'vitest';
import {
  type F80,
  f80,
  fromBits,
  fromNumber,
  IE,
  isNaN80,
  OE,
  PE,
  toBits,
  toInteger,
  UE,
  ZE,
} from './f80.ts';
import { Fpu } from './fpu.ts';
import { arith, f2xm1, fpatan, fsqrt, fyl2x, res, trig } from './ops.ts';

const dv = new DataView(new ArrayBuffer(8));
const bitsOf = (v: number) => {
  dv.setFloat64(0, v);
  return dv.getBigUint64(0);
};
const toD = (a: F80, rc = 0) => {
  dv.setBigUint64(0, toBits(a, 11, 52, rc, true, true));
  return dv.getFloat64(0);
};
/** Deterministic PRNG (xorshift32). */
function rng(seed: number) {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}
function fpu(pc: 24 | 53 | 64, rc = 0): Fpu {
  const f = new Fpu();
  f.cw = 0x7f | ((pc === 24 ? 0 : pc === 53 ? 2 : 3) << 8) | (rc << 10);
  return f;
}
const OPS: Array<[number, (a: number, b: number) => number]> = [
  [0, (a, b) => a + b],
  [1, (a, b) => a * b],
  [4, (a, b) => a - b],
  [5, (a, b) => b - a],
  [6, (a, b) => a / b],
  [7, (a, b) => b / a],
];

describe('x87 arithmetic against IEEE doubles (PC = 53, nearest)', () => {
  it('+ − × ÷ of 40,000 random pairs are bit-exact', () => {
    const r = rng(12345);
    const f = fpu(53);
    let n = 0;
    for (let i = 0; i < 40_000; i++) {
      const a = (r() - 0.5) * 2 ** Math.floor((r() - 0.5) * 200);
      const b = (r() - 0.5) * 2 ** Math.floor((r() - 0.5) * 200);
      for (const [op, js] of OPS) {
        const want = js(a, b);
        if (!Number.isFinite(want) || (want !== 0 && Math.abs(want) < 2 ** -1022)) continue;
        const got = toD(arith(f, op, fromNumber(a), fromNumber(b)));
        if (bitsOf(got) !== bitsOf(want)) expect([op, a, b, got]).toEqual([op, a, b, want]);
        n++;
      }
    }
    expect(n).toBeGreaterThan(200_000);
  });
  it('√ of 20,000 random values is bit-exact; √ of a negative is #IA', () => {
    const r = rng(777);
    const f = fpu(53);
    for (let i = 0; i < 20_000; i++) {
      const a = r() * 2 ** Math.floor((r() - 0.5) * 400);
      const got = toD(fsqrt(f, fromNumber(a)));
      expect(bitsOf(got)).toBe(bitsOf(Math.sqrt(a)));
    }
    fsqrt(f, fromNumber(-2));
    expect(res.flags & IE).toBe(IE);
  });
  it('PC = 24: single-precision results equal Math.fround of the double result', () => {
    const r = rng(4242);
    const f = fpu(24);
    for (let i = 0; i < 20_000; i++) {
      const a = Math.fround((r() - 0.5) * 2 ** Math.floor((r() - 0.5) * 60));
      const b = Math.fround((r() - 0.5) * 2 ** Math.floor((r() - 0.5) * 60));
      for (const [op, js] of OPS) {
        const want = Math.fround(js(a, b));
        const got = toD(arith(f, op, fromNumber(a), fromNumber(b)));
        if (got !== want) expect([op, a, b, got]).toEqual([op, a, b, want]);
      }
    }
  });
  it('x − x is +0 (−0 when rounding down); 1/0 is #Z → +∞; 0/0 is #IA', () => {
    const f = fpu(64);
    expect(Object.is(toD(arith(f, 4, fromNumber(3), fromNumber(3))), 0)).toBe(true);
    expect(Object.is(toD(arith(fpu(64, 1), 4, fromNumber(3), fromNumber(3))), -0)).toBe(true);
    expect(toD(arith(f, 6, fromNumber(1), fromNumber(0)))).toBe(Number.POSITIVE_INFINITY);
    expect(res.flags & ZE).toBe(ZE);
    expect(isNaN80(arith(f, 6, fromNumber(0), fromNumber(0)))).toBe(true);
    expect(res.flags & IE).toBe(IE);
  });
});

describe('x87 conversions', () => {
  it('every double (normal, subnormal, ±0, ±∞) round-trips through 80 bits', () => {
    const r = rng(99);
    const specials = [
      0,
      -0,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
      Number.MAX_VALUE,
      2 ** -1022,
      Infinity,
      -Infinity,
    ];
    for (const v of specials) expect(bitsOf(toD(fromNumber(v)))).toBe(bitsOf(v));
    for (let i = 0; i < 20_000; i++) {
      dv.setUint32(0, (r() * 2 ** 32) >>> 0);
      dv.setUint32(4, (r() * 2 ** 32) >>> 0);
      const b = dv.getBigUint64(0);
      const v = dv.getFloat64(0);
      if (Number.isNaN(v)) continue;
      expect(toBits(fromBits(b, 11, 52), 11, 52, 0, true, true)).toBe(b);
    }
  });
  it('integer rounding follows RC (nearest-even, down, up, chop)', () => {
    const cases: Array<[number, bigint[]]> = [
      [2.5, [2n, 2n, 3n, 2n]],
      [-2.5, [-2n, -3n, -2n, -2n]],
      [3.5, [4n, 3n, 4n, 3n]],
      [-0.75, [-1n, -1n, 0n, 0n]],
      [2 ** 62 + 1024, [2n ** 62n + 1024n, 2n ** 62n + 1024n, 2n ** 62n + 1024n, 2n ** 62n + 1024n]],
    ];
    for (const [v, want] of cases)
      for (let rc = 0; rc < 4; rc++) expect(toInteger(fromNumber(v), rc)).toBe(want[rc]);
  });
});

describe('x87 transcendental instructions', () => {
  const f = fpu(53);
  const ulps = (a: number, b: number) =>
    Number(bitsOf(a) > bitsOf(b) ? bitsOf(a) - bitsOf(b) : bitsOf(b) - bitsOf(a));
  it('sin/cos/tan/atan/2^x−1/log2 agree with libm within 1 ulp of a double', () => {
    const r = rng(2024);
    for (let i = 0; i < 2000; i++) {
      const x = (r() - 0.5) * 2 ** Math.floor(r() * 8);
      const u = r() * 2 - 1;
      const y = r() * 100 + 0.01;
      expect(ulps(toD(trig(f, 'sin', fromNumber(x))), Math.sin(x))).toBeLessThanOrEqual(1);
      expect(ulps(toD(trig(f, 'cos', fromNumber(x))), Math.cos(x))).toBeLessThanOrEqual(1);
      expect(ulps(toD(trig(f, 'tan', fromNumber(x))), Math.tan(x))).toBeLessThanOrEqual(1);
      expect(ulps(toD(fpatan(f, fromNumber(x), fromNumber(u))), Math.atan2(u, x))).toBeLessThanOrEqual(1);
      expect(ulps(toD(f2xm1(f, fromNumber(u))), Math.expm1(u * Math.LN2))).toBeLessThanOrEqual(2);
      expect(ulps(toD(fyl2x(f, fromNumber(y), fromNumber(1), false)), Math.log2(y))).toBeLessThanOrEqual(1);
    }
  });
  it('exact identities: log2 of powers of two, sin(0) = 0 with its sign, atan(1, 1) = π/4', () => {
    const f64 = fpu(64);
    expect(toD(fyl2x(f64, fromNumber(1024), fromNumber(3), false))).toBe(30);
    expect(res.flags & 0x20).toBe(0); // exact: no PE
    expect(Object.is(toD(trig(f64, 'sin', fromNumber(-0))), -0)).toBe(true);
    expect(toD(fpatan(f, fromNumber(1), fromNumber(1)))).toBe(Math.PI / 4);
    expect(toD(fpatan(f, fromNumber(-1), fromNumber(0)))).toBe(Math.PI);
    // sin of the double nearest π: the exact value 1.2246467991473532e-16 (reduction is exact).
    expect(toD(trig(f, 'sin', fromNumber(Math.PI)))).toBe(1.2246467991473532e-16);
  });
});

describe('x87 overflow and underflow responses (SDM Vol.1 §4.9.1.4–5, §8.5.3–4)', () => {
  it('masked overflow: ∞ (nearest) or the largest finite value (chop), OE and PE set', () => {
    const big = f80(0, 0x7ffe, 0xffffffffffffffffn);
    const r = arith(fpu(64), 0, big, big);
    expect([r.e, r.m]).toEqual([0x7fff, 1n << 63n]);
    expect(res.flags & (OE | PE)).toBe(OE | PE);
    const c = arith(fpu(64, 3), 0, big, big);
    expect([c.e, c.m]).toEqual([0x7ffe, 0xffffffffffffffffn]);
  });
  it('unmasked overflow: the exponent is wrapped by 24576 (bias-adjusted result)', () => {
    const f = fpu(64);
    f.cw &= ~OE; // unmask #O
    const two = f80(0, 0x3fff + 1, 1n << 63n);
    const big = f80(0, 0x7ffe, 1n << 63n); // 2^16383
    const r = arith(f, 1, big, two); // 2^16384
    expect(r.e).toBe(16384 - 24576 + 0x3fff);
    expect(res.flags & OE).toBe(OE);
  });
  it('masked underflow: an exact denormal raises no #U; an inexact one raises U and P', () => {
    const min = f80(0, 1, 1n << 63n); // 2^-16382
    const half = f80(0, 0x3ffe, 1n << 63n);
    const d = arith(fpu(64), 1, min, half); // 2^-16383: exact denormal
    expect([d.e, d.m]).toEqual([0, 1n << 62n]);
    expect(res.flags & (UE | PE)).toBe(0);
    const third = arith(fpu(64), 6, min, fromNumber(3)); // inexact, tiny
    expect(third.e).toBe(0);
    expect(res.flags & (UE | PE)).toBe(UE | PE);
  });
});
