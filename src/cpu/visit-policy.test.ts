/**
 * When a block is decoded (blockTuning.secondVisit / buildVisit: on an address's first, second or
 * n-th visit, the visits before it interpreted, and the straight code after a first visit
 * interpreted up to the next branch) is a host-side choice the guest must not see. One guest
 * mixes code run once, four times, six times and often, a fall-through into a loop after a first
 * visit, straight code longer than a block, and a #DE whose handler records the faulting EIP; it
 * is stopped at several budgets (mid-block and mid-pass) under each policy and must match the
 * interpreter exactly: registers, flags, EIP, instruction count, memory, the recorded fault EIP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { blockTuning, fastPaths, jitTuning } from './fastpaths.ts';
import { CODE, DATA, IDT } from './test/env.ts';
import { HLT, JIT_AFTER, le, resetTier, runWith, same } from './test/tiers.ts';

afterEach(() => {
  resetTier();
  blockTuning.buildVisit = 2;
});

const HANDLER = CODE + 0x800;
const F = CODE + 0x900;
const G = CODE + 0xa00;

/** The program (at CODE), the #DE handler, F (called once) and G (called on four passes). */
function program(): { code: number[]; divAt: number } {
  const c: number[] = [];
  c.push(0xb9, ...le(6)); // mov ecx, 6
  const outer = c.length;
  // 80 straight instructions: add esi, ecx ; rol esi, 1 — longer than a block and than 64.
  for (let i = 0; i < 40; i++) c.push(0x01, 0xce, 0xd1, 0xc6);
  // cmp ecx, 3 ; jne +5 ; call F     (F runs on one pass only)
  c.push(0x83, 0xf9, 0x03, 0x75, 0x05, 0xe8, ...le(F - (CODE + c.length + 5)));
  // cmp ecx, 4 ; ja +5 ; call G      (G runs on passes 4, 3, 2, 1)
  c.push(0x83, 0xf9, 0x04, 0x77, 0x05);
  c.push(0xe8, ...le(G - (CODE + c.length + 5)));
  // mov ebx, ecx ; sub ebx, 2 ; mov eax, 100 ; xor edx, edx ; div ebx (#DE on the pass ecx = 2)
  c.push(0x89, 0xcb, 0x83, 0xeb, 0x02, 0xb8, ...le(100), 0x31, 0xd2);
  const divAt = CODE + c.length;
  c.push(0xf7, 0xf3);
  c.push(0x01, 0xc5); // add ebp, eax
  // mov edi, 5 ; L: add esi, edi ; dec edi ; jnz L   (entered by falling through)
  c.push(0xbf, ...le(5));
  const inner = c.length;
  c.push(0x01, 0xfe, 0x4f, 0x75, 0);
  c[c.length - 1] = (inner - c.length) & 0xff;
  // dec ecx ; jnz outer ; hlt
  c.push(0x49, 0x0f, 0x85, ...le(outer - (c.length + 6)));
  c.push(HLT);
  return { code: c, divAt };
}

/** push eax ; mov eax, [esp+4] ; mov [DATA+0x10], eax ; inc dword [DATA+0x14] ; pop eax ;
 *  add dword [esp], 2 ; iret — records the faulting EIP and skips the 2-byte DIV. */
const HANDLER_CODE = [
  0x50,
  0x8b,
  0x44,
  0x24,
  0x04,
  0xa3,
  ...le(DATA + 0x10),
  0xff,
  0x05,
  ...le(DATA + 0x14),
  0x58,
  0x83,
  0x04,
  0x24,
  0x02,
  0xcf,
];
// F: 12 × inc ebp ; ret      G: 6 × (add ebp, esi) ; ret
const F_CODE = [...Array(12).fill(0x45), 0xc3];
const G_CODE = [...Array(6).fill([0x01, 0xf5]).flat(), 0xc3];

type Policy = { name: string; tier: boolean | 'jit'; buildVisit: number };
const POLICIES: Policy[] = [
  { name: 'blocks, every visit decodes', tier: true, buildVisit: 1 },
  { name: 'blocks, second visit', tier: true, buildVisit: 2 },
  { name: 'blocks, third visit', tier: true, buildVisit: 3 },
  { name: 'blocks, fifth visit', tier: true, buildVisit: 5 },
  { name: 'second tier, third visit', tier: 'jit', buildVisit: 3 },
];

function run(p: Policy | null, budget: number) {
  const { code } = program();
  return runWith(p === null ? false : p.tier, code, {
    budget,
    setup: (e) => {
      e.bus.ram.set(HANDLER_CODE, HANDLER);
      e.bus.ram.set(F_CODE, F);
      e.bus.ram.set(G_CODE, G);
      e.dv.setUint16(IDT, HANDLER & 0xffff, true);
      e.dv.setUint16(IDT + 6, HANDLER >>> 16, true);
      if (p !== null) {
        // runWith's tier turns first visits off for blocks: the policy under test instead.
        blockTuning.secondVisit = p.buildVisit > 1;
        blockTuning.buildVisit = Math.max(2, p.buildVisit);
        if (p.tier === 'jit') jitTuning.jitAfter = 1;
        else jitTuning.jitAfter = JIT_AFTER;
        fastPaths.jit = p.tier === 'jit';
      }
    },
  });
}

describe('the first-visit policy is invisible to the guest', () => {
  const { divAt } = program();

  it('the program ends as planned in the interpreter', () => {
    const e = run(null, 100_000);
    expect(e.cpu.halted).toBe(true);
    expect(e.dv.getUint32(DATA + 0x14, true)).toBe(1); // one #DE, on the pass ecx = 2
    expect(e.dv.getUint32(DATA + 0x10, true)).toBe(divAt);
    expect(e.cpu.regs[1]).toBe(0);
  });

  for (const p of POLICIES) {
    it(`${p.name}: same state, count, memory and fault EIP at every budget`, () => {
      const full = run(null, 100_000).cpu.instructions;
      for (const budget of [1, 45, 97, 300, 611, 1000, 1234, full - 3, full]) {
        const off = run(null, budget);
        const on = run(p, budget);
        expect(on.cpu.instructions, `budget ${budget}`).toBe(off.cpu.instructions);
        expect(on.cpu.getState(), `budget ${budget}`).toEqual(off.cpu.getState());
        expect(same(on.bus.ram, off.bus.ram), `budget ${budget}: memory`).toBe(true);
      }
      const on = run(p, 100_000);
      expect(on.dv.getUint32(DATA + 0x10, true)).toBe(divAt);
      expect(on.cpu.blocks.built).toBeGreaterThan(0);
    });
  }

  it('the policies really differ: later decoding builds fewer blocks, interprets more visits', () => {
    const built = POLICIES.filter((p) => p.tier === true).map((p) => run(p, 100_000).cpu.blocks);
    for (let i = 1; i < built.length; i++) {
      expect(built[i]!.built).toBeLessThan(built[i - 1]!.built);
      expect(built[i]!.firstVisits).toBeGreaterThan(built[i - 1]!.firstVisits);
    }
  });
});
