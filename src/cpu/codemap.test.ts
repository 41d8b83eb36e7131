/**
 * Marking a page as holding decoded code must not flush the TLB (a flush is guest-visible: the
 * re-walk sets accessed bits the guest may have cleared), also when the TLB's fill list has
 * overflowed and every entry must be scanned.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Cpu } from './cpu.ts';
import { blockTuning } from './fastpaths.ts';
import { makeCpu } from './test/harness.ts';

const BLOCKS_AFTER = blockTuning.blocksAfter;
afterEach(() => {
  blockTuning.blocksAfter = BLOCKS_AFTER;
});

describe('code pages and the TLB', () => {
  for (const overflow of [false, true]) {
    it(`a new code page makes its write entries slow without a flush${overflow ? ' (fill list overflowed)' : ''}`, () => {
      // Blocks from the first instruction: decoding the loop is what makes its page a code page.
      blockTuning.blocksAfter = 0;
      const { cpu, bus } = makeCpu(32 << 20);
      const c = cpu as Cpu;
      // L: mov eax, 1 ; mov [0x1001], ebx (patches L's immediate) ; add ecx, eax ; dec edx ; jnz L ; hlt
      bus.ram.set(
        [0xb8, 1, 0, 0, 0, 0x89, 0x1d, 0x01, 0x10, 0, 0, 0x01, 0xc1, 0x4a, 0x75, 0xf0, 0xf4],
        0x1000,
      );
      cpu.enterProtectedFlat(0x1000, { ebx: 7, edx: 3, esp: 0x9000 });
      // Fill the TLB (paging off: one entry per page touched), past the fill list when asked.
      const pages = overflow ? 6000 : 100;
      for (let p = 0x100; p < 0x100 + pages; p++) cpu.xlate(p << 12, true);
      expect(c.fillOverflow).toBe(overflow);
      const probe = ~c.tlbWS[0x150]; // entries are stored inverted (mmu.ts)
      expect(probe).not.toBe(-1);
      // The page with the code already has a fast write entry (written before it held code).
      cpu.xlate(0x1000, true);
      expect(~c.tlbWS[1] & 1).toBe(0);
      cpu.run(1000);
      // First pass adds 1, later passes the patched 7: the store was seen by the next fetch.
      expect(cpu.regs[1]).toBe(1 + 7 + 7);
      expect(c.code.invalidations).toBeGreaterThan(0);
      // No flush happened: the unrelated entry is still there.
      expect(~c.tlbWS[0x150]).toBe(probe);
    });
  }
});
