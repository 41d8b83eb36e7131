/**
 * Translated code runs through the CPU's tiers like any other code: with every block compiled on
 * its first run (the second tier, src/cpu/jit.ts), binary translation of trapdemo must print the
 * same bytes and write the same trap log, at the same instruction counts, as with pre-decoded
 * blocks only and with the plain interpreter.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { blockTuning, fastPaths, jitTuning } from '../../cpu/fastpaths.ts';
import { bootImage } from '../trap-and-emulate/test-guests.ts';
import { createBinaryTranslationRunner } from './runner.ts';

const JIT_AFTER = jitTuning.jitAfter;
const BLOCKS_AFTER = blockTuning.blocksAfter;
afterEach(() => {
  fastPaths.blockCache = true;
  fastPaths.jit = true;
  jitTuning.jitAfter = JIT_AFTER;
  blockTuning.secondVisit = true;
  blockTuning.blocksAfter = BLOCKS_AFTER;
});

function run(tier: 'interpreter' | 'blocks' | 'jit') {
  fastPaths.blockCache = tier !== 'interpreter';
  fastPaths.jit = tier === 'jit';
  jitTuning.jitAfter = 1;
  blockTuning.secondVisit = false;
  blockTuning.blocksAfter = 0;
  const runner = createBinaryTranslationRunner(
    { vms: 1, memMiB: 16, noReboot: true },
    bootImage('trapdemo/trapdemo.elf', 16),
  );
  let out = '';
  let state = 'budget';
  for (let t = 0; t < 200 && state === 'budget'; t++) {
    state = runner.run(1_000_000, false).state;
    out += Buffer.from(runner.takeSerial(0)).toString('latin1');
  }
  let log = '';
  runner.traps.writeJsonLines((c) => {
    log += c;
  });
  return { out, state, log, compiled: runner.vmm.cpu.blocks.compiled.length };
}

describe('binary translation through the second tier', () => {
  it('trapdemo: same output, trap log and counts with every block compiled as in the lower tiers', () => {
    const jit = run('jit');
    expect(jit.state).not.toBe('budget');
    expect(jit.compiled).toBeGreaterThan(0);
    expect(jit.log.length).toBeGreaterThan(0);
    for (const other of [run('blocks'), run('interpreter')]) {
      expect(jit.out).toBe(other.out);
      expect(jit.state).toBe(other.state);
      expect(jit.log).toBe(other.log);
    }
  });
});
