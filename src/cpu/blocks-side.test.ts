/**
 * Blocks that go on past a conditional branch (blockTuning.followJcc, off by default, on here): the
 * branch, when taken, leaves the block there (a side exit). Everything must stay what the interpreter does: state,
 * memory, fault frames and instruction counts, at every budget.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endJcc } from './block-fused.ts';
import { H_RECORDS, HANDLERS, HDR, REC } from './blocks.ts';
import type { Cpu } from './cpu.ts';
import { blockTuning } from './fastpaths.ts';
import { CODE, DATA, type Env, PT, stubVector } from './test/env.ts';
import { HLT, le, resetTier, runWith, same, twin } from './test/tiers.ts';

const MAX_JCC = blockTuning.maxJcc;
beforeEach(() => {
  blockTuning.followJcc = true;
});
afterEach(() => {
  resetTier();
  blockTuning.followJcc = false;
  blockTuning.maxJcc = MAX_JCC;
});

/** Records in the cache that are branches inside a block (side exits). */
function sideRecords(cpu: Cpu): number {
  const a = cpu.blocks.arena;
  let n = 0;
  for (let b = 0; a[b + H_RECORDS] > 0; b += HDR + a[b + H_RECORDS] * REC)
    for (let r = 0; r < a[b + H_RECORDS]; r++) if (endJcc(HANDLERS[a[b + HDR + r * REC]]) !== null) n++;
  return n;
}

// mov ecx, 40
// L: mov eax, ecx ; and eax, 3 ; cmp eax, 1 ; je A   (taken one pass in four: fused CMP+Jcc)
//    test cl, 4 ; jnz B                               (fused TEST+Jcc)
//    add ebx, ecx ; js C ; jmp C                      (plain Jcc, never taken, then a JMP)
// A: add edx, 7 ; jmp C
// B: inc esi
// C: dec ecx ; jnz L ; hlt
const LOOP = [
  0xb9,
  ...le(40),
  /* L  +5 */ 0x89,
  0xc8,
  0x83,
  0xe0,
  0x03,
  0x83,
  0xf8,
  0x01,
  0x74,
  0x0b,
  /* +15 */ 0xf6,
  0xc1,
  0x04,
  0x75,
  0x0b,
  /* +20 */ 0x01,
  0xcb,
  0x78,
  0x0a,
  0xeb,
  0x08,
  /* A +26 */ 0x83,
  0xc2,
  0x07,
  0xeb,
  0x03,
  /* B +31 */ 0x46,
  0x90,
  0x90,
  /* C +34 */ 0x49,
  0x75,
  0xe0,
  HLT,
];

const zero = (e: Env) => e.cpu.regs.fill(0, 0, 4);

describe('blocks that go on past a conditional branch', () => {
  it('a loop of branches taken and not taken: same state in every tier, with and without', () => {
    for (const maxJcc of [1, 2, 48]) {
      blockTuning.maxJcc = maxJcc;
      const on = twin(LOOP, { setup: zero });
      expect(on.cpu.halted).toBe(true);
      expect(on.cpu.regs[1]).toBe(0);
      expect(sideRecords(on.cpu as Cpu)).toBeGreaterThan(0);
      blockTuning.followJcc = false;
      const plain = runWith(true, LOOP, { setup: zero });
      blockTuning.followJcc = true;
      expect(sideRecords(plain.cpu as Cpu)).toBe(0);
      expect(on.cpu.getState()).toEqual(plain.cpu.getState());
      // One pass in four goes to A (EDX), half of the others to B (ESI): both sides ran.
      expect(on.cpu.regs[2]).toBe(7 * 10);
      expect(on.cpu.regs[6]).toBe(20 - 5);
    }
  });

  it('every budget stops at the same instruction as the interpreter (exits mid-block too)', () => {
    for (let n = 1; n <= 190; n += 9) {
      const on = runWith(true, LOOP, { budget: n });
      const jit = runWith('jit', LOOP, { budget: n });
      const off = runWith(false, LOOP, { budget: n });
      expect(on.cpu.instructions, `budget ${n}`).toBe(off.cpu.instructions);
      expect(on.cpu.getState(), `budget ${n}`).toEqual(off.cpu.getState());
      expect(jit.cpu.getState(), `budget ${n} (second tier)`).toEqual(off.cpu.getState());
    }
  });

  // cmp eax, 0 ; je T (taken on the second pass) ; inc ebx ; xor eax, eax ; jmp back to the CMP —
  // the taken side runs an instruction that faults: a load from a page that is not present, or
  // (far) a target on a page that is not present itself.
  const FAULT_DATA = DATA + 0x2000;
  const near = [
    0x83,
    0xf8,
    0x00,
    0x74,
    0x05,
    0x43,
    0x31,
    0xc0,
    0xeb,
    0xf6, // +0 … +9
    /* T +10 */ 0x8b,
    0x0d,
    ...le(FAULT_DATA),
    HLT,
  ];
  const FAR = CODE + 0x3000;
  const far = [0x83, 0xf8, 0x00, 0x0f, 0x84, ...le(FAR - (CODE + 9)), 0x43, 0x31, 0xc0, 0xeb, 0xf2, HLT];
  const notPresent = (addr: number) => (e: Env) => {
    e.cpu.regs[0] = 5;
    e.dv.setUint32(PT + (addr >>> 12) * 4, 0, true);
    e.cpu.flushTlb(false);
  };

  it('a taken branch whose target faults: the fault frame and count of the interpreter', () => {
    for (const [code, addr, eip] of [
      [near, FAULT_DATA, CODE + 10],
      [far, FAR, FAR],
    ] as const) {
      const e = twin(code, { paging: true, setup: notPresent(addr) });
      expect(stubVector(e.cpu)).toBe(14);
      expect(e.cpu.cr2 >>> 0).toBe(addr);
      expect(e.dv.getUint32(0x8000 - 12, true)).toBe(eip); // the pushed EIP: the target
      expect(e.cpu.regs[3]).toBe(1); // one pass fell through
      // CMP, JE, INC, XOR, JMP, CMP, JE, then the stub's HLT (the faulting access retires nothing).
      expect(e.cpu.instructions).toBe(8);
      expect(sideRecords(e.cpu as Cpu)).toBeGreaterThan(0);
    }
  });

  it('a store into the fall-through of a branch inside a block is seen on the next pass', () => {
    // L: dec ecx ; jz out ; mov byte [P+2], 2 ; P: add eax, 1 (patched to add eax, 2) ; jmp L
    const P = CODE + 10;
    const code = [0x49, 0x74, 0x0c, 0xc6, 0x05, ...le(P + 2), 0x02, 0x83, 0xc0, 0x01, 0xeb, 0xf1, HLT];
    const e = twin(code, { setup: (x) => (x.cpu.regs[1] = 5) });
    expect(e.cpu.halted).toBe(true);
    // The store lands after the ADD was decoded (same block) but before it runs: it runs
    // patched, as in the interpreter (SDM Vol.3 §8.1.3), so each of the 4 passes adds 2.
    expect(e.cpu.regs[0]).toBe(8);
    const off = runWith(false, code, { setup: (x) => (x.cpu.regs[1] = 5) });
    expect(e.cpu.regs[0]).toBe(off.cpu.regs[0]);
    expect(same(e.bus.ram, off.bus.ram)).toBe(true);
  });
});
