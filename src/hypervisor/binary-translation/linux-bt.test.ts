/**
 * Unmodified Linux 6.1 (guests/linux) under binary translation: it boots to the BusyBox prompt and
 * the shell session of the native test (guests/linux/linux-guest.test.ts) answers the same. Over
 * the whole boot no translation-cache address reaches guest-visible state: every value the VMM
 * stores into guest memory (interrupt/exception frames, emulated pushes, SGDT…) and, sampled every
 * 1,000,000 instructions, the guest's EIP (as the guest sees it), general registers, CR2 and the top
 * of its stack. Slow (one boot shared by every assertion; minutes on a loaded machine).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLinux } from '../../machine/loaders/index.ts';
import { Pc } from '../../machine/pc.ts';
import { ROOT } from '../trap-and-emulate/test-guests.ts';
import { TrapKind } from '../vmm/trap-log.ts';
import { createBinaryTranslationRunner } from './runner.ts';

const guests = join(ROOT, 'guests');
const manifest = JSON.parse(readFileSync(join(guests, 'manifest.json'), 'utf8')) as {
  guests: { id: string; files: Record<string, string>; cmdline?: string }[];
};
const linux = manifest.guests.find((g) => g.id === 'linux');
if (!linux) throw new Error('guests/manifest.json has no linux entry');
const image = () =>
  loadLinux(new Uint8Array(readFileSync(join(guests, linux.files.kernel))), {
    ramBytes: 64 << 20,
    initrd: new Uint8Array(readFileSync(join(guests, linux.files.initrd))),
    cmdline: linux.cmdline,
  });

/** The commands of the native test, and how their output may legitimately differ. */
const COMMANDS = [
  'dmesg -n 1',
  'echo hello from the guest',
  'uname -a',
  "awk 'BEGIN{print 1/3}'",
  'sleep 0.2; echo slept',
  'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; echo loop $i',
  'cat /proc/cpuinfo',
  'cat /proc/interrupts',
];

interface Driver {
  run(n: number): { state: string; reason?: string };
  send(s: string): void;
  take(): string;
  instructions(): number;
}

/** Boot to the prompt, then each command; returns each command's output. */
function session(d: Driver, check: () => void): string[] {
  let text = '';
  const until = (needle: string, budget: number) => {
    const from = text.length;
    const limit = d.instructions() + budget;
    while (!text.includes(needle, from)) {
      if (d.instructions() >= limit)
        throw new Error(`no "${needle}" within ${budget} instructions:\n${text}`);
      const s = d.run(1_000_000);
      text += d.take();
      check();
      if (s.state !== 'budget' && s.state !== 'running' && s.state !== 'idle')
        throw new Error(`guest ${s.state}: ${s.reason}\n${text}`);
    }
  };
  until('guest# ', 150_000_000);
  return COMMANDS.map((line) => {
    const from = text.length;
    d.send(`${line}\n`);
    until('guest# ', 300_000_000);
    const chunk = text.slice(from);
    return chunk.slice(chunk.indexOf('\n') + 1, chunk.lastIndexOf('guest# ')).replace(/\r/g, '');
  });
}

describe('Linux under binary translation', () => {
  it('boots unmodified to guest# and answers the shell session as natively, no TC address in sight', () => {
    // Native reference.
    const pc = new Pc({ memMiB: 64, noReboot: true });
    pc.load(image());
    const dec = new TextDecoder();
    const native = session(
      {
        run: (n) => {
          const r = pc.runSlice(n);
          return { state: r.state === 'running' ? 'budget' : r.state };
        },
        send: (s) => pc.sendSerial(0, s),
        take: () => dec.decode(pc.serialOut[0].take(), { stream: true }),
        instructions: () => pc.cpu.instructions,
      },
      () => {},
    );

    const r = createBinaryTranslationRunner({ vms: 1, memMiB: 64, noReboot: true }, image());
    const bt = r.technique;
    const vm = r.vmm.vms[0];
    const inTc = (v: number) => bt.inTc(vm, v >>> 0);
    // Every value the VMM stores into guest memory on the guest's behalf.
    const leaks: string[] = [];
    const write = vm.mem.write.bind(vm.mem);
    vm.mem.write = (lin: number, size: number, v: number, user?: boolean) => {
      if (size === 4 && inTc(v))
        leaks.push(`VMM stored 0x${(v >>> 0).toString(16)} at 0x${lin.toString(16)}`);
      write(lin, size, v, user);
    };
    let samples = 0;
    const check = () => {
      const snap = r.snapshot().virtual;
      if (!snap) throw new Error('no virtual snapshot');
      samples++;
      if (inTc(snap.eip)) leaks.push(`guest EIP 0x${snap.eip.toString(16)}`);
      for (const k of ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const)
        if (inTc(snap[k])) leaks.push(`guest ${k} = 0x${snap[k].toString(16)}`);
      if (inTc(vm.v.cr2)) leaks.push('guest CR2');
      const real = vm.saved ?? r.vmm.cpu.getState();
      const esp = real.regs[4] >>> 0;
      for (let k = 0; k < 32; k++) {
        try {
          const v = vm.mem.read((esp + 4 * k) >>> 0, 4);
          if (inTc(v)) leaks.push(`guest stack [esp+${4 * k}] = 0x${v.toString(16)}`);
        } catch {
          break; // past the top of the stack page
        }
      }
    };
    const btOut = session(
      {
        run: (n) => r.run(n, false),
        send: (s) => r.sendSerial(0, new TextEncoder().encode(s)),
        take: () => dec.decode(r.takeSerial(0), { stream: true }),
        instructions: () => r.instructions,
      },
      check,
    );

    expect(leaks).toEqual([]);
    expect(samples).toBeGreaterThan(30);
    // Same answers as the bare machine, command by command.
    const [, echo, uname, awk, sleep, loop, cpuinfo, interrupts] = btOut;
    expect(echo).toBe(native[1]);
    expect(uname).toBe(native[2]);
    expect(awk).toBe('0.333333\n'); // x87 through #NM and the kernel's math emulator
    expect(awk).toBe(native[3]);
    expect(sleep).toBe(native[4]);
    expect(loop).toBe(native[5]);
    // /proc/cpuinfo: the same CPU (CPUID runs on the physical CPU, as natively) — except two
    // lines measured against the timer: "cpu MHz" (the kernel calibrates the TSC against the PIT)
    // and "bogomips". Virtual time is the instruction count, and translated code (exit stubs,
    // rewritten sequences) retires a different number of instructions than the guest's own.
    // Also VMX: CPUID reports it on the physical CPU, but this VMM offers no nested VMX — the
    // guest's RDMSR of IA32_FEATURE_CONTROL (0x3A) is a callout that faults, so Linux clears the
    // "vmx" flag and prints no "vmx flags" line; natively both are there.
    const untimed = (s: string) =>
      s
        .replace(/^(cpu MHz|bogomips)\s*:.*$/gm, '$1')
        .replace(/^vmx flags\s*:.*\n/gm, '')
        .replace(/^(flags\s*:.*?)( vmx.*)?$/gm, '$1');
    expect(untimed(cpuinfo)).toBe(untimed(native[6]));
    expect(native[6]).toMatch(/^flags\s*:.* vmx/m);
    expect(cpuinfo).not.toMatch(/^flags\s*:.* vmx/m);
    expect(cpuinfo).toMatch(/^cpu MHz\s*: (99\.9\d|100\.0\d)\d*$/m); // the TSC runs at 100 MHz of virtual time
    // /proc/interrupts: the same lines; the counts differ (virtual time runs with the instruction
    // count, and translated code executes a different number of instructions).
    const shape = (s: string) => s.replace(/\d+/g, 'N');
    expect(shape(interrupts)).toBe(shape(native[7]));

    const log = r.traps;
    expect(log.countByKind(TrapKind.Translation)).toBeGreaterThan(1000);
    expect(log.countByKind(TrapKind.Callout)).toBeGreaterThan(1000);
    expect(log.countByKind(TrapKind.TcInvalidate)).toBeGreaterThan(0); // text_poke, alternatives
    expect(log.countByKind(TrapKind.SilentEvent)).toBe(0);
  }, 600_000);
});
