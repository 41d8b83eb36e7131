import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectKernel, loadKernel } from './detect.ts';
import { loadMultiboot, scanMultibootHeader } from './multiboot.ts';
import { makeAoutKludge, makeElf } from './test-images.ts';
import { type BootImage, LoadError } from './types.ts';
import { put32, u32 } from './util.ts';

const ROOT = join(import.meta.dirname, '../../..');
const hello = new Uint8Array(readFileSync(join(ROOT, 'guests/hello/hello.elf')));
const RAM = 64 * 1024 * 1024;

function chunkAt(boot: BootImage, addr: number) {
  const c = boot.chunks.find((k) => k.addr === addr);
  if (!c) throw new Error(`no chunk at 0x${addr.toString(16)}`);
  return c;
}

/** Read a u32 from the loaded image as physical memory would hold it. */
function peek32(boot: BootImage, addr: number): number {
  for (const c of boot.chunks) {
    if (addr >= c.addr && addr + 4 <= c.addr + c.bytes.length) return u32(c.bytes, addr - c.addr);
  }
  throw new Error(`0x${addr.toString(16)} not loaded`);
}
function peekString(boot: BootImage, addr: number): string {
  for (const c of boot.chunks) {
    if (addr >= c.addr && addr < c.addr + c.bytes.length) {
      const start = addr - c.addr;
      const end = c.bytes.indexOf(0, start);
      expect(end).toBeGreaterThanOrEqual(start);
      return String.fromCharCode(...c.bytes.subarray(start, end));
    }
  }
  throw new Error(`0x${addr.toString(16)} not loaded`);
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

describe('multiboot: guests/hello/hello.elf', () => {
  const boot = loadMultiboot(hello, { ramBytes: RAM, cmdline: 'hello console=ttyS0' });

  it('is detected as multiboot', () => {
    expect(detectKernel(hello)).toBe('multiboot');
    const scan = scanMultibootHeader(hello);
    expect(scan.found && scan.header.offset).toBe(0x1000);
    expect(scan.found && scan.header.flags).toBe(3);
  });

  it('loads the PT_LOAD segment at its physical address with .bss zero-filled', () => {
    const seg = chunkAt(boot, 0x100000);
    expect(seg.bytes.length).toBe(0x10d0);
    expect([...seg.bytes.subarray(0, 0xc3)]).toEqual([...hello.subarray(0x1000, 0x10c3)]);
    expect(seg.bytes.subarray(0xc3).every((b) => b === 0)).toBe(true);
    expect(u32(seg.bytes, 0)).toBe(0x1badb002);
    expect(seg.rom).toBeUndefined();
  });

  it('enters at e_entry in flat protected mode with EAX = 0x2BADB002 and EBX = the info block', () => {
    expect(boot.entry).toEqual({
      mode: 'protected-flat',
      eip: 0x100010,
      regs: { eax: 0x2badb002, ebx: 0x9000 },
    });
    expect(boot.summary).toMatch(/multiboot ELF: 1 segment.*entry 0x100010/);
    assertNoOverlap(boot);
  });

  it('fills the multiboot information structure', () => {
    const info = 0x9000;
    const flags = peek32(boot, info);
    expect(flags).toBe((1 << 0) | (1 << 2) | (1 << 6) | (1 << 9));
    expect(peek32(boot, info + 4)).toBe(639); // mem_lower
    expect(peek32(boot, info + 8)).toBe(63 * 1024); // mem_upper: 63 MiB above 1 MiB
    expect(peekString(boot, peek32(boot, info + 16))).toBe('hello console=ttyS0');
    expect(peekString(boot, peek32(boot, info + 64))).toBe('TrapLab');
    const mmapLen = peek32(boot, info + 44);
    const mmapAddr = peek32(boot, info + 48);
    expect(mmapLen).toBe(4 * 24);
    const entries = [];
    for (let p = mmapAddr; p < mmapAddr + mmapLen; ) {
      const size = peek32(boot, p);
      expect(size).toBe(20);
      entries.push([
        peek32(boot, p + 4),
        peek32(boot, p + 8),
        peek32(boot, p + 12),
        peek32(boot, p + 16),
        peek32(boot, p + 20),
      ]);
      p += size + 4;
    }
    expect(entries).toEqual([
      [0, 0, 0x9fc00, 0, 1],
      [0x9fc00, 0, 0x400, 0, 2],
      [0xf0000, 0, 0x10000, 0, 2],
      [0x100000, 0, RAM - 0x100000, 0, 1],
    ]);
  });

  it('passes an empty command line when none is given and scales mem_upper with RAM', () => {
    const b = loadMultiboot(hello, { ramBytes: 16 * 1024 * 1024 });
    expect(peekString(b, peek32(b, 0x9000 + 16))).toBe('');
    expect(peek32(b, 0x9000 + 8)).toBe(15 * 1024);
  });

  it("does not modify the caller's image", () => {
    const copy = hello.slice();
    const b = loadMultiboot(copy, { ramBytes: RAM });
    chunkAt(b, 0x100000).bytes[0] = 0xcc;
    expect(copy[0x1000]).toBe(hello[0x1000]);
  });
});

describe('multiboot: synthetic ELF images', () => {
  const code = new Uint8Array([0x90, 0x90, 0xf4, 0xeb, 0xfd]);

  it('loads several segments, translating a virtual entry through its segment', () => {
    const elf = makeElf({
      entry: 0xc0100002,
      mbFlags: 2,
      extraPhdrs: 1,
      segments: [
        { paddr: 0x100000, vaddr: 0xc0100000, data: code },
        { paddr: 0x200000, vaddr: 0xc0200000, data: new Uint8Array([1, 2, 3]), memsz: 0x2000 },
      ],
    });
    const b = loadMultiboot(elf, { ramBytes: RAM });
    expect(b.entry).toEqual({
      mode: 'protected-flat',
      eip: 0x100002,
      regs: { eax: 0x2badb002, ebx: 0x9000 },
    });
    expect([...chunkAt(b, 0x100000).bytes]).toEqual([...code]);
    const data = chunkAt(b, 0x200000).bytes;
    expect(data.length).toBe(0x2000);
    expect([...data.subarray(0, 4)]).toEqual([1, 2, 3, 0]);
    assertNoOverlap(b);
  });

  it('moves the info block away from a segment that covers 0x9000', () => {
    const elf = makeElf({
      entry: 0x100000,
      mbFlags: 0,
      segments: [
        { paddr: 0x100000, data: code },
        { paddr: 0x8000, data: new Uint8Array(16), memsz: 0x3000 },
      ],
    });
    const b = loadMultiboot(elf, { ramBytes: RAM });
    const ebx = b.entry.mode === 'protected-flat' ? b.entry.regs.ebx! : -1;
    expect(ebx).toBe(0x1000);
    assertNoOverlap(b);
  });

  it('passes the initrd of loadKernel as a page-aligned module above the kernel', () => {
    const elf = makeElf({
      entry: 0x100000,
      mbFlags: 3,
      segments: [{ paddr: 0x100000, data: code, memsz: 0x1800 }],
    });
    const initrd = new Uint8Array(5000).fill(0x42);
    const b = loadKernel(elf, { ramBytes: RAM, initrd, cmdline: 'x' });
    const info = 0x9000;
    expect(peek32(b, info) & (1 << 3)).toBe(1 << 3);
    expect(peek32(b, info + 20)).toBe(1);
    const mods = peek32(b, info + 24);
    expect(peek32(b, mods)).toBe(0x102000);
    expect(peek32(b, mods + 4)).toBe(0x102000 + 5000);
    expect(peekString(b, peek32(b, mods + 8))).toBe('initrd');
    expect(chunkAt(b, 0x102000).bytes).toEqual(initrd);
    assertNoOverlap(b);
  });

  it('loads an a.out-kludge image by its header addresses (flag 16)', () => {
    const img = makeAoutKludge({
      size: 0x300,
      hdrOff: 0x40,
      headerAddr: 0x100040,
      loadAddr: 0x100000,
      loadEndAddr: 0x100200,
      bssEndAddr: 0x101000,
      entryAddr: 0x100080,
    });
    expect(detectKernel(img)).toBe('multiboot');
    const b = loadMultiboot(img, { ramBytes: RAM });
    expect(b.entry.mode === 'protected-flat' && b.entry.eip).toBe(0x100080);
    const c = chunkAt(b, 0x100000);
    expect(c.bytes.length).toBe(0x1000);
    expect([...c.bytes.subarray(0, 0x200)]).toEqual([...img.subarray(0, 0x200)]);
    expect(c.bytes.subarray(0x200).every((x) => x === 0)).toBe(true);
    expect(b.summary).toMatch(/a\.out kludge/);
  });

  it('a.out kludge: load_end_addr 0 loads to the end of the file; header not at file start', () => {
    const img = makeAoutKludge({
      size: 0x400,
      hdrOff: 0x100,
      headerAddr: 0x200100,
      loadAddr: 0x200080, // load starts at file offset 0x80
      loadEndAddr: 0,
      bssEndAddr: 0,
      entryAddr: 0x200100,
    });
    const b = loadMultiboot(img, { ramBytes: RAM });
    const c = chunkAt(b, 0x200080);
    expect([...c.bytes]).toEqual([...img.subarray(0x80)]);
  });
});

describe('multiboot: malformed input', () => {
  const code = new Uint8Array([0xf4]);
  const ok = { entry: 0x100000, mbFlags: 0, segments: [{ paddr: 0x100000, data: code }] };

  it('empty file', () => {
    expectLoadError(() => loadMultiboot(new Uint8Array(0), { ramBytes: RAM }), /empty \(0 bytes\)/);
    expect(detectKernel(new Uint8Array(0))).toBe('unknown');
  });

  it('no multiboot header (plain ELF)', () => {
    const elf = makeElf({ ...ok, mbFlags: null });
    expect(detectKernel(elf)).toBe('unknown');
    expectLoadError(
      () => loadMultiboot(elf, { ramBytes: RAM }),
      /no multiboot header.*not a multiboot kernel/,
    );
  });

  it('header beyond the first 8 KiB', () => {
    const big = new Uint8Array(0x3000);
    big.set(makeElf({ ...ok, mbFlags: null }));
    put32(big, 0x2000, 0x1badb002);
    put32(big, 0x2008, -0x1badb002 >>> 0);
    expect(detectKernel(big)).toBe('unknown');
    expectLoadError(() => loadMultiboot(big, { ramBytes: RAM }), /no multiboot header/);
  });

  it('bad checksum', () => {
    const elf = makeElf({ ...ok, mbChecksum: 0x12345678 });
    expect(detectKernel(elf)).toBe('unknown');
    expectLoadError(() => loadMultiboot(elf, { ramBytes: RAM }), /bad multiboot checksum.*offset 0x54/);
  });

  it('unsupported required flags', () => {
    expectLoadError(
      () => loadMultiboot(makeElf({ ...ok, mbFlags: 4 }), { ramBytes: RAM }),
      /video mode information \(flag 2\)/,
    );
    expectLoadError(
      () => loadMultiboot(makeElf({ ...ok, mbFlags: 0x100 }), { ramBytes: RAM }),
      /flags 0x100/,
    );
  });

  it('multiboot header but not ELF and no a.out kludge', () => {
    const img = new Uint8Array(64);
    put32(img, 0, 0x1badb002);
    put32(img, 8, -0x1badb002 >>> 0);
    expectLoadError(() => loadMultiboot(img, { ramBytes: RAM }), /must be an ELF executable/);
  });

  it('unsupported ELF class, encoding, type and machine', () => {
    expectLoadError(
      () => loadMultiboot(makeElf({ ...ok, cls: 2 }), { ramBytes: RAM }),
      /ELF class 2 \(64-bit\)/,
    );
    expectLoadError(() => loadMultiboot(makeElf({ ...ok, data: 2 }), { ramBytes: RAM }), /little-endian/);
    expectLoadError(
      () => loadMultiboot(makeElf({ ...ok, type: 1 }), { ramBytes: RAM }),
      /ELF type 1 \(relocatable/,
    );
    expectLoadError(() => loadMultiboot(makeElf({ ...ok, type: 3 }), { ramBytes: RAM }), /ELF type 3/);
    expectLoadError(
      () => loadMultiboot(makeElf({ ...ok, machine: 62 }), { ramBytes: RAM }),
      /machine 62 \(x86-64\)/,
    );
  });

  it('truncated ELF header and program-header table', () => {
    const elf = makeElf(ok);
    expectLoadError(() => loadMultiboot(elf.slice(0, 48), { ramBytes: RAM }), /truncated ELF file: 48 bytes/);
    const t = elf.slice();
    put32(t, 28, 0x10000); // e_phoff far past the end
    expectLoadError(() => loadMultiboot(t, { ramBytes: RAM }), /program-header table.*runs past the end/);
  });

  it('segment beyond the end of the file', () => {
    const elf = makeElf({ ...ok, segments: [{ paddr: 0x100000, data: code, offset: 0x5000 }] });
    expectLoadError(
      () => loadMultiboot(elf, { ramBytes: RAM }),
      /truncated ELF file: segment 0 needs file bytes 0x5000/,
    );
  });

  it('filesz larger than memsz', () => {
    const elf = makeElf({ ...ok, segments: [{ paddr: 0x100000, data: new Uint8Array(8), memsz: 4 }] });
    expectLoadError(
      () => loadMultiboot(elf, { ramBytes: RAM }),
      /file size \(8\) is larger than its memory size \(4\)/,
    );
  });

  it('no loadable segments', () => {
    const elf = makeElf({ ...ok, segments: [{ paddr: 0x100000, data: new Uint8Array(0), memsz: 0 }] });
    expectLoadError(() => loadMultiboot(elf, { ramBytes: RAM }), /no loadable \(PT_LOAD\) segments/);
  });

  it('entry point outside every segment', () => {
    expectLoadError(
      () => loadMultiboot(makeElf({ ...ok, entry: 0x500000 }), { ramBytes: RAM }),
      /entry point 0x500000 is not inside/,
    );
  });

  it('segment in the 640 KiB–1 MiB hole', () => {
    const elf = makeElf({ ...ok, segments: [{ paddr: 0xb8000, data: code }], entry: 0xb8000 });
    expectLoadError(() => loadMultiboot(elf, { ramBytes: RAM }), /overlaps the legacy hole/);
  });

  it('image larger than RAM', () => {
    const elf = makeElf({ ...ok, segments: [{ paddr: 0x100000, data: code, memsz: 0x2000000 }] });
    expectLoadError(
      () => loadMultiboot(elf, { ramBytes: 16 * 1024 * 1024 }),
      /does not fit in RAM.*needs at least 33 MiB.*has 16 MiB/,
    );
  });

  it('segment wrapping past 4 GiB', () => {
    const elf = makeElf({
      ...ok,
      segments: [{ paddr: 0xfffff000, data: code, memsz: 0x2000 }],
      entry: 0xfffff000,
    });
    expectLoadError(() => loadMultiboot(elf, { ramBytes: RAM }), /past the end of the 4 GiB/);
  });

  it('overlapping segments', () => {
    const elf = makeElf({
      ...ok,
      segments: [
        { paddr: 0x100000, data: code, memsz: 0x1000 },
        { paddr: 0x100800, data: code },
      ],
    });
    expectLoadError(() => loadMultiboot(elf, { ramBytes: RAM }), /ELF segment 0 .* overlaps ELF segment 1/);
  });

  it('segments covering all conventional memory leave no room for the info block', () => {
    const elf = makeElf({
      ...ok,
      segments: [
        { paddr: 0x100000, data: code },
        { paddr: 0, data: code, memsz: 0x9fc00 },
      ],
    });
    expectLoadError(
      () => loadMultiboot(elf, { ramBytes: RAM }),
      /no room for the multiboot information structure/,
    );
  });

  it('command line too long or not ASCII', () => {
    expectLoadError(
      () => loadMultiboot(makeElf(ok), { ramBytes: RAM, cmdline: 'x'.repeat(5000) }),
      /command line too long \(5000/,
    );
    expectLoadError(
      () => loadMultiboot(makeElf(ok), { ramBytes: RAM, cmdline: 'café' }),
      /command line contains a character/,
    );
  });

  it('bad RAM size', () => {
    expectLoadError(
      () => loadMultiboot(makeElf(ok), { ramBytes: 1000 }),
      /RAM size 1000 bytes is not supported/,
    );
    expectLoadError(() => loadMultiboot(makeElf(ok), { ramBytes: Number.NaN }), /RAM size/);
  });

  it('bad a.out kludge addresses', () => {
    const base = {
      size: 0x300,
      hdrOff: 0x40,
      headerAddr: 0x100040,
      loadAddr: 0x100000,
      loadEndAddr: 0x100200,
      bssEndAddr: 0,
      entryAddr: 0x100080,
    };
    expectLoadError(
      () => loadMultiboot(makeAoutKludge({ ...base, loadAddr: 0x100080 }), { ramBytes: RAM }),
      /load_addr 0x100080 is above header_addr/,
    );
    expectLoadError(
      () => loadMultiboot(makeAoutKludge({ ...base, loadAddr: 0xf0000 }), { ramBytes: RAM }),
      /before the beginning of the file/,
    );
    expectLoadError(
      () => loadMultiboot(makeAoutKludge({ ...base, loadEndAddr: 0x100400 }), { ramBytes: RAM }),
      /truncated file.*0x400 bytes|truncated file.*1024 bytes/,
    );
    expectLoadError(
      () => loadMultiboot(makeAoutKludge({ ...base, bssEndAddr: 0x100100 }), { ramBytes: RAM }),
      /bss_end_addr 0x100100 is below/,
    );
    expectLoadError(
      () => loadMultiboot(makeAoutKludge({ ...base, entryAddr: 0x300000 }), { ramBytes: RAM }),
      /entry_addr 0x300000 lies outside/,
    );
    const cut = makeAoutKludge({ ...base, hdrOff: 0x40 }).slice(0, 0x50);
    expectLoadError(
      () => loadMultiboot(cut, { ramBytes: RAM }),
      /a\.out kludge.*run past the end of the file/,
    );
  });

  it('loadKernel names both formats for an unknown file', () => {
    expectLoadError(
      () => loadKernel(new Uint8Array(4096).fill(0x55), { ramBytes: RAM }),
      /unrecognised kernel format.*no multiboot header.*no 'HdrS'/,
    );
  });
});
