/**
 * The BusyBox shell loop of issue 15 on the Pc, with block-cache and second-tier statistics
 * (not a test):  npx tsx src/cpu/perf-busybox.ts [iterations]
 * Boots Linux to the prompt, types `while [ $i -lt N ]`, and prints the loop's MIPS (CPU time)
 * and the counters of the block cache and the second tier over the loop alone.
 */
import { resolveGuest } from '../cli/guest-files.ts';
import { loadKernel } from '../machine/loaders/index.ts';
import { Pc } from '../machine/pc.ts';
import { BlockCache, H_COUNT } from './blocks.ts';
import type { Cpu } from './cpu.ts';
import { blockTuning, fastPaths, jitTuning } from './fastpaths.ts';
import { regionStats } from './jit-region.ts';
import { exitReasons, traceStats } from './jit-trace.ts';

const n = Number(process.argv[2] ?? 2000);
if (process.env.TIER === 'blocks') fastPaths.jit = false;
if (process.env.TIER === 'interpreter') fastPaths.blockCache = false;
if (process.env.JITAFTER) jitTuning.jitAfter = Number(process.env.JITAFTER);
if (process.env.JITWORK) jitTuning.jitWork = Number(process.env.JITWORK);
// FOLLOW=n: blocks go on past up to n conditional branches (blockTuning.followJcc, maxJcc).
if (process.env.FOLLOW) Object.assign(blockTuning, { followJcc: true, maxJcc: Number(process.env.FOLLOW) });
// REGIONS=1: page-sized regions (jit-region.ts) instead of single compiled blocks.
if (process.env.REGIONS) {
  jitTuning.regions = true;
  jitTuning.jitAfter = Number(process.env.JITAFTER ?? 1000);
}
// TRACES=1: traces (jit-trace.ts) instead of single compiled blocks; TRACEMAX/TRACEMIN/TRACERETRY
// tune them, TRACESTATS=1 counts trace calls and exits.
// TRACES=loop: from the prompt on only (the boot in the default tier).
if (process.env.TRACES && process.env.TRACES !== 'loop') {
  jitTuning.traces = true;
  jitTuning.jitAfter = Number(process.env.JITAFTER ?? 1000);
}
if (process.env.TRACEMAX) jitTuning.traceMax = Number(process.env.TRACEMAX);
if (process.env.TRACEMIN) jitTuning.traceMin = Number(process.env.TRACEMIN);
if (process.env.TRACERETRY) jitTuning.traceRetry = Number(process.env.TRACERETRY);
if (process.env.TRACESTATS) traceStats.on = true;
if (process.env.TRACEFLIPS) jitTuning.traceFlips = process.env.TRACEFLIPS === '1';
if (process.env.TRACEMEGA) jitTuning.traceMegaCalls = process.env.TRACEMEGA === '1';
if (process.env.REGIONMINRUNS) jitTuning.regionMinRuns = Number(process.env.REGIONMINRUNS);
if (process.env.REGIONWORK) jitTuning.regionWork = Number(process.env.REGIONWORK);
if (process.env.REGIONCOMPILES) jitTuning.regionCompiles = Number(process.env.REGIONCOMPILES);
// JITSTATS=1: list every compiled block: where, when, and how many instructions it ran afterwards.
const jitted: Array<{ phys: number; n: number; at: number; runs: number; exits: number }> = [];
let pcNow = (): number => 0;
if (process.env.JITSTATS) {
  const set = BlockCache.prototype.setCompiled;
  BlockCache.prototype.setCompiled = function (b, f) {
    const rec = { phys: this.arena[b]! >>> 0, n: this.arena[b + H_COUNT]!, at: pcNow(), runs: 0, exits: 0 };
    jitted.push(rec);
    set.call(this, b, (c, a, o) => {
      rec.runs++;
      const x = f(c, a, o);
      if (x >= 256) rec.exits++;
      return x;
    });
  };
}
// REGSTAT=1 counts region calls and exits; DUMP=file writes every region's source (jit-region.ts).
if (process.env.REGSTAT) regionStats.on = true;
if (process.env.DUMP) regionStats.dump = [];
const { source } = resolveGuest({ kind: 'guest', id: 'linux' });
if (source.kind !== 'kernel') throw new Error('linux guest is not a kernel image');
const pc = new Pc({ memMiB: 64, noReboot: true });
pcNow = () => pc.instructions;
pc.load(loadKernel(source.kernel, { ramBytes: 64 << 20, initrd: source.initrd, cmdline: source.cmdline }));
function runUntil(want: string): void {
  let out = '';
  while (!out.includes(want)) {
    const r = pc.runSlice(1_000_000);
    out = (out + new TextDecoder().decode(pc.serialOut[0]!.take())).slice(-4096);
    if (r.state !== 'running') throw new Error(`stopped: ${r.state} ${pc.reason ?? ''}`);
  }
}
const t0 = process.cpuUsage();
runUntil('guest# ');
const boot = process.cpuUsage(t0);
const cpu = pc.cpu as unknown as Cpu;
const b = cpu.blocks;
const before = {
  i: pc.instructions,
  built: b.built,
  lookups: b.lookups,
  flushes: b.flushes,
  compiled: b.compiled.length,
};
// EAGER=1: every block is compiled on its first run from the prompt on (the compiled code's
// steady state, compile cost aside: run the loop twice with REPEAT=2 and read the second).
if (process.env.EAGER) jitTuning.jitAfter = 1;
if (process.env.TRACES === 'loop') {
  jitTuning.traces = true;
  jitTuning.jitAfter = Number(process.env.JITAFTER ?? 1000);
}
for (let rep = Number(process.env.REPEAT ?? 1); rep > 1; rep--) {
  pc.sendSerial(0, `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); done; echo LOOPDONE\n`);
  const w0 = process.cpuUsage();
  const i0 = pc.instructions;
  runUntil('\nLOOPDONE');
  const w = process.cpuUsage(w0);
  console.log(
    `earlier loop: ${((pc.instructions - i0) / ((w.user + w.system) / 1e6) / 1e6).toFixed(1)} MIPS`,
  );
  before.i = pc.instructions;
}
pc.sendSerial(0, `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); done; echo LOOPDONE\n`);
const c0 = process.cpuUsage();
runUntil('\nLOOPDONE');
const cu = process.cpuUsage(c0);
const s = (cu.user + cu.system) / 1e6;
const di = pc.instructions - before.i;
console.log(
  `boot ${((boot.user + boot.system) / 1e6).toFixed(2)} s CPU; loop ${n}: ${di} instructions, ${s.toFixed(3)} s CPU, ${(di / s / 1e6).toFixed(1)} MIPS; built ${b.built - before.built}, lookups ${b.lookups - before.lookups} (every ${(di / Math.max(1, b.lookups - before.lookups)).toFixed(0)}), flushes ${b.flushes - before.flushes}, compiled now ${b.compiled.length}, regions compiled ${cpu.regions.compiledRegions}, blocks given one ${cpu.regions.attached}`,
);
if (jitTuning.traces)
  console.log(
    `traces compiled ${cpu.traces.compiled} (${traceStats.loops} loops, ${traceStats.instructions} instructions, ${traceStats.rejected} paths too short), attached ${cpu.traces.attached}, detached ${traceStats.detached}, rebuilt after guard failures ${traceStats.flipped}`,
  );
if (traceStats.on)
  console.log(
    `trace calls ${traceStats.calls}, instructions in traces ${traceStats.ran} (${((100 * traceStats.ran) / di).toFixed(1)} % of the loop's, ${(traceStats.ran / Math.max(1, traceStats.calls)).toFixed(1)} per call), exits done/attention/side ${traceStats.exits.join('/')}, by reason ${JSON.stringify(exitReasons())}`,
  );
if (regionStats.on) console.log(JSON.stringify({ ...regionStats, dump: undefined }));
if (regionStats.dump)
  (await import('node:fs')).writeFileSync(process.env.DUMP as string, JSON.stringify(regionStats.dump));
for (const r of jitted)
  console.log(
    `compiled ${r.phys.toString(16)} (${r.n} instructions) at ${r.at}: ran ${r.runs * r.n} instructions after, ${r.exits} side exits in ${r.runs} runs`,
  );
if (process.env.MIX) {
  // Instruction mix of the loop's blocks (runs from the first countdown: jitAfter - H_RUNS).
  const { HANDLERS, HDR, REC, H_RECORDS, H_RUNS, H_COUNT, H_BORN, H_JIT } = await import('./blocks.ts');
  const a = b.arena;
  const top = (b as unknown as { top: number }).top;
  const mix = new Map<string, number>();
  let blocks = 0;
  let runsTotal = 0;
  let instrTotal = 0;
  const lens: number[] = [];
  for (let o = 0; o < top; ) {
    const recs = a[o + H_RECORDS];
    const runs = a[o + H_BORN] < 0 || a[o + H_JIT] >= 0 ? 0 : 50_000 - a[o + H_RUNS];
    if (runs > 0) {
      blocks++;
      runsTotal += runs;
      instrTotal += runs * a[o + H_COUNT];
      for (let r = 0; r < recs; r++) {
        const h = HANDLERS[a[o + HDR + r * REC]]!;
        const name = `${h.name || '?'}#${a[o + HDR + r * REC]}`;
        mix.set(name, (mix.get(name) ?? 0) + runs);
      }
      for (let r = 0; r < runs; r += 1000) lens.push(a[o + H_COUNT]);
    }
    o += HDR + recs * REC;
  }
  console.log(
    `blocks run ${blocks}, runs ${runsTotal}, instructions ${instrTotal}, avg block length ${(instrTotal / runsTotal).toFixed(1)}`,
  );
  for (const [k, v] of [...mix].sort((x, y) => y[1] - x[1]).slice(0, 40))
    console.log(String(v).padStart(10), k);
}
if (process.env.OPTSTATUS) {
  const st = new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number;
  console.log(b.compiled.map((f) => st(f).toString(2)).join(' '));
}
