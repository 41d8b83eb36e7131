/**
 * Linux boot to the prompt on the Pc, with run-loop statistics (not a test):
 *   npx tsx src/cpu/perf-linux.ts
 * Prints instructions, CPU seconds, and how often the fast loop was left (attention).
 */
import { resolveGuest } from '../cli/guest-files.ts';
import { loadKernel } from '../machine/loaders/index.ts';
import { Pc } from '../machine/pc.ts';
import { Cpu } from './cpu.ts';
import { fastPaths, jitTuning } from './fastpaths.ts';

const stats = { fast: 0, slow: 0 };
const proto = Cpu.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const [name, key] of [
  ['fastLoop', 'fast'],
  ['stepSlow', 'slow'],
] as const) {
  const orig = proto[name];
  proto[name] = function (this: unknown, ...a: unknown[]) {
    stats[key]++;
    return orig.apply(this, a);
  };
}
const { source } = resolveGuest({ kind: 'guest', id: 'linux' });
if (source.kind !== 'kernel') throw new Error('linux guest is not a kernel image');
if (process.env.NOBLOCKS) fastPaths.blockCache = false;
if (process.env.NOJIT) fastPaths.jit = false;
if (process.env.JITWORK) jitTuning.jitWork = Number(process.env.JITWORK);
if (process.env.HOTSHARE) jitTuning.hotShare = Number(process.env.HOTSHARE);
for (let run = 0; run < Number(process.env.RUNS ?? 2); run++) {
  stats.fast = 0;
  stats.slow = 0;
  const pc = new Pc({ memMiB: 64, noReboot: true });
  pc.load(loadKernel(source.kernel, { ramBytes: 64 << 20, initrd: source.initrd, cmdline: source.cmdline }));
  const c0 = process.cpuUsage();
  let out = '';
  while (!out.includes('guest# ')) {
    const r = pc.runSlice(1_000_000);
    out += new TextDecoder().decode(pc.serialOut[0]!.take());
    if (r.state !== 'running') throw new Error(`stopped: ${r.state} ${pc.reason ?? ''}`);
  }
  const cu = process.cpuUsage(c0);
  const s = (cu.user + cu.system) / 1e6;
  const cpu = pc.cpu as unknown as Cpu;
  const b = cpu.blocks;
  console.log(
    `${pc.instructions} instructions, ${s.toFixed(3)} s CPU, ${(pc.instructions / s / 1e6).toFixed(1)} MIPS; fastLoop entries ${stats.fast}, slow steps ${stats.slow}; blocks built ${cpu.blocks.built} (flushes ${cpu.blocks.flushes}, compiled ${cpu.blocks.compiled.length}; lookups ${b.lookups}, clashes ${b.clashes}, stale ${b.stale}, first visits ${b.firstVisits}, uncached ${b.uncached}, avg len ${(pc.instructions / Math.max(1, b.lookups)).toFixed(1)}), code invalidations ${cpu.code.invalidations}, pages given up ${cpu.code.noCache.reduce((a, v) => a + v, 0)}`,
  );
}
