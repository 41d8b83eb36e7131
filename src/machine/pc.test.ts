import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBios } from './loaders/bios.ts';
import { loadMultiboot } from './loaders/multiboot.ts';
import type { BootImage } from './loaders/types.ts';
import { Pc, type PcOptions, type RunResult } from './pc.ts';

const guestsDir = resolve(__dirname, 'test-guests');
const bins: Record<string, Uint8Array> = {};

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), 'traplab-machine-'));
  for (const name of ['pit-hlt', 'uart-echo', 'triple', 'hang', 'a20', 'reboot', 'bios']) {
    const file = join(out, `${name}.bin`);
    execFileSync('nasm', ['-f', 'bin', '-I', `${guestsDir}/`, '-o', file, join(guestsDir, `${name}.asm`)]);
    bins[name] = new Uint8Array(readFileSync(file));
  }
});

function flat(name: string): BootImage {
  return {
    chunks: [{ addr: 0x100000, bytes: bins[name] }],
    entry: { mode: 'protected-flat', eip: 0x100000, regs: {} },
    summary: name,
  };
}

function real(name: string): BootImage {
  return {
    chunks: [{ addr: 0x7c00, bytes: bins[name] }],
    entry: { mode: 'real', cs: 0, ip: 0x7c00 },
    summary: name,
  };
}

function runUntilStopped(pc: Pc, slice: number, limit = 50_000_000): RunResult {
  let r: RunResult;
  do {
    r = pc.runSlice(slice);
  } while (r.state === 'running' && r.stop === 'budget' && pc.virtualTicks < limit);
  return r;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('Pc with the real CPU', () => {
  it('boots guests/hello/hello.elf through the multiboot loader: serial text and exit status 1', () => {
    const pc = new Pc();
    const elf = new Uint8Array(readFileSync(resolve(__dirname, '../../guests/hello/hello.elf')));
    pc.load(loadMultiboot(elf, { ramBytes: pc.memory.ramBytes }));
    const r = runUntilStopped(pc, 100_000);
    expect(text(pc.serialOut[0].take())).toBe(
      'Hello from TrapLab! This guest runs in 32-bit protected mode.\r\n',
    );
    expect(r.state).toBe('exited');
    expect(r.exitCode).toBe(1);
    expect(pc.instructions).toBeGreaterThan(100);
    expect(pc.instructions).toBeLessThan(20_000);
  });

  it('starts a BIOS image at the reset vector (top of 4 GiB) and runs it through the F0000 alias', () => {
    const pc = new Pc();
    pc.load(loadBios(bins.bios));
    const r = runUntilStopped(pc, 10_000);
    expect(text(pc.debugconOut.take())).toBe('BIOS at reset vector');
    expect(pc.post.codes).toEqual([0x55]);
    expect(r.exitCode).toBe(11);
  });

  it('runs a PIT + HLT guest deterministically, however the host slices time', () => {
    const run = (slice: number, opts: PcOptions = {}) => {
      const pc = new Pc(opts);
      pc.load(flat('pit-hlt'));
      const r = runUntilStopped(pc, slice, 1e10);
      return { r, serial: text(pc.serialOut[0].take()), instr: pc.instructions, ticks: pc.virtualTicks, pc };
    };
    const a = run(100_000);
    const b = run(100_000);
    const c = run(7_919);
    const d = run(3_000_000);
    // Run boundaries far apart: a deadline armed mid-run must not be learned at a slice edge.
    const e = run(3_000_000, { chunkTicks: 4_000_000 });
    const f = run(99_991, { chunkTicks: 4_000_000 });
    expect(f.serial).toBe(e.serial);
    expect(f.instr).toBe(e.instr);
    expect(f.ticks).toBe(e.ticks);
    expect(a.r.state).toBe('exited');
    expect(a.r.exitCode).toBe(0x55);
    // 20 ticks at 100 Hz: 20 lines of latched counters, then the TSC.
    const parts = a.serial.trim().split('|');
    expect(parts[0].trim().split(' ')).toHaveLength(20);
    for (const x of [b, c, d]) {
      expect(x.serial).toBe(a.serial);
      expect(x.instr).toBe(a.instr);
      expect(x.ticks).toBe(a.ticks);
    }
    // HLT skipped ahead: 20 ticks of 10 ms = 0.2 s virtual, far more than the instructions run.
    expect(a.ticks).toBeGreaterThanOrEqual(20 * 1_000_000);
    expect(a.ticks).toBeLessThan(21 * 1_000_000);
    expect(a.instr).toBeLessThan(a.ticks / 10);
    // RDTSC follows virtual time (HLT skips included), not only the instruction count.
    const tsc = Number.parseInt(parts[1].trim(), 16);
    expect(tsc).toBeGreaterThan(20 * 1_000_000 - 2 ** 32 * Math.floor(a.ticks / 2 ** 32));
    expect(tsc).toBeLessThanOrEqual(a.ticks);
  });

  it('reports an idle guest without advancing time, and wakes it with serial input', () => {
    const pc = new Pc();
    pc.load(flat('uart-echo'));
    const r1 = pc.runSlice(1_000_000);
    expect(r1.stop).toBe('idle');
    expect(r1.state).toBe('running');
    const t = pc.virtualTicks;
    const r2 = pc.runSlice(1_000_000);
    expect(r2.stop).toBe('idle');
    expect(r2.ticks).toBe(0);
    expect(pc.virtualTicks).toBe(t);
    pc.sendSerial(0, 'trapq');
    const r3 = runUntilStopped(pc, 1_000_000);
    expect(text(pc.serialOut[0].take())).toBe('TRAP');
    expect(r3.state).toBe('exited');
    expect(r3.exitCode).toBe(0x23);
  });

  it('a triple fault stops the machine with a reason; reset() makes it runnable again', () => {
    const pc = new Pc();
    pc.load(flat('triple'));
    const r = runUntilStopped(pc, 10_000);
    expect(r.state).toBe('shutdown');
    expect(r.reason).toMatch(/triple fault/);
    expect(pc.runSlice(1000).stop).toBe('stopped');
    pc.reset();
    expect(pc.state).toBe('running');
    expect(runUntilStopped(pc, 10_000).state).toBe('shutdown');
  });

  it('HLT with interrupts disabled is reported as a hang instead of spinning', () => {
    const pc = new Pc();
    pc.load(flat('hang'));
    const r = pc.runSlice(1_000_000);
    expect(r.state).toBe('hung');
    expect(r.reason).toMatch(/interrupts disabled/);
    expect(text(pc.debugconOut.take())).toBe('z');
  });

  it('A20: port 0x92 and the keyboard controller gate address bit 20 (real-mode wrap-around)', () => {
    const pc = new Pc();
    pc.load(real('a20'));
    const r = runUntilStopped(pc, 10_000);
    expect(r.exitCode).toBe(1);
    expect([...pc.debugconOut.take()]).toEqual([0x11, 0x11, 0x22]);
    expect(pc.a20Enabled).toBe(true);
  });

  it('keyboard-controller reset reboots (re-entering the boot image; CMOS survives)', () => {
    const pc = new Pc();
    pc.load(real('reboot'));
    const r = runUntilStopped(pc, 10_000);
    expect([...pc.debugconOut.take()]).toEqual([1, 2, 3]);
    expect(pc.resets).toBe(2);
    expect(r.state).toBe('exited');
    expect(r.exitCode).toBe(7);
  });

  it('with noReboot a guest reset ends the run in state "reset"', () => {
    const pc = new Pc({ noReboot: true });
    pc.load(real('reboot'));
    const r = runUntilStopped(pc, 10_000);
    expect(r.state).toBe('reset');
    expect(r.reason).toMatch(/keyboard controller/);
    expect([...pc.debugconOut.take()]).toEqual([1]);
  });
});
