/**
 * Shared by the block-cache tests: run a program on the interpreter, on pre-decoded blocks and on
 * blocks compiled by the second tier, from identical state, and compare everything.
 */
import { expect } from 'vitest';
import { H_RECORDS, HANDLERS, HDR, REC } from '../blocks.ts';
import { blockTuning, fastPaths, jitTuning } from '../fastpaths.ts';
import { MonitorAction, type TrapEvent } from '../interrupts.ts';
import { type Env, pmEnv } from './env.ts';

export const le = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
export const HLT = 0xf4;
export const view = (a: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
export const same = (a: Uint8Array, b: Uint8Array) => view(a).equals(view(b));
/** Backward short displacement from the byte after `at` (index of the disp byte) to `to`. */
export const back = (to: number, at: number) => (to - (at + 1)) & 0xff;

/**
 * Which engine runs: false = the interpreter, true = pre-decoded blocks (no second tier),
 * 'jit' = blocks compiled into JavaScript on their first run (jit.ts, jitAfter = 1). Either way
 * blocks are decoded on the first visit (blockTuning.secondVisit off) from the first instruction
 * (blockTuning.blocksAfter 0), so straight-line test code that runs once still runs in blocks.
 */
export type Tier = boolean | 'jit';
export const JIT_AFTER = jitTuning.jitAfter;
/** The default of blockTuning.blocksAfter; the tiers below start blocks at once (short guests). */
export const BLOCKS_AFTER = blockTuning.blocksAfter;
export function setTier(t: Tier): void {
  fastPaths.blockCache = t !== false;
  fastPaths.jit = t === 'jit';
  jitTuning.jitAfter = t === 'jit' ? 1 : JIT_AFTER;
  blockTuning.secondVisit = t === false;
  blockTuning.blocksAfter = 0;
}
export function resetTier(): void {
  fastPaths.blockCache = true;
  fastPaths.jit = true;
  jitTuning.jitAfter = JIT_AFTER;
  blockTuning.secondVisit = true;
  blockTuning.blocksAfter = BLOCKS_AFTER;
}
export const TIERS: Tier[] = [true, false, 'jit'];

export interface Opts {
  paging?: boolean;
  cpl?: number;
  setup?: (e: Env) => void;
  budget?: number;
}

export function runWith(cache: Tier, code: number[], o: Opts): Env {
  const e = pmEnv(code, { paging: o.paging, cpl: o.cpl });
  setTier(cache);
  o.setup?.(e);
  e.cpu.run(o.budget ?? 10_000);
  resetTier();
  return e;
}

/**
 * Run `code` with the cache on, off, and compiled (second tier) from identical state; all three
 * must agree on everything. Returns the block-cache run.
 */
export function twin(code: number[], o: Opts = {}): Env {
  const on = runWith(true, code, o);
  const off = runWith(false, code, o);
  const jit = runWith('jit', code, o);
  expect(on.cpu.getState()).toEqual(off.cpu.getState());
  expect(same(on.bus.ram, off.bus.ram)).toBe(true);
  expect(jit.cpu.getState(), 'second tier').toEqual(off.cpu.getState());
  expect(same(jit.bus.ram, off.bus.ram), 'second tier memory').toBe(true);
  expect(off.cpu.blocks.built).toBe(0);
  // The second tier really ran: compiled functions exist whenever blocks were built.
  if (on.cpu.blocks.built > 0) expect(jit.cpu.blocks.compiled.length).toBeGreaterThan(0);
  return on;
}

/** Handler names in the blocks a run built, with how many records each. */
export function records(e: Env): Map<string, number> {
  const c = e.cpu.blocks;
  const a = c.arena;
  const seen = new Map<string, number>();
  for (let b = 0; b < c.used; b += HDR + a[b + H_RECORDS] * REC)
    for (let r = 0; r < a[b + H_RECORDS]; r++) {
      const name = HANDLERS[a[b + HDR + r * REC]].name;
      seen.set(name, (seen.get(name) ?? 0) + 1);
    }
  return seen;
}

/** Monitor `env`'s CPU: a copy of each exception event goes to `got`, and the first stops the run. */
export function stopAtEvent(env: Env, got: TrapEvent[]): void {
  env.cpu.monitor = {
    onEvent: (ev) => {
      got.push({ ...ev });
      return MonitorAction.Stop;
    },
  };
}
