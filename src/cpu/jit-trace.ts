/**
 * The trace tier (opt-in: jitTuning.traces). When a block's countdown runs out, the path the
 * guest has been taking from it — the block links (blocks.ts) of each block in turn, the
 * successor that ran more often first — becomes one generated function (jit-trace-gen.ts) with
 * the registers and lazy flags in JS locals: a straight line of up to `traceMax` instructions,
 * ending where the path comes back to its first block (then a `for (;;)` loop) or where the next
 * block is not known. Why: per-block functions retire too little to repay V8's optimizing compile
 * and page-sized regions are CFGs it compiles late and slowly (PERF.md, "jit2", "Session 7 —
 * region"); a trace is small, linear and covers a hot path across pages.
 *
 * The function runs from fastLoop's region branch (cpu.ts; same signature and exit codes as a
 * region): 0 at an instruction boundary, 1 for `attention`, 2 when the instruction at IP must be
 * interpreted (jit-region.ts `regionExit` leaves EIP/IP as the trace put them). Every exit writes
 * the registers, flags and instruction count back first, so the run loop goes on exactly where
 * the interpreter would be; the guest cannot tell (jit-trace.test.ts, the fuzz differential,
 * linux-tiers.test.ts).
 *
 * Invalidation: a trace holds while CodeMap.epoch is the one it was checked under (the link rule:
 * no TLB, CS, CPL or code change since). When the epoch has moved, the entry re-checks every page
 * of the path (same physical page through the TLB, same page generation, same CS); if one fails
 * the trace is detached from its block (which counts down again) and the instruction is
 * interpreted. Inside a trace a code write goes through a slow TLB entry, so it leaves through a
 * side exit or a handler call that sets `attention`; after any handler the epoch is checked
 * before the next block.
 */
import { endJcc } from './block-fused.ts';
import type { Op } from './block-ops.ts';
import {
  type BlockCache,
  H_BLK0,
  H_BLK1,
  H_BORN,
  H_COUNT,
  H_EPOCH,
  H_JIT,
  H_RECORDS,
  H_RUNS,
  HANDLERS,
  HDR,
  REC,
} from './blocks.ts';
import type { CpuCore } from './core.ts';
import { jitTuning } from './fastpaths.ts';
import { generate } from './jit.ts';
import { followsAt, traceSource } from './jit-trace-gen.ts';

export type TraceFn = (c: CpuCore, a: Int32Array, n: number) => number;

/** Traces kept at most; then all are forgotten (blocks keep the ones attached). */
const MAX_TRACES = 4096;
/** Blocks per trace at most. */
const MAX_BLOCKS = 64;

interface Trace {
  ip: number;
  gen: number;
  csBase: number;
  csLim: number;
  f: TraceFn;
  /** The state the generated code sees (`S`): the epoch it was checked under, its head. */
  st: { e: number; at: number; slot: number; why: Int32Array | null; n: number };
  instructions: number;
  loop: boolean;
}

/** Counters for perf-busybox.ts (TRACESTATS=1). */
export const traceStats = {
  on: false,
  built: 0,
  loops: 0,
  instructions: 0,
  rejected: 0,
  detached: 0,
  calls: 0,
  ran: 0,
  exits: [0, 0, 0],
  flipped: 0,
  traces: [] as Array<{ why: string[]; n: Int32Array; len: number }>,
  /** Sources of the traces built (when not null). */
  dump: null as null | string[],
  log: null as null | string[],
};

/** Exits taken by reason, over every trace (perf-busybox.ts TRACESTATS=1). */
export function exitReasons(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of traceStats.traces)
    for (let i = 0; i < t.why.length; i++) out[t.why[i]] = (out[t.why[i]] ?? 0) + t.n[i];
  return out;
}

/**
 * With jitTuning.traceMegaCalls every handler call of every trace goes through this one call
 * site: V8 then cannot inline the handlers into a trace (the site is megamorphic).
 */
function callOp(f: Op, c: CpuCore, a: Int32Array, k: number): void {
  f(c, a, k);
}

export class Traces {
  private readonly byPhys = new Map<number, Trace[]>();
  /** Branch blocks (physical address) → the successor IP a failing guard there showed. */
  private readonly prefer = new Map<number, number>();
  private readonly flips = new Map<number, number>();
  private count = 0;
  /** Traces generated, and heads given one (stats). */
  compiled = 0;
  attached = 0;
  /** Of them, loops (the path came back to its first block). */
  loops = 0;

  constructor(private readonly cache: BlockCache) {}

  reset(): void {
    this.byPhys.clear();
    this.prefer.clear();
    this.flips.clear();
    this.count = 0;
  }

  /**
   * Block `b`'s countdown ran out (cpu.ts LOOP_JIT; it has not run this time): give it its trace,
   * build one, or count down again.
   */
  due(c: CpuCore, b: number): void {
    const a = this.cache.arena;
    const eager = jitTuning.jitAfter <= 1;
    const have = this.find(b);
    if (have !== null) {
      this.attach(have, b);
      return;
    }
    if (c.ram32 !== null) {
      const t = this.build(c, b, eager);
      if (t !== null) {
        this.attach(t, b);
        return;
      }
    }
    // Count down again (+1: the block runs when fastLoop is entered again, which counts it).
    a[b + H_BORN] = -1;
    a[b + H_RUNS] = (eager ? 1 : jitTuning.traceRetry) + 1;
  }

  /** Forget trace `t` (a rebuilt path replaces it). */
  private drop(t: Trace | null): void {
    if (t === null) return;
    for (const [k, list] of this.byPhys) {
      const i = list.indexOf(t);
      if (i >= 0) {
        list.splice(i, 1);
        if (list.length === 0) this.byPhys.delete(k);
        this.count--;
        return;
      }
    }
  }

  private find(b: number): Trace | null {
    const a = this.cache.arena;
    const list = this.byPhys.get(a[b]);
    if (list === undefined) return null;
    for (const t of list) {
      // The epoch may have moved since: the trace's entry checks its pages again.
      if (t.ip === a[b + 1] && t.gen === a[b + 2] && t.csBase === a[b + 3] && t.csLim === a[b + 4]) return t;
    }
    return null;
  }

  private attach(t: Trace, b: number): void {
    const compiled = this.cache.compiled;
    if (t.st.slot < 0 || compiled[t.st.slot] !== t.f) {
      t.st.slot = compiled.length;
      compiled.push(t.f);
    }
    t.st.at = b;
    this.cache.arena[b + H_JIT] = -2 - t.st.slot; // < -1: run through fastLoop's region branch
    this.attached++;
  }

  /** A block's runs so far in this countdown (a block past it, or with a trace, counts as hot). */
  private runs(b: number): number {
    const a = this.cache.arena;
    if (a[b + H_JIT] !== -1 || a[b + H_BORN] < 0) return jitTuning.jitAfter;
    return jitTuning.jitAfter - a[b + H_RUNS];
  }

  private hasSide(b: number): boolean {
    const a = this.cache.arena;
    for (let r = 0; r < a[b + H_RECORDS]; r++)
      if (endJcc(HANDLERS[a[b + HDR + r * REC]]) !== null) return true;
    return false;
  }

  /** The path from `b` along the links, compiled; null when there is none worth a function. */
  private build(c: CpuCore, b: number, eager: boolean): Trace | null {
    const a = this.cache.arena;
    const code = c.code;
    const epoch = code.epoch;
    if (a[b + 2] !== code.gen[a[b] >>> 12] || a[b + 5] !== 1 || this.hasSide(b)) return null;
    const bs = [b];
    let total = a[b + H_COUNT];
    let loop = false;
    for (let cur = b; bs.length < MAX_BLOCKS; ) {
      if (a[cur + H_EPOCH] !== epoch) break;
      let next = -1;
      const want = this.prefer.get(a[cur]);
      for (const x of [a[cur + H_BLK0], a[cur + H_BLK1]]) {
        if (x < 0 || !followsAt(a, cur, a[x + 1] >>> 0)) continue;
        if (a[x + 1] === want) {
          next = x; // the way the guest went when a trace's guard here failed often
          break;
        }
        if (next < 0 || this.runs(x) > this.runs(next)) next = x;
      }
      if (next < 0) break;
      if (next === b) {
        loop = true;
        break;
      }
      if (
        bs.includes(next) ||
        total + a[next + H_COUNT] > jitTuning.traceMax ||
        a[next + 2] !== code.gen[a[next] >>> 12] ||
        a[next + 3] !== a[b + 3] ||
        a[next + 4] !== a[b + 4] ||
        a[next + 5] !== 1 ||
        this.hasSide(next)
      )
        break;
      bs.push(next);
      total += a[next + H_COUNT];
      cur = next;
    }
    if (!eager && !loop && total < jitTuning.traceMin) {
      traceStats.rejected++;
      return null;
    }
    const src = traceSource(a, bs, loop, a[b + 4], jitTuning.traceMegaCalls);
    if (traceStats.dump !== null) traceStats.dump.push(src.body);
    let t: Trace | null = null;
    const st = {
      e: epoch,
      at: b,
      slot: -1,
      n: 0,
      why: traceStats.on ? new Int32Array(src.exits.length) : null,
    };
    if (st.why !== null) traceStats.traces.push({ why: src.exits.map((x) => x.why), n: st.why, len: total });
    // What the entry re-checks when the epoch has moved: each block's pages (linear → physical).
    const pages: number[] = [];
    for (const x of bs) {
      const lin = ((a[x + 3] + a[x + 1]) | 0) >>> 12;
      const phys = a[x] >>> 12;
      if (!pages.some((_, i) => i % 3 === 0 && pages[i] === lin && pages[i + 1] === phys))
        pages.push(lin, phys, a[x + 2]);
    }
    const csBase = a[b + 3];
    const csLim = a[b + 4];
    const check = (cpu: CpuCore, arena: Int32Array): boolean => {
      if (cpu.csBase === csBase && (cpu.csLim | 0) === csLim && cpu.code32) {
        let ok = true;
        for (let i = 0; i < pages.length && ok; i += 3) {
          const e = ~cpu.tlbR[pages[i]];
          ok =
            (e & 0xfff) === 0 &&
            (e ^ (pages[i] << 12)) >>> 12 === pages[i + 1] &&
            cpu.code.gen[pages[i + 1]] === pages[i + 2] &&
            cpu.code.noCache[pages[i + 1]] === 0;
        }
        if (ok) {
          st.e = cpu.code.epoch;
          return true;
        }
      }
      // Gone: back to the first tier for this block (it counts down again; a new trace may come).
      if (arena[st.at + H_JIT] === -2 - st.slot) {
        arena[st.at + H_JIT] = -1;
        arena[st.at + H_BORN] = -1;
        arena[st.at + H_RUNS] = jitTuning.traceRetry;
      }
      traceStats.detached++;
      return false;
    };
    const ex = src.exits;
    const make = generate(
      [
        'S',
        'V',
        'F',
        'XG',
        'XN',
        'call',
        'A',
        'XT',
        'XE',
        'XP',
        'XC',
        'XK',
        'XM',
        'XB',
        'FE',
        'FP',
        'FI',
        ...src.params,
      ],
      `return function trace(c, a, n) {\n${src.body}\n};`,
    );
    if (make === null) return null;
    const XG = Int32Array.from(ex, (x) => x.g);
    const XN = new Int32Array(ex.length);
    // An exit at a guard taken on at least a third of the entries, 64 times: the guest prefers
    // the other way there. Remember it and build the path again (at most twice per branch).
    const flip = (cpu: CpuCore, arena: Int32Array, x: number): void => {
      if (XN[x] * 3 < st.n || !jitTuning.traceFlips) {
        // Not a third of the runs: count afresh (a branch may change its mind later).
        XN[x] = 0;
        st.n = 0;
        return;
      }
      const key = XG[x];
      const flips = this.flips.get(key) ?? 0;
      if (flips >= 2) return;
      this.flips.set(key, flips + 1);
      this.prefer.set(key, cpu.ip | 0);
      this.drop(t);
      if (arena[st.at + H_JIT] === -2 - st.slot) {
        arena[st.at + H_JIT] = -1;
        arena[st.at + H_BORN] = -1;
        arena[st.at + H_RUNS] = 32;
      }
      traceStats.flipped++;
    };
    let f = make(
      st,
      check,
      flip,
      XG,
      XN,
      callOp,
      src.records,
      Int32Array.from(ex, (x) => x.t),
      Float64Array.from(ex, (x) => x.e),
      Float64Array.from(ex, (x) => x.p),
      Int32Array.from(ex, (x) => x.n),
      Int32Array.from(ex, (x) => x.f.k),
      Int32Array.from(ex, (x) => x.f.m),
      Int32Array.from(ex, (x) => x.f.bits),
      Float64Array.from(src.calls, (x) => x[0]),
      Float64Array.from(src.calls, (x) => x[1]),
      Int32Array.from(src.calls, (x) => x[2]),
      ...src.handlers,
    ) as TraceFn;
    if (traceStats.on) {
      const g = f;
      const head = a[b + 1] >>> 0;
      f = (cpu, arena, n) => {
        const i0 = cpu.instructions;
        const x = g(cpu, arena, n);
        traceStats.calls++;
        traceStats.ran += cpu.instructions - i0;
        traceStats.exits[x]++;
        if (traceStats.log !== null)
          traceStats.log.push(
            `head ${head.toString(16)} n ${n} ran ${cpu.instructions - i0} x ${x} ip ${cpu.ip.toString(16)}`,
          );
        return x;
      };
    }
    traceStats.built++;
    if (loop) traceStats.loops++;
    traceStats.instructions += total;
    if (this.count >= MAX_TRACES) {
      this.byPhys.clear();
      this.count = 0;
    }
    t = { ip: a[b + 1], gen: a[b + 2], csBase, csLim, f, st, instructions: total, loop };
    const list = this.byPhys.get(a[b]);
    if (list === undefined) this.byPhys.set(a[b], [t]);
    else list.push(t);
    this.count++;
    this.compiled++;
    if (loop) this.loops++;
    return t;
  }
}
