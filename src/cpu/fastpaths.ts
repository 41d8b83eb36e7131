/**
 * Switches for host-side fast paths. Each must be invisible to the guest (same instruction count,
 * virtual time, serial output and trap log with it on or off); tests turn them off to prove it.
 */
export const fastPaths = {
  /** REP MOVS/STOS page runs on direct RAM (string.ts). */
  bulkStrings: true,
  /** Pre-decoded blocks (blocks.ts / predecode.ts) instead of decoding every instruction. */
  blockCache: true,
};
