/**
 * Linux/x86 boot protocol loader (Documentation/x86/boot.rst, "32-bit boot protocol"), entering the
 * kernel the way QEMU's `-kernel` ends up doing, minus the BIOS and the real-mode setup code:
 *
 * - The protected-mode part of the bzImage (the file after the (setup_sects+1) × 512-byte real-mode
 *   part) is loaded at 0x100000. That is the decompressor; a non-relocatable kernel moves itself to
 *   pref_address (LOAD_PHYSICAL_ADDR, 16 MiB for the reference guest) and needs init_size bytes there.
 * - A fresh zero page (struct boot_params, Documentation/x86/zero-page.rst) at 0x10000 holds the
 *   setup header copied from the image (0x1F1 … 0x202 + byte[0x201]) with the loader's fields filled
 *   in, an e820 map, and ext_mem_k/alt_mem_k for old kernels. The command line sits at 0x20000;
 *   the initrd goes as high as RAM and initrd_addr_max allow, page-aligned.
 * - Entry: CR0.PE = 1, paging off, flat __BOOT_CS (0x10) / __BOOT_DS (0x18), IF = 0, EIP =
 *   code32_start, ESI = zero page, EBP = EDI = EBX = 0.
 */
import { encodeE820, pcMemoryMap } from './memmap.ts';
import { type BootImage, LoadError } from './types.ts';
import {
  alignDown,
  alignUp,
  checkImage,
  checkRam,
  cString,
  HIGH_RAM_START,
  hex,
  MiB,
  put16,
  put32,
  sizeText,
  u8,
  u16,
  u32,
} from './util.ts';

export const ZERO_PAGE_ADDR = 0x10000;
export const CMDLINE_ADDR = 0x20000;
export const KERNEL_LOAD_ADDR = 0x100000;
/** The command line area runs from CMDLINE_ADDR up to the EBDA. */
const CMDLINE_AREA = 0x9fc00 - CMDLINE_ADDR;

/** Setup-header field offsets, relative to the start of the image and of the zero page alike. */
export const HDR = {
  setupSects: 0x1f1,
  syssize: 0x1f4,
  vidMode: 0x1fa,
  bootFlag: 0x1fe,
  jump: 0x200,
  header: 0x202,
  version: 0x206,
  typeOfLoader: 0x210,
  loadflags: 0x211,
  code32Start: 0x214,
  ramdiskImage: 0x218,
  ramdiskSize: 0x21c,
  heapEndPtr: 0x224,
  cmdLinePtr: 0x228,
  initrdAddrMax: 0x22c,
  kernelAlignment: 0x230,
  relocatableKernel: 0x234,
  cmdlineSize: 0x238,
  prefAddress: 0x258,
  initSize: 0x260,
} as const;

/** struct boot_params fields outside the setup header. */
export const BP = {
  extMemK: 0x002, // screen_info.ext_mem_k (u16): KiB above 1 MiB, capped at 0xFC00 (63 MiB)
  altMemK: 0x1e0, // u32: KiB above 1 MiB
  e820Entries: 0x1e8, // u8
  sentinel: 0x1ef,
  e820Table: 0x2d0, // up to 128 × 20 bytes
} as const;

const HDRS_MAGIC = 0x53726448; // "HdrS"
const LOADED_HIGH = 0x01;
const CAN_USE_HEAP = 0x80;
const TYPE_OF_LOADER_UNDEFINED = 0xff; // boot.rst: "0xFF undefined" — the ID for loaders without one
const ZERO_PAGE_SIZE = 4096;

export interface LinuxOptions {
  ramBytes: number;
  initrd?: Uint8Array;
  cmdline?: string;
}

export function isBzImage(image: Uint8Array): boolean {
  return image.length >= HDR.header + 4 && u32(image, HDR.header) === HDRS_MAGIC;
}

function versionText(v: number): string {
  return `${v >> 8}.${(v & 0xff).toString().padStart(2, '0')}`;
}

export function loadLinux(kernel: Uint8Array, opts: LinuxOptions): BootImage {
  checkImage(kernel, 'Linux kernel');
  checkRam(opts.ramBytes);
  const ram = opts.ramBytes;
  if (!isBzImage(kernel)) {
    throw new LoadError(
      kernel.length < HDR.header + 4
        ? `truncated Linux kernel: ${kernel.length} bytes is too short to hold the setup header ('HdrS' at 0x202)`
        : "not a Linux bzImage: no 'HdrS' signature at offset 0x202 (kernels older than boot protocol 2.00 are not supported)",
    );
  }
  const version = u16(kernel, HDR.version);
  if (version < 0x0202) {
    throw new LoadError(
      `Linux boot protocol ${versionText(version)} is too old: TrapLab needs 2.02 or later (a kernel from 2.4 or newer)`,
    );
  }
  const hdrEnd = HDR.jump + 2 + u8(kernel, HDR.jump + 1); // boot.rst: header ends at 0x202 + byte at 0x201
  if (kernel.length < hdrEnd || kernel.length < 0x264) {
    throw new LoadError(`truncated Linux kernel: ${kernel.length} bytes, shorter than its setup header`);
  }
  if (u16(kernel, HDR.bootFlag) !== 0xaa55) {
    throw new LoadError(
      `bad Linux boot sector: boot_flag at 0x1fe is ${hex(u16(kernel, HDR.bootFlag))}, expected 0xaa55`,
    );
  }
  const loadflags = u8(kernel, HDR.loadflags);
  if (!(loadflags & LOADED_HIGH)) {
    throw new LoadError(
      'this is a zImage (loadflags.LOADED_HIGH clear, loaded at 0x10000): only bzImage kernels are supported',
    );
  }
  let setupSects = u8(kernel, HDR.setupSects);
  if (setupSects === 0) setupSects = 4; // boot.rst: "If this field is 0, the real value is 4."
  const pmOffset = (setupSects + 1) * 512;
  const syssize = u32(kernel, HDR.syssize); // in 16-byte paragraphs (32-bit from protocol 2.04)
  const pmDeclared = version >= 0x0204 ? syssize * 16 : (syssize & 0xffff) * 16;
  if (pmOffset >= kernel.length || pmOffset + pmDeclared > kernel.length) {
    throw new LoadError(
      `truncated Linux kernel: the header declares ${setupSects} setup sectors and a ${sizeText(pmDeclared)} protected-mode part (${pmOffset + pmDeclared} bytes in all) but the file is ${kernel.length} bytes`,
    );
  }
  const pm = kernel.subarray(pmOffset);
  const code32Start = u32(kernel, HDR.code32Start);
  if (code32Start < KERNEL_LOAD_ADDR || code32Start >= KERNEL_LOAD_ADDR + pm.length) {
    throw new LoadError(
      `bad code32_start ${hex(code32Start)}: it must point into the protected-mode kernel loaded at ${hex(KERNEL_LOAD_ADDR)}–${hex(KERNEL_LOAD_ADDR + pm.length - 1)}`,
    );
  }

  // Where the kernel runs once the decompressor has moved it (compressed/head_32.S): a relocatable
  // kernel at max(load address aligned to kernel_alignment, LOAD_PHYSICAL_ADDR); otherwise at
  // LOAD_PHYSICAL_ADDR, which protocol 2.10+ publishes as pref_address. It needs init_size there.
  const relocatable = version >= 0x0205 && u8(kernel, HDR.relocatableKernel) !== 0;
  let runStart = KERNEL_LOAD_ADDR;
  let initSize = pm.length;
  if (version >= 0x020a) {
    const pref = u32(kernel, HDR.prefAddress); // low 32 bits of a u64; high bits must be 0 on i386
    if (u32(kernel, HDR.prefAddress + 4) !== 0)
      throw new LoadError('pref_address is above 4 GiB: not an i386 kernel');
    const align = Math.max(u32(kernel, HDR.kernelAlignment), 1);
    runStart = relocatable ? Math.max(alignUp(KERNEL_LOAD_ADDR, align), pref) : pref;
    initSize = u32(kernel, HDR.initSize) || pm.length;
  }
  const kernelEnd = Math.max(KERNEL_LOAD_ADDR + pm.length, runStart + initSize);
  if (kernelEnd > ram) {
    throw new LoadError(
      `kernel larger than RAM: it runs at ${hex(runStart)} and needs ${sizeText(initSize)} there (up to ${hex(kernelEnd)}), but the machine has ${sizeText(ram)}; give it at least ${Math.ceil(kernelEnd / MiB)} MiB`,
    );
  }

  // Command line.
  const cmdline = opts.cmdline ?? '';
  const cmdlineMax = Math.min(version >= 0x0206 ? u32(kernel, HDR.cmdlineSize) : 255, CMDLINE_AREA - 1);
  if (cmdline.length > cmdlineMax) {
    throw new LoadError(
      `kernel command line too long: ${cmdline.length} characters, the kernel accepts at most ${cmdlineMax}`,
    );
  }
  const cmdBytes = cString(cmdline, 'kernel command line');

  // Initrd: as high as possible, page-aligned, below RAM end and initrd_addr_max.
  let initrdAddr = 0;
  const initrd = opts.initrd;
  if (initrd) {
    if (initrd.length === 0) throw new LoadError('the initrd file is empty (0 bytes)');
    if (version < 0x0203) {
      throw new LoadError(
        `Linux boot protocol ${versionText(version)} cannot take an initrd here (needs 2.03 or later)`,
      );
    }
    if (initrd.length > ram) {
      throw new LoadError(
        `initrd larger than RAM: ${sizeText(initrd.length)} does not fit in ${sizeText(ram)}`,
      );
    }
    const maxAddr = u32(kernel, HDR.initrdAddrMax); // highest address the initrd may occupy
    const top = alignDown(Math.min(ram, maxAddr + 1), 4096);
    initrdAddr = alignDown(top - initrd.length, 4096);
    if (initrdAddr < kernelEnd) {
      throw new LoadError(
        `kernel and initrd do not fit together: the initrd (${sizeText(initrd.length)}) would start at ${hex(Math.max(initrdAddr, 0))}, below the end of the kernel's area at ${hex(kernelEnd)}; give the machine at least ${Math.ceil((kernelEnd + alignUp(initrd.length, 4096) + (ram - top)) / MiB)} MiB`,
      );
    }
  }

  // Zero page.
  const zp = new Uint8Array(ZERO_PAGE_SIZE);
  zp.set(kernel.subarray(HDR.setupSects, hdrEnd), HDR.setupSects);
  zp[BP.sentinel] = 0;
  put16(zp, HDR.vidMode, 0xffff); // "normal" text mode; no real-mode setup runs anyway
  zp[HDR.typeOfLoader] = TYPE_OF_LOADER_UNDEFINED;
  zp[HDR.loadflags] = loadflags | CAN_USE_HEAP;
  put16(zp, HDR.heapEndPtr, 0xe000 - 0x200); // boot.rst's example value; only the real-mode setup uses it
  put32(zp, HDR.cmdLinePtr, CMDLINE_ADDR);
  put32(zp, HDR.ramdiskImage, initrd ? initrdAddr : 0);
  put32(zp, HDR.ramdiskSize, initrd ? initrd.length : 0);
  const extKiB = (ram - HIGH_RAM_START) / 1024;
  put16(zp, BP.extMemK, Math.min(extKiB, 0xfc00));
  put32(zp, BP.altMemK, extKiB);
  const map = pcMemoryMap(ram);
  zp[BP.e820Entries] = map.length;
  encodeE820(map, zp, BP.e820Table);

  const chunks = [
    { addr: ZERO_PAGE_ADDR, bytes: zp },
    { addr: CMDLINE_ADDR, bytes: cmdBytes },
    { addr: KERNEL_LOAD_ADDR, bytes: pm },
  ];
  if (initrd) chunks.push({ addr: initrdAddr, bytes: initrd });

  const initrdText = initrd ? `, initrd ${sizeText(initrd.length)} at ${hex(initrdAddr)}` : '';
  return {
    chunks,
    entry: {
      mode: 'protected-flat',
      eip: code32Start,
      regs: { esi: ZERO_PAGE_ADDR, ebp: 0, edi: 0, ebx: 0, eax: 0, ecx: 0, edx: 0 },
    },
    summary: `Linux bzImage (boot protocol ${versionText(version)}${relocatable ? ', relocatable' : ''}): ${sizeText(pm.length)} at ${hex(KERNEL_LOAD_ADDR)}, runs at ${hex(runStart)} (init_size ${sizeText(initSize)})${initrdText}, zero page ${hex(ZERO_PAGE_ADDR)}, entry ${hex(code32Start)}`,
  };
}
