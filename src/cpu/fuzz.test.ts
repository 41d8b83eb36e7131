/**
 * Fuzz: random instruction bytes in real mode, 16-bit and 32-bit protected mode (paging off and
 * on, CPL 0 and 3) and V86 mode. The core must never throw a JavaScript error — only architectural
 * faults, delivered through a real IDT or to a monitor. Bounded for CI; set FUZZ_ITERATIONS for more.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StopReason } from './constants.ts';
import type { Cpu } from './cpu.ts';
import { blockTuning, fastPaths, jitTuning } from './fastpaths.ts';
import { MonitorAction } from './interrupts.ts';
import { CpuSeg } from './segments.ts';
import { makeCpu } from './test/harness.ts';

const ITER = Number(process.env.FUZZ_ITERATIONS ?? 1500);
const GDT = 0x500;
const IDT = 0x800;
const TSS = 0x1000;
const PD = 0x10000;
const PT = 0x11000;
const CODE = 0x20000;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function desc(dv: DataView, sel: number, base: number, limit: number, access: number, flags: number): void {
  const a = GDT + (sel & ~7);
  dv.setUint16(a, limit & 0xffff, true);
  dv.setUint16(a + 2, base & 0xffff, true);
  dv.setUint8(a + 4, (base >>> 16) & 0xff);
  dv.setUint8(a + 5, access);
  dv.setUint8(a + 6, ((limit >>> 16) & 0xf) | flags);
  dv.setUint8(a + 7, base >>> 24);
}

/** GDT: 08 code32 DPL0, 10 data DPL0, 18 code16 DPL0, 20 TSS, 2B code32 DPL3, 33 data DPL3. */
function tables(ram: Uint8Array): void {
  const dv = new DataView(ram.buffer);
  ram.fill(0, 0, 0x2000);
  desc(dv, 0x08, 0, 0xfffff, 0x9a, 0xc0);
  desc(dv, 0x10, 0, 0xfffff, 0x92, 0xc0);
  desc(dv, 0x18, 0, 0xffff, 0x9a, 0x00);
  desc(dv, 0x20, TSS, 0x67, 0x89, 0x00);
  desc(dv, 0x28, 0, 0xfffff, 0xfa, 0xc0);
  desc(dv, 0x30, 0, 0xfffff, 0xf2, 0xc0);
  // Every vector: 32-bit interrupt gate, DPL 3, to a HLT at 0x1f00.
  for (let v = 0; v < 256; v++) {
    dv.setUint16(IDT + v * 8, 0x1f00, true);
    dv.setUint16(IDT + v * 8 + 2, 0x08, true);
    dv.setUint16(IDT + v * 8 + 4, 0xee00, true);
  }
  ram[0x1f00] = 0xf4;
  dv.setUint32(TSS + 4, 0x9000, true); // ESP0
  dv.setUint16(TSS + 8, 0x10, true); // SS0
  dv.setUint16(TSS + 0x66, 0x68, true);
  dv.setUint32(PD, PT | 7, true);
  for (let i = 0; i < 1024; i++) dv.setUint32(PT + i * 4, (i << 12) | 7, true);
}

function enter(cpu: Cpu, mode: number, next: () => number): void {
  const regs = {
    eax: next(),
    ebx: next() & 0xffff,
    ecx: next() & 0xff,
    edx: next(),
    esi: next() & 0xfffff,
    edi: next() & 0xfffff,
    ebp: next() & 0xfffff,
    esp: 0x8000,
  };
  if (mode === 0) {
    cpu.enterReal(CODE >>> 4, 0, regs);
    return;
  }
  cpu.enterProtectedFlat(CODE, regs);
  cpu.gdtBase = GDT;
  cpu.gdtLimit = 0x3f;
  cpu.idtBase = IDT;
  cpu.idtLimit = 0x7ff;
  cpu.readDesc(0x20, 13);
  cpu.setSeg(7, 0x20, TSS, 0x67, 0x8b);
  cpu.setSeg(1, 0x08, 0, 0xffffffff, CpuSeg.flatAr(true, 0));
  if (mode === 2) {
    cpu.setSeg(1, 0x18, 0, 0xffff, 0x9b);
    cpu.ip = CODE & 0xffff;
    cpu.setSeg(1, 0x18, CODE & 0xffff0000, 0xffff, 0x9b);
    cpu.ip = 0;
  }
  if (mode === 3 || mode === 5) {
    cpu.setCpl(3);
    cpu.setSeg(1, 0x2b, 0, 0xffffffff, CpuSeg.flatAr(true, 3));
    for (const s of [0, 2, 3, 4, 5]) cpu.setSeg(s, 0x33, 0, 0xffffffff, CpuSeg.flatAr(false, 3));
  }
  if (mode === 4 || mode === 5) {
    cpu.cr3 = PD;
    cpu.cr0 |= 0x80000000;
    cpu.flushTlb(false);
  }
  if (mode === 6) {
    // V86 at CODE, IOPL random.
    cpu.flags = 0x20002 | ((next() & 3) << 12);
    cpu.setCpl(3);
    for (const s of [0, 1, 2, 3, 4, 5]) cpu.loadSegReal(s, CODE >>> 4);
    cpu.ip = 0;
    cpu.regs[4] = 0x8000;
  }
  cpu.eip = cpu.ip;
}

describe('fuzz: random bytes never throw out of the core', () => {
  it(`${ITER} programs × 7 modes`, () => {
    const { cpu, bus } = makeCpu(4 << 20);
    const next = rng(0xc0ffee);
    let executed = 0;
    let events = 0;
    const stops = new Map<number, number>();
    for (let i = 0; i < ITER; i++) {
      for (let mode = 0; mode < 7; mode++) {
        tables(bus.ram);
        for (let k = 0; k < 64; k++) bus.ram[CODE + k] = next() & 0xff;
        cpu.reset();
        enter(cpu, mode, next);
        cpu.monitor =
          (i & 1) === 0
            ? null
            : {
                onEvent() {
                  events++;
                  return MonitorAction.Stop;
                },
              };
        const before = cpu.instructions;
        const r = cpu.run(200);
        stops.set(r, (stops.get(r) ?? 0) + 1);
        executed += cpu.instructions - before;
        expect(cpu.cpl >= 0 && cpu.cpl <= 3).toBe(true);
        expect(Number.isInteger(cpu.ip) && cpu.ip >= 0 && cpu.ip <= 0xffffffff).toBe(true);
      }
    }
    console.log(
      `fuzz: ${ITER * 7} programs, ${executed} instructions/events, ${events} monitor events, stops ${JSON.stringify(Object.fromEntries(stops))}`,
    );
    expect(executed).toBeGreaterThan(ITER * 7);
    expect(stops.get(StopReason.Shutdown) ?? 0).toBeLessThan(ITER * 7);
  });
});

/**
 * The same random programs on four CPUs — plain interpreter, pre-decoded blocks, blocks compiled
 * by the second tier on their first run, page regions (jit-region.ts) made at their first run, traces
 * (jit-trace.ts) made at their first run — must end in identical architectural state and memory:
 * the block cache sees every strange encoding and fault the interpreter does.
 */
const BLOCKS_AFTER = blockTuning.blocksAfter;
describe('fuzz: the block-cache tiers agree with the interpreter on random bytes', () => {
  afterEach(() => {
    fastPaths.blockCache = true;
    fastPaths.jit = true;
    jitTuning.jitAfter = 50_000;
    jitTuning.regions = false;
    jitTuning.traces = false;
    blockTuning.blocksAfter = BLOCKS_AFTER;
  });
  const DIFF = Math.max(1, Math.floor(ITER / 3));
  it(`${DIFF} programs × 7 modes × 5 tiers`, () => {
    const tiers = [
      { blocks: false, jit: false, regions: false, traces: false },
      { blocks: true, jit: false, regions: false, traces: false },
      { blocks: true, jit: true, regions: false, traces: false },
      { blocks: true, jit: true, regions: true, traces: false }, // page regions (jit-region.ts)
      { blocks: true, jit: true, regions: false, traces: true }, // traces (jit-trace.ts)
    ].map((t) => ({ ...t, ...makeCpu(1 << 20) }));
    const seed = rng(0x5eed);
    let compared = 0;
    for (let i = 0; i < DIFF; i++) {
      const code = Array.from({ length: 64 }, () => seed() & 0xff);
      // Half the programs start with a short run of plain 32-bit forms, so blocks get longer.
      if (i & 1) code.splice(0, 6, 0x01, 0xd8, 0x31, 0xc2, 0x8d, 0x04);
      for (let mode = 0; mode < 7; mode++) {
        const progSeed = seed();
        // Traces on every third program: each block of each program is a new function (time).
        // The count is cumulative per CPU: the traces CPU starts from the others' count.
        const count = tiers[0].cpu.instructions;
        const results = tiers.map(({ cpu, bus, blocks, jit, regions, traces }) => {
          if (traces && i % 3 !== 0) return null;
          if (traces) cpu.instructions = count;
          fastPaths.blockCache = blocks;
          fastPaths.jit = jit;
          jitTuning.regions = regions;
          jitTuning.traces = traces;
          jitTuning.jitAfter = 1;
          blockTuning.blocksAfter = 0;
          bus.ram.fill(0, 0, 0x40000);
          tables(bus.ram);
          bus.ram.set(code, CODE);
          cpu.reset();
          enter(cpu, mode, rng(progSeed));
          cpu.monitor = null;
          const stop = cpu.run(200);
          return { stop, state: cpu.getState(), ram: bus.ram };
        });
        for (let t = 1; t < tiers.length; t++) {
          const r = results[t];
          if (r === null) continue;
          const base = results[0] as NonNullable<(typeof results)[0]>;
          expect(r.stop, `program ${i} mode ${mode} tier ${t}`).toBe(base.stop);
          expect(r.state, `program ${i} mode ${mode} tier ${t}`).toEqual(base.state);
          const a = new Int32Array(base.ram.buffer, 0, 0x40000 / 4);
          const b = new Int32Array(r.ram.buffer, 0, 0x40000 / 4);
          let diff = -1;
          for (let w = 0; w < a.length; w++) {
            if (a[w] !== b[w]) {
              diff = w * 4;
              break;
            }
          }
          expect(diff, `program ${i} mode ${mode} tier ${t}: memory differs at 0x${diff.toString(16)}`).toBe(
            -1,
          );
        }
        compared++;
      }
    }
    expect(compared).toBe(DIFF * 7);
  });
});
