/**
 * Prefixes in pre-decoded code (predecode.ts PREFIX_KIND): segment overrides and 66h in either
 * order, two overrides (the last one counts, SDM Vol.2 §2.1.1), more prefixes than the
 * predecoder takes (left to the interpreter), and TEST with a memory operand — on the
 * interpreter, on blocks and on compiled blocks, which must agree on registers, flags and memory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Cpu } from './cpu.ts';
import { CpuSeg } from './segments.ts';
import { DATA, stubVector } from './test/env.ts';
import { HLT, le, resetTier, twin } from './test/tiers.ts';

afterEach(resetTier);

const FS_BASE = DATA + 0x100;
const GS_BASE = DATA + 0x200;
const FS = 4;
const GS = 5;

describe('prefixes in pre-decoded blocks', () => {
  it('segment overrides, 66h before and after them, two overrides, five prefixes, TEST m', () => {
    // Each line ends in a store or register the comparison sees; PUSHFD keeps the flags of each TEST.
    const code = [
      ...[0x64, 0xa1, ...le(0x10)], // mov eax, fs:[0x10]
      ...[0x65, 0x8b, 0x1d, ...le(0x14)], // mov ebx, gs:[0x14]
      ...[0x65, 0x89, 0x05, ...le(0x20)], // mov gs:[0x20], eax
      ...[0x66, 0x64, 0x89, 0x05, ...le(0x30)], // mov fs:[0x30], ax   (66h first)
      ...[0x64, 0x66, 0x89, 0x1d, ...le(0x34)], // mov fs:[0x34], bx   (66h after FS)
      ...[0x64, 0x65, 0x8b, 0x0d, ...le(0x40)], // mov ecx, gs:[0x40]  (FS then GS: GS)
      ...[0x65, 0x3e, 0x8b, 0x35, ...le(DATA + 0x48)], // mov esi, ds:[DATA+0x48] (GS then DS: DS)
      ...[0x89, 0x35, ...le(DATA + 0x1c0)], // mov [DATA+0x1c0], esi
      ...[0x26, 0x2e, 0x36, 0x3e, 0x64, 0x8b, 0x2d, ...le(0x44)], // five prefixes: mov ebp, fs:[0x44]
      ...[0x64, 0x85, 0x05, ...le(0x10)], // test fs:[0x10], eax
      0x9c, // pushfd
      ...[0x65, 0x84, 0x1d, ...le(0x15)], // test gs:[0x15], bl
      0x9c,
      ...[0x66, 0x64, 0x85, 0x0d, ...le(0x18)], // test fs:[0x18], cx
      0x9c,
      ...[0x66, 0x05, 0x34, 0x82], // add ax, 0x8234
      ...[0x66, 0x3d, 0xff, 0x7f], // cmp ax, 0x7fff
      0x9c,
      // Prefixes the interpreter takes (its prefix loop): 67h, REP with an override, LOCK.
      ...[0xbb, ...le(0x12340100)], // mov ebx, 0x12340100
      ...[0x67, 0x8b, 0x07], // mov eax, [bx]        (16-bit addressing: DS:0x0100)
      ...[0xbe, ...le(0x50)], // mov esi, 0x50
      ...[0xbf, ...le(DATA + 0x180)], // mov edi, DATA+0x180
      ...[0xb9, ...le(6)], // mov ecx, 6
      ...[0xf3, 0x64, 0xa4], // rep movsb es:[edi], fs:[esi]
      ...[0xb9, ...le(3)], // mov ecx, 3
      ...[0x66, 0xf3, 0xab], // rep stosw
      ...[0xf0, 0xff, 0x05, ...le(DATA + 0x60)], // lock inc dword [DATA+0x60]
      ...[0x2e, 0x67, 0x66, 0x8b, 0x17], // mov dx, cs:[bx]
      ...[0xf0, 0x40], // lock inc eax: #UD (LOCK needs a memory destination)
      HLT,
    ];
    const setup = ({ cpu, bus }: { cpu: Cpu; bus: { ram: Uint8Array } }) => {
      cpu.setSeg(FS, 0x10, FS_BASE, 0xffffffff, CpuSeg.flatAr(false, 0));
      cpu.setSeg(GS, 0x10, GS_BASE, 0xffffffff, CpuSeg.flatAr(false, 0));
      for (let i = 0; i < 0x200; i++) bus.ram[DATA + i] = (i * 37 + 11) & 0xff;
      bus.ram.set([0x78, 0x56, 0x34, 0x12], 0x100);
    };
    const on = twin(code, { setup });
    const { cpu, bus } = on;
    const dv = new DataView(bus.ram.buffer);
    const at = (a: number) => dv.getUint32(a, true);
    // The architectural results, so that all three agreeing on a wrong segment would fail too.
    expect(at(GS_BASE + 0x20)).toBe(at(FS_BASE + 0x10));
    expect(dv.getUint16(FS_BASE + 0x34, true)).toBe(at(GS_BASE + 0x14) & 0xffff);
    expect(cpu.regs[1]! >>> 0).toBe(at(GS_BASE + 0x40));
    expect(at(DATA + 0x1c0)).toBe(at(DATA + 0x48));
    expect(cpu.regs[5]! >>> 0).toBe(at(FS_BASE + 0x44));
    const pattern = (i: number) => (i * 37 + 11) & 0xff;
    expect(cpu.regs[0]! >>> 0).toBe(0x12345678);
    expect([...bus.ram.subarray(DATA + 0x180, DATA + 0x186)]).toEqual([
      ...bus.ram.subarray(FS_BASE + 0x50, FS_BASE + 0x56),
    ]);
    expect([...bus.ram.subarray(DATA + 0x186, DATA + 0x18c)]).toEqual([0x78, 0x56, 0x78, 0x56, 0x78, 0x56]);
    expect(cpu.regs[7]! >>> 0).toBe(DATA + 0x18c);
    const before = pattern(0x60) | (pattern(0x61) << 8) | (pattern(0x62) << 16) | (pattern(0x63) << 24);
    expect(at(DATA + 0x60)).toBe((before + 1) >>> 0);
    expect(cpu.regs[2]! & 0xffff).toBe(0x5678);
    expect(stubVector(cpu)).toBe(6);
    // Blocks were really built for it (the cache run is the one returned).
    expect(cpu.blocks.built).toBeGreaterThan(0);
  });
});
