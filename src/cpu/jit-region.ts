/**
 * The second tier: page-sized compiled regions. Single compiled blocks cannot win on varied code
 * (PERF.md, "jit2": blocks run 4.3 instructions on average and V8 spends ~13 ms optimizing each
 * generated function), so all the hot blocks of one code page go into ONE JavaScript function, as
 * the cases of a local dispatch loop (`for (;;) switch (ip)`): a branch from one of them to another
 * stays inside the function, and V8's optimizing cost is paid once per page instead of per block.
 *
 * A region is entered from the run loop (cpu.ts fastLoop) at a block it holds and returns when
 * the next block is not one of its cases, when the budget `n` cannot hold the next whole block,
 * when `attention` is set (the same boundaries as the first tier: after any called record), when
 * CodeMap.epoch moved (a TLB, CS, CPL or code change: the page's linear → physical mapping or its
 * bytes may no longer be what was compiled), or at a side exit: an access off the inline memory
 * fast path (jit.ts `memory`) leaves *before* that instruction (regionExit puts EIP/IP on it) and
 * the run loop interprets that one instruction. Registers, flags and memory are the CPU's own at every
 * call and exit, so a fault anywhere is precise (the catch puts EIP/IP on the faulting record, as
 * cpu.ts blockFaulted does for the first tier).
 *
 * Each region owns a copy of its blocks' records (the handlers' operands), so it survives arena
 * refills: a block decoded again from unchanged bytes under the same CS gets its region back at
 * its first countdown. Stale regions (the page written since: CodeMap.gen) are dropped.
 *
 * When: each block counts down `jitAfter`, then `regionAfter` runs (blocks.ts H_RUNS); every
 * countdown that runs out adds runs × length instructions to its page's work, and a page whose
 * blocks have retired `regionWork` instructions is compiled: its blocks that ran `regionMinRuns`
 * times (`regionMore` later for a recompile with the blocks built since, at most `regionCompiles`
 * compiles in all). Counts only: deterministic, and invisible to the guest. Tests set `jitAfter`
 * to 1: then every block goes into a region at its first run (the blocks of a page not yet in one
 * form a new, small region).
 *
 * Off by default (jitTuning.regions): in JavaScript a region pays only once TurboFan has optimized
 * it, which for a page-sized function comes late and costs much; on the BusyBox loop regions lose
 * to the first tier (PERF.md, "Session 7 — region").
 */

import type { Op } from './block-ops.ts';
import { type BlockCache, H_BORN, H_COUNT, H_JIT, H_RECORDS, H_RUNS, HANDLERS, HDR, REC } from './blocks.ts';
import type { CpuCore } from './core.ts';
import { jitTuning } from './fastpaths.ts';
import { generate, inline, memory } from './jit.ts';

/**
 * A compiled region: returns REGION_DONE (left at an instruction boundary, IP on the next
 * instruction), REGION_ATTENTION (`attention` is set) or REGION_SIDE (IP on an instruction the run
 * loop must interpret). It keeps `c.instructions` itself; `a` is unused (records are its own).
 */
export type RegionFn = (c: CpuCore, a: Int32Array, n: number) => number;
export const REGION_DONE = 0;
export const REGION_ATTENTION = 1;
export const REGION_SIDE = 2;

/** Records per generated function at most: V8 does not optimize a function of > 60 KB bytecode. */
const MAX_RECORDS = 200;
/** Regions kept at most; then all are forgotten (blocks already attached keep theirs). */
const MAX_REGIONS = 2048;

interface Region {
  gen: number;
  csBase: number;
  csLim: number;
  /** Linear page of its code ((csBase + ip) >>> 12). */
  lin: number;
  /** Entry IPs (int32) of its blocks. */
  ips: Set<number>;
  f: RegionFn;
  /** Index in BlockCache.compiled while the arena lasts (checked before use). */
  slot: number;
}

interface Page {
  gen: number;
  work: number;
  compiles: number;
  regions: Region[];
}

/** Source of one region over blocks `bs` (arena offsets), with its own copy of their records. */
export function regionSource(
  a: Int32Array,
  bs: number[],
): { params: string[]; body: string; records: Int32Array; table: Uint16Array } {
  let total = 0;
  for (const b of bs) total += a[b + H_RECORDS];
  const R = new Int32Array(total * REC);
  // The blocks share CS base and linear page (Regions.compile): IP - base is the offset in the
  // page, and T maps it to a dense case number (0: not a block here), so the dispatch is a jump
  // table in every V8 tier (a switch over sparse IPs is a chain of compares in Ignition/Sparkplug).
  const base = (((((a[bs[0] + 3] + a[bs[0] + 1]) | 0) >>> 12) << 12) - a[bs[0] + 3]) | 0;
  const T = new Uint16Array(4096);
  const params: string[] = [];
  const seen = new Set<number>();
  const lines: string[] = [
    'const r = c.regs, sb = c.segBase, rx = c.segRdMax, wx = c.segWrMax, m = c.ram32, u = c.ram, code = c.code, E = code.epoch;',
    'let i = -1;',
    'try {',
    'for (;;) {',
    `const off = (c.ip - ${base}) >>> 0;`,
    'if (off > 4095) return 0;',
    'switch (T[off]) {',
  ];
  let o = 0; // next free record in R
  let cases = 0;
  for (const b of bs) {
    const records = a[b + H_RECORDS];
    const n = a[b + H_COUNT];
    T[(a[b + 1] - base) & 0xfff] = ++cases;
    lines.push(`case ${cases}: {`, `if (n < ${n}) return 0;`, `n -= ${n};`);
    // Retirements of inline records not yet added to c.instructions.
    let pending = 0;
    const flush = (): void => {
      if (pending > 0) lines.push(`c.instructions += ${pending};`);
      pending = 0;
    };
    for (let r = 0; r < records; r++) {
      const k = b + HDR + r * REC;
      const h = a[k];
      const eip = a[k + 1] >>> 0;
      const next = a[k + 2] >>> 0;
      R.set(a.subarray(k, k + REC), o);
      const last = r === records - 1;
      const exit = String(REGION_SIDE + ((o / REC) << 9) + (pending << 1));
      const code = last ? null : (inline(HANDLERS[h], a, k + 3) ?? memory(HANDLERS[h], a, k + 3, exit));
      if (code !== null) {
        lines.push(code);
        pending++;
        o += REC;
        continue;
      }
      if (!seen.has(h)) {
        seen.add(h);
        params.push(`h${h}`);
      }
      flush();
      lines.push(`i = ${o};`);
      if (last) {
        // The last record (a branch or `interpret`) sees EIP/IP, as in the run loop.
        lines.push(`c.eip = ${eip}; c.ip = ${next};`, `call(h${h}, c, R, ${o + 3}); c.instructions++;`);
        lines.push('if (c.attention) return 1;', 'break; }');
      } else {
        lines.push(`call(h${h}, c, R, ${o + 3}); c.instructions++;`);
        lines.push(`if (c.attention) return ${REGION_SIDE + ((o / REC) << 9) + 1};`);
      }
      o += REC;
    }
  }
  lines.push('default: return 0;', '}', 'if (code.epoch !== E) return 0;', '}');
  // A called record faulted: EIP/IP on it (nothing of it retired), except for `interpret`
  // (handler 0), whose execute() left them as the interpreter does (cpu.ts blockFaulted).
  lines.push(
    '} catch (e) { if (i >= 0 && R[i] !== 0) { c.eip = R[i + 1] >>> 0; c.ip = R[i + 2] >>> 0; } c.faultK = -1; throw e; }',
  );
  return { params, body: lines.join('\n'), records: R, table: T };
}

/** Compile blocks `bs` into one region function; null when code generation is refused here. */
export function compileRegion(a: Int32Array, bs: number[]): RegionFn | null {
  const { params, body, records, table } = regionSource(a, bs);
  if (regionStats.dump !== null) regionStats.dump.push({ params, body, records: Array.from(records) });
  const make = generate(['R', 'T', 'call', ...params], `return function region(c, a, n) {\n${body}\n};`);
  if (make === null) return null;
  const f = make(records, table, callOp, ...params.map((p) => HANDLERS[Number(p.slice(1))])) as RegionFn;
  regionRecords.set(f, records);
  if (!regionStats.on) return f;
  const st = regionStats;
  const g: RegionFn = (c, a, n) => {
    const i0 = c.instructions;
    const x = f(c, a, n);
    st.calls++;
    st.instr += c.instructions - i0;
    if (c.instructions === i0) st.zero++;
    if (x === 0) st.done++;
    else if (x === 1) st.attn++;
    else if (((x - 2) & 1) === 1) st.mid++;
    else st.side++;
    return x;
  };
  regionRecords.set(g, records);
  return g;
}

/**
 * Every handler call of every region goes through this one call site. V8 then cannot inline the
 * handlers into a region (the site is megamorphic), which keeps TurboFan's time on a page-sized
 * function in proportion to its size (with the handlers inlined: ~1.5 s per region, measured).
 */
function callOp(f: Op, c: CpuCore, a: Int32Array, k: number): void {
  f(c, a, k);
}

/** Scratch counters for perf-busybox.ts (REGSTAT=1): region calls and how they ended. */
export const regionStats = {
  dump: null as null | Array<{ params: string[]; body: string; records: number[] }>,
  on: false,
  calls: 0,
  done: 0,
  attn: 0,
  side: 0,
  mid: 0,
  instr: 0,
  zero: 0,
};

const regionRecords = new WeakMap<RegionFn, Int32Array>();

/**
 * A region returned `x` ≥ REGION_SIDE: put the CPU where it stopped. The exits are constants in
 * the generated code (a return needs no type feedback, so taking one the first time does not
 * deoptimize the region); the state they imply is written here. Returns true for `attention`
 * after a called record in the middle of a block (EIP/IP after it, as the first tier leaves
 * them), false for a side exit (EIP/IP on the instruction, its retired predecessors counted).
 */
export function regionExit(c: CpuCore, f: RegionFn, x: number): boolean {
  const R = regionRecords.get(f);
  if (R === undefined) {
    // A trace (jit-trace.ts): it wrote everything back and left IP on the instruction to interpret.
    c.eip = c.ip;
    return false;
  }
  const v = x - REGION_SIDE;
  const o = (v >>> 9) * REC;
  if ((v & 1) !== 0) {
    c.eip = R[o + 1] >>> 0;
    c.ip = R[o + 2] >>> 0;
    return true;
  }
  c.instructions += (v >>> 1) & 0xff;
  c.eip = R[o + 1] >>> 0;
  c.ip = c.eip;
  return false;
}

/** The regions of one CPU, by physical code page. */
export class Regions {
  private readonly pages = new Map<number, Page>();
  private count = 0;
  /** Region functions generated, and blocks given a region (stats). */
  compiledRegions = 0;
  attached = 0;

  constructor(private readonly cache: BlockCache) {}

  reset(): void {
    this.pages.clear();
    this.count = 0;
  }

  /**
   * Block `b`'s countdown ran out (cpu.ts LOOP_JIT; the block has not run this time). Give it
   * its page's region, compile one, or count down again.
   */
  due(c: CpuCore, b: number): void {
    const a = this.cache.arena;
    const phys = a[b];
    const pageNo = phys >>> 12;
    const gen = c.code.gen[pageNo];
    const ip = a[b + 1];
    const lin = ((a[b + 3] + ip) | 0) >>> 12;
    let page = this.pages.get(pageNo);
    if (page === undefined || page.gen !== gen) {
      page = { gen, work: 0, compiles: 0, regions: [] };
      this.pages.set(pageNo, page);
    }
    const eager = jitTuning.jitAfter <= 1;
    // Runs this countdown stood for: the first is jitAfter (blocks.ts build), later ones regionAfter.
    const after = eager ? 1 : a[b + H_BORN] >= 0 ? jitTuning.jitAfter : jitTuning.regionAfter;
    if (a[b + 2] === gen && c.ram32 !== null) {
      const have = this.find(page, a, b, lin);
      if (have !== null) {
        this.attach(have, b);
        return;
      }
      page.work += after * a[b + H_COUNT];
      const need = page.compiles === 0 ? jitTuning.regionWork : jitTuning.regionMore;
      if (eager || (page.work >= need && page.compiles < jitTuning.regionCompiles)) {
        page.work = 0;
        page.compiles++;
        if (!this.compile(page, b, lin, eager)) {
          a[b + H_RUNS] = 0x3fffffff; // no code generation here: the first tier for good
          return;
        }
        if (a[b + H_JIT] < -1) return;
      }
    }
    // Count down again (+1: the block runs when fastLoop is entered again, which counts it).
    a[b + H_BORN] = -1;
    a[b + H_RUNS] =
      page.compiles >= jitTuning.regionCompiles && !eager
        ? 0x3fffffff
        : (eager ? 1 : jitTuning.regionAfter) + 1;
  }

  private find(page: Page, a: Int32Array, b: number, lin: number): Region | null {
    const ip = a[b + 1];
    for (let i = page.regions.length - 1; i >= 0; i--) {
      const r = page.regions[i];
      if (r.lin === lin && r.csBase === a[b + 3] && r.csLim === a[b + 4] && r.ips.has(ip)) return r;
    }
    return null;
  }

  private attach(r: Region, b: number): void {
    const compiled = this.cache.compiled;
    if (r.slot < 0 || compiled[r.slot] !== r.f) {
      r.slot = compiled.length;
      compiled.push(r.f);
    }
    this.cache.arena[b + H_JIT] = -2 - r.slot; // < -1: a region (≥ 0: a compiled block, jit.ts)
    this.attached++;
  }

  /**
   * Compile the page's blocks in the arena that were decoded from its current bytes under `b`'s
   * CS and linear page and have run (eager: those without a region yet). Returns false when code
   * generation is refused.
   */
  private compile(page: Page, b: number, lin: number, eager: boolean): boolean {
    const a = this.cache.arena;
    const top = this.cache.used;
    const pageNo = a[b] >>> 12;
    const csBase = a[b + 3];
    const csLim = a[b + 4];
    const byIp = new Map<number, number>();
    for (let x = 0; x < top; x += HDR + a[x + H_RECORDS] * REC) {
      if (a[x] >>> 12 !== pageNo || a[x + 2] !== page.gen || a[x + 3] !== csBase || a[x + 4] !== csLim)
        continue;
      if (a[x + 5] !== 1 || ((csBase + a[x + 1]) | 0) >>> 12 !== lin) continue;
      if (
        x !== b &&
        (eager
          ? a[x + H_JIT] < -1
          : a[x + H_JIT] === -1 &&
            a[x + H_BORN] >= 0 &&
            jitTuning.jitAfter - a[x + H_RUNS] < jitTuning.regionMinRuns)
      )
        continue; // eager: has a region already; else: has run fewer than regionMinRuns times
      byIp.set(a[x + 1], x);
    }
    if (this.count >= MAX_REGIONS) {
      this.pages.clear();
      this.pages.set(pageNo, page);
      page.regions = [];
      this.count = 0;
    }
    if (!eager) page.regions = [];
    // Split into functions of at most MAX_RECORDS records (in arena order: build order).
    const all = [...byIp.values()].sort((p, q) => p - q);
    let chunk: number[] = [];
    let recs = 0;
    const chunks: number[][] = [];
    for (const x of all) {
      if (recs + a[x + H_RECORDS] > MAX_RECORDS && chunk.length > 0) {
        chunks.push(chunk);
        chunk = [];
        recs = 0;
      }
      chunk.push(x);
      recs += a[x + H_RECORDS];
    }
    if (chunk.length > 0) chunks.push(chunk);
    for (const bs of chunks) {
      const f = compileRegion(a, bs);
      if (f === null) return false;
      const r: Region = {
        gen: page.gen,
        csBase,
        csLim,
        lin,
        ips: new Set(bs.map((x) => a[x + 1])),
        f,
        slot: -1,
      };
      page.regions.push(r);
      this.count++;
      this.compiledRegions++;
      for (const x of bs) this.attach(r, x);
    }
    return true;
  }
}
