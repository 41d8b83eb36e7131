/**
 * Block links across INVLPG (codemap.ts, epoch): a link is followed only while the linear →
 * physical mapping of the code it leads to is unchanged. An INVLPG that drops the translation of a
 * code page (here after its PTE was pointed at other code) must stop every link into it; an INVLPG
 * of a data page (a VMM's shadow updates, write protection) keeps them. Every case runs on the
 * interpreter, on pre-decoded blocks and on the second tier (twin), which must agree.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EBX } from './constants.ts';
import { CODE, DATA, PT, stubVector } from './test/env.ts';
import { HLT, le, resetTier, runWith, twin } from './test/tiers.ts';

afterEach(resetTier);

const B = CODE + 0x1000; // linear page of the second block (identity-mapped at first)
const B2 = CODE + 0x2000; // other code, mapped at B by the remap
const BACK = CODE + 0x100;

/** `jmp to` encoded at linear `at` (E9 rel32). */
const jmp = (at: number, to: number) => [0xe9, ...le(to - (at + 5))];

/**
 * mov ecx, 20 ; xor ebx, ebx
 * L: cmp ecx, 10 ; jne S ; `at10` ; S: `every` ; jmp B      (page A: ends at the JMP to page B)
 * B: inc ebx ; jmp BACK         B2: add ebx, 100 ; jmp BACK
 * BACK: dec ecx ; jnz L ; hlt
 */
function program(at10: number[], every: number[]): (e: { bus: { ram: Uint8Array } }) => void {
  const head = [0xb9, ...le(20), 0x31, 0xdb];
  const l = CODE + head.length;
  const s = l + 5 + at10.length;
  const body = [0x83, 0xf9, 0x0a, 0x75, at10.length, ...at10, ...every, ...jmp(s + every.length, B)];
  const back = [0x49, 0x0f, 0x85, ...le(l - (BACK + 7)), HLT];
  return (e) => {
    const ram = e.bus.ram;
    ram.set([...head, ...body], CODE);
    ram.set(back, BACK);
    ram.set([0x43, ...jmp(B + 1, BACK)], B);
    ram.set([0x83, 0xc3, 0x64, ...jmp(B + 3, BACK)], B2); // it runs at linear B
  };
}

// mov dword [PT + (B >> 12) * 4], B2 | 7 ; invlpg [B]
const REMAP = [0xc7, 0x05, ...le(PT + (B >>> 12) * 4), ...le(B2 | 7), 0x0f, 0x01, 0x3d, ...le(B)];
// mov eax, [DATA] ; invlpg [DATA]
const DATA_INVLPG = [0xa1, ...le(DATA), 0x0f, 0x01, 0x3d, ...le(DATA)];

describe('block links across INVLPG', () => {
  it('a link into a page that INVLPG remapped to other code is not followed', () => {
    const on = twin([], { paging: true, setup: program(REMAP, []) });
    // Ten passes through B (inc), then ten through the code now mapped there (add 100).
    expect(on.cpu.regs[EBX]).toBe(10 + 10 * 100);
    expect(on.cpu.halted).toBe(true);
  });

  it('INVLPG of a data page keeps the links: the loop runs without hash lookups', () => {
    const on = twin([], { paging: true, setup: program([], DATA_INVLPG) });
    expect(on.cpu.regs[EBX]).toBe(20);
    // Each distinct block is looked up once or twice (its first run, and once to link from a block
    // that first ran before it); 20 passes of 3–4 blocks would look up ~70 times if each INVLPG
    // dropped every link.
    const first = runWith(true, [], { paging: true, setup: program([], DATA_INVLPG) });
    expect(first.cpu.blocks.lookups).toBeLessThan(16);
  });

  it('an indirect jump with four targets finds them in the jump cache, not the hash table', () => {
    // mov ecx, 40 ; L: mov eax, ecx ; and eax, 3 ; jmp [DATA + eax*4]
    // T0: inc ebx ; jmp N   T1: add ebx, 2 ; jmp N   T2: add ebx, 4 ; jmp N   T3: add ebx, 8 ; jmp N
    // N: dec ecx ; jnz L ; hlt
    const l = CODE + 5;
    const t = [CODE + 0x40, CODE + 0x50, CODE + 0x60, CODE + 0x70];
    const n = CODE + 0x80;
    const setup = (e: { bus: { ram: Uint8Array } }) => {
      const ram = e.bus.ram;
      ram.set([0xb9, ...le(40), 0x89, 0xc8, 0x83, 0xe0, 0x03, 0xff, 0x24, 0x85, ...le(DATA)], CODE);
      ram.set([0x43, ...jmp(t[0] + 1, n)], t[0]);
      for (let k = 1; k < 4; k++) ram.set([0x83, 0xc3, 1 << k, ...jmp(t[k] + 3, n)], t[k]);
      ram.set([0x49, 0x0f, 0x85, ...le(l - (n + 7)), HLT], n);
      for (let k = 0; k < 4; k++) ram.set(le(t[k]), DATA + 4 * k);
    };
    const on = twin([], { paging: true, setup });
    expect(on.cpu.regs[EBX]).toBe(10 * (1 + 2 + 4 + 8));
    const blocks = runWith(true, [], { paging: true, setup }).cpu.blocks;
    // 40 passes, each a miss of the jump's two links for one pass in two at least.
    expect(blocks.lookups).toBeGreaterThan(20);
    expect(blocks.lookups - blocks.jumpHits).toBeLessThan(12);
  });

  it('a link made at CPL 0 into a supervisor page is not followed at CPL 3: #PF(5) instead', () => {
    // mov ecx, 3 ; L: jmp Y ; N: dec ecx ; jnz L ; then IRET to CPL 3 at L.  Y: inc ebx ; jmp N
    // Y's page is supervisor-only, so the user's jmp Y must fault, although CPL 0 linked L → Y.
    const l = CODE + 5;
    const n = CODE + 10;
    const y = CODE + 0x1000;
    const setup = (e: { bus: { ram: Uint8Array } }) => {
      const ram = e.bus.ram;
      const iret = [0x6a, 0x23, 0x68, ...le(0x7000), 0x9c, 0x6a, 0x1b, 0x68, ...le(l), 0xcf];
      ram.set([0xb9, ...le(3), ...jmp(l, y), 0x49, 0x75, (l - (n + 3)) & 0xff, ...iret], CODE);
      ram.set([0x43, ...jmp(y + 1, n)], y);
      ram.set(le(y | 3), PT + (y >>> 12) * 4);
    };
    const on = twin([], { paging: true, setup });
    expect(on.cpu.regs[EBX]).toBe(3);
    expect(stubVector(on.cpu)).toBe(14);
    expect(on.cpu.cr2 >>> 0).toBe(y);
    const dv = new DataView(on.bus.ram.buffer, on.bus.ram.byteOffset);
    expect(dv.getUint32(on.cpu.regs[4], true)).toBe(5); // present, user, read
  });
});
