/**
 * rd8…wr32, push32 and pop32 test an offset against the segment's bound with int32 arithmetic
 * only (access.ts segRdB/segWrB: nothing for a flat segment, else `off ^ 0x80000000` against a biased
 * threshold), so the test never yields a number V8 must hold as a double. These run the real accessors over offsets on both sides
 * of every kind of bound — near 0, 2^31, 3·2^30 and 4 GiB, passed as int32 and as uint32 — and check
 * each raises exactly what SDM Vol.3 §5.3 says (#GP(0), #SS(0) for SS) and that the full check
 * (segCheck) runs only for the accesses that fault (and, by design, every expand-down access).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AR_DC, AR_RW, DS, ESP, GP, SS, SSF } from './constants.ts';
import type { Cpu } from './cpu.ts';
import { CpuSeg } from './segments.ts';
import { makeCpu } from './test/harness.ts';

const RW = CpuSeg.flatAr(false, 0);
const RO = RW & ~AR_RW;

interface Seg {
  name: string;
  limit: number;
  ar: number;
}

const SEGS: Seg[] = [
  { name: 'flat', limit: 0xffffffff, ar: RW },
  ...[0, 1, 2, 3, 0x18, 0xffff, 0x7ffffffe, 0x7fffffff, 0x80000000, 0xbfffffff, 0xc0000002, 0xfffffffe].map(
    (limit) => ({ name: `up ${limit.toString(16)}`, limit, ar: RW }),
  ),
  { name: 'read-only up fff', limit: 0xfff, ar: RO },
  { name: 'down fff', limit: 0xfff, ar: RW | AR_DC },
  { name: 'down 7fffffff', limit: 0x7fffffff, ar: RW | AR_DC },
];

/** What SDM Vol.3 §5.3/§5.4 says about an access of `len` bytes at `off` (flat: never checked). */
function faults(seg: Seg, off: number, len: number, write: boolean): boolean {
  const o = off >>> 0;
  if (seg.name === 'flat') return false;
  if (write && (seg.ar & AR_RW) === 0) return true;
  if (seg.ar & AR_DC) return o <= seg.limit || o + len - 1 > 0xffffffff;
  return o + len - 1 > seg.limit;
}

function offsetsFor(limit: number): number[] {
  const around = (x: number) => [-4, -3, -2, -1, 0, 1, 2].map((d) => (x + d) >>> 0);
  const set = new Set([
    ...around(limit),
    ...around(0),
    ...around(0x80000000),
    ...around(0xc0000000),
    ...around(0xffffffff),
  ]);
  // Each offset both as a uint32 and as the int32 a register holds.
  return [...set].flatMap((o) => (o >= 0x80000000 ? [o, o | 0] : [o]));
}

function access(cpu: Cpu, s: number, off: number, len: number, write: boolean): number {
  cpu.excVector = -1;
  try {
    if (write) {
      if (len === 1) cpu.wr8(s, off, 0x5a);
      else if (len === 2) cpu.wr16(s, off, 0x5a5a);
      else cpu.wr32(s, off, 0x5a5a5a5a);
    } else if (len === 1) cpu.rd8(s, off);
    else if (len === 2) cpu.rd16(s, off);
    else cpu.rd32(s, off);
  } catch {
    return cpu.excVector;
  }
  return -1;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('segment bounds in int32 (segRdB/segWrB)', () => {
  it('rd8…wr32 fault exactly where SDM §5.3 says, for offsets near 0, 2^31, 3·2^30 and 4 GiB', () => {
    const { cpu } = makeCpu(1 << 20);
    let checks = 0;
    const orig = cpu.segCheck.bind(cpu);
    vi.spyOn(cpu, 'segCheck').mockImplementation((s, off, len, w) => {
      checks++;
      orig(s, off, len, w);
    });
    let expectedChecks = 0;
    let cases = 0;
    for (const seg of SEGS) {
      for (const s of [DS, SS]) {
        cpu.setSeg(s, 0x10, 0, seg.limit, seg.ar);
        const vec = s === SS ? SSF : GP;
        for (const off of offsetsFor(seg.limit)) {
          for (const len of [1, 2, 4]) {
            for (const write of [false, true]) {
              const want = faults(seg, off, len, write);
              const got = access(cpu, s, off, len, write);
              cases++;
              // Expand-down segments always take the full check (segRdMax -1); others only to fault.
              if (want || seg.ar & AR_DC) expectedChecks++;
              expect(got, `${seg.name} s${s} off ${off} len ${len} ${write ? 'write' : 'read'}`).toBe(
                want ? vec : -1,
              );
            }
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(3000);
    // The full check ran for the faulting accesses only (and expand-down segments, by design):
    // no in-bounds access to an expand-up or flat segment paid for it.
    expect(checks).toBe(expectedChecks);
  });

  it('push32/pop32 at the top of a limited SS: the last dword inside runs, one byte across is #SS(0)', () => {
    const { cpu } = makeCpu(1 << 20);
    const lim = 0x8fff;
    cpu.setSeg(SS, 0x10, 0, lim, RW);
    // push: ESP - 4 is where the dword starts.
    cpu.regs[ESP] = lim - 3 + 4;
    cpu.push32(0x11223344);
    expect(cpu.regs[ESP]).toBe(lim - 3);
    expect(cpu.rd32(SS, lim - 3) >>> 0).toBe(0x11223344);
    expect(cpu.pop32() >>> 0).toBe(0x11223344);
    cpu.regs[ESP] = lim - 2 + 4;
    expect(() => cpu.push32(1)).toThrow();
    expect(cpu.excVector).toBe(SSF);
    expect(cpu.regs[ESP]).toBe(lim - 2 + 4); // a faulting push leaves ESP alone
    cpu.regs[ESP] = lim - 2;
    expect(() => cpu.pop32()).toThrow();
    expect(cpu.excVector).toBe(SSF);
    // A flat SS wraps at 4 GiB without a check: ESP 0 pushes at offset FFFFFFFC.
    cpu.setSeg(SS, 0x10, 0x10004, 0xffffffff, RW);
    cpu.regs[ESP] = 0;
    cpu.push32(0xcafef00d);
    expect(cpu.regs[ESP] >>> 0).toBe(0xfffffffc);
    expect(cpu.lrd32(0x10000) >>> 0).toBe(0xcafef00d);
  });
});
