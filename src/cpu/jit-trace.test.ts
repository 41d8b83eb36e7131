/**
 * Traces (jit-trace.ts) must be invisible to the guest. With `jitAfter = 2` a block's first run
 * makes its links and its second builds the path from it, so these tests push nearly all code
 * through trace functions — loops across pages with CALL/RET, data-dependent branches, memory off
 * the fast path, faults, every budget, self-modifying code — and compare with the interpreter.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Cpu } from './cpu.ts';
import { blockTuning, fastPaths, jitTuning } from './fastpaths.ts';
import { MonitorAction } from './interrupts.ts';
import { traceStats } from './jit-trace.ts';
import { loadElf, makeCpu, runToExit } from './test/harness.ts';
import { pagedLoopCpu, runSideExits } from './test/jit-guests.ts';

const SAVED = { ...jitTuning };
type Tier = 'interpreter' | 'traces';
function setTier(t: Tier): void {
  fastPaths.blockCache = t !== 'interpreter';
  fastPaths.jit = t === 'traces';
  jitTuning.traces = t === 'traces';
  jitTuning.jitAfter = 2;
  jitTuning.traceMin = 1;
  jitTuning.traceRetry = 1;
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

// 0x1000: L: mov eax, [esi] ; add eax, ebx ; call 0x3000 ; cmp eax, 100 ; jl M ; xor edx, edx
//         M: inc edx ; mov [esi+4], eax ; add esi, 8 ; dec edi ; jnz L ; hlt
// 0x3000: push ebx ; movzx ebx, al ; add ecx, ebx ; pop ebx ; inc ebx ; ret
const MAIN = [
  0x8b, 0x06, 0x01, 0xd8, 0xe8, 0xf7, 0x1f, 0, 0, 0x83, 0xf8, 0x64, 0x7c, 0x02, 0x31, 0xd2, 0x42, 0x89, 0x46,
  0x04, 0x83, 0xc6, 0x08, 0x4f, 0x75, 0xe6, 0xf4,
];
const SUB = [0x53, 0x0f, 0xb6, 0xd8, 0x01, 0xd9, 0x5b, 0x43, 0xc3];
function loopMachine(t: Tier, iterations = 300) {
  setTier(t);
  const m = makeCpu(1 << 20);
  m.bus.ram.set(MAIN, 0x1000);
  m.bus.ram.set(SUB, 0x3000);
  for (let i = 0; i < iterations; i++) m.bus.ram[0x4000 + 8 * i] = (i * 37) % 150;
  m.cpu.enterProtectedFlat(0x1000, { esi: 0x4000, edi: iterations, esp: 0x9000 });
  return { cpu: m.cpu as Cpu, bus: m.bus };
}

describe('traces: a loop across pages', () => {
  it('becomes one looping trace and ends as the interpreter: state, memory, count', () => {
    traceStats.dump = [];
    const tr = loopMachine('traces');
    tr.cpu.run(100_000);
    const sources = traceStats.dump;
    traceStats.dump = null;
    // Registers and flags in locals: the loop's body stores neither; only the exits and calls do.
    const loop = sources.find((b) => b.includes('for (;;)') && b.includes('fa < fb')) ?? '';
    expect(loop).toContain('r4 = (s + 4) | 0'); // the RET's pop, inline
    expect(loop).not.toContain('c.setLazy');
    expect(loop.split('R[0] = r0').length).toBe(2); // one write-back: the epilogue
    const plain = loopMachine('interpreter');
    plain.cpu.run(100_000);
    expect(tr.cpu.halted).toBe(true);
    expect(tr.cpu.traces.loops).toBeGreaterThan(0);
    expect(tr.cpu.instructions).toBe(plain.cpu.instructions);
    expect(tr.cpu.getState()).toEqual(plain.cpu.getState());
    expect(tr.bus.ram.slice(0, 0x10000)).toEqual(plain.bus.ram.slice(0, 0x10000));
  });

  it('run(budget) stops where the interpreter stops, flags included, for every budget 1..90', () => {
    // The switches are global: each machine runs under its own tier.
    const plain = loopMachine('interpreter');
    const tr = loopMachine('traces');
    const both = (n: number): void => {
      setTier('traces');
      tr.cpu.run(n);
      setTier('interpreter');
      plain.cpu.run(n);
    };
    both(40); // builds the traces
    expect(tr.cpu.traces.compiled).toBeGreaterThan(0);
    for (let budget = 1; budget <= 90; budget++) {
      both(budget);
      expect(tr.cpu.getState(), `budget ${budget}`).toEqual(plain.cpu.getState());
    }
    expect(tr.cpu.traces.loops).toBeGreaterThan(0);
  });
});

describe('traces: a branch that changes its mind', () => {
  it('the guard fails on every pass: the path is built again the other way, same end state', () => {
    // L: cmp edi, 150 ; jb M ; add eax, 3 ; M: add ebx, eax ; dec edi ; jnz L ; hlt
    const PROG = [0x81, 0xff, 150, 0, 0, 0, 0x72, 0x03, 0x83, 0xc0, 0x03, 0x01, 0xc3, 0x4f, 0x75, 0xf0, 0xf4];
    const run = (t: Tier) => {
      setTier(t);
      const m = makeCpu(1 << 20);
      m.bus.ram.set(PROG, 0x1000);
      m.cpu.enterProtectedFlat(0x1000, { eax: 0, ebx: 0, edi: 400, esp: 0x9000 });
      m.cpu.run(10_000);
      return m.cpu as Cpu;
    };
    const flipped = traceStats.flipped;
    const tr = run('traces');
    expect(traceStats.flipped).toBeGreaterThan(flipped);
    const plain = run('interpreter');
    expect(plain.halted).toBe(true);
    expect(tr.getState()).toEqual(plain.getState());
  });
});

describe('traces: lazy flags in locals', () => {
  it('CF of a CMP kept across INC and read by ADC, every pass, as the interpreter', () => {
    // L: mov eax, [esi] ; cmp eax, 0x80 ; inc ecx ; adc edx, 0 ; add esi, 4 ; dec edi ; jnz L ; hlt
    const PROG = [
      0x8b, 0x06, 0x3d, 0x80, 0, 0, 0, 0x41, 0x83, 0xd2, 0, 0x83, 0xc6, 4, 0x4f, 0x75, 0xef, 0xf4,
    ];
    const run = (t: Tier) => {
      setTier(t);
      const m = makeCpu(1 << 20);
      m.bus.ram.set(PROG, 0x1000);
      for (let i = 0; i < 200; i++) m.bus.ram[0x4000 + 4 * i] = (i * 97) & 0xff;
      m.cpu.enterProtectedFlat(0x1000, { esi: 0x4000, edi: 200, edx: 0, esp: 0x9000 });
      m.cpu.run(5000);
      return m.cpu as Cpu;
    };
    const tr = run('traces');
    expect(tr.traces.loops).toBeGreaterThan(0);
    const plain = run('interpreter');
    let below = 0;
    for (let i = 0; i < 200; i++) if (((i * 97) & 0xff) < 0x80) below++;
    expect(plain.regs[2]).toBe(below);
    expect(tr.getState()).toEqual(plain.getState());
  });
});

describe('traces: faults, self-modifying code, side exits', () => {
  function pagedLoop(t: Tier) {
    setTier(t);
    return pagedLoopCpu().cpu;
  }

  it('a #PF inside a trace: fault EIP, CR2, error code, count and registers as the interpreter', () => {
    const results = (['traces', 'interpreter'] as const).map((t) => {
      const cpu = pagedLoop(t);
      const events: Array<{ vector: number; eip: number; code: number; n: number }> = [];
      cpu.monitor = {
        onEvent: (ev) => {
          events.push({ vector: ev.vector, eip: ev.instrEip, code: ev.errorCode, n: cpu.instructions });
          return MonitorAction.Stop;
        },
      };
      cpu.run(10_000);
      return { events, cr2: cpu.cr2 >>> 0, state: cpu.getState(), traces: cpu.traces.compiled };
    });
    expect(results[0].traces).toBeGreaterThan(0);
    expect(results[0].events[0]?.vector).toBe(14);
    expect(results[0].events[0]?.eip).toBe(0x1007); // the MOV EDX, [ESI]
    expect(results[0].cr2).toBe(0x40000);
    expect({ ...results[0], traces: 0 }).toEqual({ ...results[1], traces: 0 });
  });

  it('a store into the running trace page: the new code runs at once', () => {
    const run = (t: Tier) => {
      setTier(t);
      const { cpu, bus } = makeCpu(4 << 20);
      // L: mov eax, 1 ; add ebx, eax ; mov byte [0x1001], 5 (patch the immediate) ; dec ecx ; jnz L ; hlt
      bus.ram.set(
        [0xb8, 1, 0, 0, 0, 0x01, 0xc3, 0xc6, 0x05, 0x01, 0x10, 0, 0, 5, 0x49, 0x75, 0xef, 0xf4],
        0x1000,
      );
      cpu.enterProtectedFlat(0x1000, { ecx: 6, esp: 0x9000 });
      cpu.run(1000);
      return cpu as Cpu;
    };
    const tr = run('traces');
    expect(tr.regs[3]).toBe(1 + 5 * 5);
    const plain = run('interpreter');
    expect(tr.instructions).toBe(plain.instructions);
    expect(tr.getState()).toEqual(plain.getState());
  });

  it('a store from a called page rewrites the caller: the trace is dropped and the new bytes run', () => {
    // 0x1000: L: call 0x2000 ; add ebx, eax ; mov eax, 2 ; dec ecx ; jnz L ; hlt
    // 0x2000: inc dword [0x100b] (the immediate of `mov eax, 2` grows by one each pass) ; ret
    const run = (t: Tier) => {
      setTier(t);
      const { cpu, bus } = makeCpu(4 << 20);
      bus.ram.set([0xe8, 0xfb, 0x0f, 0, 0, 0x01, 0xc3, 0xb8, 2, 0, 0, 0, 0x49, 0x75, 0xf1, 0xf4], 0x1000);
      bus.ram.set([0xff, 0x05, 0x08, 0x10, 0, 0, 0xc3], 0x2000);
      cpu.enterProtectedFlat(0x1000, { ecx: 12, esp: 0x9000 });
      cpu.run(1000);
      return cpu as Cpu;
    };
    const tr = run('traces');
    const plain = run('interpreter');
    expect(tr.halted).toBe(true);
    expect(tr.regs[3]).toBe(plain.regs[3]);
    expect(tr.getState()).toEqual(plain.getState());
    expect(tr.instructions).toBe(plain.instructions);
  });

  it('loads, stores, pushes and pops off the fast path leave the trace and end as the interpreter', () => {
    const run = (t: Tier) => {
      setTier(t);
      return runSideExits();
    };
    const tr = run('traces');
    expect(tr.cpu.traces.compiled).toBeGreaterThan(0);
    expect(tr.cpu.halted).toBe(true);
    const plain = run('interpreter');
    expect(tr.n).toBe(plain.n);
    expect(tr.state).toEqual(plain.state);
    expect(tr.ram).toEqual(plain.ram);
  });
});

const dir = resolve(__dirname, '../../guests/cputests');
const guests = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.elf') && !['triplefault.elf', 'x87.elf', 'apic.elf'].includes(f))
      .sort()
  : [];

describe('traces: self-checking guests', () => {
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
      const tr = boot('traces');
      expect(tr.bus.serial.split(/\r?\n/).filter((l) => l.includes('FAIL'))).toEqual([]);
      expect(tr.code, tr.bus.serial).toBe(0);
      const plain = boot('interpreter');
      expect(tr.bus.serial).toBe(plain.bus.serial);
      expect(tr.cpu.instructions).toBe(plain.cpu.instructions);
      expect(tr.cpu.getState()).toEqual(plain.cpu.getState());
    });
  }
});
