/**
 * The x87 machine option: the self-checking cpu-x87 guest (guests/cputests/x87.asm, all checks
 * pass under bochs 2.7 as well) passes on the Pc with an FPU — including the CR0.NE = 0 path,
 * where FERR# reaches the guest as IRQ 13 through the PIC and port F0h acknowledges it — and the
 * default PC stays FPU-less (CPUID says so and the same guest fails its first check).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMultiboot } from './loaders/multiboot.ts';
import { Pc } from './pc.ts';

const elf = new Uint8Array(readFileSync(resolve(__dirname, '../../guests/cputests/x87.elf')));

function boot(fpu: boolean) {
  const pc = new Pc({ fpu, noReboot: true });
  pc.load(loadMultiboot(elf, { ramBytes: pc.memory.ramBytes }));
  let out = '';
  pc.serialOut[0].listener = (b) => {
    out += String.fromCharCode(b);
  };
  let r = pc.runSlice(1_000_000);
  while (r.state === 'running' && pc.instructions < 20_000_000) r = pc.runSlice(1_000_000);
  return { out, r };
}

describe('the x87 machine option', () => {
  it('cpu-x87 passes every check on a Pc with an FPU', () => {
    const { out, r } = boot(true);
    expect(
      out.split(/\r?\n/).filter((l) => l.startsWith('FAIL')),
      out,
    ).toEqual([]);
    expect(out).toMatch(/DONE checks=\d+ failed=0/);
    expect(r.state).toBe('exited');
    expect(r.exitCode).toBe(1); // 0 written to port 0xF4: (0 << 1) | 1
  });
  it('without the option CPUID reports no FPU', () => {
    const { out } = boot(false);
    expect(out).toContain('FAIL cpuid.1: EDX.FPU: expected 00000001 got 00000000');
  });
});
