/**
 * 32-bit effective addresses wrap modulo 2^32 (SDM Vol.1 §3.7.5): base + index × scale +
 * displacement past 4 GiB on a flat segment lands at the low address, in the interpreter's
 * decoder (core.ts ea32, which keeps the sums int32) and in pre-decoded blocks alike.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DATA } from './test/env.ts';
import { HLT, le, resetTier, twin } from './test/tiers.ts';

afterEach(resetTier);

describe('effective addresses past 4 GiB wrap', () => {
  it('SIB with index, disp32 and disp8 forms', () => {
    const code = [
      ...[0xbb, ...le(0xf0000000)], // mov ebx, 0xF0000000
      ...[0xb9, ...le(0x04000000)], // mov ecx, 0x04000000 (×4 = 0x10000000)
      ...[0x8b, 0x84, 0x8b, ...le(DATA)], // mov eax, [ebx+ecx*4+DATA]      → DATA
      ...[0xbe, ...le(0xffffff00)], // mov esi, 0xFFFFFF00
      ...[0x8b, 0x96, ...le(DATA + 0x104)], // mov edx, [esi+DATA+0x104]    → DATA+4
      ...[0xbf, ...le(0xfffffff0)], // mov edi, 0xFFFFFFF0
      ...[0x8b, 0x6f, 0x50], // mov ebp, [edi+0x50]                          → 0x40
      ...[0x89, 0x84, 0x8b, ...le(DATA + 8)], // mov [ebx+ecx*4+DATA+8], eax → DATA+8
      HLT,
    ];
    const setup = ({ bus }: { bus: { ram: Uint8Array } }) => {
      const dv = new DataView(bus.ram.buffer);
      dv.setUint32(DATA, 0x11223344, true);
      dv.setUint32(DATA + 4, 0x55667788, true);
      dv.setUint32(0x40, 0x99aabbcc, true);
    };
    const { cpu, bus } = twin(code, { setup });
    expect(cpu.regs[0]! >>> 0).toBe(0x11223344);
    expect(cpu.regs[2]! >>> 0).toBe(0x55667788);
    expect(cpu.regs[5]! >>> 0).toBe(0x99aabbcc);
    expect(new DataView(bus.ram.buffer).getUint32(DATA + 8, true)).toBe(0x11223344);
  });
});
