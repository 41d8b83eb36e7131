/**
 * Issue 5, "Prove it": the real Linux guest (Debian's 6.1 kernel + musl BusyBox) boots on TrapLab's
 * own CPU and machine through the session layer, exactly as `npx traplab run --guest linux` does,
 * and a scripted shell session checks what the kernel reports. Also: two boots are byte-identical.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/session/index.ts';

const guests = join(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(guests, 'manifest.json'), 'utf8')) as {
  guests: { id: string; files: Record<string, string>; cmdline?: string }[];
};
const linux = manifest.guests.find((g) => g.id === 'linux');
if (!linux) throw new Error('guests/manifest.json has no linux entry');

function boot(): { session: Session; out: () => string; until: (text: string, budget: number) => void } {
  const session = new Session({
    guest: {
      kind: 'kernel',
      kernel: new Uint8Array(readFileSync(join(guests, linux!.files.kernel))),
      initrd: new Uint8Array(readFileSync(join(guests, linux!.files.initrd))),
      cmdline: linux!.cmdline,
    },
    technique: 'native',
    vms: 1,
    memMiB: 64,
    noReboot: true,
  });
  const dec = new TextDecoder();
  let text = '';
  const drain = () => {
    text += dec.decode(session.takeSerial(0), { stream: true });
  };
  // Run until `needle` appears after the current end of the transcript (or fail with the transcript).
  const until = (needle: string, budget: number) => {
    const from = text.length;
    const limit = session.instructions + budget;
    while (!text.includes(needle, from)) {
      if (session.instructions >= limit)
        throw new Error(`no "${needle}" within ${budget} instructions:\n${text}`);
      const s = session.run(2_000_000);
      drain();
      if (s.state !== 'running' && s.state !== 'idle')
        throw new Error(`guest ${s.state}: ${s.reason}\n${text}`);
    }
  };
  return { session, out: () => text, until };
}

function command(b: ReturnType<typeof boot>, line: string, budget = 200_000_000): string {
  const from = b.out().length;
  b.session.sendSerial(0, new TextEncoder().encode(`${line}\n`));
  b.until('guest# ', budget);
  // What the command printed: after the echoed command line, before the next prompt.
  const chunk = b.out().slice(from);
  const afterEcho = chunk.indexOf('\n');
  return chunk.slice(afterEcho + 1, chunk.lastIndexOf('guest# ')).replace(/\r/g, '');
}

describe('Linux guest on TrapLab (native)', () => {
  it('boots to the BusyBox prompt and answers a scripted shell session', () => {
    const b = boot();
    b.until('guest# ', 150_000_000);
    expect(b.out()).toContain('Linux version 6.1');
    expect(b.out()).toContain('ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A');
    // Keep late kernel messages (clocksource switches) off the console so command output is exact.
    command(b, 'dmesg -n 1');

    expect(command(b, 'echo hello from the guest')).toBe('hello from the guest\n');
    expect(command(b, 'uname -a')).toMatch(/^Linux \S+ 6\.1\.\d+ #1 .* i[345]86 GNU\/Linux\n$/);

    const cpuinfo = command(b, 'cat /proc/cpuinfo');
    expect(cpuinfo).toMatch(/^vendor_id\s*: GenuineIntel$/m);
    expect(cpuinfo).toMatch(/^cpu family\s*: [456]$/m);
    // No x87 on our CPU: the kernel must have noticed and uses its math emulator.
    expect(cpuinfo).toMatch(/^fpu\s*: no$/m);

    // The timer (IRQ 0) and the UART (IRQ 4) are both counting interrupts through the 8259.
    const irqCounts = (text: string) => {
      const timer = /^\s*0:\s+(\d+)\s+XT-PIC\s+timer/m.exec(text);
      const uart = /^\s*4:\s+(\d+)\s+XT-PIC\s+ttyS0/m.exec(text);
      expect(timer, text).not.toBeNull();
      expect(uart, text).not.toBeNull();
      return [Number(timer![1]), Number(uart![1])];
    };
    const [t1, u1] = irqCounts(command(b, 'cat /proc/interrupts'));
    expect(t1).toBeGreaterThan(10);
    expect(u1).toBeGreaterThan(0);

    // x87 arithmetic through #NM and the kernel's math emulator.
    expect(command(b, "awk 'BEGIN{print 1/3}'")).toBe('0.333333\n');

    // sleep waits on timer interrupts in virtual time: at least 0.2 virtual seconds pass.
    const before = b.session.virtualTimeNs;
    expect(command(b, 'sleep 0.2; echo slept')).toBe('slept\n');
    expect(b.session.virtualTimeNs - before).toBeGreaterThanOrEqual(200_000_000);

    const [t2, u2] = irqCounts(command(b, 'cat /proc/interrupts'));
    expect(t2).toBeGreaterThan(t1 + 15); // 100 Hz across the 0.2 s sleep
    expect(u2).toBeGreaterThan(u1);

    expect(command(b, 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; echo loop $i')).toBe('loop 3000\n');
  });

  it('boots deterministically: byte-identical transcripts and instruction counts', () => {
    const runs = [boot(), boot()].map((b) => {
      b.until('guest# ', 150_000_000);
      command(b, 'cat /proc/interrupts; echo $RANDOM');
      return { text: b.out(), instructions: b.session.instructions, timeNs: b.session.virtualTimeNs };
    });
    expect(runs[1].text).toBe(runs[0].text);
    expect(runs[1].instructions).toBe(runs[0].instructions);
    expect(runs[1].timeNs).toBe(runs[0].timeNs);
  });
});
