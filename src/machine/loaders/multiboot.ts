/**
 * Multiboot v1 loader (Multiboot Specification 0.6.96).
 *
 * §3.1 the OS image: a header (magic 0x1BADB002, flags, checksum with magic+flags+checksum = 0)
 * 32-bit aligned and wholly inside the first 8192 bytes. Flags bits 0–15 are requirements the
 * loader must satisfy or refuse; bits 16–31 are optional. With bit 16 ("a.out kludge") the header's
 * address fields say where to load the file; otherwise the image must be an ELF32 executable.
 * §3.2 machine state: EAX = 0x2BADB002, EBX = physical address of the multiboot information
 * structure, CS/DS/ES/FS/GS/SS flat 4 GiB, CR0.PE = 1, paging off, IF = 0.
 * §3.3 boot information: we provide mem_lower/mem_upper (flag 0), cmdline (2), modules (3, when
 * given), mmap (6) and boot_loader_name (9), in one block below 640 KiB that overlaps nothing loaded.
 */
import { type Elf32Exec, isElf, parseElf32 } from './elf.ts';
import { encodeMultibootMmap, MB_MMAP_ENTRY_SIZE, pcMemoryMap } from './memmap.ts';
import { type BootChunk, type BootImage, LoadError } from './types.ts';
import {
  alignUp,
  BASE_MEM_END,
  checkImage,
  checkRam,
  checkRamRange,
  cString,
  HIGH_RAM_START,
  hex,
  overlaps,
  put32,
  sizeText,
  u32,
} from './util.ts';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
export const MULTIBOOT_SEARCH_BYTES = 8192;
/** Longest command line (each: kernel and module) we pass; keeps the info block small. */
export const MULTIBOOT_MAX_CMDLINE = 4096;
export const MULTIBOOT_MAX_MODULES = 16;
export const BOOT_LOADER_NAME = 'TrapLab';

const FLAG_PAGE_ALIGN_MODULES = 1 << 0;
const FLAG_MEMORY_INFO = 1 << 1;
const FLAG_VIDEO_MODE = 1 << 2;
const FLAG_AOUT_KLUDGE = 1 << 16;
/** Requirement bits (0–15) this loader can honour: 0 (page-aligned modules) and 1 (memory info). */
const SUPPORTED_REQUIRED = FLAG_PAGE_ALIGN_MODULES | FLAG_MEMORY_INFO;

export interface MultibootHeader {
  /** File offset of the magic. */
  offset: number;
  flags: number;
  /** The a.out-kludge address fields, present when flag 16 is set. */
  aout?: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entryAddr: number };
}

export type MultibootScan = { found: true; header: MultibootHeader } | { found: false; reason: string };

/** Look for a valid multiboot header (magic + checksum) at 4-byte steps in the first 8 KiB. */
export function scanMultibootHeader(image: Uint8Array): MultibootScan {
  const limit = Math.min(image.length, MULTIBOOT_SEARCH_BYTES);
  let badChecksumAt = -1;
  for (let off = 0; off + 12 <= limit; off += 4) {
    if (u32(image, off) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = u32(image, off + 4);
    const checksum = u32(image, off + 8);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) & 0xffffffff) !== 0) {
      if (badChecksumAt < 0) badChecksumAt = off;
      continue;
    }
    const header: MultibootHeader = { offset: off, flags };
    if (flags & FLAG_AOUT_KLUDGE) {
      if (off + 32 > limit) {
        return {
          found: false,
          reason: `multiboot header at offset ${hex(off)} sets flag 16 (a.out kludge) but its address fields run past ${off + 32 > image.length ? 'the end of the file' : 'the first 8 KiB'}`,
        };
      }
      header.aout = {
        headerAddr: u32(image, off + 12),
        loadAddr: u32(image, off + 16),
        loadEndAddr: u32(image, off + 20),
        bssEndAddr: u32(image, off + 24),
        entryAddr: u32(image, off + 28),
      };
    }
    return { found: true, header };
  }
  if (badChecksumAt >= 0) {
    return {
      found: false,
      reason: `bad multiboot checksum: the header at offset ${hex(badChecksumAt)} has the magic 0x1badb002 but magic + flags + checksum is not 0`,
    };
  }
  return {
    found: false,
    reason: `no multiboot header: the magic 0x1badb002 does not appear (4-byte aligned) in the first ${Math.min(image.length, MULTIBOOT_SEARCH_BYTES)} bytes${image.length < MULTIBOOT_SEARCH_BYTES ? ' (the whole file)' : ' (8 KiB)'}`,
  };
}

export interface MultibootModule {
  bytes: Uint8Array;
  cmdline?: string;
}

export interface MultibootOptions {
  ramBytes: number;
  cmdline?: string;
  /** Boot modules (e.g. an initrd), loaded page-aligned above the kernel (flag 3 in the info). */
  modules?: MultibootModule[];
}

/** A piece of the kernel to place: `data` from the file, zero-filled up to `memsz`. */
interface Piece {
  what: string;
  addr: number;
  data: Uint8Array;
  memsz: number;
}

export function loadMultiboot(image: Uint8Array, opts: MultibootOptions): BootImage {
  checkImage(image, 'multiboot kernel');
  checkRam(opts.ramBytes);
  const scan = scanMultibootHeader(image);
  if (!scan.found) {
    // A broken ELF file gets its own diagnosis first (e.g. "64-bit" explains a missing header too).
    if (isElf(image)) parseElf32(image);
    const elfNote =
      isElf(image) && scan.reason.startsWith('no multiboot header')
        ? ' This ELF file is not a multiboot kernel; TrapLab boots ELF kernels only through multiboot.'
        : '';
    throw new LoadError(scan.reason + '.' + elfNote);
  }
  const { header } = scan;
  const required = header.flags & 0xffff;
  if (required & FLAG_VIDEO_MODE) {
    throw new LoadError(
      'the multiboot header requires video mode information (flag 2), which TrapLab cannot provide (it has a serial console only)',
    );
  }
  const unknown = required & ~SUPPORTED_REQUIRED & ~FLAG_VIDEO_MODE;
  if (unknown) {
    throw new LoadError(
      `the multiboot header requires features this loader does not know (flags ${hex(unknown)} in bits 0–15)`,
    );
  }

  let pieces: Piece[];
  let entry: number;
  let format: string;
  if (header.aout) {
    ({ pieces, entry } = aoutPieces(image, header));
    format = 'multiboot (a.out kludge)';
  } else {
    if (!isElf(image)) {
      throw new LoadError(
        'the file has a multiboot header without flag 16 (a.out kludge), so it must be an ELF executable, but it does not start with "\\x7fELF"',
      );
    }
    ({ pieces, entry } = elfPieces(image, parseElf32(image)));
    format = 'multiboot ELF';
  }

  for (const p of pieces) checkRamRange(p.addr, p.memsz, opts.ramBytes, p.what);
  checkNoOverlap(pieces);

  // Modules go page-aligned above everything the kernel occupies (and above 1 MiB).
  const modules = opts.modules ?? [];
  if (modules.length > MULTIBOOT_MAX_MODULES) {
    throw new LoadError(`too many boot modules (${modules.length}; the limit is ${MULTIBOOT_MAX_MODULES})`);
  }
  let next = alignUp(Math.max(HIGH_RAM_START, ...pieces.map((p) => p.addr + p.memsz)), 4096);
  const modPlaced: { addr: number; bytes: Uint8Array; cmd: Uint8Array }[] = [];
  modules.forEach((m, i) => {
    if (m.bytes.length === 0) throw new LoadError(`boot module ${i} is empty (0 bytes)`);
    checkRamRange(next, m.bytes.length, opts.ramBytes, `boot module ${i} (${sizeText(m.bytes.length)})`);
    const cmd = cmdlineBytes(m.cmdline ?? '', `boot module ${i} command line`);
    modPlaced.push({ addr: next, bytes: m.bytes, cmd });
    next = alignUp(next + m.bytes.length, 4096);
  });

  // The information block: struct, mmap, loader name, command line, module list and strings.
  const map = pcMemoryMap(opts.ramBytes);
  const kernelCmd = cmdlineBytes(opts.cmdline ?? '', 'kernel command line');
  const name = cString(BOOT_LOADER_NAME, 'boot loader name');
  const INFO = 0;
  const MMAP = 96;
  const NAME = MMAP + map.length * MB_MMAP_ENTRY_SIZE;
  const CMD = NAME + name.length;
  const MODS = alignUp(CMD + kernelCmd.length, 4);
  let strings = MODS + modPlaced.length * 16;
  const blockSize = strings + modPlaced.reduce((n, m) => n + m.cmd.length, 0);
  const base = placeInfoBlock(blockSize, pieces);
  const info = new Uint8Array(blockSize);
  let flags = (1 << 0) | (1 << 2) | (1 << 6) | (1 << 9);
  put32(info, INFO + 4, BASE_MEM_END / 1024); // mem_lower: KiB of conventional memory (639)
  put32(info, INFO + 8, Math.max(0, opts.ramBytes - HIGH_RAM_START) / 1024); // mem_upper: KiB above 1 MiB
  info.set(kernelCmd, CMD);
  put32(info, INFO + 16, base + CMD);
  if (modPlaced.length > 0) {
    flags |= 1 << 3;
    put32(info, INFO + 20, modPlaced.length);
    put32(info, INFO + 24, base + MODS);
    modPlaced.forEach((m, i) => {
      const e = MODS + i * 16;
      put32(info, e, m.addr); // mod_start
      put32(info, e + 4, m.addr + m.bytes.length); // mod_end (first byte past the module)
      info.set(m.cmd, strings);
      put32(info, e + 8, base + strings);
      strings += m.cmd.length;
    });
  }
  encodeMultibootMmap(map, info, MMAP);
  put32(info, INFO + 44, map.length * MB_MMAP_ENTRY_SIZE); // mmap_length
  put32(info, INFO + 48, base + MMAP); // mmap_addr
  info.set(name, NAME);
  put32(info, INFO + 64, base + NAME); // boot_loader_name
  put32(info, INFO + 0, flags);

  const chunks: BootChunk[] = pieces.map((p) => {
    if (p.data.length === p.memsz) return { addr: p.addr, bytes: p.data };
    const bytes = new Uint8Array(p.memsz); // zero-filled tail (.bss)
    bytes.set(p.data);
    return { addr: p.addr, bytes };
  });
  for (const m of modPlaced) chunks.push({ addr: m.addr, bytes: m.bytes });
  chunks.push({ addr: base, bytes: info });

  const segText = pieces.map((p) => `${hex(p.addr)}+${hex(p.memsz)}`).join(', ');
  const modText = modPlaced.length ? `, ${modPlaced.length} module(s) from ${hex(modPlaced[0]!.addr)}` : '';
  return {
    chunks,
    entry: { mode: 'protected-flat', eip: entry, regs: { eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: base } },
    summary: `${format}: ${pieces.length} segment(s) [${segText}], entry ${hex(entry)}, boot info at ${hex(base)}${modText}`,
  };
}

function cmdlineBytes(text: string, what: string): Uint8Array {
  if (text.length >= MULTIBOOT_MAX_CMDLINE) {
    throw new LoadError(
      `${what} too long (${text.length} characters; the limit is ${MULTIBOOT_MAX_CMDLINE - 1})`,
    );
  }
  return cString(text, what);
}

function elfPieces(image: Uint8Array, elf: Elf32Exec): { pieces: Piece[]; entry: number } {
  const pieces = elf.loads.map((s) => ({
    what: `ELF segment ${s.index}`,
    addr: s.paddr,
    data: image.subarray(s.offset, s.offset + s.filesz),
    memsz: s.memsz,
  }));
  // Multiboot loads ELF segments at their physical addresses (p_paddr). A kernel linked to run at a
  // higher virtual address names its entry virtually, so translate it through the segment holding
  // it, as GRUB does.
  for (const s of elf.loads) {
    if (elf.entry >= s.vaddr && elf.entry < s.vaddr + s.memsz) {
      return { pieces, entry: (elf.entry - s.vaddr + s.paddr) >>> 0 };
    }
  }
  throw new LoadError(`the ELF entry point ${hex(elf.entry)} is not inside any loadable segment`);
}

function aoutPieces(image: Uint8Array, header: MultibootHeader): { pieces: Piece[]; entry: number } {
  const a = header.aout!;
  if (a.loadAddr > a.headerAddr) {
    throw new LoadError(
      `bad multiboot a.out addresses: load_addr ${hex(a.loadAddr)} is above header_addr ${hex(a.headerAddr)}`,
    );
  }
  // The header's file offset corresponds to header_addr, so loading starts this far into the file.
  const fileStart = header.offset - (a.headerAddr - a.loadAddr);
  if (fileStart < 0) {
    throw new LoadError(
      `bad multiboot a.out addresses: load_addr ${hex(a.loadAddr)} would start ${a.headerAddr - a.loadAddr - header.offset} bytes before the beginning of the file`,
    );
  }
  let loadLen: number;
  if (a.loadEndAddr === 0) loadLen = image.length - fileStart;
  else {
    if (a.loadEndAddr < a.loadAddr) {
      throw new LoadError(
        `bad multiboot a.out addresses: load_end_addr ${hex(a.loadEndAddr)} is below load_addr ${hex(a.loadAddr)}`,
      );
    }
    loadLen = a.loadEndAddr - a.loadAddr;
    if (fileStart + loadLen > image.length) {
      throw new LoadError(
        `truncated file: the multiboot header asks to load ${loadLen} bytes from offset ${hex(fileStart)} but the file is only ${image.length} bytes`,
      );
    }
  }
  const loadEnd = a.loadAddr + loadLen;
  let memsz = loadLen;
  if (a.bssEndAddr !== 0) {
    if (a.bssEndAddr < loadEnd) {
      throw new LoadError(
        `bad multiboot a.out addresses: bss_end_addr ${hex(a.bssEndAddr)} is below the end of the loaded image ${hex(loadEnd)}`,
      );
    }
    memsz = a.bssEndAddr - a.loadAddr;
  }
  if (memsz === 0) throw new LoadError('the multiboot header describes an empty image (nothing to load)');
  if (a.entryAddr < a.loadAddr || a.entryAddr >= a.loadAddr + memsz) {
    throw new LoadError(
      `the multiboot entry_addr ${hex(a.entryAddr)} lies outside the loaded image ${hex(a.loadAddr)}–${hex(a.loadAddr + memsz - 1)}`,
    );
  }
  return {
    pieces: [
      {
        what: 'multiboot image',
        addr: a.loadAddr,
        data: image.subarray(fileStart, fileStart + loadLen),
        memsz,
      },
    ],
    entry: a.entryAddr,
  };
}

function checkNoOverlap(pieces: Piece[]): void {
  for (let i = 0; i < pieces.length; i++) {
    for (let j = i + 1; j < pieces.length; j++) {
      const a = pieces[i]!;
      const b = pieces[j]!;
      if (overlaps(a.addr, a.memsz, b.addr, b.memsz)) {
        throw new LoadError(
          `${a.what} (${hex(a.addr)}+${hex(a.memsz)}) overlaps ${b.what} (${hex(b.addr)}+${hex(b.memsz)})`,
        );
      }
    }
  }
}

/**
 * Where the information block goes: 0x9000 by preference, otherwise the first free 4 KiB-aligned
 * spot in conventional memory above the real-mode IVT/BDA page that no kernel piece overlaps.
 */
function placeInfoBlock(size: number, pieces: Piece[]): number {
  const candidates = [0x9000];
  for (let a = 0x1000; a + size <= BASE_MEM_END; a += 0x1000) candidates.push(a);
  for (const a of candidates) {
    if (a + size > BASE_MEM_END) continue;
    if (!pieces.some((p) => overlaps(a, size, p.addr, p.memsz))) return a;
  }
  throw new LoadError(
    `no room for the multiboot information structure (${size} bytes): the kernel's segments cover all of conventional memory below ${hex(BASE_MEM_END)}`,
  );
}
