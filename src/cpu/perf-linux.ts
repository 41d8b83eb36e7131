/**
 * Linux boot to the prompt on the Pc, with run-loop statistics (not a test):
 *   npx tsx src/cpu/perf-linux.ts
 * Prints instructions, CPU seconds, and how often the fast loop was left (attention).
 */
import { resolveGuest } from '../cli/guest-files.ts';
import { loadKernel } from '../machine/loaders/index.ts';
import { Pc } from '../machine/pc.ts';
import { BlockCache, H_COUNT, H_RECORDS, H_RUNS, HANDLERS, HDR, REC } from './blocks.ts';
import { Cpu } from './cpu.ts';
import { blockTuning, fastPaths, jitTuning } from './fastpaths.ts';

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
// OPS=1: count, by opcode, the instructions the interpreter runs instead of a pre-decoded record:
// `interpret` records (handler 0), fastLoop's own execute() after a failed lookup, and stepSlow.
const ops = {
  interp: new Map<string, number>(),
  exec: new Map<string, number>(),
  slow: new Map<string, number>(),
};
const GROUP = new Set([0x80, 0x81, 0x83, 0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7, 0xfe, 0xff]);
const PREFIX = new Set([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]);
function opKey(c: Cpu): string {
  const lin = (c.csBase + c.ip) | 0;
  const e = ~c.tlbR[lin >>> 12];
  if ((e & 0xfff) !== 0) return '?';
  let p = e ^ lin;
  let k = c.code32 ? '' : '16:';
  let b = c.ram[p++]!;
  while (PREFIX.has(b)) {
    k += `${b.toString(16)} `;
    b = c.ram[p++]!;
  }
  k += b.toString(16).padStart(2, '0');
  if (b === 0x0f) {
    b = c.ram[p++]!;
    k += b.toString(16).padStart(2, '0');
    if (b === 0xba || b === 0x00 || b === 0x01) k += `/${(c.ram[p]! >> 3) & 7}`;
  } else if (GROUP.has(b)) k += `/${(c.ram[p]! >> 3) & 7}${c.ram[p]! >= 0xc0 ? 'r' : 'm'}`;
  return k;
}
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
if (process.env.OPS) {
  const interp = HANDLERS[0]!;
  HANDLERS[0] = (c, a, o) => {
    (c as Cpu).ip = (c as Cpu).eip;
    bump(ops.interp, opKey(c as Cpu));
    interp(c, a, o);
  };
  const lookup = BlockCache.prototype.lookup;
  BlockCache.prototype.lookup = function (this: BlockCache, c) {
    const b = lookup.call(this, c);
    if (b < 0) bump(ops.exec, opKey(c as Cpu));
    return b;
  };
  const slow = proto.stepSlow!;
  proto.stepSlow = function (this: Cpu, ...a: unknown[]) {
    bump(ops.slow, opKey(this));
    return slow.apply(this, a);
  };
}
const { source } = resolveGuest({ kind: 'guest', id: 'linux' });
if (source.kind !== 'kernel') throw new Error('linux guest is not a kernel image');
if (process.env.NOBLOCKS) fastPaths.blockCache = false;
if (process.env.NOJIT) fastPaths.jit = false;
// TRACES=1: traces (jit-trace.ts) from the first instruction on, a block due after JITAFTER runs.
if (process.env.TRACES) {
  jitTuning.traces = true;
  jitTuning.jitAfter = Number(process.env.JITAFTER ?? 1000);
}
if (process.env.JITWORK) jitTuning.jitWork = Number(process.env.JITWORK);
// BLOCKSTATS=1: no second tier; each block's run countdown then counts its runs (printed below).
if (process.env.BLOCKSTATS) jitTuning.jitAfter = 2 ** 30;
// FOLLOW=n: blocks go on past up to n conditional branches (blockTuning.followJcc, maxJcc).
if (process.env.FOLLOW) Object.assign(blockTuning, { followJcc: true, maxJcc: Number(process.env.FOLLOW) });
if (process.env.HOTSHARE) jitTuning.hotShare = Number(process.env.HOTSHARE);
// BUILDVISIT=n: a block is decoded at its address's n-th visit (blockTuning.buildVisit).
if (process.env.BUILDVISIT) blockTuning.buildVisit = Number(process.env.BUILDVISIT);
// PROF=file.cpuprofile: V8's sampling profile of the last boot only (the warm one with RUNS=2).
const runs = Number(process.env.RUNS ?? 2);
const inspector = process.env.PROF ? new (await import('node:inspector')).Session() : null;
const post = (m: string, p?: object) =>
  new Promise<unknown>((ok, no) => inspector!.post(m, p ?? {}, (e, r) => (e ? no(e) : ok(r))));
for (let run = 0; run < runs; run++) {
  if (inspector && run === runs - 1) {
    inspector.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 200 });
    await post('Profiler.start');
  }
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
  if (process.env.BLOCKSTATS) blockStats((pc.cpu as unknown as Cpu).blocks);
  if (inspector && run === runs - 1) {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    (await import('node:fs')).writeFileSync(process.env.PROF!, JSON.stringify(profile));
  }
  const s = (cu.user + cu.system) / 1e6;
  const cpu = pc.cpu as unknown as Cpu;
  const b = cpu.blocks;
  console.log(
    `${pc.instructions} instructions, ${s.toFixed(3)} s CPU, ${(pc.instructions / s / 1e6).toFixed(1)} MIPS; fastLoop entries ${stats.fast}, slow steps ${stats.slow}; blocks built ${cpu.blocks.built} (flushes ${cpu.blocks.flushes}, compiled ${cpu.blocks.compiled.length}; lookups ${b.lookups}, clashes ${b.clashes}, stale ${b.stale}, first visits ${b.firstVisits}, uncached ${b.uncached}, avg len ${(pc.instructions / Math.max(1, b.lookups)).toFixed(1)}), code invalidations ${cpu.code.invalidations}, pages given up ${cpu.code.noCache.reduce((a, v) => a + v, 0)}`,
  );
}
if (process.env.OPS) {
  for (const [name, m] of Object.entries(ops)) {
    const all = [...m.values()].reduce((x, y) => x + y, 0);
    const top = [...m]
      .sort((x, y) => y[1] - x[1])
      .slice(0, Number(process.env.OPS) > 1 ? Number(process.env.OPS) : 25);
    console.log(`${name}: ${all} in all (over ${Number(process.env.RUNS ?? 2)} boots)`);
    for (const [k, v] of top) console.log(`  ${k.padEnd(12)} ${v}`);
  }
}

/** Block runs by block length, and records run by handler (a block's runs × its records). */
function blockStats(cache: BlockCache): void {
  const a = cache.arena;
  const top = (cache as unknown as { top: number }).top;
  const byLen = new Map<number, [number, number]>();
  const byOp = new Map<string, number>();
  let runs = 0;
  let ins = 0;
  for (let b = 0; b < top; b += HDR + a[b + H_RECORDS]! * REC) {
    const n = 2 ** 30 - a[b + H_RUNS]!;
    const len = a[b + H_COUNT]!;
    runs += n;
    ins += n * len;
    const e = byLen.get(Math.min(len, 64)) ?? [0, 0];
    e[0] += n;
    e[1] += n * len;
    byLen.set(Math.min(len, 64), e);
    for (let r = 0; r < a[b + H_RECORDS]!; r++) {
      const name = HANDLERS[a[b + HDR + r * REC]!]!.name || '?';
      byOp.set(name, (byOp.get(name) ?? 0) + n);
    }
  }
  console.log(`block runs ${runs}, instructions in them ${ins} (${(ins / runs).toFixed(2)} per run)`);
  const lens = [...byLen].sort((x, y) => x[0] - y[0]);
  console.log(`  runs by length: ${lens.map(([l, [n]]) => `${l}:${n}`).join(' ')}`);
  const ops = [...byOp].sort((x, y) => y[1] - x[1]).slice(0, 30);
  console.log(`  records by handler: ${ops.map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
