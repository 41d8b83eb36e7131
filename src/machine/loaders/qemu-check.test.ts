/**
 * Cross-check: boot what our loaders produce on QEMU (the reference emulator), with no firmware of
 * its own — a 64 KiB trampoline ROM (qemu-trampoline.asm) applies the BootImage's entry state and
 * `-device loader` places the chunks. If the guest boots there, the loader's layout is right
 * independently of our CPU and machine. Skipped when qemu-system-i386 or nasm is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKernel } from './detect.ts';
import type { BootImage } from './types.ts';
import { put32 } from './util.ts';

const ROOT = join(import.meta.dirname, '../../..');
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAVE_TOOLS = have('qemu-system-i386') && have('nasm');
const work = mkdtempSync(join(tmpdir(), 'traplab-qemu-check-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function trampoline(boot: BootImage): string {
  const asm = join(import.meta.dirname, 'qemu-trampoline.asm');
  const out = join(work, `tramp-${Math.random().toString(36).slice(2)}.bin`);
  const r = spawnSync('nasm', ['-f', 'bin', '-o', out, asm], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nasm failed: ${r.stderr}`);
  const rom = new Uint8Array(readFileSync(out));
  if (boot.entry.mode !== 'protected-flat') throw new Error('only protected-flat entries are cross-checked');
  const regs = boot.entry.regs;
  const vals = [
    boot.entry.eip,
    regs.eax,
    regs.ebx,
    regs.ecx,
    regs.edx,
    regs.esi,
    regs.edi,
    regs.ebp,
    regs.esp,
  ];
  vals.forEach((v, i) => {
    put32(rom, 0xff00 + i * 4, v ?? 0);
  });
  writeFileSync(out, rom);
  return out;
}

/** Run QEMU until `until` appears on COM1 (then kill it) or it exits; returns output and status. */
function bootInQemu(
  boot: BootImage,
  memMiB: number,
  until: string | null,
  timeoutMs: number,
): Promise<{ serial: string; status: number | null; sawUntil: boolean }> {
  const args = ['-M', 'isapc', '-cpu', '486', '-m', String(memMiB), '-display', 'none', '-serial', 'stdio'];
  args.push('-monitor', 'none', '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4');
  args.push('-bios', trampoline(boot));
  boot.chunks.forEach((c, i) => {
    if (c.rom) throw new Error('ROM chunks are not cross-checked');
    const f = join(work, `chunk-${Math.random().toString(36).slice(2)}-${i}.bin`);
    writeFileSync(f, c.bytes);
    args.push('-device', `loader,file=${f},addr=${c.addr},force-raw=on`);
  });
  return new Promise((resolve) => {
    const q = spawn('qemu-system-i386', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let serial = '';
    let sawUntil = false;
    const timer = setTimeout(() => q.kill('SIGKILL'), timeoutMs);
    q.stdout.on('data', (d: Buffer) => {
      serial += d.toString('latin1');
      if (until !== null && !sawUntil && serial.includes(until)) {
        sawUntil = true;
        q.kill('SIGKILL');
      }
    });
    q.stderr.on('data', (d: Buffer) => {
      serial += d.toString('latin1');
    });
    q.on('close', (status) => {
      clearTimeout(timer);
      resolve({ serial, status, sawUntil });
    });
  });
}

describe.skipIf(!HAVE_TOOLS)('loaders cross-checked on QEMU', () => {
  it('hello.elf, loaded by loadMultiboot, prints its greeting and exits with status 1', async () => {
    const hello = new Uint8Array(readFileSync(join(ROOT, 'guests/hello/hello.elf')));
    const boot = loadKernel(hello, { ramBytes: 64 << 20, cmdline: 'hello' });
    const r = await bootInQemu(boot, 64, null, 20_000);
    expect(r.serial).toContain('Hello from TrapLab! This guest runs in 32-bit protected mode.');
    expect(r.status).toBe(1); // debug-exit with 0: (0 << 1) | 1
  });

  const bz = join(ROOT, 'guests/linux/bzImage');
  it.skipIf(!existsSync(bz))(
    'the Linux bzImage + initramfs, loaded by loadLinux, reaches the shell prompt',
    async () => {
      const dir = join(ROOT, 'guests/linux');
      const initrdName = ['initramfs.cpio', 'initrd.cpio', 'initramfs-486.cpio'].find((f) =>
        existsSync(join(dir, f)),
      );
      const initrd = initrdName ? new Uint8Array(readFileSync(join(dir, initrdName))) : undefined;
      const boot = loadKernel(new Uint8Array(readFileSync(bz)), {
        ramBytes: 32 << 20,
        initrd,
        cmdline: 'console=ttyS0 lpj=100000',
      });
      // QEMU's stdio serial occasionally drops a character of the boot log, so allow a retry.
      const checks = [
        /Kernel command line: console=ttyS0 lpj=100000/,
        /BIOS-e820: \[mem 0x0000000000000000-0x000000000009fbff\] usable/,
        /BIOS-e820: \[mem 0x0000000000100000-0x0000000001ffffff\] usable/,
        ...(initrd ? [/RAMDISK: \[mem 0x01[0-9a-f]{6}-0x01ffffff\]/, /guest# /] : []),
      ];
      let serial = '';
      for (let attempt = 0; attempt < 3; attempt++) {
        const r = await bootInQemu(boot, 32, initrd ? 'guest# ' : 'Kernel command line:', 60_000);
        serial = r.serial;
        if (r.sawUntil && checks.every((re) => re.test(serial))) break;
      }
      for (const re of checks) expect(serial).toMatch(re);
    },
  );
});
