/**
 * The privileged 0F instructions (MOV CR/DR, CLTS, INVD/WBINVD, RDMSR/WRMSR, LLDT/LTR, LGDT/LIDT,
 * LMSW, INVLPG; RDTSC with CR4.TSD) throw their #GP(0) at CPL > 0 from their own function
 * (system.ts privOk): the same vector, error code, EIP, length and count on every tier, the operand
 * bytes decoded before the check (the length a monitor sees), and nothing of the instruction done.
 * At CPL 0 the same instructions run (the check's other side).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TrapEvent } from './interrupts.ts';
import { CODE, DATA } from './test/env.ts';
import { HLT, le, resetTier, runWith, stopAtEvent, TIERS, type Tier } from './test/tiers.ts';

afterEach(resetTier);

const tierName = (t: Tier) => (t === false ? 'interpreter' : t === true ? 'blocks' : 'jit');
const INC_ESI = 0x46;

/** name, bytes, the length the #GP reports (ModR/M and displacement decoded before the check). */
const PRIVILEGED: [string, number[], number][] = [
  ['mov cr0, eax', [0x0f, 0x22, 0xc0], 3],
  ['mov eax, cr0', [0x0f, 0x20, 0xc0], 3],
  ['mov cr3, eax', [0x0f, 0x22, 0xd8], 3],
  ['mov cr5, eax (#UD at CPL 0: #GP first)', [0x0f, 0x22, 0xe8], 3],
  ['mov dr7, eax', [0x0f, 0x23, 0xf8], 3],
  ['mov eax, dr6', [0x0f, 0x21, 0xf0], 3],
  ['clts', [0x0f, 0x06], 2],
  ['invd', [0x0f, 0x08], 2],
  ['wbinvd', [0x0f, 0x09], 2],
  ['wrmsr', [0x0f, 0x30], 2],
  ['rdmsr', [0x0f, 0x32], 2],
  ['lldt ax', [0x0f, 0x00, 0xd0], 3],
  ['ltr ax', [0x0f, 0x00, 0xd8], 3],
  ['lgdt [DATA]', [0x0f, 0x01, 0x15, ...le(DATA)], 7],
  ['lidt [DATA]', [0x0f, 0x01, 0x1d, ...le(DATA)], 7],
  ['lmsw ax', [0x0f, 0x01, 0xf0], 3],
  ['invlpg [DATA]', [0x0f, 0x01, 0x3d, ...le(DATA)], 7],
];

function events(code: number[], cpl: number, cr4 = 0) {
  return TIERS.map((tier) => {
    const got: TrapEvent[] = [];
    const e = runWith(tier, code, {
      cpl,
      setup: (env) => {
        env.cpu.cr4 = cr4;
        stopAtEvent(env, got);
      },
    });
    return { got, state: e.cpu.getState(), tier: tierName(tier) };
  });
}

describe('privileged 0F instructions at CPL 3', () => {
  it('#GP(0) at the instruction on every tier: vector, error code, EIP, length, count, state', () => {
    for (const [name, insn, len] of PRIVILEGED) {
      const code = [0xb8, ...le(0x80000011), INC_ESI, ...insn, INC_ESI, HLT];
      const seen = events(code, 3);
      for (const s of seen) expect(s, `${name}, ${s.tier}`).toEqual({ ...seen[1], tier: s.tier });
      const ev = seen[1].got[0];
      const at = CODE + 6;
      expect([ev.vector, ev.errorCode, ev.instrEip, ev.eip, ev.length], name).toEqual([13, 0, at, at, len]);
      expect(seen[1].state.instructions, name).toBe(2);
      expect(seen[1].state.regs[6], name).toBe(1);
      // Nothing of it done: CR0 as the environment set it (CD, NW, ET, PE).
      expect(seen[1].state.cr0 >>> 0, name).toBe(0x60000011);
    }
  });

  it('RDTSC: #GP(0) at CPL 3 with CR4.TSD, runs without it', () => {
    const code = [INC_ESI, 0x0f, 0x31, INC_ESI, HLT];
    const tsd = events(code, 3, 0x4);
    for (const s of tsd) expect(s.got, s.tier).toEqual(tsd[1].got);
    expect(tsd[1].got.map((e) => [e.vector, e.errorCode, e.instrEip, e.length])).toEqual([
      [13, 0, CODE + 1, 2],
    ]);
    const free = events(code, 3);
    // HLT at CPL 3 is then the one #GP, after all three instructions.
    expect(free[1].got.map((e) => [e.vector, e.instrEip])).toEqual([[13, CODE + 4]]);
    expect(free[1].state.instructions).toBe(3);
  });

  it('at CPL 0 they run: CLTS clears CR0.TS, MOV CR0 loads it, MOV DR0 stores', () => {
    // mov eax, 0x80000019 (PG off: 0x19 = PE|TS|ET) ; mov cr0, eax ; clts ; mov dr0, eax ;
    // mov ebx, cr0 ; hlt
    const code = [0xb8, ...le(0x19), 0x0f, 0x22, 0xc0, 0x0f, 0x06, 0x0f, 0x23, 0xc0, 0x0f, 0x20, 0xc3, HLT];
    const seen = events(code, 0);
    for (const s of seen) expect(s.state, s.tier).toEqual(seen[1].state);
    expect(seen[1].got).toEqual([]);
    expect(seen[1].state.regs[3]).toBe(0x11); // TS cleared by CLTS, ET kept
    expect(seen[1].state.instructions).toBe(6);
  });
});
