/**
 * Instructions left to the interpreter in the middle of a block (block-mid.ts), and block links
 * across a CR3 write. Every case runs on the interpreter, on pre-decoded blocks and on the second
 * tier (twin), which must agree on registers, flags and memory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EBX, ECX, EDX } from './constants.ts';
import { CODE, DATA, PD, PT, stubVector } from './test/env.ts';
import { HLT, le, resetTier, runWith, twin } from './test/tiers.ts';

afterEach(resetTier);

/**
 * A kernel trap stub's save and restore around a little string work, five times over:
 * L: pusha ; push ds ; push es ; push fs ; push gs ; mov ax, 0x10 ; mov ds/es/fs/gs, ax ;
 *    mov esi, DATA ; mov edi, DATA + 0x100 ; movsd ; movsb ; stosd ; lodsb ; pushf ; pop eax ;
 *    mov [DATA + 0x200], eax ; pop gs ; pop fs ; pop es ; pop ds ; popa ; inc ebx ; dec ecx ; jnz L
 * hlt
 */
const STUB_LOOP = (() => {
  const head = [0xb9, ...le(5)]; // mov ecx, 5
  const body = [
    0x60,
    0x1e,
    0x06,
    0x0f,
    0xa0,
    0x0f,
    0xa8, // pusha ; push ds ; push es ; push fs ; push gs
    0x66,
    0xb8,
    0x10,
    0x00, // mov ax, 0x10
    0x8e,
    0xd8,
    0x8e,
    0xc0,
    0x8e,
    0xe0,
    0x8e,
    0xe8, // mov ds, ax ; mov es, ax ; mov fs, ax ; mov gs, ax
    0xbe,
    ...le(DATA),
    0xbf,
    ...le(DATA + 0x100), // mov esi, DATA ; mov edi, DATA + 0x100
    0xa5,
    0xa4,
    0xab,
    0xac, // movsd ; movsb ; stosd ; lodsb
    0x9c,
    0x58,
    0xa3,
    ...le(DATA + 0x200), // pushf ; pop eax ; mov [DATA + 0x200], eax
    0x0f,
    0xa9,
    0x0f,
    0xa1,
    0x07,
    0x1f,
    0x61, // pop gs ; pop fs ; pop es ; pop ds ; popa
    0x43,
    0x49, // inc ebx ; dec ecx
  ];
  const jnz = [0x75, -(body.length + 2) & 0xff];
  return [...head, ...body, ...jnz, HLT];
})();

describe('instructions interpreted in the middle of a block', () => {
  it('a trap stub of PUSHA, segment pushes and loads, string moves and POPA stays one block', () => {
    const setup = (e: { bus: { ram: Uint8Array } }) => e.bus.ram.set([1, 2, 3, 4, 5, 6, 7, 8, 9], DATA);
    const on = twin(STUB_LOOP, { setup });
    expect(on.cpu.regs[EBX]).toBe(5);
    expect(on.cpu.regs[ECX]).toBe(0);
    expect(on.cpu.halted).toBe(true);
    // movsd, movsb and stosd wrote DATA + 0x100…; pushf's image was stored.
    expect([...on.bus.ram.subarray(DATA + 0x100, DATA + 0x105)]).toEqual([1, 2, 3, 4, 5]);
    // Three blocks: the head, the 30-instruction loop body, HLT. With every interpreted
    // instruction ending its block, the body alone was 19 blocks.
    expect(on.cpu.blocks.built).toBeLessThanOrEqual(3);
  });

  it('a segment load that faults mid-block: #GP(selector) at its own EIP, earlier records retired', () => {
    // xor edx, edx ; inc ebx ; mov ax, 0x44 (past the GDT's limit) ; inc ebx ; mov ds, ax ; inc edx ; hlt
    const code = [0x31, 0xd2, 0x43, 0x66, 0xb8, 0x44, 0x00, 0x43, 0x8e, 0xd8, 0x42, HLT];
    const on = twin(code);
    expect(stubVector(on.cpu)).toBe(13);
    expect(on.cpu.regs[EBX]).toBe(2);
    expect(on.cpu.regs[EDX]).toBe(0);
    const dv = new DataView(on.bus.ram.buffer, on.bus.ram.byteOffset);
    const esp = on.cpu.regs[4];
    expect(dv.getUint32(esp, true)).toBe(0x44); // error code: the selector
    expect(dv.getUint32(esp + 4, true)).toBe(CODE + 8); // EIP of the MOV DS
  });

  it('a string store mid-block into its own later bytes runs the new code', () => {
    // xor edx, edx ; mov esi, DATA ; mov edi, X ; movsb ; X: inc ebx ; hlt   — DATA holds DEC EDX (4A)
    const x = CODE + 13;
    const code = [0x31, 0xd2, 0xbe, ...le(DATA), 0xbf, ...le(x), 0xa4, 0x43, HLT];
    const setup = (e: { bus: { ram: Uint8Array } }) => {
      e.bus.ram[DATA] = 0x4a;
    };
    const on = twin(code, { setup });
    expect(on.cpu.regs[EBX]).toBe(0);
    expect(on.cpu.regs[EDX]).toBe(-1);
  });

  it('REP string instructions still end a block (they may stop part-way)', () => {
    // mov ecx, 3 ; mov esi, DATA ; mov edi, DATA + 0x40 ; rep movsb ; inc ebx ; hlt
    const code = [0xb9, ...le(3), 0xbe, ...le(DATA), 0xbf, ...le(DATA + 0x40), 0xf3, 0xa4, 0x43, HLT];
    const on = twin(code);
    expect(on.cpu.regs[EBX]).toBe(1);
    expect(on.cpu.blocks.built).toBe(2);
  });
});

// ---- links across CR3 ---------------------------------------------------------------------------

const B = CODE + 0x1000; // linear page of the second block
const B2 = CODE + 0x2000; // other code, what linear B maps to under the second page directory
const BACK = CODE + 0x100;
const PD2 = 0x12000;
const PT2 = 0x13000;
const jmp = (at: number, to: number) => [0xe9, ...le(to - (at + 5))];

/**
 * mov ecx, 20 ; xor ebx, ebx
 * L: cmp ecx, 10 ; jne S ; mov eax, `cr3` ; mov cr3, eax ; S: jmp B
 * B: inc ebx ; jmp BACK        B2: add ebx, 100 ; jmp BACK
 * BACK: dec ecx ; jnz L ; hlt
 */
function cr3Program(cr3: number): (e: { bus: { ram: Uint8Array }; dv: DataView }) => void {
  const head = [0xb9, ...le(20), 0x31, 0xdb];
  const l = CODE + head.length;
  const at10 = [0xb8, ...le(cr3), 0x0f, 0x22, 0xd8];
  const s = l + 5 + at10.length;
  const body = [0x83, 0xf9, 0x0a, 0x75, at10.length, ...at10, ...jmp(s, B)];
  const back = [0x49, 0x0f, 0x85, ...le(l - (BACK + 7)), HLT];
  return (e) => {
    const ram = e.bus.ram;
    ram.set([...head, ...body], CODE);
    ram.set(back, BACK);
    ram.set([0x43, ...jmp(B + 1, BACK)], B);
    ram.set([0x83, 0xc3, 0x64, ...jmp(B + 3, BACK)], B2);
    // The second address space: the same as the first but for linear B, which maps B2.
    ram.copyWithin(PT2, PT, PT + 4096);
    e.dv.setUint32(PT2 + (B >>> 12) * 4, B2 | 7, true);
    e.dv.setUint32(PD2, PT2 | 7, true);
  };
}

describe('block links across a CR3 write', () => {
  it('a link into a page the new address space maps to other code is not followed', () => {
    const on = twin([], { paging: true, setup: cr3Program(PD2) });
    // Ten passes through B (inc) under the first page directory, ten through B2 under the second.
    expect(on.cpu.regs[EBX]).toBe(10 + 10 * 100);
    expect(on.cpu.halted).toBe(true);
  });

  it('reloading the same CR3 keeps running the same code', () => {
    const on = twin([], { paging: true, setup: cr3Program(PD) });
    expect(on.cpu.regs[EBX]).toBe(20);
    expect(on.cpu.halted).toBe(true);
  });

  it('the first tier alone agrees on the remap (links made before the write, followed after)', () => {
    const r = runWith(true, [], { paging: true, setup: cr3Program(PD2) });
    expect(r.cpu.regs[EBX]).toBe(10 + 10 * 100);
    // The loop ran on links: far fewer lookups than block runs (20 passes of 3–4 blocks).
    expect(r.cpu.blocks.lookups).toBeLessThan(30);
  });
});
