/**
 * DIV/IDIV r/m32 as block records (block-div.ts): the quotient, remainder and #DE of the
 * interpreter's group3 on every tier, the same fault EIP, length and instruction count, and a
 * guest that divides by zero in a loop (minikernel's divzero bench) ending in the same state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TrapEvent } from './interrupts.ts';
import { CODE, DATA, IDT, PT } from './test/env.ts';
import { HLT, le, resetTier, runWith, stopAtEvent, TIERS, type Tier, twin } from './test/tiers.ts';

afterEach(resetTier);

const tierName = (t: Tier) => (t === false ? 'interpreter' : t === true ? 'blocks' : 'jit');
const MOV_EAX = (v: number) => [0xb8, ...le(v)];
const MOV_EDX = (v: number) => [0xba, ...le(v)];
const MOV_EBX = (v: number) => [0xbb, ...le(v)];
const DIV_EBX = [0xf7, 0xf3];
const IDIV_EBX = [0xf7, 0xfb];
const DIV_M = [0xf7, 0x35, ...le(DATA)]; // div dword [DATA]
const IDIV_M = [0xf7, 0x3d, ...le(DATA)]; // idiv dword [DATA]
const INC_ESI = 0x46;

describe('DIV/IDIV r/m32 records', () => {
  it('divide in the middle of a block: the interpreter’s results, one block', () => {
    const cases: [number, number, number, number[]][] = [
      // EDX, EAX, divisor, instruction
      [0, 100, 7, DIV_EBX],
      [3, 0x89abcdef, 0x10000, DIV_EBX],
      [0xffffffff, -100 >>> 0, 7, IDIV_EBX],
      [0, 100, -7 >>> 0, IDIV_EBX],
      [0xffffffff, 0x80000000, 0x80000000, IDIV_EBX],
    ];
    for (const [hi, lo, d, insn] of cases) {
      const code = [...MOV_EDX(hi), ...MOV_EAX(lo), ...MOV_EBX(d), ...insn, INC_ESI, HLT];
      const e = twin(code);
      expect(e.cpu.instructions).toBe(6);
      // The division did not end the block (an `interpret` record would: two blocks).
      expect(e.cpu.blocks.built, `${hi}:${lo} / ${d}`).toBe(1);
    }
    // Checked by hand: 0x3_89abcdef / 0x10000 = 0x389ab rem 0xcdef; -100 / 7 = -14 rem -2.
    const e = twin([...MOV_EDX(3), ...MOV_EAX(0x89abcdef), ...MOV_EBX(0x10000), ...DIV_EBX, HLT]);
    expect([e.cpu.regs[0], e.cpu.regs[2]]).toEqual([0x389ab, 0xcdef]);
    const f = twin([...MOV_EDX(0xffffffff), ...MOV_EAX(-100 >>> 0), ...MOV_EBX(7), ...IDIV_EBX, HLT]);
    expect([f.cpu.regs[0] | 0, f.cpu.regs[2] | 0]).toEqual([-14, -2]);
  });

  it('the memory forms read the dword first and divide by it', () => {
    for (const insn of [DIV_M, IDIV_M]) {
      const code = [...MOV_EDX(0), ...MOV_EAX(1000), ...insn, INC_ESI, HLT];
      const e = twin(code, { setup: (env) => env.dv.setUint32(DATA, 9, true) });
      expect([e.cpu.regs[0], e.cpu.regs[2], e.cpu.regs[6]]).toEqual([111, 1, 1]);
      expect(e.cpu.blocks.built).toBe(1);
    }
  });

  it('#DE and #PF: the same vector, EIP, length, error code and count on every tier', () => {
    // name, the MOVs before it, the division, its page not present
    const progs: [string, number[][], number[], boolean][] = [
      ['div by zero', [MOV_EBX(0)], DIV_EBX, false],
      ['div overflow', [MOV_EDX(8), MOV_EBX(8)], DIV_EBX, false],
      ['idiv -2^31 / -1', [MOV_EDX(0xffffffff), MOV_EAX(0x80000000), MOV_EBX(-1 >>> 0)], IDIV_EBX, false],
      ['div [m] = 0', [MOV_EAX(5)], DIV_M, false],
      ['idiv [m], page not present', [MOV_EAX(5)], IDIV_M, true],
    ];
    for (const [name, movs, insn, notPresent] of progs) {
      const code = [INC_ESI, ...movs.flat(), ...insn, INC_ESI, HLT];
      const seen = TIERS.map((tier) => {
        const got: TrapEvent[] = [];
        const e = runWith(tier, code, {
          paging: true,
          setup: (env) => {
            if (notPresent) env.dv.setUint32(PT + (DATA >>> 12) * 4, 0, true);
            stopAtEvent(env, got);
          },
        });
        return { got, state: e.cpu.getState(), tier: tierName(tier) };
      });
      for (const s of seen) {
        expect(s.got, `${name}, ${s.tier}`).toEqual(seen[1].got);
        expect(s.state, `${name}, ${s.tier}`).toEqual(seen[1].state);
      }
      expect(seen[1].got, name).toHaveLength(1);
      const ev = seen[1].got[0];
      const at = CODE + 1 + 5 * movs.length;
      expect([ev.vector, ev.errorCode, ev.instrEip, ev.eip, ev.length], name).toEqual([
        notPresent ? 14 : 0,
        notPresent ? 0 : -1,
        at,
        at,
        insn.length,
      ]);
      expect(seen[1].state.instructions, name).toBe(1 + movs.length);
    }
  });

  it('a guest dividing by zero in a loop: every #DE delivered, the same state on every tier', () => {
    // Vector 0's gate → H: add dword [esp], 2 (skip the 2-byte DIV) ; iret.
    // mov ecx, 40 ; xor ebx, ebx ; L: mov eax, ecx ; div ebx ; inc esi ; dec ecx ; jnz L ; hlt
    const loop = [0xb9, ...le(40), 0x31, 0xdb];
    const top = loop.length;
    loop.push(0x89, 0xc8, ...DIV_EBX, INC_ESI, 0x49, 0x75, 0);
    loop[loop.length - 1] = (top - loop.length) & 0xff;
    loop.push(HLT);
    const H = CODE + loop.length;
    const code = [...loop, 0x83, 0x04, 0x24, 0x02, 0xcf];
    const runs = TIERS.map((tier) => {
      const e = runWith(tier, code, {
        setup: (env) => {
          env.dv.setUint16(IDT, H & 0xffff, true);
          env.dv.setUint16(IDT + 6, H >>> 16, true);
        },
      });
      return { state: e.cpu.getState(), built: e.cpu.blocks.built, compiled: e.cpu.blocks.compiled.length };
    });
    expect(runs[0].state).toEqual(runs[1].state);
    expect(runs[2].state).toEqual(runs[1].state);
    // 2 + 40 × (mov, div (faults, not counted), inc, dec, jnz) + 40 × (add, iret) + hlt.
    expect(runs[1].state.instructions).toBe(2 + 40 * 4 + 40 * 2 + 1);
    expect(runs[1].state.regs[6]).toBe(40);
    expect(runs[0].built).toBeGreaterThan(0);
    expect(runs[2].compiled).toBeGreaterThan(0);
  });
});
