/**
 * The cputests guests that probe what a deprivileged guest cannot fully have, under binary
 * translation: exactly which checks fail, and why. Every other check of each guest passes (its
 * PASS line as natively, guests/cputests/expected.json), and a check that starts passing or a new
 * failure makes this test fail — update the table with the reason.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootImage, ROOT } from '../trap-and-emulate/test-guests.ts';
import type { HvRunnerResult } from '../vmm/runner.ts';
import { createBinaryTranslationRunner } from './runner.ts';

const USER_FLAGS =
  'guest user code runs directly at real ring 3 with the real EFLAGS (IF = 1 and IOPL = 0, the VMM’s): ' +
  'its PUSHF reads those and POPF/IRET cannot change them, without a trap (Robin & Irvine 2000)';
const RING1 =
  'ring compression: the guest kernel runs at real ring 1, so guest ring-1 code is indistinguishable from ' +
  'its kernel and is run (translated) as guest ring 0';
const GUEST_TF =
  'the guest’s own TF steps the translation, not the guest code: a rewritten instruction is several TC ' +
  'instructions, each trapping (mapped back to one guest EIP), and a MOV/POP SS shadow covers only the next TC instruction';
const DR =
  'guest debug registers are virtual only: DR0–DR3 never arm a real breakpoint, and a #DB reflected to the ' +
  'guest does not update its virtual DR6';

/** Per guest: each failing check's name → why. */
const FAILS: Record<string, Record<string, string>> = {
  'cpu-gates': {
    'callgate-ring1: reached ring 1 (CS)': RING1,
    'callgate-ring1: SS = TSS.SS1': RING1,
    // 'descriptor-accessed-bit' passes: its load is MOV GS, which the VMM's interpreter performs on
    // the guest's own GDT (interpreter.ts), setting the accessed bit as the hardware does. A load of
    // DS/ES/FS/SS still goes through the shadow GDT (accessed bit preset, the guest's not written).
  },
  'cpu-iobitmap': {},
  'cpu-iopl': {
    'pushf-cpl3: shows the real IF=0': USER_FLAGS,
    'cli-cpl3-iopl3: clears IF': `${USER_FLAGS} — the CLI itself traps and is emulated on the virtual IF`,
    'sti-cpl3-iopl3: sets IF': `${USER_FLAGS} — the STI itself traps and is emulated on the virtual IF`,
    'popf-cpl3-iopl3: IF=0 taken, IOPL=0 ignored': USER_FLAGS,
    'iret-cpl3-iopl3: IF=1 taken, IOPL=0 ignored': USER_FLAGS,
    'cli-cpl1-iopl0: #GP': `${RING1}: its CLI is inline on the virtual IF, no #GP`,
  },
  'cpu-singlestep': {
    "tf: trap count (3 instructions + TF_OFF's 3)": GUEST_TF,
    'tf: trap after the POPF that clears TF': GUEST_TF,
    'tf: DR6.BS set': DR,
    'mov-ss-shadow: trap count': GUEST_TF,
    'mov-ss-shadow: next trap after the instruction following MOV SS': GUEST_TF,
    'pop-ss-shadow: trap count': GUEST_TF,
    'pop-ss-shadow: next trap after the instruction following POP SS': GUEST_TF,
    'dr0-exec: fired once per pass': DR,
    'dr0-exec: fault EIP = the instruction': DR,
    'dr0-exec: DR6.B0': DR,
    'dr3-exec: fired once': DR,
    'dr3-exec: fault EIP = the instruction': DR,
    'dr3-exec: DR6.B3': DR,
    'dr1-write: fired for the two writes only': DR,
    'dr1-write: trap EIP = next instruction': DR,
    'dr1-write: the write already happened': DR,
    'dr1-write: DR6.B1': DR,
    'dr1-write: byte write inside the range': DR,
    'dr2-readwrite: fired on a read': DR,
    'dr2-readwrite: trap EIP = next instruction': DR,
    'dr2-readwrite: DR6.B2': DR,
    'dr6-sticky: one trap': DR,
    'dr6-sticky: B1 set and the old BS kept': DR,
  },
};

const expected = JSON.parse(readFileSync(resolve(ROOT, 'guests/cputests/expected.json'), 'utf8')) as {
  guests: Record<string, { elf: string; pass: string[]; summary: string }>;
};

function runBt(elf: string): { out: string; result: HvRunnerResult } {
  const runner = createBinaryTranslationRunner(
    { vms: 1, memMiB: 16, noReboot: true },
    bootImage(`cputests/${elf}`, 16),
  );
  let out = '';
  let result: HvRunnerResult = { state: 'budget' };
  for (let t = 0; t < 50_000_000 && result.state === 'budget'; t += 1_000_000) {
    result = runner.run(1_000_000, false);
    out += Buffer.from(runner.takeSerial(0)).toString('latin1');
  }
  return { out, result };
}

describe('cputests under binary translation: what fails, and why', () => {
  for (const [id, fails] of Object.entries(FAILS)) {
    it(`${id}: exactly the listed checks fail, every other passes`, () => {
      const g = expected.guests[id];
      const { out, result } = runBt(g.elf);
      expect(result.state).toBe('exited');
      const failed = out
        .split('\r\n')
        .filter((l) => l.startsWith('FAIL '))
        .map((l) => l.slice(5, l.indexOf(': expected')));
      expect(failed).toEqual(Object.keys(fails));
      for (const why of Object.values(fails)) expect(why.length).toBeGreaterThan(40);
      const passed = out.split('\r\n').filter((l) => l.startsWith('PASS '));
      expect(passed).toEqual(g.pass.filter((p) => !(p.slice(5) in fails)));
      const n = g.pass.length;
      const k = Object.keys(fails).length;
      expect(out).toContain(`DONE checks=${n} failed=${k}`);
      expect(result.exitCode).toBe(k === 0 ? 1 : 3);
    });
  }
});
