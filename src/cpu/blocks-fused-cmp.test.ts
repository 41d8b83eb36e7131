/**
 * Byte and memory compares fused with the Jcc after them (block-fused-cmp.ts): every form, every
 * condition code and operand pairs around the unsigned and signed boundaries, on the interpreter,
 * pre-decoded blocks and the second tier — taken or not (a store per case), the flags after each
 * pair (PUSHFD), the instruction count; and a compare whose memory operand faults.
 */
import { describe, expect, it } from 'vitest';
import { H_RECORDS, HANDLERS, HDR, REC } from './blocks.ts';
import type { Env } from './test/env.ts';
import { CODE, DATA, PT, stubVector } from './test/env.ts';
import { HLT, le, twin } from './test/tiers.ts';

const modrm = (mod: number, reg: number, rm: number) => (mod << 6) | (reg << 3) | rm;
const MEM = DATA + 0x40;
const at = (v: number) => [modrm(0, 0, 5), ...le(v)]; // reg field patched below
const mem = (reg: number, addr = MEM) => [modrm(0, reg, 5), ...le(addr)];

/** Operand pairs: equal, either order, the sign boundary, zero and all ones. */
const PAIRS8: Array<[number, number]> = [
  [0, 0],
  [1, 2],
  [2, 1],
  [0x7f, 0x80],
  [0x80, 0x7f],
  [0xff, 0],
  [0, 0xff],
  [0x80, 0x80],
  [0x10, 0x90],
  [0xfe, 0xff],
];
const PAIRS32: Array<[number, number]> = [
  [0, 0],
  [1, 2],
  [2, 1],
  [0x7fffffff, -0x80000000],
  [-0x80000000, 0x7fffffff],
  [-1, 0],
  [0, -1],
  [0x80, 0x7f],
  [0x12345678, 0x12345678],
  [-2, -1],
];

interface Form {
  name: string;
  /** The fused handler expected in the block cache. */
  handler: string;
  bits: 8 | 32;
  /** Bytes that set the operands to x and y and then compare (x first operand, y second). */
  code: (x: number, y: number) => number[];
}
const movEax = (v: number) => [0xb8, ...le(v)];
const movEbx = (v: number) => [0xbb, ...le(v)];
const movEcx = (v: number) => [0xb9, ...le(v)];
const movMem = (v: number) => [0xc7, 0x05, ...le(MEM), ...le(v)];
const FORMS: Form[] = [
  {
    name: 'CMP AL, BL (38)',
    handler: 'cmpRR8Jcc',
    bits: 8,
    code: (x, y) => [...movEax(x), ...movEbx(y), 0x38, modrm(3, 3, 0)],
  },
  {
    name: 'CMP AL, BL (3A)',
    handler: 'cmpRR8Jcc',
    bits: 8,
    code: (x, y) => [...movEax(x), ...movEbx(y), 0x3a, modrm(3, 0, 3)],
  },
  {
    name: 'CMP BH, CL',
    handler: 'cmpRR8Jcc',
    bits: 8,
    code: (x, y) => [...movEbx(x << 8), ...movEcx(y), 0x3a, modrm(3, 7, 1)],
  },
  {
    name: 'TEST AL, BL',
    handler: 'testRR8Jcc',
    bits: 8,
    code: (x, y) => [...movEax(x), ...movEbx(y), 0x84, modrm(3, 3, 0)],
  },
  { name: 'CMP AL, imm8 (3C)', handler: 'cmpRI8Jcc', bits: 8, code: (x, y) => [...movEax(x), 0x3c, y] },
  {
    name: 'CMP CH, imm8 (80 /7)',
    handler: 'cmpRI8Jcc',
    bits: 8,
    code: (x, y) => [...movEcx(x << 8), 0x80, modrm(3, 7, 5), y],
  },
  {
    name: 'CMP AL, [m8]',
    handler: 'cmpRM8Jcc',
    bits: 8,
    code: (x, y) => [...movEax(x), ...movMem(y), 0x3a, ...mem(0)],
  },
  {
    name: 'CMP [m8], BL',
    handler: 'cmpMR8Jcc',
    bits: 8,
    code: (x, y) => [...movMem(x), ...movEbx(y), 0x38, ...mem(3)],
  },
  {
    name: 'TEST [m8], BL',
    handler: 'testMR8Jcc',
    bits: 8,
    code: (x, y) => [...movMem(x), ...movEbx(y), 0x84, ...mem(3)],
  },
  {
    name: 'CMP [m8], imm8',
    handler: 'cmpMI8Jcc',
    bits: 8,
    code: (x, y) => [...movMem(x), 0x80, ...mem(7), y],
  },
  {
    name: 'TEST [m8], imm8',
    handler: 'testMI8Jcc',
    bits: 8,
    code: (x, y) => [...movMem(x), 0xf6, ...mem(0), y],
  },
  {
    name: 'CMP EAX, [m32]',
    handler: 'cmpRMJcc',
    bits: 32,
    code: (x, y) => [...movEax(x), ...movMem(y), 0x3b, ...mem(0)],
  },
  {
    name: 'CMP [m32], EBX',
    handler: 'cmpMRJcc',
    bits: 32,
    code: (x, y) => [...movMem(x), ...movEbx(y), 0x39, ...mem(3)],
  },
  {
    name: 'TEST [m32], EBX',
    handler: 'testMRJcc',
    bits: 32,
    code: (x, y) => [...movMem(x), ...movEbx(y), 0x85, ...mem(3)],
  },
  {
    name: 'CMP [m32], imm32',
    handler: 'cmpMIJcc',
    bits: 32,
    code: (x, y) => [...movMem(x), 0x81, ...mem(7), ...le(y)],
  },
  {
    name: 'CMP [m32], imm8',
    handler: 'cmpMIJcc',
    bits: 32,
    code: (x, y) => [...movMem(x), 0x83, ...mem(7), y & 0xff],
  },
  {
    name: 'TEST [m32], imm32',
    handler: 'testMIJcc',
    bits: 32,
    code: (x, y) => [...movMem(x), 0xf7, ...mem(0), ...le(y)],
  },
  // MOV r, [m] ; TEST r, r (x loaded, y unused).
  {
    name: 'MOV AL, [m8]; TEST AL, AL',
    handler: 'loadTest8Jcc',
    bits: 8,
    code: (x) => [...movMem(x), 0x8a, ...mem(0), 0x84, modrm(3, 0, 0)],
  },
  {
    name: 'MOV BH, [m8]; TEST BH, BH',
    handler: 'loadTest8Jcc',
    bits: 8,
    code: (x) => [...movMem(x), 0x8a, ...mem(7), 0x84, modrm(3, 7, 7)],
  },
  {
    name: 'MOV ESI, [m32]; TEST ESI, ESI',
    handler: 'loadTestJcc',
    bits: 32,
    code: (x) => [...movMem(x), 0x8b, ...mem(6), 0x85, modrm(3, 6, 6)],
  },
  // A load of another register than the one tested: the compare alone is fused.
  {
    name: 'MOV AL, [m8]; TEST BL, BL',
    handler: 'testRR8Jcc',
    bits: 8,
    code: (x, y) => [...movMem(y), ...movEbx(x), 0x8a, ...mem(0), 0x84, modrm(3, 3, 3)],
  },
];

/** Names of the handlers in the blocks built by a run. */
function handlersUsed(e: Env): Set<string> {
  const c = e.cpu.blocks;
  const a = c.arena;
  const seen = new Set<string>();
  for (let b = 0; b < c.used; b += HDR + a[b + H_RECORDS] * REC)
    for (let r = 0; r < a[b + H_RECORDS]; r++) seen.add(HANDLERS[a[b + HDR + r * REC]].name);
  return seen;
}

describe('byte and memory compares fused with Jcc', () => {
  for (const f of FORMS) {
    it(f.name, () => {
      const code: number[] = [];
      let i = 0;
      for (const [x0, y0] of f.bits === 8 ? PAIRS8 : PAIRS32) {
        // 83 /7 sign-extends its byte: compare against what the CPU sees.
        const y = f.name.endsWith('imm8') && f.bits === 32 ? (y0 << 24) >> 24 : y0;
        for (let cc = 0; cc < 16; cc++) {
          code.push(...f.code(x0, y), 0x70 | cc, 7); // Jcc over the store
          code.push(0xc6, 0x05, ...le(DATA + 0x200 + i++), 1); // mov byte [flag i], 1
          code.push(0x9c); // PUSHFD: the flags the pair left
        }
      }
      code.push(HLT);
      const e = twin(code, { budget: 100_000 });
      expect(e.cpu.halted).toBe(true);
      expect(handlersUsed(e).has(f.handler)).toBe(true);
      // Both directions were exercised (not a test that always branches one way).
      const taken = Array.from(e.bus.ram.subarray(DATA + 0x200, DATA + 0x200 + i)).filter(
        (v) => v === 0,
      ).length;
      expect(taken).toBeGreaterThan(i / 8);
      expect(taken).toBeLessThan(i - i / 8);
    });
  }

  it('a fused compare whose memory operand faults: #PF at the compare, the count before it', () => {
    const hole = DATA + 0x5000;
    for (const [f, handler] of [
      [[0x80, modrm(0, 7, 5), ...le(hole), 0x10], 'cmpMI8Jcc'], // CMP byte [hole], 0x10
      [[0x3a, ...at(hole)], 'cmpRM8Jcc'], // CMP AL, [hole]
      [[0x39, ...at(hole)], 'cmpMRJcc'], // CMP [hole], EAX
      [[0x81, modrm(0, 7, 5), ...le(hole), ...le(5)], 'cmpMIJcc'], // CMP dword [hole], 5
      [[0x8a, ...at(hole), 0x84, 0xc0], 'loadTest8Jcc'], // MOV AL, [hole]; TEST AL, AL
      [[0x8b, ...at(hole), 0x85, 0xc0], 'loadTestJcc'], // MOV EAX, [hole]; TEST EAX, EAX
    ] as const) {
      const code = [0x40, 0x43, ...f, 0x74, 1, 0x47, HLT]; // inc eax; inc ebx; cmp; je; inc edi
      const e = twin(code, {
        paging: true,
        setup: (env) => env.dv.setUint32(PT + (hole >>> 12) * 4, 0, true),
      });
      expect(stubVector(e.cpu)).toBe(14);
      expect(e.cpu.cr2 >>> 0).toBe(hole);
      expect(e.cpu.instructions).toBe(3); // INC, INC, the stub's HLT: the compare did not retire
      const esp = e.cpu.regs[4];
      expect(e.dv.getUint32(esp + 4, true)).toBe(CODE + 2); // the #PF frame's EIP: the compare
      expect(e.dv.getUint32(esp, true)).toBe(0); // error code: read, not present, supervisor
      expect(handlersUsed(e).has(handler)).toBe(true);
    }
  });
});
