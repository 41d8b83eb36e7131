/**
 * Linux 6.1 (guests/linux) under pure trap-and-emulate. The real IF belongs to the VMM (it stays
 * 1), so a deprivileged kernel that asks the hardware whether interrupts are off — PUSHF, which
 * does not trap (Robin & Irvine 2000) — gets the VMM's answer. Inside an interrupt handler Linux's
 * local_irq_save() reads IF=1, its local_irq_restore() then "re-enables" interrupts with an STI,
 * and a later BUG_ON(!irqs_disabled()) kills the kernel early in boot — deterministically, with
 * the PUSHF in the log as a silent event. (With the real IF mirroring the virtual one, as an
 * earlier version of the VMM did, PUSHF told the truth and Linux limped to its shell.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Session } from '../../session/index.ts';
import { TrapKind, TrapOp, type TrapRecord } from '../vmm/trap-log.ts';
import { ROOT } from './test-guests.ts';

const dir = join(ROOT, 'guests', 'linux');

function boot(): { s: Session; out: string } {
  const s = new Session({
    guest: {
      kind: 'kernel',
      kernel: new Uint8Array(readFileSync(join(dir, 'bzImage'))),
      initrd: new Uint8Array(readFileSync(join(dir, 'initramfs.cpio'))),
      cmdline: 'console=ttyS0 lpj=500000',
    },
    technique: 'trap-and-emulate',
    vms: 1,
    memMiB: 64,
    noReboot: true,
  });
  const dec = new TextDecoder();
  let out = '';
  while (!out.includes('end Kernel panic') && s.instructions < 60_000_000) {
    const st = s.run(1_000_000);
    out += dec.decode(s.takeSerial(0), { stream: true });
    if (st.state !== 'running' && st.state !== 'idle') break;
  }
  return { s, out };
}

describe('Linux under pure trap-and-emulate fails as Robin & Irvine predict', () => {
  it('dies on a BUG() reached because PUSHF showed the VMM’s IF, logged as a silent event', () => {
    const a = boot();
    expect(a.out).toContain('Linux version 6.1');
    expect(a.out).toContain('invalid opcode: 0000 [#1]');
    expect(a.out).toContain('Kernel panic - not syncing');
    expect(a.out).not.toContain('guest# ');
    const t = a.s.traps;
    const recs: TrapRecord[] = Array.from({ length: t.count }, (_, i) => t.get(i));
    // The kernel's UD2 (BUG) at the oops EIP is reflected to it as #UD…
    const oops = /invalid opcode: 0000 \[#1\][\s\S]*?EIP: 0x([0-9a-f]+)/.exec(a.out);
    const eip = Number.parseInt(oops?.[1] ?? '0', 16);
    const ud = recs.findIndex((r) => r.kind === TrapKind.GuestException && r.reason === 6 && r.eip === eip);
    expect(ud).toBeGreaterThan(0);
    expect(recs[ud].bytes).toEqual([0x0f, 0x0b]);
    // The cause, a few records earlier: inside an interrupt handler (virtual IF = 0) the kernel's
    // local_irq_save() PUSHF read IF=1 — the VMM's real IF — where the bare machine shows IF=0…
    const pi = recs.slice(0, ud).findLastIndex((r) => r.kind === TrapKind.SilentEvent);
    const pushf = recs[pi];
    expect(pushf.reason).toBe(TrapOp.PUSHF);
    expect(pushf.bytes).toEqual([0x9c]);
    expect(pushf.invisible).toBe(true);
    if (pushf.details.type !== 'other') throw new Error('details');
    expect(pushf.details.values[0] & 0x200).toBe(0x200);
    expect(pushf.details.values[1] & 0x200).toBe(0);
    expect(pushf.details.summary).toMatch(/On the bare machine the guest would have read .*IF=0/);
    // …so its local_irq_restore() "re-enabled" interrupts with an STI (which traps and is emulated:
    // virtual IF 0 → 1) in the middle of the handler, and BUG_ON(!irqs_disabled()) fired.
    const between = recs.slice(pi + 1, ud);
    const sti = between.find(
      (r) => r.kind === TrapKind.PrivilegedInstruction && r.reason === TrapOp.STI && r.eip > pushf.eip,
    );
    expect(sti).toBeDefined();
    if (sti?.details.type !== 'other') throw new Error('details');
    expect(sti.details.values.slice(0, 2)).toEqual([0, 1]);
    expect(ud - pi).toBeLessThan(50);
    // Deterministic: a second boot gives the same log up to the panic.
    const b = boot();
    expect(b.s.traps.total).toBe(t.total);
    expect(b.out).toBe(a.out);
  });
});
