/**
 * The CPU's tiers on a real kernel: Linux's first 3 M instructions (the boot code and the start
 * of the kernel's decompressor, flat with paging off) with every block compiled on its first run (src/cpu/jit.ts),
 * with every block in a page region from its first run (src/cpu/jit-region.ts), with traces
 * built at every block's second run (src/cpu/jit-trace.ts), with
 * pre-decoded blocks only, and in the plain interpreter end in the same CPU state and RAM with the
 * same console output — the guest cannot tell the tiers apart.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Cpu } from '../cpu/cpu.ts';
import { blockTuning, fastPaths, jitTuning } from '../cpu/fastpaths.ts';
import { Pc } from './pc.ts';
import { loadTestLinux } from './test-linux.ts';

const JIT_AFTER = jitTuning.jitAfter;
const BLOCKS_AFTER = blockTuning.blocksAfter;
afterEach(() => {
  fastPaths.blockCache = true;
  fastPaths.jit = true;
  jitTuning.jitAfter = JIT_AFTER;
  jitTuning.regions = false;
  jitTuning.traces = false;
  jitTuning.traceMin = TRACE.traceMin;
  jitTuning.traceRetry = TRACE.traceRetry;
  blockTuning.secondVisit = true;
  blockTuning.blocksAfter = BLOCKS_AFTER;
});
const TRACE = { ...jitTuning };

function boot(tier: 'interpreter' | 'blocks' | 'jit' | 'regions' | 'traces', instructions: number) {
  fastPaths.blockCache = tier !== 'interpreter';
  fastPaths.jit = tier === 'jit' || tier === 'regions' || tier === 'traces';
  jitTuning.regions = tier === 'regions';
  jitTuning.traces = tier === 'traces';
  // Traces: a block's first run makes its links, its second builds the path from it.
  jitTuning.jitAfter = tier === 'traces' ? 2 : 1;
  jitTuning.traceMin = 1;
  jitTuning.traceRetry = 1;
  blockTuning.secondVisit = false;
  blockTuning.blocksAfter = 0;
  const pc = new Pc({ memMiB: 64, noReboot: true });
  loadTestLinux(pc);
  let out = '';
  while (pc.instructions < instructions) {
    const r = pc.runSlice(Math.min(1_000_000, instructions - pc.instructions));
    out += new TextDecoder().decode(pc.serialOut[0]!.take());
    if (r.state !== 'running') throw new Error(`stopped: ${r.state}`);
  }
  const cpu = pc.cpu as unknown as Cpu;
  const ram = createHash('sha256').update(cpu.ram).digest('hex');
  return {
    n: pc.instructions,
    state: cpu.getState(),
    ram,
    out,
    compiled: cpu.blocks.compiled.length,
    regions: cpu.regions.compiledRegions,
    traces: cpu.traces.compiled,
    loops: cpu.traces.loops,
  };
}

describe('Linux through the three CPU tiers', () => {
  it('first 3 M instructions: same state and output with every block compiled', () => {
    const jit = boot('jit', 3_000_000);
    expect(jit.compiled).toBeGreaterThan(100);
    // Page regions (src/cpu/jit-region.ts), every block put into one at its first run (99 region
    // compiles since blocks no longer end at PUSH/POP of segment registers, PUSHA, MOVS…: block-mid.ts).
    const regions = boot('regions', 3_000_000);
    expect(regions.regions).toBeGreaterThan(50);
    // Traces (src/cpu/jit-trace.ts), built at every block's second run.
    const traces = boot('traces', 3_000_000);
    expect(traces.traces).toBeGreaterThan(50);
    expect(traces.loops).toBeGreaterThan(5);
    for (const other of [regions, traces, boot('blocks', 3_000_000), boot('interpreter', 3_000_000)]) {
      expect(jit.n).toBe(other.n);
      expect(jit.out).toBe(other.out);
      expect(jit.ram).toBe(other.ram);
      expect(jit.state).toEqual(other.state);
    }
  });
});
