/**
 * Code that runs once must not pay for a block (issue 16): a guest sliding through zeroed RAM
 * (`00 00` = add [eax], al, never repeated) once ran ~60× slower on pre-decoded blocks than in the
 * interpreter — a block decoded per few instructions, the arena flushed again and again. Blocks
 * are now decoded on an address's second visit (blockTuning.secondVisit); the guest cannot tell.
 * Speed itself is measured by `npm run bench -- --only cold-code --tier blocks|interpreter`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { blockTuning, fastPaths } from './fastpaths.ts';
import { CODE, DATA, pmEnv } from './test/env.ts';
import { HLT, le } from './test/tiers.ts';

const BLOCKS_AFTER = blockTuning.blocksAfter;
afterEach(() => {
  fastPaths.blockCache = true;
  blockTuning.secondVisit = true;
  blockTuning.blocksAfter = BLOCKS_AFTER;
});

function run(code: number[], cache: boolean, budget: number) {
  fastPaths.blockCache = cache;
  blockTuning.blocksAfter = 0;
  const e = pmEnv(code);
  e.cpu.run(budget);
  return e;
}

describe('cold code under the block cache', () => {
  // mov eax, DATA ; jmp 0x100000 — then 3 MiB of zeroed RAM.
  const slide = [0xb8, ...le(DATA), 0xe9, ...le(0x100000 - (CODE + 10))];

  it('decodes no block for code that runs once, and ends exactly as the interpreter', () => {
    const on = run(slide, true, 200_000);
    const off = run(slide, false, 200_000);
    expect(on.cpu.instructions).toBe(200_000);
    expect(on.cpu.blocks.built).toBe(0);
    expect(on.cpu.getState()).toEqual(off.cpu.getState());
    // After a first visit the straight code that follows is interpreted without a lookup up to
    // the next branch (a lookup per instruction made this slide 2.2× slower than the interpreter
    // tier, one per 64 instructions still ~1.1×): the slide has no branch, so a lookup at the
    // JMP's target and one per fastLoop call (run() makes a few), not ~3 000.
    expect(on.cpu.blocks.lookups).toBeLessThan(10);
    // Before: one block per 48 instructions of the slide.
    blockTuning.secondVisit = false;
    expect(run(slide, true, 200_000).cpu.blocks.built).toBeGreaterThan(4000);
  });

  it('still decodes code that repeats (a loop runs in blocks from its second iteration)', () => {
    // mov ecx, 1000 ; L: inc eax ; dec ecx ; jnz L ; hlt
    const loop = [0xb9, ...le(1000), 0x40, 0x49, 0x75, 0xfc, HLT];
    const on = run(loop, true, 10_000);
    const off = run(loop, false, 10_000);
    expect(on.cpu.blocks.built).toBeGreaterThan(0);
    expect(on.cpu.getState()).toEqual(off.cpu.getState());
    expect(on.cpu.regs[0]).toBe(1000);
  });
});
