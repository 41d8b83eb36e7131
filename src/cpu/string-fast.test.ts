/**
 * REP MOVS/STOS take a page-run fast path on direct RAM (string.ts bulkRun). These tests pin the
 * architectural results the one-element loop defines: overlap semantics, page-fault restart with
 * exact ESI/EDI/ECX, and the instruction count of long REPs (one per 4096-iteration chunk).
 */
import { describe, expect, it } from 'vitest';
import { StopReason } from './constants.ts';
import { makeCpu } from './test/harness.ts';

const CODE = 0x1000;

function setup(code: number[], regs: Record<string, number>, paging = false) {
  const { cpu, bus } = makeCpu(1 << 22);
  bus.ram.set([...code, 0xf4], CODE);
  cpu.enterProtectedFlat(CODE, { esp: 0x8000, ...regs });
  if (paging) {
    // Identity map 0..4 MiB except page 0x30 (not present); page directory 0x10000.
    const dv = new DataView(bus.ram.buffer);
    dv.setUint32(0x10000, 0x11000 | 3, true);
    for (let i = 0; i < 1024; i++) dv.setUint32(0x11000 + i * 4, i === 0x30 ? 0 : (i << 12) | 3, true);
    cpu.cr3 = 0x10000;
    cpu.cr0 |= 0x80000000;
    cpu.flushTlb(false);
  }
  return { cpu, bus, ram: bus.ram };
}

describe('REP MOVS/STOS fast path', () => {
  it('rep movsb with the destination one byte into the source replicates the pattern', () => {
    const { cpu, ram } = setup([0xf3, 0xa4], { esi: 0x20000, edi: 0x20001, ecx: 5000 });
    ram[0x20000] = 0xab;
    expect(cpu.run(100)).toBe(StopReason.Halt);
    for (let i = 0; i <= 5000; i++) expect(ram[0x20000 + i]).toBe(0xab);
    expect(cpu.regs[1]).toBe(0);
  });

  it('rep movsd copies forwards with memmove semantics when the destination is below', () => {
    const { cpu, ram } = setup([0xf3, 0xa5], { esi: 0x20004, edi: 0x20000, ecx: 3000 });
    for (let i = 0; i < 12004; i++) ram[0x20000 + i] = i & 0xff;
    cpu.run(100);
    for (let i = 0; i < 12000; i++) expect(ram[0x20000 + i]).toBe((i + 4) & 0xff);
    expect(cpu.regs[6]).toBe(0x20004 + 12000);
    expect(cpu.regs[7]).toBe(0x20000 + 12000);
  });

  it('counts one instruction per 4096-iteration chunk and leaves registers exact', () => {
    const { cpu, ram } = setup([0xf3, 0xab], { edi: 0x40000, ecx: 10000, eax: 0x11223344 });
    expect(cpu.run(100)).toBe(StopReason.Halt);
    expect(cpu.instructions).toBe(3 + 1); // chunks of 4096, 4096, 1808; then HLT
    expect(new DataView(ram.buffer).getUint32(0x40000 + 4 * 9999, true)).toBe(0x11223344);
    expect(ram[0x40000 + 40000]).toBe(0);
    expect(cpu.regs[7]).toBe(0x40000 + 40000);
  });

  it('a page fault mid-copy leaves ESI/EDI/ECX at the faulting element (restartable)', () => {
    // Destination runs into the not-present page 0x30000 after 0x100 bytes.
    const { cpu, ram } = setup([0xf3, 0xa4], { esi: 0x20000, edi: 0x2ff00, ecx: 0x300 }, true);
    ram.fill(0x5a, 0x20000, 0x20300);
    cpu.idtLimit = 0; // any delivery would fault further; we only inspect the state at the #PF
    cpu.run(1);
    expect(cpu.cr2 >>> 0).toBe(0x30000);
    expect(cpu.regs[1]).toBe(0x200);
    expect(cpu.regs[6]).toBe(0x20100);
    expect(cpu.regs[7]).toBe(0x30000);
    expect(ram[0x2ffff]).toBe(0x5a);
  });

  it('rep stosw at an odd address straddling pages writes every byte', () => {
    const { cpu, ram } = setup([0x66, 0xf3, 0xab], { edi: 0x20fff, ecx: 3, eax: 0xbeef });
    cpu.run(100);
    expect([...ram.subarray(0x20fff, 0x21005)]).toEqual([0xef, 0xbe, 0xef, 0xbe, 0xef, 0xbe]);
    expect(cpu.regs[7]).toBe(0x21005);
  });

  it('stops at an expand-up segment limit below 4 GiB: #GP at the first element beyond it', () => {
    // ES limit 0x20FFF (a VMM's truncated segment): the dword at 0x21000 is beyond it.
    const { cpu, ram } = setup([0xf3, 0xab], { edi: 0x20000, ecx: 0x1000, eax: 0x11223344 });
    cpu.setSeg(0, 0x18, 0, 0x20fff, cpu.segAr[0]);
    cpu.idtLimit = 0; // inspect the state at the #GP
    cpu.run(1);
    expect(cpu.regs[7]).toBe(0x21000);
    expect(cpu.regs[1]).toBe(0x1000 - 0x400);
    expect(new DataView(ram.buffer).getUint32(0x20ffc, true)).toBe(0x11223344);
    expect(ram[0x21000]).toBe(0);
  });

  it('copies through a DS limit below 4 GiB exactly as far as it allows', () => {
    const { cpu, ram } = setup([0xf3, 0xa5], { esi: 0x20000, edi: 0x30000, ecx: 0x800 });
    for (let i = 0; i < 0x2000; i++) ram[0x20000 + i] = (i * 7) & 0xff;
    cpu.setSeg(3, 0x18, 0, 0x207ff, cpu.segAr[3]);
    cpu.idtLimit = 0;
    cpu.run(1);
    expect(cpu.regs[6]).toBe(0x20800);
    expect(cpu.regs[1]).toBe(0x800 - 0x200);
    expect([...ram.subarray(0x30000, 0x30800)]).toEqual([...ram.subarray(0x20000, 0x20800)]);
    expect(ram[0x30800]).toBe(0);
  });
});
