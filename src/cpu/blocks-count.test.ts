/**
 * Virtual time inside a block: everything that reads the instruction count in the middle of a
 * pre-decoded block must see the exact count, whatever the run loop's counting scheme (per record
 * today; per block was tried, PERF.md "Session 9 — disp15"): a device behind MMIO read and written
 * mid-block, an interpreted last record (RDTSC), a fault's monitor, an early exit and a conditional
 * branch taken inside a block. Each program runs on the interpreter, on blocks and on blocks
 * compiled by the second tier, and each reading is checked against a count made by hand — a count
 * off by one anywhere fails here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { blockTuning } from './fastpaths.ts';
import { MonitorAction } from './interrupts.ts';
import { CODE, DATA, type Env, PT } from './test/env.ts';
import { HLT, le, resetTier, runWith, TIERS, type Tier } from './test/tiers.ts';

afterEach(() => {
  resetTier();
  blockTuning.followJcc = false;
});

/** A "clock" device at physical CLOCK (above the test machine's 4 MiB of RAM): each read returns
 * a byte of the instruction count at that moment, each write logs the count. */
const CLOCK = 0x800000;
function clockDevice(e: Env, log: number[]): void {
  const { bus, cpu } = e;
  const read8 = bus.read8.bind(bus);
  const write8 = bus.write8.bind(bus);
  bus.read8 = (addr) =>
    addr >>> 12 === CLOCK >>> 12 ? (cpu.instructions >>> ((addr & 3) * 8)) & 0xff : read8(addr);
  bus.write8 = (addr, v) => {
    if (addr >>> 12 === CLOCK >>> 12) log.push(cpu.instructions);
    else write8(addr, v);
  };
}

const tierName = (t: Tier) => (t === false ? 'interpreter' : t === true ? 'blocks' : 'jit');

describe('the instruction count inside a block', () => {
  it('a device read or written in the middle of a block sees the exact count, in every tier', () => {
    // mov ecx,1 ; add ecx,2 ; mov eax,[CLOCK] ; mov ebx,eax ; lea edx,[ebx+1] ; mov esi,[CLOCK] ;
    // mov [CLOCK+4],ecx ; inc edi ; mov [DATA],esi ; hlt — all one block (HLT is its last record).
    const code = [
      ...[0xb9, ...le(1)],
      ...[0x83, 0xc1, 0x02],
      ...[0xa1, ...le(CLOCK)],
      ...[0x89, 0xc3],
      ...[0x8d, 0x53, 0x01],
      ...[0x8b, 0x35, ...le(CLOCK)],
      ...[0x89, 0x0d, ...le(CLOCK + 4)],
      0x47,
      ...[0x89, 0x35, ...le(DATA)],
      HLT,
    ];
    for (const tier of TIERS) {
      const log: number[] = [];
      const e = runWith(tier, code, { setup: (env) => clockDevice(env, log) });
      const name = tierName(tier);
      expect(e.cpu.regs[0], `${name}: first read`).toBe(2);
      expect(e.cpu.regs[6], `${name}: second read`).toBe(5);
      // A 32-bit store is four byte writes, all made by the 7th instruction.
      expect(log, `${name}: write`).toEqual([6, 6, 6, 6]);
      expect(e.dv.getUint32(DATA, true), name).toBe(5);
      expect(e.cpu.instructions, name).toBe(10);
      expect(e.cpu.halted, name).toBe(true);
      if (tier !== false) expect(e.cpu.blocks.built, name).toBeGreaterThan(0);
    }
  });

  it('RDTSC ending a block reads the count of the records before it', () => {
    // mov ecx,7 ; inc ecx ; lea eax,[ecx+ecx] ; mov edx,eax ; rdtsc ; hlt
    const code = [0xb9, ...le(7), 0x41, 0x8d, 0x04, 0x09, 0x89, 0xc2, 0x0f, 0x31, HLT];
    for (const tier of TIERS) {
      const e = runWith(tier, code, {});
      expect([e.cpu.regs[0], e.cpu.regs[2], e.cpu.instructions], tierName(tier)).toEqual([4, 0, 6]);
    }
  });

  it('a fault in the middle of a block: the monitor sees the count of the instructions before it', () => {
    // inc eax ; inc eax ; push eax ; mov ebx,[addr] (#PF: page not present) ; inc ecx ; hlt
    const addr = DATA + 0x2345;
    const code = [0x40, 0x40, 0x50, 0x8b, 0x1d, ...le(addr), 0x41, HLT];
    for (const tier of TIERS) {
      const seen: number[] = [];
      const e = runWith(tier, code, {
        paging: true,
        setup: (env) => {
          env.dv.setUint32(PT + (addr >>> 12) * 4, 0, true);
          env.cpu.monitor = {
            onEvent: (ev) => {
              seen.push(ev.vector, ev.instrEip - CODE, env.cpu.instructions);
              return MonitorAction.Stop;
            },
          };
        },
      });
      expect(seen, tierName(tier)).toEqual([14, 3, 3]);
      expect(e.cpu.instructions, tierName(tier)).toBe(3);
    }
  });

  it('inside blocks that go on past a branch: fused pairs, taken branches and a device read', () => {
    blockTuning.followJcc = true;
    // mov ecx,3 ; L: dec ecx ; jz D ; mov eax,[CLOCK] ; add [DATA],eax ; cmp ecx,2 ; je L ;
    // jmp L ; D: mov esi,[CLOCK] ; hlt. DEC+JZ and CMP+JE are fused pairs inside blocks; JE is
    // taken on the first pass, JZ on the third. Counts before each read, by hand: pass 1 —
    // mov, dec, jz → 3; pass 2 — + read, add, cmp, je, dec, jz → 9; pass 3 — + read, add, cmp,
    // je, jmp, dec, jz → 16 for the read at D; with the HLT, 18 instructions.
    const L = 5;
    const code = [
      ...[0xb9, ...le(3)],
      0x49, // L: dec ecx
      ...[0x74, 0], // jz D
      ...[0xa1, ...le(CLOCK)],
      ...[0x01, 0x05, ...le(DATA)],
      ...[0x83, 0xf9, 0x02],
      ...[0x74, 0], // je L
      ...[0xeb, 0], // jmp L
      ...[0x8b, 0x35, ...le(CLOCK)], // D
      HLT,
    ];
    const D = code.length - 7;
    code[7] = D - 8;
    code[23] = (L - 24) & 0xff;
    code[25] = (L - 26) & 0xff;
    const results = TIERS.map((tier) => {
      const e = runWith(tier, code, { setup: (env) => clockDevice(env, []) });
      return [e.dv.getUint32(DATA, true), e.cpu.regs[6], e.cpu.instructions, e.cpu.halted];
    });
    expect(results[1]).toEqual([3 + 9, 16, 18, true]);
    expect(results[0]).toEqual(results[1]);
    expect(results[2]).toEqual(results[1]);
  });
});
