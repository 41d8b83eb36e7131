/**
 * Issue 17: "Linux boots with the APIC timer when the machine has one". The linux-apic guest is the
 * same kernel configuration plus CONFIG_X86_UP_APIC (build-linux.sh builds both). On the pc-apic
 * machine the kernel must find our xAPIC through CPUID and IA32_APIC_BASE, calibrate its timer
 * against the 8254 and then take its ticks from the local APIC: the LOC line of /proc/interrupts
 * grows while IRQ 0 (the 8254 through the 8259) stays still.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/session/index.ts';

const guests = join(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(guests, 'manifest.json'), 'utf8')) as {
  guests: { id: string; machine?: string; files: Record<string, string>; cmdline?: string }[];
};
const entry = manifest.guests.find((g) => g.id === 'linux-apic');

describe('Linux with the local APIC timer (linux-apic on pc-apic)', () => {
  it('takes its timer ticks from the local APIC, not from IRQ 0', () => {
    if (!entry) throw new Error('guests/manifest.json has no linux-apic entry');
    expect(entry.machine).toBe('pc-apic');
    const session = new Session({
      guest: {
        kind: 'kernel',
        kernel: new Uint8Array(readFileSync(join(guests, entry.files.kernel))),
        initrd: new Uint8Array(readFileSync(join(guests, entry.files.initrd))),
        cmdline: entry.cmdline,
      },
      technique: 'native',
      vms: 1,
      memMiB: 64,
      noReboot: true,
      apic: true,
    });
    const dec = new TextDecoder();
    let text = '';
    const until = (needle: string, budget: number) => {
      const from = text.length;
      const limit = session.instructions + budget;
      while (!text.includes(needle, from)) {
        if (session.instructions >= limit) throw new Error(`no "${needle}" within ${budget}:\n${text}`);
        const s = session.run(2_000_000);
        text += dec.decode(session.takeSerial(0), { stream: true });
        if (s.state !== 'running' && s.state !== 'idle')
          throw new Error(`guest ${s.state}: ${s.reason}\n${text}`);
      }
    };
    const command = (line: string): string => {
      const from = text.length;
      session.sendSerial(0, new TextEncoder().encode(`${line}\n`));
      until('guest# ', 100_000_000);
      const chunk = text.slice(from);
      return chunk.slice(chunk.indexOf('\n') + 1, chunk.lastIndexOf('guest# ')).replace(/\r/g, '');
    };
    until('guest# ', 200_000_000);
    command('dmesg -n 1');
    expect(command('dmesg | grep -i "local APIC"')).toContain('Found and enabled local APIC!');
    const counts = (s: string) => ({
      loc: Number(/^\s*LOC:\s+(\d+)/m.exec(s)?.[1] ?? Number.NaN),
      irq0: Number(/^\s*0:\s+(\d+)/m.exec(s)?.[1] ?? 0),
    });
    const a = counts(command('cat /proc/interrupts'));
    // Let virtual time pass: `sleep` blocks on the kernel's timer, so only timer ticks wake it.
    command('sleep 1');
    const b = counts(command('cat /proc/interrupts'));
    expect(a.loc).toBeGreaterThan(0);
    // HZ=100 (tinyconfig): a one-second sleep is ~100 local-timer ticks (idle ticks may be skipped).
    expect(b.loc - a.loc).toBeGreaterThanOrEqual(50);
    // IRQ 0 served only the calibration: it does not tick any more.
    expect(b.irq0).toBe(a.irq0);
  }, 240_000);
});
