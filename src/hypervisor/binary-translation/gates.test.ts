/**
 * Call gates and task switches under both software VMMs (the shared ../vmm/far-transfer.ts).
 * guests/callgate checks itself against the SDM (same-privilege CALL and JMP through a gate, a
 * ring 3 → ring 0 CALL with two parameters and its RETF 8 back, #GP and #NP for bad gates) and
 * exits through port 0xF4. A hardware task switch stops the VM with a sentence saying why.
 */
import { describe, expect, it } from 'vitest';
import { bootImage, runNative, runTe } from '../trap-and-emulate/test-guests.ts';
import type { HvRunnerResult } from '../vmm/runner.ts';
import type { TrapLogReader } from '../vmm/trap-log.ts';
import { type TrapAction, TrapKind, TrapOp } from '../vmm/trap-log.ts';
import { createBinaryTranslationRunner } from './runner.ts';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function runBt(file: string): { out: string; result: HvRunnerResult; traps: TrapLogReader } {
  const runner = createBinaryTranslationRunner({ vms: 1, memMiB: 16, noReboot: true }, bootImage(file, 16));
  let out = '';
  let result: HvRunnerResult = { state: 'budget' };
  for (let t = 0; t < 50_000_000 && result.state === 'budget'; t += 1_000_000) {
    result = runner.run(1_000_000, false);
    out += text(runner.takeSerial(0));
  }
  return { out, result, traps: runner.traps };
}

/** [kind, reason] of every record (the reason is the TrapOp for instruction records). */
function records(log: TrapLogReader): { kind: TrapKind; reason: number; action: TrapAction; code: number }[] {
  return Array.from({ length: log.count }, (_, i) => {
    const r = log.get(i);
    const code = r.details.type === 'fault' ? (r.details.errorCode ?? -1) : -1;
    return { kind: r.kind, reason: r.reason, action: r.action, code };
  });
}

describe('call gates under trap-and-emulate and binary translation', () => {
  const file = 'callgate/callgate.elf';
  const native = runNative(bootImage(file, 16), 16, 50_000_000, true);

  it('the guest passes natively (the reference)', () => {
    expect(native.out).toContain('DONE checks=20 failed=0');
    expect(native.out).not.toContain('FAIL');
    expect(native.exitCode).toBe(1);
  });

  it('trap-and-emulate: every gate use faults and is emulated on the guest descriptors; output = native', () => {
    const te = runTe(bootImage(file, 16), { memMiB: 16 });
    expect(te.outs[0]).toBe(native.out);
    expect(te.result.state).toBe('exited');
    expect(te.result.exitCode).toBe(1);
    const recs = records(te.runner.traps);
    const emulated = (op: number) =>
      recs.filter((r) => r.kind === TrapKind.PrivilegedInstruction && r.reason === op).length;
    // CALL: part 1 (ring 0) and part 3 (ring 3 → 0); JMP: part 2; RETF with RPL 0 (part 1) traps at
    // real ring 1, the RETF 8 to ring 3 does not (the real CPU returns outward by itself).
    expect(emulated(TrapOp.FAR_CALL)).toBe(2);
    expect(emulated(TrapOp.FAR_JMP)).toBe(1);
    expect(emulated(TrapOp.FAR_RET)).toBe(1);
    // The two bad gates are the guest's own faults: #GP(0x50) and #NP(0x58), reflected.
    const reflected = recs.filter(
      (r) => r.kind === TrapKind.GuestException && (r.reason === 13 || r.reason === 11),
    );
    expect(reflected.map((r) => [r.reason, r.code])).toEqual([
      [13, 0x50],
      [11, 0x58],
    ]);
  });

  it('binary translation: kernel gate uses are callouts, the user one a #GP; output = native', () => {
    const bt = runBt(file);
    expect(bt.out).toBe(native.out);
    expect(bt.result.state).toBe('exited');
    expect(bt.result.exitCode).toBe(1);
    const recs = records(bt.traps);
    const callouts = (op: number) =>
      recs.filter((r) => r.kind === TrapKind.Callout && r.reason === op).length;
    expect(callouts(TrapOp.FAR_CALL)).toBe(1);
    expect(callouts(TrapOp.FAR_JMP)).toBeGreaterThanOrEqual(2); // the gate JMP and lib.inc's JMP to reload CS
    expect(callouts(TrapOp.FAR_RET)).toBe(1); // the RETF 8 to ring 3 runs as a real RETF after its callout
    expect(
      recs.filter((r) => r.kind === TrapKind.PrivilegedInstruction && r.reason === TrapOp.FAR_CALL),
    ).toHaveLength(1);
  });

  it('a hardware task switch stops the VM under both, with the reason in words (cpu-tasks)', () => {
    const te = runTe(bootImage('cputests/tasks.elf', 16), { memMiB: 16 });
    const bt = runBt('cputests/tasks.elf');
    for (const r of [te.result, bt.result]) {
      expect(r.state).toBe('unsupported');
      expect(r.reason).toMatch(/^far JMP to a TSS \(selector 0x40\) asks the CPU for a hardware task switch/);
      expect(r.reason).toContain('does not virtualize task switches');
    }
  });
});
