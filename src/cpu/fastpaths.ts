/**
 * Switches for host-side fast paths. Each must be invisible to the guest (same instruction count,
 * virtual time, serial output and trap log with it on or off); tests turn them off to prove it.
 */
export const fastPaths = {
  /** REP MOVS/STOS page runs on direct RAM (string.ts). */
  bulkStrings: true,
  /** Pre-decoded blocks (blocks.ts / predecode.ts) instead of decoding every instruction. */
  blockCache: true,
  /** Compile blocks that run often into one JavaScript function each (jit.ts). */
  jit: true,
};

export const blockTuning = {
  /**
   * Instructions a CPU runs on the interpreter tier's path before the blocks tier (and so the jit
   * tier) engages. A short run cannot repay the blocks tier's start: V8 compiling the pre-decoder
   * and the handlers on their first use (hello-boot, 646 instructions: blocks cold 1.10–1.26× the
   * interpreter, PERF.md "Session 12"). Not higher: from 10 k–20 k V8 had often optimized fastLoop
   * on the interpreter's path first, and the first block lookup deoptimized it (see fastLoop; 1–2
   * per minikernel-bench or trapdemo process; none at 2 k–5 k, PERF.md "Session 13 — order13").
   * Tier-comparison tests set it to 0 (they run short guests).
   */
  blocksAfter: 5_000,
  /**
   * Decode a block only when its first instruction runs for the second time; the first run is
   * interpreted. Code that runs once (a guest sliding through zeroed RAM, an ELF header executed
   * as code) then costs what the interpreter costs instead of a block decode per few instructions
   * and arena flushes that evict the hot blocks (issue 16: 0.26 vs 15.6 MIPS). Tests that want
   * every first run in a block set it to false.
   */
  secondVisit: true,
  /**
   * With secondVisit: the visit that decodes the block (2: the second; at most 255). Later
   * decoding (3, 4) measured level on the Linux boots cold: their code mostly runs many times
   * (PERF.md, "Session 11 — cold11").
   */
  buildVisit: 2,
  /**
   * A block goes on past a conditional branch at its fall-through (in the same page); the branch,
   * when taken, leaves the block there (a side exit, linked to its successor in its own record).
   * Off: measured slower on the Linux boot (cold 1.07×, warm 1.03–1.13×) and level on the BusyBox
   * loop — taken branches are about half, so block entries fell only ~30 % while the decoder did
   * twice the work (PERF.md, session 7). Tests turn it on.
   */
  followJcc: false,
  /** Conditional branches one block goes past at most (with followJcc). */
  maxJcc: 2,
};

export const jitTuning = {
  /**
   * Runs of a block before it is compiled. High, because a new function runs in V8's bytecode
   * interpreter until V8 optimizes it: only blocks that will run very often repay that (measured:
   * 1 000 made the Linux boot 3× slower, 50 000 costs it ~5 % and gives bench-loop +20 %).
   * Tests set it to 1 to run everything through the second tier.
   */
  jitAfter: 50_000,
  /**
   * A block that after `jitAfter` runs held at least 1/hotShare of the instructions retired since
   * it was built (a hot loop) is compiled once it has retired `jitHotWork` instructions (runs ×
   * length); any other once it has retired `jitWork`. See BlockCache.jitDue. Not applied when
   * tests set `jitAfter` to 1.
   */
  hotShare: 32,
  /**
   * Instructions a hot block retires before it is compiled: about what its compile costs (V8
   * optimizing it: 10–40 ms of CPU, ~1.5–5 M instructions' worth of the ~30 % it saves).
   */
  jitHotWork: 3_000_000,
  jitWork: 4_000_000,
  /**
   * Page-sized regions (jit-region.ts) instead of single compiled blocks. Off by default: on the
   * BusyBox loop they lose to the first tier (PERF.md, "Session 7 — region"); bench-loop gains.
   * With regions on, a block's first countdown is still `jitAfter` runs (set it to ~1 000) and
   * later ones `regionAfter`; each countdown adds runs × length to its page's work, and a page is
   * compiled into one function at `regionWork` (again with the blocks built since after
   * `regionMore` more, at most `regionCompiles` times in all).
   */
  regions: false,
  regionAfter: 1_000,
  regionWork: 8_000_000,
  regionMore: 4_000_000,
  regionCompiles: 1,
  /** Runs a block needs to go into its page's region (smaller functions, fewer cold cases). */
  regionMinRuns: 1_000,
  /**
   * Traces (jit-trace.ts) instead of single compiled blocks: a hot block's path along its links
   * becomes one function with the registers and lazy flags in JS locals. With traces on, a
   * block's countdown is `jitAfter` runs (set it to ~1 000), a block without a trace worth making
   * counts down `traceRetry` more; a trace holds at most `traceMax` instructions and, unless it
   * loops, at least `traceMin`.
   */
  traces: false,
  traceMax: 256,
  traceMin: 16,
  traceRetry: 20_000,
  /**
   * Handler calls in traces through one shared (megamorphic) call site, so V8 inlines none: its
   * optimizing compile of a trace took ~45 ms instead of ~230 ms (PERF.md, "Session 10 — trace15").
   */
  traceMegaCalls: true,
  /** A trace whose branch guard fails on ≥ 1/3 of its runs is built again the other way there. */
  traceFlips: true,
};
