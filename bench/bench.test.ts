import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from './args.ts';
import { type BenchWorkload, measure, mipsOf, runOnce, runSample } from './measure.ts';
import { jsonLine, table } from './report.ts';

/** A fake workload: each advance retires `budget` instructions and costs `costPerInsn` fake seconds. */
function fakeWorkload(opts: {
  total: number;
  costs: number[];
  setupCost?: number;
  timeSetup?: boolean;
  fail?: string;
  counts?: number[];
  maxInstructions?: number;
}): { w: BenchWorkload; clock: () => number; prepared: () => number } {
  let now = 0;
  let runIndex = 0;
  let prepared = 0;
  const w: BenchWorkload = {
    name: 'fake',
    description: 'fake',
    unavailable: () => null,
    timeSetup: opts.timeSetup,
    maxInstructions: opts.maxInstructions ?? 1e12,
    slice: 1000,
    prepare() {
      prepared++;
      now += opts.setupCost ?? 0;
      const cost = opts.costs[runIndex] ?? 1;
      const total = opts.counts?.[runIndex] ?? opts.total;
      runIndex++;
      let n = 0;
      return {
        get instructions() {
          return n;
        },
        advance(budget: number) {
          if (opts.fail) throw new Error(opts.fail);
          const step = Math.min(budget, total - n);
          n += step;
          now += step * cost;
          return n >= total;
        },
      };
    },
  };
  return { w, clock: () => now, prepared: () => prepared };
}

describe('bench harness', () => {
  it('runs a workload to its end and times it without the setup', () => {
    const { w, clock } = fakeWorkload({ total: 5500, costs: [1e-6], setupCost: 100 });
    const r = runOnce(w, clock);
    expect(r.instructions).toBe(5500);
    expect(r.seconds).toBeCloseTo(5500e-6, 9);
  });

  it('includes setup time for boot workloads', () => {
    const { w, clock } = fakeWorkload({ total: 1000, costs: [1e-6], setupCost: 0.5, timeSetup: true });
    expect(runOnce(w, clock).seconds).toBeCloseTo(0.501, 9);
  });

  it('reports the best of N runs after a warm-up run', () => {
    // Run 0 is the warm-up (slowest); measured runs cost 3, 1 and 2 µs per instruction.
    const { w, clock, prepared } = fakeWorkload({ total: 1e6, costs: [10e-6, 3e-6, 1e-6, 2e-6] });
    const r = measure(w, { runs: 3, warmup: true, timeLimitSeconds: 1e9, clock });
    expect(prepared()).toBe(4);
    expect(r.runs.map((s) => Math.round(s))).toEqual([3, 1, 2]);
    expect(r.seconds).toBeCloseTo(1, 9);
    expect(r.instructions).toBe(1e6);
    expect(r.mips).toBeCloseTo(1, 9);
    expect(r.nondeterministic).toBe(false);
  });

  it('stops repeating once the time limit is used up, but always measures once', () => {
    // Warm-up 1 s (fast: not counted), run 1 takes 8 s: the 6 s limit is used up.
    const { w, clock, prepared } = fakeWorkload({ total: 1e6, costs: [1e-6, 8e-6, 1e-6, 1e-6] });
    const r = measure(w, { runs: 3, warmup: true, timeLimitSeconds: 6, clock });
    expect(prepared()).toBe(2);
    expect(r.runs.map((s) => Math.round(s))).toEqual([8]);
    expect(r.warmupCounted).toBe(false);
  });

  it('counts a slow warm-up run as a measured run', () => {
    // Limit 20 s: a warm-up of 5 s or more counts. Then one more run (10 s < 20 s), then stop.
    const { w, clock, prepared } = fakeWorkload({ total: 1e6, costs: [6e-6, 5e-6, 5e-6, 5e-6] });
    const r = measure(w, { runs: 3, warmup: true, timeLimitSeconds: 20, clock });
    expect(r.warmupCounted).toBe(true);
    expect(r.runs.map((s) => Math.round(s))).toEqual([6, 5, 5]);
    expect(prepared()).toBe(3);
    expect(r.seconds).toBeCloseTo(5, 9);
  });

  it('repeats a short run until a sample fills minSampleSeconds and reports the per-run mean', () => {
    // Runs of 0.04, 0.06, 0.05 … s (1000 instructions each): 0.25 s needs 5 of them (0.25 s).
    const costs = [40e-6, 60e-6, 50e-6, 50e-6, 50e-6, 45e-6, 45e-6];
    const { w, clock, prepared } = fakeWorkload({ total: 1000, costs });
    const r = runSample(w, clock, clock, 0.25);
    expect(r.repeats).toBe(5);
    expect(prepared()).toBe(5);
    expect(r.seconds).toBeCloseTo(0.05, 9);
    expect(r.instructions).toBe(1000);
    expect(r.nondeterministic).toBe(false);
    // A run as long as the sample is one run; 0 (the default) is always one run.
    const long = fakeWorkload({ total: 1000, costs: [300e-6, 1e-6] });
    expect(runSample(long.w, long.clock, long.clock, 0.25).repeats).toBe(1);
    const one = fakeWorkload({ total: 1000, costs: [1e-6, 1e-6] });
    expect(runSample(one.w, one.clock, one.clock, 0).repeats).toBe(1);
  });

  it('measures the best sample of repeated short runs, and flags counts differing inside one', () => {
    // Sample 1: runs of 0.1 + 0.1 + 0.1 s (mean 0.1); sample 2: 0.2 + 0.1 (mean 0.15).
    const { w, clock, prepared } = fakeWorkload({
      total: 1000,
      costs: [100e-6, 100e-6, 100e-6, 200e-6, 100e-6],
    });
    const r = measure(w, { runs: 2, warmup: false, timeLimitSeconds: 1e9, clock, minSampleSeconds: 0.25 });
    expect(prepared()).toBe(5);
    expect(r.runs.map((s) => s.toFixed(3))).toEqual(['0.100', '0.150']);
    expect(r.seconds).toBeCloseTo(0.1, 9);
    expect(r.nondeterministic).toBe(false);
    const odd = fakeWorkload({ total: 0, costs: [1e-3, 1e-3], counts: [100, 101] });
    const m = measure(odd.w, {
      runs: 1,
      warmup: false,
      timeLimitSeconds: 1e9,
      clock: odd.clock,
      minSampleSeconds: 0.15,
    });
    expect(m.runs).toHaveLength(1);
    expect(m.nondeterministic).toBe(true);
  });

  it('flags differing instruction counts', () => {
    const { w, clock } = fakeWorkload({ total: 0, costs: [1e-6, 1e-6], counts: [1000, 1001] });
    expect(measure(w, { runs: 2, warmup: false, timeLimitSeconds: 1e9, clock }).nondeterministic).toBe(true);
  });

  it('turns guest failures and runaway guests into BenchFailure messages', () => {
    const bad = fakeWorkload({ total: 10, costs: [1e-6], fail: 'the guest stopped: shutdown' });
    expect(() => runOnce(bad.w, bad.clock)).toThrow(/^fake: the guest stopped: shutdown$/);
    const runaway = fakeWorkload({ total: 1e9, costs: [0], maxInstructions: 5000 });
    expect(() => runOnce(runaway.w, runaway.clock)).toThrow(/did not finish within 5,000 instructions/);
  });

  it('computes MIPS', () => {
    expect(mipsOf(250e6, 2.5)).toBe(100);
    expect(mipsOf(5, 0)).toBe(0);
  });
});

describe('bench output', () => {
  const r = { name: 'bench-loop', instructions: 123456789, seconds: 1.2345678, mips: 100.0023 };
  it('prints one JSON object per line with exactly the four fields', () => {
    const line = jsonLine(r);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      name: 'bench-loop',
      instructions: 123456789,
      seconds: 1.234568,
      mips: 100.002,
    });
  });
  it('prints a readable table', () => {
    const lines = table([r]).split('\n');
    expect(lines[0]).toMatch(
      /^name\s+instructions\s+cold cpu\s+cold wall\s+warm cpu\s+warm wall\s+MIPS cold\s+MIPS warm$/,
    );
    expect(lines[1]).toMatch(/^-+$/);
    expect(lines[2]).toMatch(/^bench-loop\s+123,456,789\s+—\s+—\s+—\s+1\.235\s+—\s+100\.0$/);
    expect(lines[2]!.length).toBe(lines[0]!.length);
  });
  it('shows cold beside warm, CPU and wall, with MIPS on CPU time', () => {
    const full = { ...r, otherSeconds: 0.5, cold: { instructions: 123456789, cpu: 2, wall: 4 } };
    const line = table([full], 'wall').split('\n')[2]!;
    expect(line).toMatch(/^bench-loop\s+123,456,789\s+2\.000\s+4\.000\s+0\.500\s+1\.235\s+61\.7\s+246\.9$/);
    expect(JSON.parse(jsonLine(full, 'wall'))).toMatchObject({
      warm: { cpu: 0.5, wall: 1.235, cpuMips: 246.914 },
      cold: { instructions: 123456789, cpu: 2, wall: 4, cpuMips: 61.728 },
    });
  });
  it('times only the measured part of a run that has one', () => {
    let now = 0;
    let n = 0;
    const w: BenchWorkload = {
      name: 'phased',
      description: '',
      unavailable: () => null,
      maxInstructions: 1e9,
      prepare: () => ({
        get instructions() {
          return n;
        },
        get measuring() {
          return n >= 3000;
        },
        advance(b: number) {
          n += b;
          now += b * 1e-6;
          return n >= 5000;
        },
      }),
      slice: 1000,
    };
    const res = runOnce(w, () => now);
    expect(res.instructions).toBe(2000);
    expect(res.seconds).toBeCloseTo(2000e-6, 9);
  });
});

describe('bench arguments', () => {
  it('parses the options', () => {
    expect(parseBenchArgs([])).toEqual({
      json: false,
      runs: 3,
      warmup: true,
      only: null,
      list: false,
      help: false,
      backend: 'auto',
      clock: 'wall',
      tier: 'jit',
      tiers: null,
      cold: true,
      child: null,
      warmRuns: 0,
      pairs: 5,
      browser: false,
      stats: false,
      memMiB: null,
    });
    expect(parseBenchArgs(['--json', '--runs', '5', '--only', 'linux-boot, hello-boot'])).toMatchObject({
      json: true,
      runs: 5,
      only: ['linux-boot', 'hello-boot'],
    });
    expect(parseBenchArgs(['--quick'])).toMatchObject({ runs: 1, warmup: false });
  });
  it('rejects bad options with a clear message', () => {
    expect(() => parseBenchArgs(['--runs', '0'])).toThrow(/--runs: '0' is not a whole number from 1 to 20/);
    expect(() => parseBenchArgs(['--runs'])).toThrow(/--runs needs a value/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown option '--fast'/);
    expect(parseBenchArgs(['--clock', 'cpu']).clock).toBe('cpu');
    expect(parseBenchArgs([]).tier).toBe('jit');
    expect(parseBenchArgs(['--tier', 'interpreter']).tier).toBe('interpreter');
    expect(() => parseBenchArgs(['--tier', 'fast'])).toThrow(
      /--tier: 'fast' is not interpreter, blocks or jit/,
    );
    expect(() => parseBenchArgs(['--clock', 'sundial'])).toThrow(/--clock: 'sundial' is not wall or cpu/);
    expect(() => parseBenchArgs(['--backend', 'qemu'])).toThrow(
      /--backend: 'qemu' is not auto, session or pc/,
    );
  });
});
