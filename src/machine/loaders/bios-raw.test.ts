import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBios } from './bios.ts';
import { detectKernel } from './detect.ts';
import { loadRaw } from './raw.ts';
import { makeBzImage, makeElf } from './test-images.ts';
import { LoadError } from './types.ts';

const KiB = 1024;
const RAM = 64 * 1024 * KiB;
const ROOT = join(import.meta.dirname, '../../..');

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

function rom(size: number): Uint8Array {
  const r = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
  // Reset vector: jmp far f000:e05b, as a PC BIOS has at its last 16 bytes.
  r.set([0xea, 0x5b, 0xe0, 0x00, 0xf0], size - 16);
  return r;
}

describe('BIOS ROM images', () => {
  it('maps a 128 KiB image at the top of 4 GiB and aliases it whole below 1 MiB', () => {
    const img = rom(128 * KiB);
    const b = loadBios(img);
    expect(b.entry).toEqual({ mode: 'reset' });
    expect(b.chunks.map((c) => [c.addr, c.bytes.length, c.rom])).toEqual([
      [0xfffe0000, 128 * KiB, true],
      [0xe0000, 128 * KiB, true],
    ]);
    expect(b.chunks[0]!.bytes).toEqual(img);
    expect(b.chunks[1]!.bytes).toEqual(img);
    // The reset vector 0xFFFFFFF0 and its alias 0xFFFF0 hold the same far jump.
    expect([...b.chunks[0]!.bytes.subarray(0xfffffff0 - 0xfffe0000, 0xfffffff5 - 0xfffe0000)]).toEqual([
      0xea, 0x5b, 0xe0, 0, 0xf0,
    ]);
    expect([...b.chunks[1]!.bytes.subarray(0xffff0 - 0xe0000, 0xffff5 - 0xe0000)]).toEqual([
      0xea, 0x5b, 0xe0, 0, 0xf0,
    ]);
  });

  it('aliases only the last 128 KiB of a 256 KiB image', () => {
    const img = rom(256 * KiB);
    const b = loadBios(img);
    expect(b.chunks[0]!.addr).toBe(0xfffc0000);
    expect(b.chunks[1]!.addr).toBe(0xe0000);
    expect(b.chunks[1]!.bytes).toEqual(img.subarray(128 * KiB));
    expect(b.summary).toMatch(/256 KiB at 0xfffc0000.*last 128 KiB aliased at 0xe0000/);
  });

  it('accepts a one-page ROM (aliased at 0xFF000) and a 64 KiB one (at 0xF0000)', () => {
    expect(loadBios(rom(4 * KiB)).chunks.map((c) => c.addr)).toEqual([0xfffff000, 0xff000]);
    expect(loadBios(rom(64 * KiB)).chunks.map((c) => c.addr)).toEqual([0xffff0000, 0xf0000]);
    expect(loadBios(rom(1024 * KiB)).chunks.map((c) => c.addr)).toEqual([0xfff00000, 0xe0000]);
  });

  it('rejects empty, oversized, unaligned and kernel images', () => {
    expectLoadError(() => loadBios(new Uint8Array(0)), /BIOS image: the file is empty/);
    expectLoadError(() => loadBios(rom(2048 * KiB)), /BIOS image too large: 2 MiB/);
    expectLoadError(() => loadBios(rom(64 * KiB + 1)), /65537 bytes is not a multiple of 4 KiB/);
    const hello = new Uint8Array(readFileSync(join(ROOT, 'guests/hello/hello.elf')));
    expectLoadError(() => loadBios(hello), /an ELF file, not a BIOS ROM image.*--kernel/);
    expectLoadError(() => loadBios(makeBzImage()), /a Linux bzImage, not a BIOS ROM image/);
  });
});

// Real PC BIOS images from Debian packages (seabios, bochsbios), when installed.
const HOST_BIOSES = [
  '/usr/share/seabios/bios.bin',
  '/usr/share/seabios/bios-256k.bin',
  '/usr/share/bochs/BIOS-bochs-legacy',
];
describe.each(HOST_BIOSES.filter(existsSync))('BIOS image %s', (path) => {
  it('maps with the reset vector (a far jump) at 0xFFFFFFF0 and at its alias 0xFFFF0', () => {
    const img = new Uint8Array(readFileSync(path));
    const b = loadBios(img);
    const [top, low] = b.chunks;
    expect(top!.addr + top!.bytes.length).toBe(2 ** 32);
    expect(low!.addr + low!.bytes.length).toBe(0x100000);
    expect(top!.bytes[top!.bytes.length - 16]).toBe(0xea); // jmp far ptr16:16
    expect(low!.bytes[low!.bytes.length - 16]).toBe(0xea);
    expect(low!.bytes).toEqual(img.subarray(img.length - low!.bytes.length));
  });
});

describe('raw images', () => {
  const img = new Uint8Array([0xb0, 0x00, 0xe6, 0xf4, 0xf4]);

  it('loads at the address and enters flat protected mode at the entry', () => {
    const b = loadRaw(img, { ramBytes: RAM, addr: 0x100000, entry: 0x100000 });
    expect(b.chunks).toEqual([{ addr: 0x100000, bytes: img }]);
    expect(b.chunks[0]!.bytes).not.toBe(img);
    expect(b.entry.mode).toBe('protected-flat');
    expect(b.entry.mode === 'protected-flat' && b.entry.eip).toBe(0x100000);
    expect(b.summary).toMatch(/raw image: 5 bytes at 0x100000, entry 0x100000/);
    expect(loadRaw(img, { ramBytes: RAM, addr: 0x7c00, entry: 0x7c04 }).entry).toMatchObject({ eip: 0x7c04 });
  });

  it('rejects bad input', () => {
    expectLoadError(
      () => loadRaw(new Uint8Array(0), { ramBytes: RAM, addr: 0x100000, entry: 0x100000 }),
      /raw image: the file is empty/,
    );
    expectLoadError(
      () => loadRaw(img, { ramBytes: RAM, addr: 0x100000, entry: 0x100005 }),
      /entry point 0x100005 lies outside the raw image loaded at 0x100000–0x100004/,
    );
    expectLoadError(
      () => loadRaw(img, { ramBytes: RAM, addr: 0xb8000, entry: 0xb8000 }),
      /overlaps the legacy hole/,
    );
    expectLoadError(
      () => loadRaw(img, { ramBytes: RAM, addr: RAM - 2, entry: RAM - 2 }),
      /does not fit in RAM/,
    );
    expectLoadError(
      () => loadRaw(new Uint8Array(RAM), { ramBytes: RAM, addr: 0x100000, entry: 0x100000 }),
      /does not fit in RAM/,
    );
    expectLoadError(
      () => loadRaw(img, { ramBytes: RAM, addr: -1, entry: 0 }),
      /load address -1 is not a 32-bit physical address/,
    );
    expectLoadError(
      () => loadRaw(img, { ramBytes: RAM, addr: 0x100000, entry: 2 ** 32 }),
      /entry point 4294967296 is not/,
    );
    expectLoadError(
      () => loadRaw(img, { ramBytes: RAM, addr: 1048576.5, entry: 0 }),
      /not a 32-bit physical address/,
    );
  });
});

describe('detectKernel', () => {
  it('tells multiboot, linux and unknown apart', () => {
    const mb = makeElf({
      entry: 0x100000,
      mbFlags: 0,
      segments: [{ paddr: 0x100000, data: new Uint8Array([0xf4]) }],
    });
    expect(detectKernel(mb)).toBe('multiboot');
    expect(detectKernel(makeBzImage())).toBe('linux');
    expect(
      detectKernel(
        makeElf({
          entry: 0x100000,
          mbFlags: null,
          segments: [{ paddr: 0x100000, data: new Uint8Array([0xf4]) }],
        }),
      ),
    ).toBe('unknown');
    expect(detectKernel(new Uint8Array(0))).toBe('unknown');
    expect(detectKernel(new Uint8Array(3))).toBe('unknown');
    expect(detectKernel(rom(64 * KiB))).toBe('unknown');
  });
});
