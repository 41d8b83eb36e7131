/**
 * blockTuning.blocksAfter: a CPU runs the interpreter tier's path until it has retired that many
 * instructions, then the blocks tier (and the jit tier above it) engages. Below it no block is
 * built; across it, within one run() or over several, every count and all state stay the
 * interpreter's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { blockTuning, fastPaths, jitTuning } from './fastpaths.ts';
import { pmEnv } from './test/env.ts';
import { BLOCKS_AFTER, HLT, JIT_AFTER, le, resetTier, same } from './test/tiers.ts';

afterEach(resetTier);

// mov ecx, 20000 ; L: add eax, ecx ; xor ebx, eax ; mov [0x30000], ebx ; dec ecx ; jnz L ; hlt
// (1 + 5 × 20 000 + 1 instructions)
const LOOP = [0xb9, ...le(20_000), 0x01, 0xc8, 0x31, 0xc3, 0x89, 0x1d, ...le(0x30000), 0x49, 0x75, 0xf3, HLT];
const ALL = 1 + 5 * 20_000 + 1;

function run(tier: 'interpreter' | 'blocks' | 'jit', budgets: number[]) {
  fastPaths.blockCache = tier !== 'interpreter';
  fastPaths.jit = tier === 'jit';
  jitTuning.jitAfter = tier === 'jit' ? 1 : JIT_AFTER;
  const e = pmEnv(LOOP);
  const built: number[] = [];
  for (const b of budgets) {
    e.cpu.run(b);
    built.push(e.cpu.blocks.built);
  }
  return { e, built };
}

describe('the blocks tier engages after blockTuning.blocksAfter instructions', () => {
  it('the default: a run as short as the hello guest builds no block', () => {
    expect(BLOCKS_AFTER).toBeGreaterThan(646);
    const { e, built } = run('blocks', [646]);
    expect(e.cpu.instructions).toBe(646);
    expect(built).toEqual([0]);
  });

  it('below it no block is built, above it blocks are; the state is the interpreter’s throughout', () => {
    blockTuning.blocksAfter = 30_000;
    const budgets = [29_999, 1, 40_000, 1_000_000];
    const ref = run('interpreter', budgets);
    for (const tier of ['blocks', 'jit'] as const) {
      const { e, built } = run(tier, budgets);
      expect(built[0], tier).toBe(0);
      expect(built[1], tier).toBe(0);
      expect(built[2], tier).toBeGreaterThan(0);
      if (tier === 'jit') expect(e.cpu.blocks.compiled.length).toBeGreaterThan(0);
      expect(e.cpu.instructions, tier).toBe(ALL);
      expect(e.cpu.halted, tier).toBe(true);
      expect(e.cpu.getState(), tier).toEqual(ref.e.cpu.getState());
      expect(same(e.bus.ram, ref.e.bus.ram), tier).toBe(true);
    }
  });

  it('one run() that crosses it stops at it, then runs on in blocks to the exact budget', () => {
    blockTuning.blocksAfter = 10_000;
    const ref = run('interpreter', [50_003]);
    const { e, built } = run('blocks', [50_003]);
    expect(built[0]).toBeGreaterThan(0);
    expect(e.cpu.instructions).toBe(50_003);
    expect(e.cpu.getState()).toEqual(ref.e.cpu.getState());
  });

  it('0: blocks from the first instruction (what tier-comparison tests use)', () => {
    blockTuning.blocksAfter = 0;
    const { built } = run('blocks', [100]);
    expect(built[0]).toBeGreaterThan(0);
  });
});
