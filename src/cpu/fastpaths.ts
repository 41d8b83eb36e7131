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

export const jitTuning = {
  /**
   * Runs of a block before it is compiled. High, because a new function runs in V8's bytecode
   * interpreter until V8 optimizes it: only blocks that will run very often repay that (measured:
   * 1 000 made the Linux boot 3× slower, 50 000 costs it ~5 % and gives bench-loop +20 %).
   * Tests set it to 1 to run everything through the second tier.
   */
  jitAfter: 50_000,
};
