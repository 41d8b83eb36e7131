/**
 * WorkerCore driving the real Session (src/session/) with committed guest images, the same way the
 * Web Worker does, minus postMessage.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrapKind } from '../hypervisor/vmm/trap-log.ts';
import type { CoreHost } from './contract.ts';
import { WorkerCore } from './core.ts';
import type { FromWorker } from './protocol.ts';
import { createEmuSession } from './session-adapter.ts';
import { toRegSnapshot } from './snapshot.ts';

const root = join(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(join(root, 'guests/manifest.json'), 'utf8')) as {
  guests: { id: string; title: string; files: { kernel?: string } }[];
};

function harness(now: () => number = () => performance.now()) {
  const out: FromWorker[] = [];
  let wakes = 0;
  const host: CoreHost = {
    createSession: createEmuSession,
    async resolveGuest(id) {
      const g = manifest.guests.find((x) => x.id === id);
      if (!g?.files.kernel) throw new Error(`no guest ${id}`);
      return {
        label: g.title,
        memMiB: 32,
        source: {
          kind: 'kernel',
          kernel: new Uint8Array(readFileSync(join(root, 'guests', g.files.kernel))),
        },
      };
    },
    toRegSnapshot,
    post: (m) => out.push(m),
    now,
    wake: () => {
      wakes++;
    },
  };
  const core = new WorkerCore(host);
  const frames = () => out.filter((m): m is Extract<FromWorker, { type: 'frame' }> => m.type === 'frame');
  const serial = () =>
    new TextDecoder().decode(
      Uint8Array.from(
        frames().flatMap((f) => f.serial.filter((s) => s.vm === 0).flatMap((s) => Array.from(s.bytes))),
      ),
    );
  const runToStop = () => {
    for (let i = 0; i < 10_000 && core.runSlice().more; i++);
  };
  return { core, out, frames, serial, runToStop, wakes: () => wakes };
}

const load = (id: string, technique = 'native', vms = 1) => ({
  type: 'load',
  scenario: { guest: { kind: 'builtin', id }, technique, vms },
});

describe('WorkerCore + Session', () => {
  it('boots hello: greeting on COM1, exit code 1, registers at the multiboot entry', async () => {
    const h = harness();
    await h.core.handle(load('hello'));
    const loaded = h.out.find((m) => m.type === 'loaded');
    expect(loaded?.type === 'loaded' && loaded.info.summary).toMatch(/multiboot/);
    const first = h.frames()[0];
    expect(first.regs?.real.gpr.eax).toBe(0x2badb002); // multiboot magic (Multiboot spec §3.2)
    expect(first.regs?.real.mode).toBe('protected');
    await h.core.handle({ type: 'run' });
    h.runToStop();
    expect(h.serial()).toBe('Hello from TrapLab! This guest runs in 32-bit protected mode.\r\n');
    const last = h.frames().at(-1)!;
    expect(last.status).toMatchObject({ state: 'exited', exitCode: 1, running: false });
    expect(last.stats.instructions).toBeGreaterThan(100);
  });

  it('steps one instruction at a time and disassembles at EIP', async () => {
    const h = harness();
    await h.core.handle(load('hello'));
    const eip0 = h.frames().at(-1)!.regs!.real.eip;
    await h.core.handle({ type: 'step' });
    const f = h.frames().at(-1)!;
    expect(f.stats.instructions).toBe(1);
    // hello's first instruction is `mov esp, stack_top` (5 bytes: BC imm32).
    expect(f.regs!.real.eip).toBe(eip0 + 5);
    await h.core.handle({ type: 'disassemble', id: 1, addr: eip0, count: 3 });
    const d = h.out.find((m) => m.type === 'disasm');
    expect(d?.type === 'disasm' && d.lines[0]).toMatchObject({ addr: eip0 });
    expect(d?.type === 'disasm' && d.lines[0].bytes[0]).toBe(0xbc);
    await h.core.handle({ type: 'readMemory', id: 2, space: 'physical', addr: eip0, len: 5 });
    const m = h.out.find((x) => x.type === 'memory');
    expect(m?.type === 'memory' && m.bytes[0]).toBe(0xbc);
  });

  it('a bad uploaded image gets the loader’s reason and keeps the running guest', async () => {
    const h = harness();
    await h.core.handle(load('hello'));
    await h.core.handle({
      type: 'load',
      scenario: {
        guest: {
          kind: 'upload',
          guest: { kind: 'kernel', name: 'junk.bin', kernel: new TextEncoder().encode('junk'.repeat(100)) },
        },
        technique: 'native',
        vms: 1,
      },
    });
    const err = h.out.find((m) => m.type === 'error');
    expect(err?.type === 'error' && err.message).toMatch(/^Could not start junk\.bin: .*multiboot.*bzImage/);
    await h.core.handle({ type: 'run' });
    h.runToStop();
    expect(h.serial()).toContain('Hello from TrapLab!');
  });

  it('pauses a guest that would run forever, and serial input reaches it', async () => {
    const h = harness();
    await h.core.handle(load('minikernel'));
    await h.core.handle({ type: 'run' });
    for (let i = 0; i < 2000 && !h.serial().includes('mini$ '); i++) h.core.runSlice();
    expect(h.serial()).toContain('mini$ ');
    await h.core.handle({ type: 'serialInput', vm: 0, bytes: new TextEncoder().encode('help\r') });
    for (let i = 0; i < 2000 && !/commands:/.test(h.serial()); i++) h.core.runSlice();
    expect(h.serial()).toMatch(/mini\$ help\r?\n/);
    await h.core.handle({ type: 'pause' });
    expect(h.frames().at(-1)!.status).toMatchObject({ running: false, stopNote: 'Paused' });
    expect(h.core.runSlice().more).toBe(false);
  });

  it('an idle guest idles: its virtual clock is held to the wall clock, a busy one is not', async () => {
    // A fake wall clock that moves 1 µs per reading, plus whatever the test lets pass.
    let t = 0;
    const h = harness(() => (t += 0.001));
    await h.core.handle(load('minikernel'));
    await h.core.handle({ type: 'run' });
    for (let i = 0; i < 20_000 && !h.serial().includes('mini$ '); i++) h.core.runSlice();
    expect(h.serial()).toContain('mini$ ');
    const vNs = () => h.frames().at(-1)!.stats.virtualTimeNs;
    const instr = () => h.frames().at(-1)!.stats.instructions;
    // At its prompt minikernel halts between 100 Hz timer ticks. Wall time stands (almost) still:
    // however often the worker is called, virtual time moves only a few milliseconds and the
    // worker asks to be called back later instead of spinning.
    const v0 = vNs();
    const t0 = t;
    let waits = 0;
    for (let i = 0; i < 200; i++) {
      const r = h.core.runSlice();
      expect(r.more).toBe(true);
      if (r.waitMs > 0) waits++;
    }
    const wallMs = t - t0;
    expect((vNs() - v0) / 1e6).toBeLessThan(wallMs + 20);
    expect(waits).toBeGreaterThan(150);
    // Let 300 ms of wall time pass in 4 ms steps: virtual time follows (30 timer ticks' worth).
    const v1 = vNs();
    const i1 = instr();
    const f1 = h.frames().length;
    const sleeps: number[] = [];
    for (let i = 0; i < 75; i++) {
      t += 4;
      const r = h.core.runSlice();
      if (r.waitMs > 0) sleeps.push(r.waitMs);
    }
    // It asks to sleep until the wall clock catches up (several ms, not 1 ms at a time), and
    // posts a frame only a few times a second: nothing new is printed, only the counters move.
    sleeps.sort((a, b) => a - b);
    expect(sleeps[sleeps.length >> 1]).toBeGreaterThanOrEqual(3);
    expect(h.frames().length - f1).toBeLessThanOrEqual(3);
    await h.core.handle({ type: 'pause' });
    await h.core.handle({ type: 'run' });
    const advancedMs = (vNs() - v1) / 1e6;
    expect(advancedMs).toBeGreaterThan(250);
    expect(advancedMs).toBeLessThan(330);
    expect(instr()).toBeGreaterThan(i1); // the timer interrupts did run
    // Typed input makes it busy again at once: the command runs without waiting for the clock.
    expect(h.core.runSlice().waitMs).toBeGreaterThan(0); // ahead of the clock: it would sleep…
    const w0 = h.wakes();
    await h.core.handle({ type: 'serialInput', vm: 0, bytes: new TextEncoder().encode('help\r') });
    expect(h.wakes()).toBe(w0 + 1); // …but a keystroke wakes it, to be taken at once
    // (the worker hands console bytes over at most every 50 ms of wall time: let the clock move)
    for (let i = 0; i < 2000 && !/commands:/.test(h.serial()); i++) {
      t += 1;
      h.core.runSlice();
    }
    expect(h.serial()).toMatch(/commands:/);
  });

  it('under trap-and-emulate: step to the next trap, run until a kind, slice and explain the log', async () => {
    const h = harness();
    await h.core.handle(load('trapdemo', 'trap-and-emulate'));
    await h.core.handle({ type: 'stepToTrap' });
    h.runToStop();
    let f = h.frames().at(-1)!;
    expect(f.stats.trapTotal).toBe(1);
    expect(f.status.stopNote).toMatch(/^Stopped at trap: /);
    // The real CPU runs the guest kernel deprivileged; its virtual CPU believes it is in ring 0.
    expect(f.regs!.real.cpl).toBeGreaterThan(0);
    expect(f.regs!.virtual!.cpl).toBe(0);

    await h.core.handle({ type: 'runUntilTrapKind', kind: TrapKind.ControlRegister });
    h.runToStop();
    f = h.frames().at(-1)!;
    expect(f.status.stopNote).toMatch(/^Stopped at control register \(record \d+\)$/);
    expect(f.stats.trapsByKind[TrapKind.ControlRegister]).toBe(1);

    await h.core.handle({ type: 'run' });
    h.runToStop();
    expect(h.serial()).toBe(
      readFileSync(join(root, 'guests/trapdemo/expected-output.txt'), 'utf8').replace(/\r?\n/g, '\r\n'),
    );
    const last = h.frames().at(-1)!;
    expect(last.status).toMatchObject({ state: 'exited', exitCode: 1 });
    const total = last.stats.trapHeld;
    await h.core.handle({
      type: 'trapSlice',
      id: 7,
      start: 0,
      end: 4096,
      filter: { kinds: [TrapKind.ControlRegister] },
    });
    const sl = h.out.find((m) => m.type === 'trapSlice');
    if (sl?.type !== 'trapSlice') throw new Error('no slice');
    expect(sl.total).toBe(last.stats.trapsByKind[TrapKind.ControlRegister]);
    expect(new Set(sl.rows.kind)).toEqual(new Set([TrapKind.ControlRegister]));
    expect(sl.insn.every((t) => /^(mov|lmsw|clts)/.test(t))).toBe(true);
    await h.core.handle({ type: 'trapDetail', id: 8, index: sl.rows.index[0] });
    const d = h.out.find((m) => m.type === 'trapDetail');
    expect(d?.type === 'trapDetail' && d.detail?.explanation).toBeTruthy();
    expect(total).toBeGreaterThan(100);
  });
});
