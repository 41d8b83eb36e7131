/**
 * Under a Content-Security-Policy without 'unsafe-eval', `new Function` throws an EvalError: the
 * second tier must try once, switch itself off, and leave the blocks running in the first tier
 * with the guest none the wiser. (Its own file: the switch-off lasts for the module's lifetime.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Cpu } from './cpu.ts';
import { blockTuning, fastPaths, jitTuning } from './fastpaths.ts';
import { makeCpu } from './test/harness.ts';

const BLOCKS_AFTER = blockTuning.blocksAfter;
afterEach(() => {
  vi.unstubAllGlobals();
  jitTuning.jitAfter = 50_000;
  blockTuning.secondVisit = true;
  blockTuning.blocksAfter = BLOCKS_AFTER;
  fastPaths.jit = true;
});

// add eax, ebx ; xor edx, eax ; mov [esi], eax ; lea ecx, [eax+ebx*4+8] ; dec edi ; jnz (start) ; hlt
const PROG = [0x01, 0xd8, 0x31, 0xc2, 0x89, 0x06, 0x8d, 0x4c, 0x98, 0x08, 0x4f, 0x75, 0xf3, 0xf4];
function run(jit: boolean) {
  fastPaths.jit = jit;
  jitTuning.jitAfter = 1;
  blockTuning.secondVisit = false;
  blockTuning.blocksAfter = 0;
  const m = makeCpu(1 << 20);
  m.bus.ram.set(PROG, 0x1000);
  m.cpu.enterProtectedFlat(0x1000, { esi: 0x2000, eax: 3, ebx: 5, edi: 300, esp: 0x9000 });
  m.cpu.run(10_000);
  return m.cpu as Cpu;
}

describe('second tier under a CSP that forbids eval', () => {
  it('tries to compile once, then runs everything in the first tier, ending as without the tier', () => {
    let attempts = 0;
    const Real = globalThis.Function;
    vi.stubGlobal(
      'Function',
      new Proxy(Real, {
        construct() {
          attempts++;
          throw new EvalError('Code generation from strings disallowed for this context');
        },
      }),
    );
    const csp = run(true);
    vi.unstubAllGlobals();
    expect(attempts).toBe(1);
    expect(csp.blocks.compiled.length).toBe(0);
    expect(csp.halted).toBe(true);
    const blocks = run(false);
    expect(csp.instructions).toBe(blocks.instructions);
    expect(csp.getState()).toEqual(blocks.getState());
  });
});
