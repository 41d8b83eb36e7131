/**
 * The pre-decoded block cache. A block is a straight run of instructions from one physical page,
 * decoded once (predecode.ts) and ended by the first control transfer or by an instruction left
 * to the interpreter. Blocks are found by the physical address of their first byte, so paging
 * changes never serve stale code; a block also records the code-segment state it was decoded
 * under (CS base, limit, default size, entry offset) and is used only while that still holds.
 * Writes to decoded bytes bump the page's generation (codemap.ts), which retires its blocks.
 *
 * Everything lives in one Int32Array arena — no object per block or per instruction — because
 * the cache is consulted every few instructions and a lookup that chases several heap objects
 * costs more in cache misses than decoding saves (measured on the Linux boot). When the arena is
 * full, the whole cache is dropped and refilled (as QEMU flushes its translation buffer).
 *
 * Block header (HDR ints): phys, ip, gen, csBase, csLim, code32, instruction count, record
 * count, then the links: epoch, ip₀, block₀, ip₁, block₁ — the blocks that last followed this one,
 * then the compiled-function index, its countdown and the instruction count at build (jit.ts). The links are
 * valid while CodeMap.epoch is unchanged (no TLB, CS, CPL or code change since), which lets the
 * run loop skip the hash lookup between blocks that follow each other.
 * Then the records (REC ints): handler index, ip, next ip, then the SLOTS operands it reads.
 */

import { endJcc, followedCall, followedJmp, fuseJcc, LINK_EPOCH, sideJcc } from './block-fused.ts';
import { fuseCmpJcc, fuseLoadTest } from './block-fused-cmp.ts';
import { interpretMid, midLength } from './block-mid.ts';
import { D, interpret, jcc, movRR, type Op, popReg, pushReg, ret, S, SC, SLOTS, T } from './block-ops.ts';
import { mergeRet, mergeStackRun, popRegs, pushRegs, splitStackRun } from './block-stack.ts';
import type { CodeMap } from './codemap.ts';
import type { CpuCore } from './core.ts';
import { blockTuning, jitTuning } from './fastpaths.ts';
import { freshBuffer, giveBuffer } from './fresh-buffer.ts';
import { K_CALL, K_JCC, K_JMP, K_PLAIN, operands, predecode } from './predecode.ts';

/** Instructions per block at most (longer runs are split; the next block picks up). */
const MAX_LEN = 48;
export const HDR = 16;
/** Header slots (see the layout above). */
export const H_COUNT = 6;
export const H_RECORDS = 7;
export const H_EPOCH = 8;
export const H_IP0 = 9;
export const H_BLK0 = 10;
export const H_IP1 = 11;
export const H_BLK1 = 12;
/** Index into BlockCache.compiled (-1: not compiled) and the run count that triggers compiling. */
export const H_JIT = 13;
export const H_RUNS = 14;
/** c.instructions & BORN_MASK when the block was built; -1 once its first countdown ran out. */
export const H_BORN = 15;
const BORN_MASK = 0x3fffffff;
export const REC = 3 + SLOTS;
/**
 * The table is 4-way set associative (2^16 sets): a direct-mapped table made two hot blocks that
 * share a slot evict each other on every pass, and with the first-visit rule each eviction also
 * cost an interpreted pass and a fresh decode (Linux boot: ~28 k clashes and ~36 k decodes for
 * ~15 k distinct blocks). A hit moves its block one way forward; a new block enters way 0 and
 * the least recently promoted one (way 3) leaves.
 */
const SET_BITS = 16;
const WAYS = 4;
const SEEN_BITS = 18;
const ARENA = 1 << 21; // ints (8 MiB): room for ~150k instructions
/** Compiled functions kept across arena refills at most (see BlockCache.kept). */
const KEEP_MAX = 4096;
/** Entries of the jump cache (BlockCache.lookup), a power of two. */
const JUMP_BITS = 12;
/**
 * Indexes logged per table (see BlockCache.tableLog): past this many, clear/dispose zero the whole
 * table instead. 4 096 sets cost 64 KiB of zeroing at most, a sixteenth of the full 1 MiB fill.
 */
const LOG_MAX = 4096;
/** Byte offsets in the shared buffer: the arena, the table, `seen`, `visits`, then the two logs. */
const TABLE_AT = ARENA * 4;
const SEEN_AT = TABLE_AT + (WAYS << SET_BITS) * 4;
const VISITS_AT = SEEN_AT + (1 << SEEN_BITS) * 4;
const LOG_AT = VISITS_AT + (1 << SEEN_BITS);
const STORE_BYTES = LOG_AT + 2 * LOG_MAX * 4;

interface Kept {
  ip: number;
  gen: number;
  csBase: number;
  csLim: number;
  f: (c: CpuCore, a: Int32Array, o: number) => number;
}

/**
 * Handler functions by index (the arena stores indices). MOV r32, r32 (10 % of the Linux boot's
 * records) has a fixed index: fastLoop calls it by name (PERF.md, "the warm Linux boot").
 */
export const HANDLERS: Op[] = [interpret, movRR, interpretMid];
export const I_MOVRR = 1;
const I_MID = 2;
const INDEX = new Map<Op, number>(HANDLERS.map((op, i) => [op, i]));
function handlerIndex(op: Op): number {
  let i = INDEX.get(op);
  if (i === undefined) {
    i = HANDLERS.length;
    HANDLERS.push(op);
    INDEX.set(op, i);
  }
  return i;
}

export class BlockCache {
  constructor(private readonly code: CodeMap) {}
  /**
   * The arena, the table and the first-visit table share one buffer (see fresh-buffer.ts). The two
   * tables hold their values inverted (`~offset`, `~phys`) so that a zero-filled, never-touched
   * buffer means "empty": creating a CPU writes none of it (touching a fresh page costs ~25 µs).
   */
  private readonly store = freshBuffer(STORE_BYTES);
  readonly arena = new Int32Array(this.store, 0, ARENA);
  /**
   * The same ints unsigned, for a record's EIP and next IP: `arena[i] >>> 0` gave V8 small-integer
   * feedback until the first address ≥ 2^30 and then deoptimized the run loop (PERF.md, session 11).
   */
  readonly arenaU = new Uint32Array(this.store, 0, ARENA);
  /** Second-tier functions of blocks in the arena (jit.ts), by H_JIT index. */
  readonly compiled: Array<(c: CpuCore, a: Int32Array, o: number) => number> = [];
  /**
   * Every compiled function by the physical address of its block, kept across arena refills: a
   * block decoded again from unchanged bytes under the same CS gets its function back at once
   * instead of running 50 000 more times first (V8 has optimized it already). Emptied when it
   * holds KEEP_MAX functions, and on reset.
   */
  private readonly kept = new Map<number, Kept[]>();
  private keptCount = 0;
  private top = 0;
  /** Arena ints that may have been written (zeroed by dispose before the buffer is reused). */
  private high = 0;
  /** `visits` written (only with blockTuning.buildVisit > 2): dispose zeroes its entries then only. */
  private visitsUsed = false;
  /** WAYS arena offsets (or -1) per set, the set chosen by a hash of the physical address. */
  private readonly table = new Int32Array(this.store, TABLE_AT, WAYS << SET_BITS);
  /** Direct-mapped by the hash: the physical address last run without a block (blockTuning.secondVisit). */
  private readonly seen = new Int32Array(this.store, SEEN_AT, 1 << SEEN_BITS);
  /** Visits of the address in `seen` so far, by the same index (blockTuning.buildVisit). */
  private readonly visits = new Uint8Array(this.store, VISITS_AT, 1 << SEEN_BITS);
  /**
   * The sets of `table` written since the last clear, and the indexes of `seen` (and `visits`)
   * written since the buffer was taken: clear and dispose zero those entries only, so their cost
   * follows what a run wrote. Filling both 1 MiB tables whenever either was written cost a short
   * run ~0.45 ms per Session (trapdemo: ~30 sets, ~200 first visits; PERF.md, session 13). A set
   * or index is logged on the write that makes it non-zero; past LOG_MAX (the count goes on) the
   * whole table is zeroed instead. The logs themselves are zeroed as they are replayed.
   */
  private readonly tableLog = new Int32Array(this.store, LOG_AT, LOG_MAX);
  private tableLogged = 0;
  private readonly seenLog = new Int32Array(this.store, LOG_AT + LOG_MAX * 4, LOG_MAX);
  private seenLogged = 0;
  /** Blocks decoded so far, and whole-cache flushes (stats). */
  built = 0;
  flushes = 0;
  /** Lookups (link misses), table slots held by another block, blocks gone stale (code written),
   *  first visits interpreted, addresses not cacheable (no direct-RAM TLB entry, page given up). */
  lookups = 0;
  clashes = 0;
  stale = 0;
  firstVisits = 0;
  uncached = 0;
  /** Compiled functions given back to a block decoded again after a refill. */
  reattached = 0;
  /**
   * The jump cache: by a hash of the IP, the block last found for it and the epoch it was found
   * in. It is valid under the link rule (codemap.ts, epoch: same TLB view, mapping, CS and code
   * since), so it serves what a block's two links cannot: indirect jumps with many targets (a
   * translated RET's `jmp gs:[table + ecx*4]`, a kernel's dispatch tables). Lookups it answered.
   */
  private readonly jumpIp = new Int32Array(1 << JUMP_BITS);
  private readonly jumpBlk = new Int32Array(1 << JUMP_BITS);
  private readonly jumpEpoch = new Int32Array(1 << JUMP_BITS).fill(-1); // odd: never an epoch
  jumpHits = 0;

  /** Arena ints in use: blocks lie back to back from 0 (jit-region.ts walks them). */
  get used(): number {
    return this.top;
  }

  clear(): void {
    // Only the sets written: a table never written is still all zero (and untouched), and a
    // short run's few sets are not worth faulting in or sweeping 1 MiB for.
    const n = this.tableLogged;
    if (n > LOG_MAX) {
      this.table.fill(0);
      this.tableLog.fill(0);
    } else {
      const table = this.table;
      const log = this.tableLog;
      for (let i = 0; i < n; i++) {
        table.fill(0, log[i], log[i] + WAYS);
        log[i] = 0;
      }
    }
    this.tableLogged = 0;
    this.top = 0;
    this.compiled.length = 0;
    this.code.bump();
  }

  /** Forget everything, kept functions too (CPU reset). */
  reset(): void {
    this.clear();
    this.kept.clear();
    this.keptCount = 0;
  }

  /**
   * Zero what this cache wrote and hand its buffer to the next CPU (fresh-buffer.ts). The cache
   * must not be used afterwards.
   */
  dispose(): void {
    this.reset();
    this.arena.fill(0, 0, Math.min(this.high, ARENA));
    const n = this.seenLogged;
    if (n > LOG_MAX) {
      this.seen.fill(0);
      if (this.visitsUsed) this.visits.fill(0);
      this.seenLog.fill(0);
    } else {
      const log = this.seenLog;
      for (let i = 0; i < n; i++) {
        const h = log[i];
        this.seen[h] = 0;
        // `visits` is written only where `seen` is (find): the same log covers it.
        if (this.visitsUsed) this.visits[h] = 0;
        log[i] = 0;
      }
    }
    this.high = 0;
    this.seenLogged = 0;
    this.visitsUsed = false;
    giveBuffer(this.store);
  }

  /** Attach compiled function `f` to block `b` and keep it for later copies of the block. */
  setCompiled(b: number, f: (c: CpuCore, a: Int32Array, o: number) => number): void {
    const a = this.arena;
    a[b + H_JIT] = this.compiled.length;
    this.compiled.push(f);
    if (this.keptCount >= KEEP_MAX) {
      this.kept.clear();
      this.keptCount = 0;
    }
    const k: Kept = { ip: a[b + 1], gen: a[b + 2], csBase: a[b + 3], csLim: a[b + 4], f };
    const list = this.kept.get(a[b]);
    if (list === undefined) this.kept.set(a[b], [k]);
    else list.push(k);
    this.keptCount++;
  }

  /** A kept function for the block just built at `b`, if its bytes and CS are unchanged. */
  private reattach(b: number): void {
    const a = this.arena;
    const list = this.kept.get(a[b]);
    if (list === undefined) return;
    for (const k of list) {
      if (k.ip === a[b + 1] && k.gen === a[b + 2] && k.csBase === a[b + 3] && k.csLim === a[b + 4]) {
        a[b + H_JIT] = this.compiled.length;
        this.compiled.push(k.f);
        this.reattached++;
        return;
      }
    }
  }

  /**
   * Block `b`'s countdown (H_RUNS) ran out at instruction count `now`: compile it now? V8 spends
   * ~10–40 ms of (background) CPU optimizing one compiled block, because it inlines the handlers
   * with everything they call. A block that after `jitAfter` runs holds at least 1/hotShare of all
   * instructions retired since it was built is in a hot loop: it is compiled once it has retired
   * `jitHotWork` instructions (runs × length) — as long as the compile costs (ski rental: the
   * Linux boot's decompressor loops are hot for ~2 M instructions and then done, and compiling
   * them at 50 000 runs made the cold boot ~5 % slower than the first tier). Any other block waits
   * until it has retired `jitWork` (the BusyBox loop: ~2 k blocks, each run once or a few times per
   * 19 k-instruction iteration). Deterministic (counts only), invisible to the guest like the tier.
   */
  jitDue(b: number, now: number): boolean {
    const a = this.arena;
    const after = jitTuning.jitAfter;
    if (after <= 1 || a[b + H_BORN] < 0) return true; // tests' eager mode, or the second countdown
    const n = a[b + H_COUNT];
    const elapsed = ((now & BORN_MASK) - a[b + H_BORN]) & BORN_MASK;
    const hot = after * n * jitTuning.hotShare >= elapsed;
    const left = Math.ceil((hot ? jitTuning.jitHotWork : jitTuning.jitWork) / n) - after;
    if (left <= 0) return true;
    a[b + H_BORN] = -1;
    a[b + H_RUNS] = left;
    return false;
  }

  /** Remember that block `to` (entered at `ip`) followed block `from` (see the header layout). */
  link(from: number, ip: number, to: number): void {
    const a = this.arena;
    const epoch = this.code.epoch;
    if (a[from + H_EPOCH] !== epoch) {
      a[from + H_EPOCH] = epoch;
      a[from + H_IP0] = ip;
      a[from + H_BLK0] = to;
      a[from + H_BLK1] = -1;
    } else if (a[from + H_BLK0] < 0 || a[from + H_IP0] === ip) {
      a[from + H_IP0] = ip;
      a[from + H_BLK0] = to;
    } else {
      a[from + H_IP1] = ip;
      a[from + H_BLK1] = to;
    }
  }

  /**
   * Arena offset of the block for the instruction at CS:c.ip, decoding it if needed; -1 when it
   * must be interpreted (no direct-RAM read translation yet, a page given up on, 16-bit code).
   */
  lookup(c: CpuCore): number {
    if (!c.code32) return -1; // 16-bit code runs in the interpreter
    this.lookups++;
    const ip = c.ip | 0;
    const j = (ip ^ (ip >>> JUMP_BITS)) & ((1 << JUMP_BITS) - 1);
    if (this.jumpIp[j] === ip && this.jumpEpoch[j] === this.code.epoch) {
      this.jumpHits++;
      return this.jumpBlk[j];
    }
    const b = this.find(c, ip);
    if (b >= 0) {
      this.jumpIp[j] = ip;
      this.jumpBlk[j] = b;
      this.jumpEpoch[j] = this.code.epoch;
    }
    return b;
  }

  /** lookup() past the jump cache: the hash table, then a decode. */
  private find(c: CpuCore, ip: number): number {
    const lin = (c.csBase + ip) | 0;
    const e = ~c.tlbR[lin >>> 12];
    if ((e & 0xfff) !== 0) {
      this.uncached++;
      return -1;
    }
    const phys = e ^ lin;
    const page = phys >>> 12;
    const code = c.code;
    if (code.noCache[page] !== 0) {
      this.uncached++;
      return -1;
    }
    const hash = Math.imul(phys, 0x9e3779b1);
    const set = (hash >>> (32 - SET_BITS)) * WAYS;
    const table = this.table;
    const a = this.arena;
    const gen = code.gen[page];
    // Way to reuse: a stale copy of this block (same address, code since written), else the last.
    let victim = WAYS - 1;
    let tag = 0; // what the slot held: 0 empty, 1 another block, 2 a stale copy of this one
    for (let w = 0; w < WAYS; w++) {
      const b = ~table[set + w];
      if (b < 0) {
        victim = w;
        tag = 0;
        break;
      }
      if (a[b] === phys && a[b + 1] === ip) {
        if (a[b + 2] === gen && a[b + 3] === c.csBase && a[b + 4] === (c.csLim | 0) && a[b + 5] === 1) {
          if (w > 0) {
            table[set + w] = table[set + w - 1];
            table[set + w - 1] = ~b;
          }
          return b;
        }
        victim = w;
        tag = 2;
        break;
      }
      tag = 1;
    }
    if (tag === 1) this.clashes++;
    else if (tag === 2) this.stale++;
    if (blockTuning.secondVisit) {
      // Visits before the one that decodes: interpreted (cold code stays interpreter-fast).
      const h = hash >>> (32 - SEEN_BITS);
      const at = blockTuning.buildVisit;
      if (~this.seen[h] !== phys) {
        if (this.seen[h] === 0) this.logSeen(h);
        this.seen[h] = ~phys;
        if (at > 2) {
          this.visits[h] = 1;
          this.visitsUsed = true;
        }
        this.firstVisits++;
        return -1;
      }
      if (at > 2 && this.visits[h] < at - 1) {
        this.visits[h]++;
        this.firstVisits++;
        return -1;
      }
    }
    const flushes = this.flushes;
    const nb = this.build(c, phys, c.ip);
    if (this.flushes !== flushes) {
      victim = 0; // the table was cleared
      tag = 0;
    }
    if (tag !== 2 && nb >= 0) {
      // Enter at way 0; the others move back one, the last one leaves.
      for (let w = victim; w > 0; w--) table[set + w] = table[set + w - 1];
      victim = 0;
    }
    // The write that makes a set (WAYS = 4) non-zero logs it: otherwise entries only move within it.
    if ((table[set] | table[set + 1] | table[set + 2] | table[set + 3]) === 0) this.logSet(set);
    table[set + victim] = ~nb;
    return nb;
  }

  /** `set` of the table is about to become non-zero (see tableLog). Out of find: its rare paths only. */
  private logSet(set: number): void {
    const n = this.tableLogged;
    if (n < LOG_MAX) this.tableLog[n] = set;
    this.tableLogged = n + 1;
  }

  /** Index `h` of `seen` is about to become non-zero (see seenLog). */
  private logSeen(h: number): void {
    const n = this.seenLogged;
    if (n < LOG_MAX) this.seenLog[n] = h;
    this.seenLogged = n + 1;
  }

  /**
   * After a compare fused with the block's last Jcc at record `rec`: a load of the tested register
   * just before it takes in both (block-fused-cmp.ts fuseLoadTest). Returns the arena offset after
   * the block's last record.
   */
  private fuseLoad(a: Int32Array, b: number, rec: number, next: number): number {
    const load = rec - REC;
    if (load < b + HDR) return rec + REC;
    const h = fuseLoadTest(HANDLERS[a[rec]], HANDLERS[a[load]], a, load, rec);
    if (h === null) return rec + REC;
    a[load] = handlerIndex(h);
    a[load + 2] = next;
    return rec;
  }

  private build(c: CpuCore, phys: number, ip0: number): number {
    if (this.top + HDR + MAX_LEN * REC > ARENA) {
      this.clear();
      this.flushes++;
    }
    const a = this.arena;
    const b = this.top;
    // A build that faults part-way leaves records past `top`: count the whole reserve as written.
    if (b + HDR + MAX_LEN * REC > this.high) this.high = b + HDR + MAX_LEN * REC;
    const ram = c.ram;
    const page = phys >>> 12;
    const pageBase = page * 4096;
    const lin0 = (c.csBase + ip0) | 0;
    let ip = ip0;
    let p = phys;
    // Decoded bytes span [lo, hi) of the page (a superset when the block follows a jump).
    let lo = 4096;
    let hi = 0;
    let n = 0; // instructions
    let k = b + HDR;
    let follow = blockTuning.followJcc;
    let jccs = 0;
    while (n < MAX_LEN) {
      const avail = Math.min(pageBase + 4096 - p, c.csLim - ip + 1);
      if (avail <= 0) break;
      const d = predecode(ram, p, ip, avail, c.csLim);
      n++;
      if (d === null) {
        const len = midLength(ram, p, avail);
        if (len > 0) {
          // Left to the interpreter, but nothing a block relies on can change (block-mid.ts).
          if (p - pageBase < lo) lo = p - pageBase;
          if (p + len - pageBase > hi) hi = p + len - pageBase;
          a[k] = I_MID;
          a[k + 1] = ip;
          a[k + 2] = (ip + len) >>> 0;
          a.fill(0, k + 3, k + REC);
          k += REC;
          ip = (ip + len) >>> 0;
          p += len;
          continue;
        }
        a[k] = 0; // interpret
        a[k + 1] = ip;
        a[k + 2] = ip;
        k += REC;
        break;
      }
      if (p - pageBase < lo) lo = p - pageBase;
      if (p + d.len - pageBase > hi) hi = p + d.len - pageBase;
      const next = (ip + d.len) >>> 0;
      if (d.len === 1 && k > b + HDR) {
        // PUSH/POP r32 after the same: one record for the run; RET after POPs: one for all
        // (block-stack.ts).
        const prev = HANDLERS[a[k - REC]];
        const run =
          d.op === ret ? mergeRet(prev, a, k - REC) : mergeStackRun(prev, a, k - REC, d.op, operands[D]);
        if (run !== null) {
          a[k - REC] = handlerIndex(run);
          ip = next;
          p += d.len;
          if (d.op === ret) break;
          continue;
        }
      }
      if (d.kind === K_JCC && follow && ++jccs > blockTuning.maxJcc) follow = false;
      if (d.kind === K_JCC && d.op === jcc && k > b + HDR) {
        // Fuse with the flag-setting instruction just before it, when that is a simple one.
        const prev = k - REC;
        const fused = fuseJcc(HANDLERS[a[prev]]);
        if (fused !== null) {
          a[prev] = handlerIndex(follow ? sideJcc(fused) : fused);
          a[prev + 2] = next;
          a[prev + 3 + SC] = operands[S] /* the Jcc's condition code */;
          a[prev + 3 + T] = operands[T];
          if (!follow) {
            k = this.fuseLoad(a, b, prev, next);
            break;
          }
          a[prev + 3 + LINK_EPOCH] = this.code.epoch - 1;
          ip = next;
          p += d.len;
          continue;
        }
        // Byte and memory compares: only where the branch ends the block (no side variants).
        const cmp = follow ? null : fuseCmpJcc(HANDLERS[a[prev]], a, prev, operands[S], operands[T]);
        if (cmp !== null) {
          a[prev] = handlerIndex(cmp);
          a[prev + 2] = next;
          k = this.fuseLoad(a, b, prev, next);
          break;
        }
      }
      a[k + 1] = ip;
      a.set(operands, k + 3);
      if (d.kind === K_JMP || d.kind === K_CALL) {
        // A direct JMP/CALL to the same linear page: the block goes on at the target (the JMP
        // itself becomes a no-op record, the CALL a push of its return address).
        const t = operands[T] >>> 0;
        const lt = (c.csBase + t) | 0;
        if (((lt ^ lin0) & ~0xfff) === 0) {
          a[k] = handlerIndex(d.kind === K_JMP ? followedJmp : followedCall);
          a[k + 2] = t;
          k += REC;
          ip = t;
          p = pageBase + (lt & 0xfff);
          continue;
        }
      }
      const go = d.kind === K_PLAIN || (d.kind === K_JCC && follow);
      a[k] = handlerIndex(d.kind === K_JCC && follow ? sideJcc(d.op) : d.op);
      a[k + 2] = next;
      if (d.kind === K_JCC && follow) a[k + 3 + LINK_EPOCH] = this.code.epoch - 1;
      k += REC;
      ip = next;
      p += d.len;
      if (!go) break;
    }
    if (n === 0) return -1;
    if (k > b + HDR) {
      const end = HANDLERS[a[k - REC]];
      if (end === pushRegs || end === popRegs)
        k = splitStackRun(a, k - REC, handlerIndex(end === pushRegs ? pushReg : popReg), REC);
    }
    if (k > b + HDR) {
      // The block ended right after a branch it would have gone past (length or page end): that
      // branch ends the block, as usual (the run loop sets EIP/IP before a block's last record).
      const end = endJcc(HANDLERS[a[k - REC]]);
      if (end !== null) a[k - REC] = handlerIndex(end);
    }
    a[b] = phys;
    a[b + 1] = ip0;
    a[b + 2] = c.code.gen[page];
    a[b + 3] = c.csBase;
    a[b + 4] = c.csLim;
    a[b + 5] = c.code32 ? 1 : 0;
    a[b + H_COUNT] = n;
    a[b + H_RECORDS] = (k - b - HDR) / REC;
    a[b + H_EPOCH] = this.code.epoch - 1;
    a[b + H_BLK0] = -1;
    a[b + H_BLK1] = -1;
    a[b + H_JIT] = -1;
    a[b + H_RUNS] = jitTuning.jitAfter;
    a[b + H_BORN] = c.instructions & BORN_MASK;
    if (this.keptCount > 0) this.reattach(b);
    this.top = k;
    if (hi > lo && c.code.cover(page, lo, hi)) c.markCodePage(page);
    this.built++;
    return b;
  }
}
