import { describe, expect, it } from 'vitest';
import { makeCpu } from './test/harness.ts';

/** shift32 (the inlinable 32-bit fast path) must agree with the general shift() bit for bit. */
describe('shift32 matches shift() for 32-bit operands', () => {
  it('result and all six status flags, every op and count 1–31, random operands', () => {
    const { cpu: a } = makeCpu(1 << 16);
    const { cpu: b } = makeCpu(1 << 16);
    let seed = 12345;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return seed;
    };
    for (let i = 0; i < 20000; i++) {
      const op = i & 7;
      const n = 1 + ((i >> 3) % 31);
      const v = rnd() ^ (rnd() << 7);
      // Same arbitrary lazy state beforehand (an ADD) in both.
      const x = rnd();
      const y = rnd();
      for (const c of [a, b]) c.alu(0, x, y, 32);
      const r1 = a.shift32(op, v, n);
      const r2 = b.shift(op, v, n, 32);
      expect(r1 | 0).toBe(r2 | 0);
      expect(a.getEflags()).toBe(b.getEflags());
    }
  });
});
