/**
 * Page-sized regions (jit-region.ts) must be invisible to the guest. With `jitAfter = 1` every
 * block goes into a region at its first run, so these tests push all code through region
 * functions and compare with the plain interpreter: guests, faults, budgets, self-modifying code,
 * side exits, arena refills, and the page-work rule that decides when a page is compiled.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { H_JIT, H_RECORDS, HDR, REC } from './blocks.ts';
import type { Cpu } from './cpu.ts';
import { blockTuning, fastPaths, jitTuning } from './fastpaths.ts';
import { MonitorAction } from './interrupts.ts';
import { regionSource } from './jit-region.ts';
import { loadElf, makeCpu, runToExit } from './test/harness.ts';
import { pagedLoopCpu, runSideExits } from './test/jit-guests.ts';

const dir = resolve(__dirname, '../../guests/cputests');
const guests = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.elf') && !['triplefault.elf', 'x87.elf', 'apic.elf'].includes(f))
      .sort()
  : [];

const SAVED = { ...jitTuning };
type Tier = 'interpreter' | 'regions';
function setTier(t: Tier, eager = true): void {
  fastPaths.blockCache = t !== 'interpreter';
  fastPaths.jit = t === 'regions';
  jitTuning.regions = t === 'regions';
  jitTuning.jitAfter = eager ? 1 : SAVED.jitAfter;
  blockTuning.secondVisit = false;
  blockTuning.blocksAfter = 0;
}
const BLOCKS_AFTER = blockTuning.blocksAfter;
afterEach(() => {
  Object.assign(jitTuning, SAVED);
  fastPaths.blockCache = true;
  fastPaths.jit = true;
  blockTuning.secondVisit = true;
  blockTuning.blocksAfter = BLOCKS_AFTER;
});

describe('regions: self-checking guests', () => {
  it('found the guests', () => {
    expect(guests.length).toBeGreaterThan(5);
  });
  for (const g of guests) {
    it(`${g}: same output, exit code, instruction count and state as the interpreter`, () => {
      const boot = (t: Tier) => {
        setTier(t);
        const { cpu, bus } = makeCpu(32 << 20);
        bus.latchPorts = true;
        const entry = loadElf(bus.ram, new Uint8Array(readFileSync(resolve(dir, g))));
        cpu.enterProtectedFlat(entry, { eax: 0x2badb002, ebx: 0x9000 });
        return { cpu: cpu as Cpu, bus, code: runToExit(cpu, bus, 50_000_000) };
      };
      const reg = boot('regions');
      expect(reg.bus.serial.split(/\r?\n/).filter((l) => l.includes('FAIL'))).toEqual([]);
      expect(reg.code, reg.bus.serial).toBe(0);
      expect(reg.cpu.regions.compiledRegions).toBeGreaterThan(0);
      const plain = boot('interpreter');
      expect(reg.bus.serial).toBe(plain.bus.serial);
      expect(reg.cpu.instructions).toBe(plain.cpu.instructions);
      expect(reg.cpu.getState()).toEqual(plain.cpu.getState());
    });
  }
});

function loopCpu(t: Tier) {
  setTier(t);
  return pagedLoopCpu();
}

describe('regions: faults, budgets, self-modifying code, side exits', () => {
  it('a #PF inside a region: fault EIP, CR2, error code and count as the interpreter', () => {
    const results = (['regions', 'interpreter'] as const).map((t) => {
      const { cpu } = loopCpu(t);
      const events: Array<{ vector: number; eip: number; code: number }> = [];
      cpu.monitor = {
        onEvent: (ev) => {
          events.push({ vector: ev.vector, eip: ev.instrEip, code: ev.errorCode });
          return MonitorAction.Stop;
        },
      };
      cpu.run(10_000);
      return {
        events: events.slice(0, 1),
        cr2: cpu.cr2 >>> 0,
        n: cpu.instructions,
        eip: cpu.eip,
        regs: [...cpu.regs],
      };
    });
    expect(results[0].events[0]?.vector).toBe(14);
    expect(results[0].events[0]?.eip).toBe(0x1007); // the MOV EDX, [ESI]
    expect(results[0].cr2).toBe(0x40000);
    expect(results[0]).toEqual(results[1]);
  });

  it('run(budget) stops at the same instruction as the interpreter, for every budget', () => {
    for (let budget = 1; budget <= 60; budget++) {
      const states = (['regions', 'interpreter'] as const).map((t) => {
        const { cpu } = loopCpu(t);
        cpu.run(7); // warm: compile what runs
        cpu.run(budget);
        return { n: cpu.instructions, state: cpu.getState() };
      });
      expect(states[0], `budget ${budget}`).toEqual(states[1]);
    }
  });

  it('a store into the page of a running region retires it: the new code runs at once', () => {
    const run = (t: Tier) => {
      setTier(t);
      const { cpu, bus } = makeCpu(4 << 20);
      // L: mov eax, 1 ; add ebx, eax ; mov byte [0x1001], 5 (patch the immediate) ; dec ecx ; jnz L ; hlt
      bus.ram.set(
        [0xb8, 1, 0, 0, 0, 0x01, 0xc3, 0xc6, 0x05, 0x01, 0x10, 0, 0, 5, 0x49, 0x75, 0xef, 0xf4],
        0x1000,
      );
      cpu.enterProtectedFlat(0x1000, { ecx: 4, esp: 0x9000 });
      cpu.run(1000);
      return cpu as Cpu;
    };
    const reg = run('regions');
    expect(reg.regions.compiledRegions).toBeGreaterThan(1); // compiled again after the write
    expect(reg.regs[3]).toBe(1 + 5 + 5 + 5);
    const plain = run('interpreter');
    expect(reg.instructions).toBe(plain.instructions);
    expect(reg.getState()).toEqual(plain.getState());
  });

  it('a region entered before a store from another page rewrites it runs the new bytes', () => {
    // 0x1000: L: call 0x2000 ; add ebx, eax ; mov eax, 2 ; dec ecx ; jnz L ; hlt
    // 0x2000: mov byte [0x100b], 7 (the immediate of `mov eax, 2`) ; ret
    const run = (t: Tier) => {
      setTier(t);
      const { cpu, bus } = makeCpu(4 << 20);
      bus.ram.set([0xe8, 0xfb, 0x0f, 0, 0, 0x01, 0xc3, 0xb8, 2, 0, 0, 0, 0x49, 0x75, 0xf1, 0xf4], 0x1000);
      bus.ram.set([0xc6, 0x05, 0x08, 0x10, 0, 0, 7, 0xc3], 0x2000);
      cpu.enterProtectedFlat(0x1000, { ecx: 5, esp: 0x9000 });
      cpu.run(1000);
      return cpu as Cpu;
    };
    const reg = run('regions');
    const plain = run('interpreter');
    expect(reg.halted).toBe(true);
    expect(reg.regs[3]).toBe(plain.regs[3]);
    expect(reg.getState()).toEqual(plain.getState());
    expect(reg.instructions).toBe(plain.instructions);
  });

  it('loads, stores, pushes and pops off the fast path leave the region and end as the interpreter', () => {
    const run = (t: Tier) => {
      setTier(t);
      return runSideExits();
    };
    const reg = run('regions');
    expect(reg.cpu.regions.compiledRegions).toBeGreaterThan(0);
    expect(reg.cpu.halted).toBe(true);
    expect(reg.cpu.regs[1]).toBe(0x1234);
    const plain = run('interpreter');
    expect(reg.n).toBe(plain.n);
    expect(reg.state).toEqual(plain.state);
    expect(reg.ram).toEqual(plain.ram);
  });
});

// L: add eax, ebx ; xor edx, eax ; mov [esi], eax ; lea ecx, [eax+ebx*4+8] ; dec edi ; jnz L ; hlt
const PROG = [0x01, 0xd8, 0x31, 0xc2, 0x89, 0x06, 0x8d, 0x4c, 0x98, 0x08, 0x4f, 0x75, 0xf3, 0xf4];
const startProg = (t: Tier) => {
  setTier(t);
  const m = makeCpu(1 << 20);
  m.bus.ram.set(PROG, 0x1000);
  m.cpu.enterProtectedFlat(0x1000, { esi: 0x2000, eax: 3, ebx: 5, edi: 10_000, esp: 0x9000 });
  return m.cpu as Cpu;
};

/** The region function of the block at `ip` in the arena, if it has one. */
function regionFn(cpu: Cpu, ip: number): unknown {
  const a = cpu.blocks.arena;
  for (let b = 0; b < cpu.blocks.used; b += HDR + a[b + H_RECORDS] * REC)
    if (a[b + 1] === ip && a[b + H_JIT] < -1) return cpu.blocks.compiled[-2 - a[b + H_JIT]];
  return undefined;
}

describe('regions: generated source and arena refills', () => {
  it('one case per block, register-only records inline, its own copy of the records', () => {
    const cpu = startProg('regions');
    cpu.run(100);
    const a = cpu.blocks.arena;
    let b = 0;
    while (a[b + 1] !== 0x1000) b += HDR + a[b + H_RECORDS] * REC;
    const { body, records } = regionSource(a, [b]);
    expect(body).toContain('case 1: {');
    expect(body.split('case ').length).toBe(2);
    expect(body).toContain('c.setLazy('); // ADD inline
    expect(body).toContain('c.setLogic('); // XOR inline
    expect(body).toContain('m[p >>> 2] = v'); // the store's fast path
    expect(body).toContain('call(h'); // the fused DEC+JNZ: a handler call
    expect(records.length).toBe(a[b + H_RECORDS] * REC);
    expect(Array.from(records)).toEqual(Array.from(a.subarray(b + HDR, b + HDR + a[b + H_RECORDS] * REC)));
  });

  it('a region outlives an arena refill: the block decoded again gets it back, and it runs right', () => {
    const cpu = startProg('regions');
    cpu.run(500);
    const made = cpu.regions.compiledRegions;
    expect(made).toBeGreaterThan(0);
    const given = cpu.regions.attached;
    const before = regionFn(cpu, 0x1000);
    expect(before).toBeDefined();
    cpu.blocks.clear();
    expect(regionFn(cpu, 0x1000)).toBeUndefined();
    cpu.run(5000);
    // The loop's block, decoded again, runs the very function compiled before the refill.
    expect(regionFn(cpu, 0x1000)).toBe(before);
    expect(cpu.regions.attached).toBeGreaterThan(given);
    const plain = startProg('interpreter');
    plain.run(5500);
    expect(cpu.instructions).toBe(plain.instructions);
    expect(cpu.getState()).toEqual(plain.getState());
  });
});

describe('regions: when a page is compiled', () => {
  // A: add eax, ebx ; xor edx, eax ; mov [esi], eax ; lea ecx, [eax+ebx*4+8] ; mov ebp, 200 ;
  //    dec ebp ; jnz I          (7 instructions, once per outer iteration)
  // I: dec ebp ; jnz I          (199 runs per outer iteration)
  //    dec edi ; jnz A          (407 instructions per outer iteration)
  const LOOP = [
    0x01, 0xd8, 0x31, 0xc2, 0x89, 0x06, 0x8d, 0x4c, 0x98, 0x08, 0xbd, 200, 0, 0, 0, 0x4d, 0x75, 0xfd, 0x4f,
    0x75, 0xeb,
  ];
  const PER_PASS = 407;
  const start = (t: Tier) => {
    setTier(t, false);
    blockTuning.secondVisit = true; // the product setting
    jitTuning.jitAfter = 100;
    jitTuning.regionAfter = 100;
    jitTuning.regionWork = 20_000;
    jitTuning.regionMinRuns = 1;
    const m = makeCpu(1 << 20);
    m.bus.ram.set(LOOP, 0x1000);
    m.cpu.enterProtectedFlat(0x1000, { esi: 0x2000, eax: 3, ebx: 5, edi: 5000, esp: 0x9000 });
    return m.cpu as Cpu;
  };
  const regionOf = (cpu: Cpu, ip: number): number => {
    const a = cpu.blocks.arena;
    for (let b = 0; b < cpu.blocks.used; b += HDR + a[b + H_RECORDS] * REC)
      if (a[b + 1] === ip) return a[b + H_JIT];
    return 0;
  };
  it('after regionWork instructions of its blocks, counted in countdowns: one function for the page', () => {
    const cpu = start('regions');
    // The inner block (2 instructions) counts down every 100 runs: 200 instructions of work each
    // time; 20 000 are reached at its 100th countdown = 10 000 runs ≈ pass 51 (199 runs a pass,
    // after two interpreted passes). Pass 49: not yet.
    cpu.run(PER_PASS * 49);
    expect(cpu.regions.compiledRegions).toBe(0);
    expect(regionOf(cpu, 0x100f)).toBe(-1);
    cpu.run(PER_PASS * 4);
    expect(cpu.regions.compiledRegions).toBe(1);
    // Both blocks of the page that have run are cases of the one function.
    expect(regionOf(cpu, 0x100f)).toBeLessThan(-1);
    expect(regionOf(cpu, 0x1000)).toBe(regionOf(cpu, 0x100f));
    cpu.run(PER_PASS * 10);
    const plain = start('interpreter');
    plain.run(PER_PASS * 63);
    expect(cpu.getState()).toEqual(plain.getState());
    expect(cpu.regs[7]).toBe(5000 - 63);
  });
});
