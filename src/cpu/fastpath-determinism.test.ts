/**
 * Host-side fast paths must be invisible to the guest: the same guest gives the same instruction
 * count, virtual time and serial output with them on or off (determinism is part of the product).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveGuest } from '../cli/guest-files.ts';
import { loadKernel } from '../machine/loaders/index.ts';
import { Pc } from '../machine/pc.ts';
import { fastPaths } from './string.ts';

/** Boot `id` for up to `maxTicks` of virtual time (exactly, whatever the slice size). */
function boot(id: string, maxTicks: number, slice: number) {
  const { source } = resolveGuest({ kind: 'guest', id });
  if (source.kind !== 'kernel') throw new Error(`${id} is not a kernel image`);
  const pc = new Pc({ memMiB: 64, noReboot: true });
  pc.load(loadKernel(source.kernel, { ramBytes: 64 << 20, initrd: source.initrd, cmdline: source.cmdline }));
  let serial = '';
  let state = 'running';
  while (state === 'running' && pc.virtualTicks < maxTicks) {
    const r = pc.runSlice(Math.min(slice, maxTicks - pc.virtualTicks));
    serial += new TextDecoder('latin1').decode(pc.serialOut[0]!.take());
    state = r.state;
    if (r.stop === 'idle') break;
  }
  return { instructions: pc.instructions, ticks: pc.virtualTicks, serial, state };
}

function both(id: string, max: number) {
  fastPaths.bulkStrings = true;
  const on = boot(id, max, 1_000_000);
  fastPaths.bulkStrings = false;
  const off = boot(id, max, 777_777);
  return { on, off };
}

afterEach(() => {
  fastPaths.bulkStrings = true;
});

describe('fast paths on vs off', () => {
  it('trapdemo: same instruction count and byte-identical serial output', () => {
    const { on, off } = both('trapdemo', 50_000_000);
    expect(on.state).toBe('exited');
    expect(on.serial.length).toBeGreaterThan(100);
    expect(off).toEqual(on);
  });

  it('Linux boot prefix (24 M ticks): same count, virtual time and console', () => {
    const { on, off } = both('linux', 24_000_000);
    expect(on.serial).toContain('Linux version');
    expect(off.serial).toBe(on.serial);
    expect(off.instructions).toBe(on.instructions);
    expect(off.ticks).toBe(on.ticks);
  }, 60_000);
});
