/**
 * Hiding the VMM's slot under binary translation (issue 12): guest data segments cut below the
 * slot, GS the VMM's while the TC runs (vmm-gs.ts), an access beyond a cut limit and any guest
 * instruction naming GS or a `cs:` data override performed on the VMM's interpreter
 * (interpreter.ts). Two self-checking guests, each its own oracle natively:
 * guests/hostile/slot-read.elf (reads where the slot sits: the guest's own #PF or its own bytes)
 * and guests/hostile/slot-segs.elf (the guest's own limits through LSL/LAR, GS loaded, read,
 * used and faulting beyond its own limit, a CS override, the top 4 MiB mapped by the guest).
 */
import { describe, expect, it } from 'vitest';
import type { BootImage } from '../../machine/loaders/types.ts';
import { bootImage, runNative } from '../trap-and-emulate/test-guests.ts';
import type { HvRunnerResult } from '../vmm/runner.ts';
import { TrapKind, TrapOp } from '../vmm/trap-log.ts';
import { type BinaryTranslationRunner, createBinaryTranslationRunner } from './runner.ts';

const MEM_MIB = 16;

function runBt(
  boot: BootImage,
  vms: number,
): { r: BinaryTranslationRunner; outs: string[]; res: HvRunnerResult } {
  const r = createBinaryTranslationRunner({ vms, memMiB: MEM_MIB, noReboot: true }, boot);
  const outs = Array.from({ length: vms }, () => '');
  let res: HvRunnerResult = { state: 'budget' };
  for (let i = 0; i < 100; i++) {
    res = r.run(10_000_000, false);
    for (let v = 0; v < vms; v++) outs[v] += Buffer.from(r.takeSerial(v)).toString('latin1');
    if (res.state !== 'budget') break;
  }
  return { r, outs, res };
}

/** The interpreter's records: at guest EIPs, with what brought them there and how they ended. */
function interpreted(
  r: BinaryTranslationRunner,
): { why: number; vector: number; eip: number; summary: string; bytes: number[] }[] {
  const log = r.traps;
  const out = [];
  for (let i = 0; i < log.count; i++) {
    const rec = log.get(i);
    if (rec.kind !== TrapKind.Callout || rec.reason !== TrapOp.INTERPRET) continue;
    expect(r.technique.inTc(r.vmm.vms[rec.vm], rec.eip)).toBe(false);
    const d = rec.details as { values: number[]; summary: string };
    out.push({
      why: d.values[0] >>> 0,
      vector: d.values[1] >>> 0,
      eip: rec.eip,
      summary: d.summary,
      bytes: rec.bytes,
    });
  }
  return out;
}

describe.each([
  ['slot-read', 26],
  ['slot-segs', 23],
])('binary translation: guests/hostile/%s.elf', (name, checks) => {
  const boot = bootImage(`hostile/${name}.elf`, MEM_MIB);
  const native = runNative(boot, MEM_MIB);
  const one = runBt(boot, 1);
  const four = runBt(boot, 4);

  it('passes every check natively, alone and in four VMs, with the same output', () => {
    const done = new RegExp(`DONE checks=${checks} failed=0`);
    expect(native.out).toMatch(done);
    for (const x of [one, four]) {
      expect(x.res.state).toBe('exited');
      x.outs.forEach((out, v) => {
        expect(out, `VM ${v}`).toBe(native.out);
        expect(x.r.vmm.vms[v].exitCode).toBe(1);
        // Truncated segments cannot reach the slot: the VMM never had to move it.
        expect(x.r.vmm.vms[v].shadow.vmmPde).toBe(1023);
      });
    }
  });

  it('performs the accesses beyond the cut limits on the interpreter, logged at guest EIPs', () => {
    const recs = interpreted(one.r);
    // Beyond the cut: real #GP(0)s (DS, string instructions) and #SS(0)s (SS) in the TC.
    expect(recs.some((x) => x.why === 13)).toBe(true);
    expect(recs.some((x) => x.why === 12)).toBe(true);
    // Completed with the guest's bytes, and the guest's own #PF.
    expect(recs.some((x) => x.vector === 0xffffffff)).toBe(true);
    if (name === 'slot-read') expect(recs.some((x) => x.vector === 14)).toBe(true);
    else {
      // GS and CS-override instructions are callouts to the interpreter; the GS one beyond its own
      // limit raised the guest's own #GP.
      expect(recs.some((x) => x.why === 0xbb && x.vector === 0xffffffff)).toBe(true);
      expect(recs.some((x) => x.why === 0xbb && x.vector === 13)).toBe(true);
      // MOV r32/r16←GS and PUSH GS are translated inline (the selector from the VM's area): none
      // reaches the interpreter; the memory form MOV m16←GS still does.
      const op = (x: { bytes: number[] }) => x.bytes.slice(x.bytes[0] === 0x66 ? 1 : 0);
      const inline = recs.filter((x) => {
        const [o, m] = op(x);
        return (o === 0x8c && m >= 0xc0 && ((m >> 3) & 7) === 5) || (o === 0x0f && m === 0xa8);
      });
      expect(inline).toEqual([]);
      expect(recs.some((x) => op(x)[0] === 0x8c && op(x)[1] < 0xc0)).toBe(true);
    }
    expect(recs[0].summary).toMatch(/interpreter/);
    expect(interpreted(four.r).length).toBe(4 * recs.length);
  });
});
