/**
 * The x87 machine option: the self-checking cpu-x87 guest (guests/cputests/x87.asm, all checks
 * pass under bochs 2.7 as well) passes on the Pc with an FPU — including the CR0.NE = 0 path,
 * where FERR# reaches the guest as IRQ 13 through the PIC and port F0h acknowledges it — and the
 * default PC stays FPU-less (CPUID says so and the same guest fails its first check).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resetTier, setTier, TIERS } from '../cpu/test/tiers.ts';
import { loadMultiboot } from './loaders/multiboot.ts';
import { Pc } from './pc.ts';
import { loadTestLinux } from './test-linux.ts';

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

describe('Linux with and without the x87', () => {
  // The same awk program on the math emulator (pc: #NM on every ESC) and on the x87 (pc-fpu).
  const prog = `awk 'BEGIN{printf "%.17g %.17g %.17g %.17g %.17g %.17g %.17g\\n", 1/3, sqrt(2), exp(1), sin(1), atan2(1,2), log(10), 2^0.5}'`;
  function linux(fpu: boolean): { out: string; fpuLine: string } {
    const pc = new Pc({ memMiB: 64, noReboot: true, fpu });
    loadTestLinux(pc);
    let out = '';
    pc.serialOut[0].listener = (b) => {
      out += String.fromCharCode(b);
    };
    const until = (text: string, from: number) => {
      while (!out.slice(from).includes(text) && pc.instructions < 200_000_000) {
        const r = pc.runSlice(1_000_000);
        if (r.state !== 'running') throw new Error(`machine stopped: ${r.state} ${r.reason}\n${out}`);
      }
    };
    until('guest# ', 0);
    const start = out.length;
    pc.sendSerial(0, `${prog}; grep '^fpu' /proc/cpuinfo\n`);
    until('guest# ', start);
    const lines = out.slice(start).split(/\r?\n/);
    return {
      out: lines.find((l) => /^0\.333/.test(l)) ?? '',
      fpuLine: lines.find((l) => l.startsWith('fpu\t')) ?? '',
    };
  }
  it('boots on both machines and awk prints the same digits', () => {
    const emu = linux(false);
    const hw = linux(true);
    expect(emu.fpuLine).toMatch(/: no$/);
    expect(hw.fpuLine).toMatch(/: yes$/);
    // %.17g of the nearest doubles (JS's libm agrees on each of these).
    const want = [1 / 3, Math.SQRT2, Math.E, Math.sin(1), Math.atan2(1, 2), Math.log(10), Math.SQRT2]
      .map((v) => v.toPrecision(17).replace(/0+$/, ''))
      .join(' ');
    expect(hw.out).toBe(want);
    expect(hw.out).toBe(emu.out);
  }, 600_000);
});

describe('x87.elf on every CPU tier', () => {
  it('interpreter, pre-decoded blocks and the second tier give the same output and count', () => {
    const runs = TIERS.map((t) => {
      setTier(t);
      try {
        const pc = new Pc({ fpu: true, noReboot: true });
        pc.load(loadMultiboot(elf, { ramBytes: pc.memory.ramBytes }));
        let out = '';
        pc.serialOut[0].listener = (b) => {
          out += String.fromCharCode(b);
        };
        let r = pc.runSlice(1_000_000);
        while (r.state === 'running' && pc.instructions < 20_000_000) r = pc.runSlice(1_000_000);
        return { out, exit: r.exitCode, instructions: pc.instructions };
      } finally {
        resetTier();
      }
    });
    expect(runs[0].out).toMatch(/failed=0/);
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
  });
});
