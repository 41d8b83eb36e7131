/**
 * Host-side fast paths must be invisible to the guest: the same guest gives the same instruction
 * count, virtual time and serial output with them on or off (determinism is part of the product).
 * Each switch in fastpaths.ts is compared against the plain path with everything else on; the runs
 * use different slice sizes, so the result must not depend on how the host slices time either.
 * Under the trap-and-emulate VMM the trap log must match too (the VMM writes guest memory from the
 * host side and tells the CPU through GuestMemory.onWrite → codeWritten).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveGuest } from '../cli/guest-files.ts';
import { bootImage, jsonl, runTe } from '../hypervisor/trap-and-emulate/test-guests.ts';
import { loadKernel } from '../machine/loaders/index.ts';
import { Pc } from '../machine/pc.ts';
import { blockTuning, fastPaths, jitTuning } from './fastpaths.ts';

type Switch = keyof typeof fastPaths;

/**
 * Boot `id` for up to `maxTicks` of virtual time (exactly, whatever the slice size). `input` is
 * queued on COM1 before the first instruction: the UART hands it over as the guest reads, so when
 * each byte arrives is guest-determined (typing at a slice boundary would depend on the slicing).
 */
function boot(id: string, maxTicks: number, slice: number, input = '') {
  const { source } = resolveGuest({ kind: 'guest', id });
  if (source.kind !== 'kernel') throw new Error(`${id} is not a kernel image`);
  const pc = new Pc({ memMiB: 64, noReboot: true });
  pc.load(loadKernel(source.kernel, { ramBytes: 64 << 20, initrd: source.initrd, cmdline: source.cmdline }));
  let serial = '';
  let state = 'running';
  if (input !== '') pc.sendSerial(0, input);
  while (state === 'running' && pc.virtualTicks < maxTicks) {
    const r = pc.runSlice(Math.min(slice, maxTicks - pc.virtualTicks));
    serial += new TextDecoder('latin1').decode(pc.serialOut[0]!.take());
    state = r.state;
    if (r.stop === 'idle') break;
  }
  return { instructions: pc.instructions, ticks: pc.virtualTicks, serial, state };
}

const JIT_AFTER = jitTuning.jitAfter;
const BLOCKS_AFTER = blockTuning.blocksAfter;

/**
 * The same boot with `sw` on (1 M slices) and off (777 777 slices). For the second tier (`jit`)
 * the "on" run compiles every block on its first run unless `eager` is false (the Linux prefix:
 * compiling everything would be slow; it keeps the product threshold).
 */
function both(sw: Switch, id: string, max: number, input?: string, eager = true) {
  fastPaths[sw] = true;
  if (sw === 'jit' && eager) jitTuning.jitAfter = 1;
  // Blocks from the first instruction (trapdemo runs ~26 k instructions in all).
  blockTuning.blocksAfter = 0;
  const on = boot(id, max, 1_000_000, input);
  jitTuning.jitAfter = JIT_AFTER;
  fastPaths[sw] = false;
  const off = boot(id, max, 777_777, input);
  fastPaths[sw] = true;
  blockTuning.blocksAfter = BLOCKS_AFTER;
  return { on, off };
}

afterEach(() => {
  fastPaths.bulkStrings = true;
  fastPaths.blockCache = true;
  fastPaths.jit = true;
  jitTuning.jitAfter = JIT_AFTER;
  blockTuning.blocksAfter = BLOCKS_AFTER;
});

const MINI_INPUT = 'ps\rmem\rbench\rbench divzero\rexit\r';

describe.each(['bulkStrings', 'blockCache', 'jit'] as const)('fast path %s on vs off', (sw) => {
  it('trapdemo: same instruction count and byte-identical serial output', () => {
    const { on, off } = both(sw, 'trapdemo', 50_000_000);
    expect(on.state).toBe('exited');
    expect(on.serial.length).toBeGreaterThan(100);
    expect(off).toEqual(on);
  });

  it('minikernel: shell session (ps, mem, bench …, exit) identical, bench cycle counts included', () => {
    const { on, off } = both(sw, 'minikernel', 400_000_000, MINI_INPUT);
    expect(on.serial).toContain('mini shell, pid 1');
    expect(on.serial).toMatch(/pgfault +\d+\.\d cycles\/op/);
    expect(on.serial).toContain('exited with status 0: powering off');
    expect(off).toEqual(on);
  }, 60_000);

  it('trapdemo under trap-and-emulate: same console, result and trap log', () => {
    const run = (v: boolean, slice: number) => {
      fastPaths[sw] = v;
      if (sw === 'jit' && v) jitTuning.jitAfter = 1;
      blockTuning.blocksAfter = 0;
      const r = runTe(bootImage('trapdemo/trapdemo.elf', 16), { memMiB: 16, slice });
      fastPaths[sw] = true;
      jitTuning.jitAfter = JIT_AFTER;
      blockTuning.blocksAfter = BLOCKS_AFTER;
      return { outs: r.outs, result: r.result, traps: r.runner.traps.count, log: jsonl(r.runner) };
    };
    const on = run(true, 1_000_000);
    const off = run(false, 654_321);
    expect(on.traps).toBeGreaterThan(10);
    expect(off).toEqual(on);
  }, 60_000);
});

describe('Linux boot prefix: same count, virtual time and console', () => {
  it('bulkStrings (24 M ticks)', () => {
    const { on, off } = both('bulkStrings', 'linux', 24_000_000);
    expect(on.serial).toContain('Linux version');
    expect(off.serial).toBe(on.serial);
    expect(off.instructions).toBe(on.instructions);
    expect(off.ticks).toBe(on.ticks);
  }, 60_000);

  it('blockCache (24 M ticks)', () => {
    const { on, off } = both('blockCache', 'linux', 24_000_000);
    expect(on.serial).toContain('Linux version');
    expect(off.serial).toBe(on.serial);
    expect(off.instructions).toBe(on.instructions);
    expect(off.ticks).toBe(on.ticks);
  }, 90_000);

  it('jit at its product threshold (24 M ticks)', () => {
    const { on, off } = both('jit', 'linux', 24_000_000, undefined, false);
    expect(on.serial).toContain('Linux version');
    expect(off.serial).toBe(on.serial);
    expect(off.instructions).toBe(on.instructions);
    expect(off.ticks).toBe(on.ticks);
  }, 90_000);
});
