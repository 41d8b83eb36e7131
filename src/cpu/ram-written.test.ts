/**
 * The CPU marks every RAM page it may write in `ramWritten` (cpu/bus.ts MemoryBus.written): a
 * recycled RAM buffer is zeroed from these marks alone (machine/memory.ts release), so a page
 * written and not marked would leak one guest's bytes into the next machine.
 */
import { describe, expect, it } from 'vitest';
import { StopReason } from './constants.ts';
import { makeCpu } from './test/harness.ts';

const CODE = 0x1000;

// mov [0x50000], eax ; mov edi, 0x60ff0 ; mov ecx, 8 ; rep stosd (crosses into 0x61000) ;
// mov byte [0x70123], al ; mov ebx, [0x81000] ; mov [0x81004], eax (the read's TLB fill already
// gave write access: the store takes the fast path, never physWrite) ; hlt
const PROG = [
  0xa3, 0x00, 0x00, 0x05, 0x00, 0xbf, 0xf0, 0x0f, 0x06, 0x00, 0xb9, 0x08, 0x00, 0x00, 0x00, 0xf3, 0xab, 0xa2,
  0x23, 0x01, 0x07, 0x00, 0x8b, 0x1d, 0x00, 0x10, 0x08, 0x00, 0xa3, 0x04, 0x10, 0x08, 0x00, 0xf4,
];

describe('pages the CPU writes are marked', () => {
  for (const paging of [false, true]) {
    it(`stores, REP STOS and ${paging ? 'the page walker (A/D bits)' : 'flat stores'} mark their pages`, () => {
      const { cpu, bus } = makeCpu(1 << 22);
      bus.ram.set(PROG, CODE);
      cpu.enterProtectedFlat(CODE, { esp: 0x8000, eax: 0x11223344 });
      if (paging) {
        // Identity map 0..4 MiB with A and D clear, so the walker writes them (physWrite32).
        const dv = new DataView(bus.ram.buffer);
        dv.setUint32(0x10000, 0x11000 | 3, true);
        for (let i = 0; i < 1024; i++) dv.setUint32(0x11000 + i * 4, (i << 12) | 3, true);
        // Page 0x81 already accessed and dirty: a read fills its write entry too.
        dv.setUint32(0x11000 + 0x81 * 4, 0x81000 | 0x63, true);
        cpu.cr3 = 0x10000;
        cpu.cr0 |= 0x80000000;
        cpu.flushTlb(false);
      }
      const preset = new Set([CODE >>> 12, 0x10, 0x11]);
      expect(cpu.run(1000)).toBe(StopReason.Halt);
      for (const p of [0x50, 0x60, 0x61, 0x70, 0x81])
        expect(cpu.ramWritten[p], `page ${p.toString(16)}`).toBe(1);
      if (paging) {
        expect(cpu.ramWritten[0x10]).toBe(1); // PDE accessed bit
        expect(cpu.ramWritten[0x11]).toBe(1); // PTE accessed/dirty bits
      }
      // Every page holding bytes the test did not put there is marked.
      for (let p = 0; p < bus.ram.length >>> 12; p++) {
        if (preset.has(p)) continue;
        const page = bus.ram.subarray(p * 4096, p * 4096 + 4096);
        if (page.some((b) => b !== 0)) expect(cpu.ramWritten[p], `page ${p.toString(16)}`).toBe(1);
      }
    });
  }
});
