import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectKernel, loadKernel } from './detect.ts';
import { BP, CMDLINE_ADDR, HDR, KERNEL_LOAD_ADDR, loadLinux, ZERO_PAGE_ADDR } from './linux.ts';
import { makeBzImage } from './test-images.ts';
import { type BootImage, LoadError } from './types.ts';
import { u16, u32 } from './util.ts';

const MiB = 1024 * 1024;
const RAM = 64 * MiB;
const ROOT = join(import.meta.dirname, '../../..');

function chunkAt(boot: BootImage, addr: number) {
  const c = boot.chunks.find((k) => k.addr === addr);
  if (!c) throw new Error(`no chunk at 0x${addr.toString(16)}`);
  return c;
}
function zeroPage(boot: BootImage): Uint8Array {
  return chunkAt(boot, ZERO_PAGE_ADDR).bytes;
}
function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  expect(end).toBeGreaterThanOrEqual(0);
  return String.fromCharCode(...bytes.subarray(0, end));
}
function e820(zp: Uint8Array): number[][] {
  const n = zp[BP.e820Entries]!;
  const out = [];
  for (let i = 0; i < n; i++) {
    const p = BP.e820Table + i * 20;
    out.push([u32(zp, p), u32(zp, p + 4), u32(zp, p + 8), u32(zp, p + 12), u32(zp, p + 16)]);
  }
  return out;
}
function expectLoadError(f: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LoadError);
  expect((err as Error).message).toMatch(pattern);
}
function assertNoOverlap(boot: BootImage): void {
  const sorted = [...boot.chunks].sort((a, b) => a.addr - b.addr);
  for (let i = 1; i < sorted.length; i++) {
    expect(sorted[i]!.addr).toBeGreaterThanOrEqual(sorted[i - 1]!.addr + sorted[i - 1]!.bytes.length);
  }
}

describe('Linux boot protocol: synthetic bzImage', () => {
  const kernel = makeBzImage();
  const initrd = new Uint8Array(300_000).map((_, i) => i & 0xff);
  const boot = loadLinux(kernel, { ramBytes: RAM, initrd, cmdline: 'console=ttyS0 lpj=100000' });
  const zp = zeroPage(boot);

  it('is detected as linux', () => {
    expect(detectKernel(kernel)).toBe('linux');
  });

  it('loads the protected-mode part at 0x100000', () => {
    const pm = chunkAt(boot, KERNEL_LOAD_ADDR).bytes;
    expect(pm.length).toBe(0x4000);
    expect([...pm.subarray(0, 64)]).toEqual([...kernel.subarray(5 * 512, 5 * 512 + 64)]);
    assertNoOverlap(boot);
  });

  it('enters at code32_start with ESI = zero page and EBP/EDI/EBX = 0', () => {
    expect(boot.entry.mode).toBe('protected-flat');
    if (boot.entry.mode !== 'protected-flat') return;
    expect(boot.entry.eip).toBe(0x100000);
    expect(boot.entry.regs.esi).toBe(ZERO_PAGE_ADDR);
    expect(boot.entry.regs.ebp).toBe(0);
    expect(boot.entry.regs.edi).toBe(0);
    expect(boot.entry.regs.ebx).toBe(0);
    expect(boot.summary).toMatch(/boot protocol 2\.15.*runs at 0x1000000/);
  });

  it('copies the setup header into the zero page and fills the loader fields', () => {
    expect(zp.length).toBe(4096);
    expect(u32(zp, HDR.header)).toBe(0x53726448);
    expect(u16(zp, HDR.version)).toBe(0x020f);
    expect(u32(zp, HDR.initSize)).toBe(0x340000);
    expect(u32(zp, HDR.prefAddress)).toBe(0x1000000);
    expect(zp[0x267]).toBe(0x5a); // last header byte copied…
    expect(zp[0x268]).toBe(0); // …and nothing past the header
    expect(zp[HDR.typeOfLoader]).toBe(0xff);
    expect(zp[HDR.loadflags]).toBe(0x81); // LOADED_HIGH | CAN_USE_HEAP
    expect(u16(zp, HDR.heapEndPtr)).toBe(0xde00);
    expect(u32(zp, HDR.cmdLinePtr)).toBe(CMDLINE_ADDR);
    expect(cString(chunkAt(boot, CMDLINE_ADDR).bytes)).toBe('console=ttyS0 lpj=100000');
    // Below the header only ext_mem_k, alt_mem_k and e820_entries are set; the rest is zero.
    const set = new Set([2, 3, 0x1e0, 0x1e1, 0x1e2, 0x1e3, BP.e820Entries]);
    const stray = [...zp.subarray(0, 0x1f1)]
      .map((b, i) => (b !== 0 && !set.has(i) ? i : -1))
      .filter((i) => i >= 0);
    expect(stray).toEqual([]);
  });

  it('places the initrd page-aligned at the top of RAM', () => {
    const addr = u32(zp, HDR.ramdiskImage);
    expect(u32(zp, HDR.ramdiskSize)).toBe(300_000);
    expect(addr % 4096).toBe(0);
    expect(addr).toBe(RAM - Math.ceil(300_000 / 4096) * 4096);
    expect(addr + 300_000).toBeLessThanOrEqual(RAM);
    expect(chunkAt(boot, addr).bytes).toEqual(initrd);
  });

  it('respects initrd_addr_max', () => {
    const k = makeBzImage({ initrdAddrMax: 0x1ffffff });
    const b = loadLinux(k, { ramBytes: RAM, initrd });
    const addr = u32(zeroPage(b), HDR.ramdiskImage);
    expect(addr + 300_000).toBeLessThanOrEqual(0x2000000);
    expect(addr).toBe(0x2000000 - Math.ceil(300_000 / 4096) * 4096);
  });

  it('writes the e820 map and the memory sizes', () => {
    expect(e820(zp)).toEqual([
      [0, 0, 0x9fc00, 0, 1],
      [0x9fc00, 0, 0x400, 0, 2],
      [0xf0000, 0, 0x10000, 0, 2],
      [0x100000, 0, RAM - 0x100000, 0, 1],
    ]);
    expect(u16(zp, BP.extMemK)).toBe(0xfc00); // capped at 63 MiB
    expect(u32(zp, BP.altMemK)).toBe(63 * 1024);
    const small = zeroPage(loadLinux(kernel, { ramBytes: 24 * MiB }));
    expect(u16(small, BP.extMemK)).toBe(23 * 1024);
  });

  it('works without initrd or command line', () => {
    const b = loadLinux(kernel, { ramBytes: RAM });
    const z = zeroPage(b);
    expect(u32(z, HDR.ramdiskImage)).toBe(0);
    expect(u32(z, HDR.ramdiskSize)).toBe(0);
    expect(cString(chunkAt(b, CMDLINE_ADDR).bytes)).toBe('');
    expect(b.chunks.length).toBe(3);
  });

  it('setup_sects = 0 means 4', () => {
    const b = loadLinux(makeBzImage({ setupSects: 0 }), { ramBytes: RAM });
    expect(chunkAt(b, KERNEL_LOAD_ADDR).bytes.length).toBe(0x4000);
  });

  it('a relocatable kernel still runs at or above pref_address', () => {
    const b = loadLinux(makeBzImage({ relocatable: 1, prefAddress: 0x400000, kernelAlignment: 0x400000 }), {
      ramBytes: RAM,
    });
    expect(b.summary).toMatch(/relocatable.*runs at 0x400000/);
  });

  it('loadKernel dispatches to the Linux loader', () => {
    const b = loadKernel(kernel, { ramBytes: RAM, cmdline: 'quiet' });
    expect(cString(chunkAt(b, CMDLINE_ADDR).bytes)).toBe('quiet');
  });
});

describe('Linux boot protocol: malformed input', () => {
  it('empty file', () => {
    expectLoadError(() => loadLinux(new Uint8Array(0), { ramBytes: RAM }), /empty \(0 bytes\)/);
  });

  it('no HdrS', () => {
    const k = makeBzImage();
    k[0x202] = 0;
    expect(detectKernel(k)).toBe('unknown');
    expectLoadError(() => loadLinux(k, { ramBytes: RAM }), /not a Linux bzImage: no 'HdrS'/);
  });

  it('file too short for the header', () => {
    expectLoadError(
      () => loadLinux(new Uint8Array(0x100), { ramBytes: RAM }),
      /truncated Linux kernel: 256 bytes/,
    );
    expectLoadError(
      () => loadLinux(makeBzImage({ truncateTo: 0x240 }), { ramBytes: RAM }),
      /truncated Linux kernel: 576 bytes, shorter than its setup header/,
    );
  });

  it('too old boot protocol', () => {
    expectLoadError(
      () => loadLinux(makeBzImage({ version: 0x0201 }), { ramBytes: RAM }),
      /boot protocol 2\.01 is too old/,
    );
  });

  it('initrd needs protocol 2.03', () => {
    expectLoadError(
      () => loadLinux(makeBzImage({ version: 0x0202 }), { ramBytes: RAM, initrd: new Uint8Array(10) }),
      /2\.02 cannot take an initrd/,
    );
  });

  it('missing boot flag', () => {
    expectLoadError(
      () => loadLinux(makeBzImage({ bootFlag: 0 }), { ramBytes: RAM }),
      /boot_flag at 0x1fe is 0x0, expected 0xaa55/,
    );
  });

  it('zImage (LOADED_HIGH clear)', () => {
    expectLoadError(
      () => loadLinux(makeBzImage({ loadflags: 0 }), { ramBytes: RAM }),
      /zImage.*only bzImage/,
    );
  });

  it('truncated protected-mode part', () => {
    const k = makeBzImage({ pmSize: 0x4000 });
    expectLoadError(
      () => loadLinux(k.slice(0, k.length - 100), { ramBytes: RAM }),
      /truncated Linux kernel: the header declares 4 setup sectors/,
    );
    expectLoadError(() => loadLinux(k.slice(0, 5 * 512), { ramBytes: RAM }), /truncated Linux kernel/);
  });

  it('code32_start outside the kernel', () => {
    expectLoadError(
      () => loadLinux(makeBzImage({ code32Start: 0x1000 }), { ramBytes: RAM }),
      /bad code32_start 0x1000/,
    );
  });

  it('kernel larger than RAM', () => {
    // The reference kernel runs at 16 MiB with init_size 3.25 MiB: 16 MiB of RAM is not enough.
    expectLoadError(
      () => loadLinux(makeBzImage(), { ramBytes: 16 * MiB }),
      /kernel larger than RAM: it runs at 0x1000000 .*give it at least 20 MiB/,
    );
    expect(() => loadLinux(makeBzImage(), { ramBytes: 20 * MiB })).not.toThrow();
  });

  it('initrd larger than RAM, or not fitting above the kernel', () => {
    expectLoadError(
      () => loadLinux(makeBzImage(), { ramBytes: 32 * MiB, initrd: new Uint8Array(40 * MiB) }),
      /initrd larger than RAM/,
    );
    expectLoadError(
      () => loadLinux(makeBzImage(), { ramBytes: 24 * MiB, initrd: new Uint8Array(6 * MiB) }),
      /kernel and initrd do not fit together.*at least 26 MiB/,
    );
    expect(() =>
      loadLinux(makeBzImage(), { ramBytes: 26 * MiB, initrd: new Uint8Array(6 * MiB) }),
    ).not.toThrow();
    expectLoadError(
      () => loadLinux(makeBzImage(), { ramBytes: RAM, initrd: new Uint8Array(0) }),
      /initrd file is empty/,
    );
  });

  it('command line too long', () => {
    expectLoadError(
      () => loadLinux(makeBzImage({ cmdlineSize: 100 }), { ramBytes: RAM, cmdline: 'x'.repeat(101) }),
      /command line too long: 101 characters, the kernel accepts at most 100/,
    );
    expect(() =>
      loadLinux(makeBzImage({ cmdlineSize: 100 }), { ramBytes: RAM, cmdline: 'x'.repeat(100) }),
    ).not.toThrow();
    expectLoadError(
      () => loadLinux(makeBzImage({ version: 0x0205 }), { ramBytes: RAM, cmdline: 'y'.repeat(256) }),
      /at most 255/,
    );
  });
});

const BZ = join(ROOT, 'guests/linux/bzImage');
describe.skipIf(!existsSync(BZ))('Linux boot protocol: the real guests/linux/bzImage', () => {
  it('loads with the reference layout', () => {
    const k = new Uint8Array(readFileSync(BZ));
    const initrdPath = ['initramfs.cpio', 'initrd.cpio', 'initramfs-486.cpio']
      .map((f) => join(ROOT, 'guests/linux', f))
      .find(existsSync);
    const initrd = initrdPath ? new Uint8Array(readFileSync(initrdPath)) : undefined;
    expect(detectKernel(k)).toBe('linux');
    const b = loadLinux(k, { ramBytes: 32 * MiB, initrd, cmdline: 'console=ttyS0' });
    const zp = zeroPage(b);
    expect(u16(zp, HDR.version)).toBeGreaterThanOrEqual(0x020f);
    expect(u32(zp, HDR.prefAddress)).toBe(0x1000000);
    expect(b.entry.mode === 'protected-flat' && b.entry.eip).toBe(0x100000);
    const setup = (k[0x1f1] || 4) + 1;
    expect(chunkAt(b, KERNEL_LOAD_ADDR).bytes.length).toBe(k.length - setup * 512);
    if (initrd) {
      // QEMU with -m 32 puts this initrd at the very top of RAM (see linux-guest.md: RAMDISK ends at 0x01ffffff).
      const addr = u32(zp, HDR.ramdiskImage);
      expect(addr + u32(zp, HDR.ramdiskSize)).toBeLessThanOrEqual(32 * MiB);
      expect(32 * MiB - addr).toBeLessThan(initrd.length + 4096);
    }
    assertNoOverlap(b);
  });
});
