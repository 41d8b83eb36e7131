/**
 * BlockCache.clear (a whole-cache flush, a CPU reset) and dispose (the buffer handed to the next
 * CPU) zero only the table sets and first-visit entries a run wrote, from a log, and everything
 * once the log overflows (blocks.ts, LOG_MAX). Both must be exact: after a clear no block from
 * before may be served (its header is still in the arena past `top`, so a stale table entry would
 * pass every check of find), and after dispose the whole buffer must be zero again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Cpu } from './cpu.ts';
import { blockTuning } from './fastpaths.ts';
import { pooledBuffers } from './fresh-buffer.ts';
import { CODE, pmEnv } from './test/env.ts';
import { HLT, resetTier, setTier } from './test/tiers.ts';

afterEach(() => {
  resetTier();
  blockTuning.buildVisit = 2;
});

/**
 * A CPU whose TLB maps `n` bytes of code at CODE, all RET (0xC3): a lookup at any of them builds a
 * one-instruction block of its own, so `n` lookups write about `n` distinct table sets.
 */
function retCpu(n: number): Cpu {
  // Run `n` NOPs in the interpreter (no blocks) so that every code page has a TLB entry, then
  // turn the bytes into RETs, never decoded before.
  const e = pmEnv([...new Array<number>(n).fill(0x90), HLT]);
  setTier(false);
  e.cpu.run(n + 10);
  expect(e.cpu.halted).toBe(true);
  e.bus.ram.fill(0xc3, CODE, CODE + n);
  setTier(true);
  return e.cpu;
}

function allZero(buf: ArrayBuffer): boolean {
  const w = new Int32Array(buf);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
  return true;
}

/**
 * Offsets (from CODE) of `n` blocks of which `pairs` pairs share a table set, so that those sets
 * hold two ways. The set is blocks.ts find's hash; the test counts two-way sets in the table, so
 * that a change of hash or layout cannot leave it without shared sets unnoticed.
 */
function withSharedSets(span: number, n: number, pairs: number): number[] {
  const setOf = (phys: number) => Math.imul(phys, 0x9e3779b1) >>> 16;
  const first = new Map<number, number>();
  const twins: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < span; i++) {
    const s = setOf(CODE + i);
    const j = first.get(s);
    if (j === undefined) first.set(s, i);
    else if (twins.length < 2 * pairs) twins.push(j, i);
  }
  const used = new Set(twins);
  for (let i = 0; used.size + rest.length < n; i++) if (!used.has(i)) rest.push(i);
  return [...twins, ...rest];
}

/** Look up the block at CODE + each offset; returns how many lookups built one. */
function lookAt(cpu: Cpu, offsets: number[]): number {
  const built = cpu.blocks.built;
  for (const i of offsets) {
    cpu.ip = CODE + i;
    const b = cpu.blocks.lookup(cpu);
    expect(b).toBeGreaterThanOrEqual(0);
    expect(b).toBeLessThan(cpu.blocks.used);
  }
  return cpu.blocks.built - built;
}

describe('block cache clear and dispose', () => {
  // 3 000 blocks: within the log. 6 000: past it (the whole table zeroed).
  it.each([3000, 6000])('after clear() no block from before is served (%i blocks)', (n) => {
    const span = 1 << 16;
    const at = withSharedSets(span, n, 100);
    const cpu = retCpu(span);
    expect(lookAt(cpu, at)).toBe(n);
    // The shared sets hold two ways (the table follows the arena: 4 ways × 2^16 sets).
    const buf = cpu.blocks.arena.buffer as ArrayBuffer;
    const table = new Int32Array(buf, cpu.blocks.arena.byteLength, 4 << 16);
    let twoWays = 0;
    for (let set = 0; set < table.length; set += 4) if (table[set + 1] !== 0) twoWays++;
    expect(twoWays).toBe(100);
    // Found again without a decode while the cache holds them.
    expect(lookAt(cpu, at)).toBe(0);
    cpu.blocks.clear();
    expect(cpu.blocks.used).toBe(0);
    // The table (and its log) lie past the arena; with blocks decoded on the first visit nothing
    // else there was written, so all of it is zero again — every way of every set, not only those
    // a lookup reaches (find stops at a set's first empty way).
    expect(allZero(buf.slice(cpu.blocks.arena.byteLength))).toBe(true);
    // Every block decoded anew, each at its new offset below `top`.
    expect(lookAt(cpu, at)).toBe(n);
    // And once more after a second clear (the log was emptied and refilled), in another order.
    cpu.blocks.clear();
    expect(lookAt(cpu, at.reverse())).toBe(n);
    cpu.blocks.clear();
    expect(allZero(buf.slice(cpu.blocks.arena.byteLength))).toBe(true);
  });

  it.each([
    [300, 2],
    [300, 3],
    [6000, 3],
  ])('dispose() leaves the whole buffer zero (%i blocks, decoded on visit %i)', (n, visit) => {
    const cpu = retCpu(n);
    blockTuning.secondVisit = true;
    blockTuning.buildVisit = visit;
    // The first visits write `seen` (and `visits`), the last builds.
    for (let v = 1; v <= visit; v++) {
      for (let i = 0; i < n; i++) {
        cpu.ip = CODE + i;
        const b = cpu.blocks.lookup(cpu);
        expect(b >= 0).toBe(v === visit);
      }
    }
    expect(cpu.blocks.firstVisits).toBe(n * (visit - 1));
    expect(cpu.blocks.built).toBe(n);
    const buf = cpu.blocks.arena.buffer as ArrayBuffer;
    expect(allZero(buf)).toBe(false);
    cpu.dispose();
    // (Booleans: a failing matcher would print 33 MiB buffers.)
    expect(pooledBuffers().includes(buf)).toBe(true);
    expect(allZero(buf)).toBe(true);
  });

  it('a CPU on the disposed buffers decodes on its own first and second visits', () => {
    const n = 300;
    const a = retCpu(n);
    blockTuning.secondVisit = true;
    for (let v = 0; v < 2; v++) {
      for (let i = 0; i < n; i++) {
        a.ip = CODE + i;
        a.blocks.lookup(a);
      }
    }
    expect(a.blocks.built).toBe(n);
    const buf = a.blocks.arena.buffer as ArrayBuffer;
    a.dispose();
    const b = retCpu(n);
    // Taken again (by b's TLB or its block cache: the pool hands out the last buffer given first).
    expect(pooledBuffers().includes(buf)).toBe(false);
    blockTuning.secondVisit = true;
    // A stale `seen` entry would build on the first visit, a stale table entry find nothing new.
    for (let i = 0; i < n; i++) {
      b.ip = CODE + i;
      expect(b.blocks.lookup(b)).toBe(-1);
    }
    expect(b.blocks.firstVisits).toBe(n);
    expect(lookAt(b, [...new Array<number>(n).keys()])).toBe(n);
  });
});
