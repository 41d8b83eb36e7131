/**
 * Unmodified Linux 6.1 under hardware-assisted virtualization: the kernel boots at real ring 0 in
 * VMX non-root operation to the BusyBox prompt, with EPT and with shadow paging, and a scripted
 * shell session prints what the same session prints on the native machine. Also minikernel's
 * shell, processes and `bench`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Session } from '../../session/index.ts';
import { ROOT } from '../trap-and-emulate/test-guests.ts';
import { TrapKind } from '../vmm/trap-log.ts';

const guests = join(ROOT, 'guests');
const manifest = JSON.parse(readFileSync(join(guests, 'manifest.json'), 'utf8')) as {
  guests: { id: string; files: Record<string, string>; cmdline?: string }[];
};
const entry = (id: string) => {
  const g = manifest.guests.find((x) => x.id === id);
  if (!g) throw new Error(`no ${id} in guests/manifest.json`);
  return g;
};

type Technique = 'native' | 'hardware-assisted';

function boot(id: string, technique: Technique, paging?: 'ept' | 'shadow', noReboot = true) {
  const g = entry(id);
  const session = new Session({
    guest: {
      kind: 'kernel',
      kernel: new Uint8Array(readFileSync(join(guests, g.files.kernel))),
      initrd: g.files.initrd ? new Uint8Array(readFileSync(join(guests, g.files.initrd))) : undefined,
      cmdline: g.cmdline,
    },
    technique,
    vms: 1,
    memMiB: 64,
    noReboot,
    ...(paging ? { paging } : {}),
  });
  const dec = new TextDecoder();
  let text = '';
  const until = (needle: string, budget: number) => {
    const from = text.length;
    const limit = session.instructions + budget;
    while (!text.includes(needle, from)) {
      if (session.instructions >= limit)
        throw new Error(`no "${needle}" within ${budget} instructions:\n${text}`);
      const s = session.run(2_000_000);
      text += dec.decode(session.takeSerial(0), { stream: true });
      if (s.state !== 'running' && s.state !== 'idle')
        throw new Error(`guest ${s.state}: ${s.reason}\n${text}`);
    }
  };
  const command = (line: string, prompt: string, budget = 300_000_000): string => {
    const from = text.length;
    session.sendSerial(0, new TextEncoder().encode(`${line}\n`));
    until(prompt, budget);
    const chunk = text.slice(from);
    return chunk.slice(chunk.indexOf('\n') + 1, chunk.lastIndexOf(prompt)).replace(/\r/g, '');
  };
  return { session, out: () => text, until, command };
}

const SESSION = [
  'dmesg -n 1',
  'echo hello from the guest',
  'uname -a',
  // Not compared: flags and "vmx flags" (the VMM offers no VMX to its guests: no nested
  // virtualization), and the TSC-calibrated "cpu MHz"/bogomips (see README: timer-interrupt timing).
  "grep -v -e '^flags' -e '^vmx flags' -e '^bogomips' -e '^cpu MHz' /proc/cpuinfo",
  "awk 'BEGIN{print 1/3}'",
  'ls /',
  'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; echo loop $i',
];

function transcript(technique: Technique, paging?: 'ept' | 'shadow') {
  // Under VT-x the guest may reboot (the VMM resets and re-launches the VM); natively not needed.
  const b = boot('linux', technique, paging, technique === 'native');
  b.until('guest# ', 200_000_000);
  const outputs = SESSION.map((c) => b.command(c, 'guest# '));
  return { b, outputs };
}

describe('Linux under hardware-assisted virtualization', () => {
  const native = transcript('native').outputs;

  it.each(['ept', 'shadow'] as const)(
    'boots to guest# with %s paging and answers the shell as natively',
    (paging) => {
      const { b, outputs } = transcript('hardware-assisted', paging);
      expect(b.out()).toContain('Linux version 6.1');
      expect(outputs).toEqual(native);
      expect(outputs[2]).toMatch(/^Linux \S+ 6\.1\.\d+ #1 .* i[345]86 GNU\/Linux\n$/);
      const log = b.session.traps;
      expect(log.countByKind(TrapKind.VmExit)).toBeGreaterThan(1000);
      const reasons = new Set<number>();
      for (let i = 0; i < log.count; i++)
        if (log.get(i).kind === TrapKind.VmExit) reasons.add(log.get(i).reason);
      // EPT: the kernel's page-table work never exits; shadow: CR3 and #PF exits carry it.
      if (paging === 'ept') expect(reasons.has(0)).toBe(false);
      else expect(reasons.has(0) && reasons.has(28)).toBe(true);
      if (paging !== 'ept') return;
      // `reboot -f`: a keyboard-controller reset (an I/O exit); the VMM resets the VM's devices,
      // writes a fresh VMCS guest area and VMLAUNCHes it: the kernel boots again to its shell.
      const boots = () => b.out().split('Linux version 6.1').length - 1;
      b.command('reboot -f', 'guest# ', 400_000_000);
      expect(boots()).toBe(2);
      expect(b.command('echo again', 'guest# ')).toBe('again\n');
      // `poweroff -f` ends in `cli; hlt` (no ACPI): a power-off, as on the native machine (status 0),
      // not a hang — the guest owns RFLAGS.IF in non-root operation, nothing was lost.
      b.session.sendSerial(0, new TextEncoder().encode('poweroff -f\n'));
      for (let i = 0; i < 100 && b.session.status.state === 'running'; i++) b.session.run(2_000_000);
      const st = b.session.status;
      expect(st.state).toBe('exited');
      expect(st.exitCode).toBe(0);
      expect(st.reason).toMatch(/^powered off: HLT with interrupts disabled/);
    },
    600_000,
  );
});

describe('minikernel under hardware-assisted virtualization', () => {
  it('boots its shell, lists processes and runs bench (EPT)', () => {
    const b = boot('minikernel', 'hardware-assisted', 'ept');
    b.until('mini$ ', 100_000_000);
    const ps = b.command('ps', 'mini$ ');
    expect(ps).toMatch(/PID NAME/);
    for (const name of ['shell', 'primes', 'pager', 'counter']) expect(ps).toContain(name);
    const bench = b.command('bench', 'mini$ ');
    for (const t of ['syscall', 'in ', 'cr-write', 'call/ret', 'pgfault', 'divzero', 'ptemod'])
      expect(bench).toContain(t);
    b.session.sendSerial(0, new TextEncoder().encode('exit\n'));
    for (let i = 0; i < 50 && b.session.status.state === 'running'; i++) b.session.run(2_000_000);
    expect(b.session.status.state).toBe('exited');
  }, 300_000);
});
