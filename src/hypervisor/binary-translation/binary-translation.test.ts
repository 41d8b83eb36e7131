/**
 * Binary translation on the teaching guests: trapdemo byte-identical to the bare machine with
 * translation and callout records, minikernel's shell/processes/bench (which pure trap-and-emulate
 * cannot run), four interactive VMs, the self-modifying-code guest, guest-precise state, and the
 * same trap log whatever the host's slice size.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BootImage } from '../../machine/loaders/types.ts';
import { bootImage, ROOT, runNative } from '../trap-and-emulate/test-guests.ts';
import type { HvRunnerResult } from '../vmm/runner.ts';
import { TrapKind } from '../vmm/trap-log.ts';
import { ADAPT_AFTER } from './binary-translation.ts';
import { type BinaryTranslationRunner, createBinaryTranslationRunner } from './runner.ts';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function runBt(
  boot: BootImage,
  o: { vms?: number; memMiB: number; slice?: number; maxTicks?: number },
): { runner: BinaryTranslationRunner; outs: string[]; result: HvRunnerResult } {
  const runner = createBinaryTranslationRunner({ vms: o.vms ?? 1, memMiB: o.memMiB, noReboot: true }, boot);
  const outs = Array.from({ length: runner.vmCount }, () => '');
  const slice = o.slice ?? 1_000_000;
  let result: HvRunnerResult = { state: 'budget' };
  for (let t = 0; t < (o.maxTicks ?? 100_000_000); t += slice) {
    result = runner.run(slice, false);
    for (let i = 0; i < outs.length; i++) outs[i] += text(runner.takeSerial(i));
    if (result.state !== 'budget') break;
  }
  return { runner, outs, result };
}

function jsonl(r: BinaryTranslationRunner): string {
  let s = '';
  r.traps.writeJsonLines((c) => {
    s += c;
  });
  return s;
}

/** Every record's EIP is a guest address: none points into any VM's translation cache. */
function expectNoTcAddressInLog(r: BinaryTranslationRunner): void {
  const bt = r.technique;
  const log = r.traps;
  for (let i = 0; i < log.count; i++) {
    const rec = log.get(i);
    const vm = r.vmm.vms[rec.vm];
    expect(bt.inTc(vm, rec.eip), `record ${rec.seq} (${rec.kindName}) at a TC address`).toBe(false);
  }
}

describe('binary translation: trapdemo', () => {
  const boot = bootImage('trapdemo/trapdemo.elf', 16);
  const expected = readFileSync(resolve(ROOT, 'guests/trapdemo/expected-output.txt'), 'latin1');
  const native = runNative(boot, 16);
  const bt = runBt(boot, { memMiB: 16 });

  it('prints byte for byte what the bare machine prints, and exits the same way', () => {
    expect(native.out).toBe(expected);
    expect(bt.outs[0]).toBe(expected);
    expect(bt.result.state).toBe('exited');
    expect(bt.result.exitCode).toBe(native.exitCode);
  });

  it('logs translations (≤ 12 instructions, IDENT + rewritten) and callouts, all at guest addresses', () => {
    const log = bt.runner.traps;
    expect(log.countByKind(TrapKind.Translation)).toBeGreaterThan(20);
    expect(log.countByKind(TrapKind.Callout)).toBeGreaterThan(0);
    let idents = 0;
    for (let i = 0; i < log.count; i++) {
      const rec = log.get(i);
      if (rec.kind !== TrapKind.Translation) continue;
      const [insns, bytesOut, ident, tcAddr] = (rec.details as { values: number[] }).values;
      expect(insns).toBeGreaterThanOrEqual(1);
      expect(insns).toBeLessThanOrEqual(12);
      expect(ident).toBeLessThanOrEqual(insns);
      expect(bytesOut).toBeGreaterThan(0);
      expect(bt.runner.technique.inTc(bt.runner.vmm.vms[0], tcAddr)).toBe(true);
      idents += ident;
    }
    expect(idents).toBeGreaterThan(0);
    // The #DE handler printed the guest EIP of the DIV (line above): the fault inside the TC was
    // delivered with the guest's address. No record carries a TC address either.
    expectNoTcAddressInLog(bt.runner);
  });

  it('gives the same trap log whatever slices the host runs it in, and on every run', () => {
    const a = jsonl(bt.runner);
    const b = jsonl(runBt(boot, { memMiB: 16, slice: 7_777 }).runner);
    const c = jsonl(runBt(boot, { memMiB: 16 }).runner);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });
});

describe('binary translation: self-modifying code and paging guests', () => {
  const expected = JSON.parse(readFileSync(resolve(ROOT, 'guests/cputests/expected.json'), 'utf8')) as {
    guests: Record<string, { elf: string; exit: number | null; pass: string[]; summary: string }>;
  };
  for (const id of ['cpu-smc', 'cpu-paging']) {
    it(`${id} passes every check under BT`, () => {
      const g = expected.guests[id];
      const r = runBt(bootImage(`cputests/${g.elf}`, 16), { memMiB: 16 });
      for (const line of g.pass) expect(r.outs[0]).toContain(line);
      expect(r.outs[0]).toContain(g.summary);
      expect(r.result.state).toBe('exited');
      expect(r.result.exitCode).toBe(((g.exit as number) << 1) | 1);
      if (id === 'cpu-smc') {
        // Coherence: its stores into translated code dropped those translations.
        expect(r.runner.traps.countByKind(TrapKind.TcInvalidate)).toBeGreaterThan(0);
      }
    });
  }
});

describe('binary translation: adaptive translation (Adams & Agesen 2006 §4.2)', () => {
  it('retranslates a store that keeps faulting on a write-protected code page into a callout pair', () => {
    // guests/bt-adaptive: 64 stores from one instruction (`poke: mov [ebx], eax`) into data that
    // shares a page with translated code, then the same store patches an instruction there.
    const boot = bootImage('bt-adaptive/adaptive.elf', 16);
    const native = runNative(boot, 16);
    const r = runBt(boot, { memMiB: 16 });
    expect(native.out).toContain('DONE checks=3 failed=0');
    expect(r.outs[0]).toBe(native.out);
    expect(r.result.state).toBe('exited');
    expect(r.result.exitCode).toBe(1);
    const log = r.runner.traps;
    const all = Array.from({ length: log.count }, (_, i) => log.get(i));
    const adapt = all.filter((x) => x.kind === TrapKind.AdaptiveRetranslation);
    expect(adapt).toHaveLength(1);
    const poke = adapt[0].eip;
    expect(adapt[0].bytes).toEqual([0x89, 0x03]); // mov [ebx], eax
    const vals = (i: number) => (all[i].details as { values: number[] }).values;
    const [faults, lin] = vals(adapt[0].seq - all[0].seq);
    expect(faults).toBe(ADAPT_AFTER);
    // One invalidation per fault (each dropped the page's translations), all from `poke`; the one of
    // the fault that tipped it over is logged right after the retranslation.
    const inval = all.filter((x) => x.kind === TrapKind.TcInvalidate);
    const written = (x: (typeof all)[number]) => (x.details as { values: number[] }).values[2];
    const before = inval.filter((x) => x.seq < adapt[0].seq);
    expect(before.map((x) => x.eip)).toEqual(Array(ADAPT_AFTER - 1).fill(poke));
    expect(before.every((x) => written(x) === lin)).toBe(true);
    // After it: the remaining stores next to the code went through the callouts without a fault
    // and without dropping anything — except the one that wrote an instruction (patched + 1).
    const b = r.runner.technique.bt[0];
    expect(b.stats.adaptiveStores).toBeGreaterThanOrEqual(64 - ADAPT_AFTER - 1);
    expect(b.stats.adaptiveHits).toBe(1);
    const after = inval.filter((x) => x.seq > adapt[0].seq);
    expect(after.map(written)).toEqual([lin, poke - 5]); // the tipping fault, then the code store
    expectNoTcAddressInLog(r.runner);
  });
});

/** Drive a minikernel shell on each VM: boot to the prompt, then one command per VM. */
function miniSession(vms: number, commands: string[]): { outs: string[]; runner: BinaryTranslationRunner } {
  const boot = bootImage('minikernel/minikernel.elf', 16);
  const runner = createBinaryTranslationRunner({ vms, memMiB: 16, noReboot: true }, boot);
  const outs = Array.from({ length: vms }, () => '');
  const pump = (until: (i: number) => boolean, budget: number) => {
    for (let t = 0; t < budget; t += 1_000_000) {
      const r = runner.run(1_000_000, false);
      for (let i = 0; i < vms; i++) outs[i] += text(runner.takeSerial(i));
      if (outs.every((_, i) => until(i))) return;
      if (r.state !== 'budget' && r.state !== 'idle')
        throw new Error(`${r.state}: ${r.reason}\n${outs.join('\n')}`);
    }
    throw new Error(`timed out:\n${outs.join('\n----\n')}`);
  };
  const prompts = (i: number) => outs[i].split('mini$ ').length - 1;
  pump((i) => prompts(i) >= 1, 200_000_000);
  for (const cmd of commands) {
    const want = outs.map((_, i) => prompts(i) + 1);
    for (let i = 0; i < vms; i++) runner.sendSerial(i, new TextEncoder().encode(`${cmd}\r`));
    pump((i) => prompts(i) >= want[i], 400_000_000);
  }
  return { outs, runner };
}

describe('binary translation: minikernel (hangs under pure trap-and-emulate)', () => {
  it('runs its shell, its processes and the nanobenchmarks', () => {
    const { outs, runner } = miniSession(1, ['ps', 'bench']);
    const out = outs[0];
    expect(out).toContain(
      '[mini] processes: shell (pid 1), primes (2), pager (3), counter (4); scheduler on',
    );
    expect(out).toMatch(/PID NAME +STATE/);
    // The ring-3 processes ran (their work counters moved).
    expect(out).toMatch(/ 4 counter +\w+( +\d+){5} +[1-9]\d*\r?\n/);
    for (const b of ['syscall', 'in ', 'cr-write', 'call/ret', 'pgfault', 'divzero', 'ptemod'])
      expect(out).toMatch(new RegExp(`\\n  ${b.replace('/', '\\/')}\\s+[\\d.]+ cycles/op`));
    // The POPF that silently lost IF under trap-and-emulate is a callout here.
    const log = runner.traps;
    let popf = 0;
    for (let i = 0; i < log.count; i++)
      if (log.get(i).kind === TrapKind.Callout && log.get(i).reasonName === 'popf') popf++;
    expect(popf).toBeGreaterThan(0);
    expect(log.countByKind(TrapKind.SilentEvent)).toBe(0);
    expectNoTcAddressInLog(runner);
    // Chaining wrote cells, never translated code (a write there makes the CPU drop the blocks it
    // decoded from the page): only a dying unit's direct predecessors are re-patched.
    const tc = runner.technique.bt[0].tc;
    expect(tc.stats.chained).toBeGreaterThan(50);
    expect(tc.stats.linked).toBeGreaterThan(50);
    expect(tc.stats.codePatches).toBeLessThanOrEqual(tc.stats.invalidations);
    const cpu = runner.vmm.cpu;
    for (const f of tc.frames) expect(cpu.code.noCache[f >>> 12]).toBe(0);
  }, 120_000);

  it('runs four VMs at once, each console interactive', () => {
    const { outs } = miniSession(4, ['help']);
    for (const out of outs) {
      expect(out).toContain('mini shell, pid 1: type help');
      // Each VM answered the command typed on its own console.
      expect(out.slice(out.indexOf('help'))).toMatch(/bench/);
    }
  }, 240_000);
});

describe('binary translation: determinism with interrupts, processes and world switches', () => {
  it('two minikernel VMs give the same trap log with 1,000,000- and 7,777-tick host slices', () => {
    const boot = bootImage('minikernel/minikernel.elf', 16);
    const run = (slice: number) => runBt(boot, { vms: 2, memMiB: 16, slice, maxTicks: 12_000_000 });
    const a = run(1_000_000);
    const b = run(7_777);
    expect(a.runner.instructions).toBe(b.runner.instructions);
    expect(b.outs).toEqual(a.outs);
    expect(a.outs[1]).toContain('mini shell, pid 1: type help');
    expect(a.runner.traps.countByKind(TrapKind.WorldSwitch)).toBeGreaterThan(10);
    expect(a.runner.traps.countByKind(TrapKind.Interrupt)).toBeGreaterThan(10);
    expect(jsonl(b.runner)).toBe(jsonl(a.runner));
  }, 120_000);
});

describe('binary translation: configuration errors', () => {
  it('reports a guest that does not fit, without taking the emulator down', () => {
    expect(() =>
      createBinaryTranslationRunner(
        { vms: 1, memMiB: 1, noReboot: true },
        bootImage('trapdemo/trapdemo.elf', 16),
      ),
    ).toThrow(/does not fit/);
  });
});
