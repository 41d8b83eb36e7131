/**
 * The second tier (jit.ts) must be invisible to the guest. With `jitAfter = 1` every block is
 * compiled on its first run, so these tests push all code through compiled functions and compare
 * with the first tier and with the plain interpreter.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { H_JIT, H_RECORDS, HDR, REC } from './blocks.ts';
import type { Cpu } from './cpu.ts';
import { blockTuning, fastPaths, jitTuning } from './fastpaths.ts';
import { MonitorAction } from './interrupts.ts';
import { blockSource } from './jit.ts';
import { loadElf, makeCpu, runToExit } from './test/harness.ts';
import { pagedLoopCpu } from './test/jit-guests.ts';

const dir = resolve(__dirname, '../../guests/cputests');
const guests = existsSync(dir)
  ? readdirSync(dir)
      // x87/apic need machine options: src/machine/x87.test.ts, apic.test.ts compare their tiers.
      .filter((f) => f.endsWith('.elf') && !['triplefault.elf', 'x87.elf', 'apic.elf'].includes(f))
      .sort()
  : [];

type Tier = 'interpreter' | 'blocks' | 'jit';
function setTier(t: Tier): void {
  fastPaths.blockCache = t !== 'interpreter';
  fastPaths.jit = t === 'jit';
  jitTuning.jitAfter = 1;
  blockTuning.secondVisit = false;
  blockTuning.blocksAfter = 0;
}
const BLOCKS_AFTER = blockTuning.blocksAfter;
const JIT_WORK = jitTuning.jitWork;
const JIT_HOT_WORK = jitTuning.jitHotWork;
afterEach(() => {
  jitTuning.jitWork = JIT_WORK;
  jitTuning.jitHotWork = JIT_HOT_WORK;
  fastPaths.blockCache = true;
  fastPaths.jit = true;
  jitTuning.jitAfter = 50_000;
  blockTuning.secondVisit = true;
  blockTuning.blocksAfter = BLOCKS_AFTER;
});

function bootGuest(file: string, tier: Tier) {
  setTier(tier);
  const { cpu, bus } = makeCpu(32 << 20);
  bus.latchPorts = true;
  const entry = loadElf(bus.ram, new Uint8Array(readFileSync(resolve(dir, file))));
  cpu.enterProtectedFlat(entry, { eax: 0x2badb002, ebx: 0x9000 });
  const code = runToExit(cpu, bus, 50_000_000);
  return { cpu, bus, code };
}

describe('second tier: self-checking guests', () => {
  it('found the guests', () => {
    expect(guests.length).toBeGreaterThan(5);
  });
  for (const g of guests) {
    it(`${g}: same output, exit code and instruction count in all three tiers`, () => {
      const jit = bootGuest(g, 'jit');
      expect(jit.bus.serial.split(/\r?\n/).filter((l) => l.includes('FAIL'))).toEqual([]);
      expect(jit.code, jit.bus.serial).toBe(0);
      expect((jit.cpu as Cpu).blocks.compiled.length).toBeGreaterThan(0);
      const blocks = bootGuest(g, 'blocks');
      const plain = bootGuest(g, 'interpreter');
      for (const other of [blocks, plain]) {
        expect(jit.bus.serial).toBe(other.bus.serial);
        expect(jit.cpu.instructions).toBe(other.cpu.instructions);
        expect(jit.cpu.getState()).toEqual(other.cpu.getState());
      }
    });
  }
});

function loopCpu(tier: Tier) {
  setTier(tier);
  return pagedLoopCpu();
}

describe('second tier: faults, budgets and self-modifying code', () => {
  it('a #PF inside a compiled block: fault EIP, CR2, error code and count as the interpreter', () => {
    const results = (['jit', 'blocks', 'interpreter'] as const).map((t) => {
      const { cpu } = loopCpu(t);
      const events: Array<{ vector: number; eip: number; code: number }> = [];
      cpu.monitor = {
        onEvent: (ev) => {
          events.push({ vector: ev.vector, eip: ev.instrEip, code: ev.errorCode });
          return MonitorAction.Stop;
        },
      };
      cpu.run(10_000);
      return { events: events.slice(0, 1), cr2: cpu.cr2 >>> 0, n: cpu.instructions, eip: cpu.eip };
    });
    expect(results[0].events[0]?.vector).toBe(14);
    expect(results[0].events[0]?.eip).toBe(0x1007); // the MOV EDX, [ESI]
    expect(results[0].cr2).toBe(0x40000);
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).toEqual(results[2]);
  });

  it('run(budget) stops at the same instruction in every tier, for every budget', () => {
    for (let budget = 1; budget <= 60; budget++) {
      const states = (['jit', 'blocks', 'interpreter'] as const).map((t) => {
        const { cpu } = loopCpu(t);
        cpu.run(7); // warm: compile what runs
        cpu.run(budget);
        return cpu.getState();
      });
      expect(states[0]).toEqual(states[2]);
      expect(states[1]).toEqual(states[2]);
    }
  });

  it('a store that rewrites code of a compiled block takes effect at once', () => {
    for (const t of ['jit', 'interpreter'] as const) {
      setTier(t);
      const { cpu, bus } = makeCpu(4 << 20);
      // L: mov eax, 1 ; add ebx, eax ; mov byte [0x1001], 5 (patch the immediate) ; dec ecx ; jnz L ; hlt
      bus.ram.set(
        [0xb8, 1, 0, 0, 0, 0x01, 0xc3, 0xc6, 0x05, 0x01, 0x10, 0, 0, 5, 0x49, 0x75, 0xef, 0xf4],
        0x1000,
      );
      cpu.enterProtectedFlat(0x1000, { ecx: 4, esp: 0x9000 });
      cpu.run(1000);
      expect(cpu.regs[3], t).toBe(1 + 5 + 5 + 5);
    }
  });
});

const PROG = [0x01, 0xd8, 0x31, 0xc2, 0x89, 0x06, 0x8d, 0x4c, 0x98, 0x08, 0xc3];

describe('second tier: generated source', () => {
  it('writes register-only records inline, calls the rest in order, and retires every record', () => {
    setTier('jit');
    const { cpu, bus } = makeCpu(1 << 20);
    // add eax, ebx ; xor edx, eax ; mov [esi], eax ; lea ecx, [eax+ebx*4+8] ; ret
    bus.ram.set(PROG, 0x1000);
    cpu.enterProtectedFlat(0x1000, { esi: 0x2000, esp: 0x9000 });
    cpu.run(4);
    cpu.ip = 0x1000;
    const b = (cpu as Cpu).blocks.lookup(cpu);
    expect(b).toBeGreaterThanOrEqual(0);
    const a = (cpu as Cpu).blocks.arena;
    const { body } = blockSource(a, b);
    const records = a[b + 7];
    expect(records).toBe(5);
    // ADD and XOR inline with constant register numbers.
    expect(body).toContain('const x = r[0], y = r[3], v = (x + y) | 0; r[0] = v;');
    expect(body).toContain('const v = r[2] ^ r[0]; r[2] = v; c.setLogic(v, 32);');
    expect(body).toContain('r[1] = (r[0] + (r[3] << 2) + 8) | 0;');
    // The store's fast path is inline (DS = segment 3, ESI = r[6]); off it, a side exit before
    // record 2 (returns (2 + 1) << 8 | 2: the two records before it retired, not yet counted).
    expect(body).toContain('const o = (r[6]) | 0, l = (sb[3] + o) | 0, e = ~c.tlbW[l >>> 12];');
    expect(body).toContain('if ((o >>> 0) + 3 > wx[3] ||');
    expect(body).toContain(`return ${(3 << 8) | 2};`);
    expect(body).toContain('const v = r[0]; if ((p & 3) === 0) m[p >>> 2] = v;');
    const k4 = b + HDR + 4 * REC;
    expect(body).toContain(`h${a[k4]}(c, a, o + ${k4 + 3 - b})`);
    // Retirement: the four inline records are added before the RET's call, which can fault.
    const before = body.indexOf(`h${a[k4]}(`);
    expect(body.lastIndexOf('c.instructions += 4;', before)).toBeGreaterThan(-1);
    const singles = body.match(/c\.instructions\+\+/g)?.length ?? 0;
    const batched = [...body.matchAll(/c\.instructions \+= (\d+)/g)].reduce((t, m) => t + Number(m[1]), 0);
    expect(singles + batched).toBe(records);
    // And it runs like the interpreter.
    const run = (t: Tier) => {
      setTier(t);
      const m = makeCpu(1 << 20);
      m.bus.ram.set(PROG, 0x1000);
      m.bus.ram.set([0x00, 0x10, 0, 0], 0x9000); // RET returns to 0x1000: the block loops
      m.cpu.enterProtectedFlat(0x1000, { esi: 0x2000, eax: 3, ebx: 5, esp: 0x9000 });
      m.cpu.run(5000);
      return m.cpu.getState();
    };
    expect(run('jit')).toEqual(run('interpreter'));
  });
});

describe('second tier: compiled code outlives an arena refill', () => {
  it('gives the function back to the same block decoded again, and it still runs right', () => {
    setTier('jit');
    const { cpu, bus } = makeCpu(1 << 20);
    bus.ram.set(PROG, 0x1000);
    bus.ram.set([0x00, 0x10, 0, 0], 0x9000); // RET returns to 0x1000: the block loops
    cpu.enterProtectedFlat(0x1000, { esi: 0x2000, eax: 3, ebx: 5, esp: 0x9000 });
    cpu.run(500);
    const cache = (cpu as Cpu).blocks;
    expect(cache.compiled.length).toBeGreaterThan(0);
    // Refill: the arena is dropped and the blocks are decoded again.
    cache.clear();
    cpu.run(5000);
    expect(cache.reattached).toBeGreaterThan(0);
    // …and the machine ends where the interpreter ends.
    setTier('interpreter');
    const m = makeCpu(1 << 20);
    m.bus.ram.set(PROG, 0x1000);
    m.bus.ram.set([0x00, 0x10, 0, 0], 0x9000);
    m.cpu.enterProtectedFlat(0x1000, { esi: 0x2000, eax: 3, ebx: 5, esp: 0x9000 });
    m.cpu.run(5500);
    expect(cpu.getState()).toEqual(m.cpu.getState());
  });
});

describe('second tier: when a block is compiled', () => {
  // A: add eax, ebx ; xor edx, eax ; mov [esi], eax ; lea ecx, [eax+ebx*4+8] ; mov ebp, 200 ;
  //    dec ebp ; jnz I          (7 instructions, once per outer iteration)
  // I: dec ebp ; jnz I          (the inner loop: 199 runs per outer iteration)
  //    dec edi ; jnz A          (407 instructions per outer iteration)
  const LOOP = [
    0x01, 0xd8, 0x31, 0xc2, 0x89, 0x06, 0x8d, 0x4c, 0x98, 0x08, 0xbd, 200, 0, 0, 0, 0x4d, 0x75, 0xfd, 0x4f,
    0x75, 0xeb,
  ];
  const PER_PASS = 407;
  const start = (t: Tier) => {
    setTier(t);
    blockTuning.secondVisit = true; // the product setting: first visits are interpreted
    const m = makeCpu(1 << 20);
    m.bus.ram.set(LOOP, 0x1000);
    m.cpu.enterProtectedFlat(0x1000, { esi: 0x2000, eax: 3, ebx: 5, edi: 5000, esp: 0x9000 });
    return m.cpu;
  };
  /** Compiled-function index of the block that starts at `ip` (walks the arena). */
  const jitIndex = (cpu: Cpu, ip: number): number => {
    const a = cpu.blocks.arena;
    for (let b = 0; a[b + H_RECORDS] > 0; b += HDR + a[b + H_RECORDS] * REC)
      if (a[b + 1] === ip) return a[b + H_JIT];
    return -2;
  };
  it('a hot loop after jitHotWork / length runs; a block with a small share after jitWork / length runs', () => {
    const cpu = start('jit') as Cpu;
    jitTuning.jitAfter = 3;
    jitTuning.jitWork = 7000; // A: 1 000 runs; the inner block: 3 500 (≈ 18 passes) by this rule alone
    jitTuning.jitHotWork = 1000; // the inner block (2 instructions): 500 runs, ≤ 199 per pass
    // The inner block is nearly all the work: hot, so compiled at its 500th run — not in pass 1.
    cpu.run(PER_PASS);
    expect(jitIndex(cpu, 0x100f)).toBe(-1);
    cpu.run(PER_PASS * 3);
    expect(jitIndex(cpu, 0x100f)).toBeGreaterThanOrEqual(0);
    // A holds 7/407 < 1/32 of the work. Pass 1 fills the TLB and pass 2 is A's first visit (both
    // interpreted); pass 3 builds A and is its first run, pass 1 002 its 1 000th.
    cpu.run(PER_PASS * 997);
    expect(jitIndex(cpu, 0x1000)).toBe(-1);
    cpu.run(PER_PASS);
    expect(jitIndex(cpu, 0x1000)).toBeGreaterThanOrEqual(0);
    cpu.run(PER_PASS * 8);
    const plain = start('interpreter');
    plain.run(PER_PASS * 1010);
    expect(cpu.getState()).toEqual(plain.getState());
    expect(cpu.regs[7]).toBe(5000 - 1010);
  });
});

describe('second tier: inline memory fast paths and side exits', () => {
  // L: mov eax, [esi] ; push esp ; pop ebp ; push esi ; pop esp (ESP = the value read) ;
  //    push 0x1234 ; pop ecx ; mov [esi+1], ebx (unaligned: bytes) — all on the fast path once
  //    the TLB holds the pages — then two that never are: mov edx, [edi] (straddles a page) ;
  //    mov [0x1800], eax (a code page: slow write entry) ; add esi, 4 ; dec ebx ; jnz L ; hlt
  const PROG2 = [
    0xbb, 100, 0, 0, 0, 0x8b, 0x06, 0x54, 0x5d, 0x56, 0x5c, 0x68, 0x34, 0x12, 0, 0, 0x59, 0x89, 0x5e, 0x01,
    0x8b, 0x17, 0xa3, 0x00, 0x18, 0, 0, 0x83, 0xc6, 0x04, 0x4b, 0x75, 0xe4, 0xf4,
  ];
  const run = (t: Tier) => {
    setTier(t);
    const m = makeCpu(1 << 20);
    m.bus.ram.set(PROG2, 0x1000);
    for (let i = 0; i < 0x400; i++) m.bus.ram[0x4000 + i] = (i * 37) & 0xff;
    m.cpu.enterProtectedFlat(0x1000, { esi: 0x4000, edi: 0x2ffe, esp: 0x9000 });
    m.cpu.run(5000);
    return { state: m.cpu.getState(), n: m.cpu.instructions, ram: m.bus.ram.slice(0, 0x10000), cpu: m.cpu };
  };
  it('loads, stores, pushes and pops off the fast path leave to the first tier and end as the interpreter', () => {
    const jit = run('jit');
    expect((jit.cpu as Cpu).blocks.compiled.length).toBeGreaterThan(0);
    expect(jit.cpu.halted).toBe(true);
    expect(jit.cpu.regs[1]).toBe(0x1234); // ECX from PUSH imm / POP
    expect(jit.cpu.regs[4]).toBe(jit.cpu.regs[6] - 4); // POP ESP took ESI's old value
    for (const other of [run('blocks'), run('interpreter')]) {
      expect(jit.n).toBe(other.n);
      expect(jit.state).toEqual(other.state);
      expect(jit.ram).toEqual(other.ram);
    }
  });
});
