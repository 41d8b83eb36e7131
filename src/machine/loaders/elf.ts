/**
 * Just enough ELF32 (System V ABI, Intel386 supplement) to load an executable: the file header and
 * the PT_LOAD program headers. Every field that could point outside the file is checked.
 */
import { LoadError } from './types.ts';
import { hex, u16, u32 } from './util.ts';

export interface ElfSegment {
  /** Index in the program-header table (for messages). */
  index: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
}

export interface Elf32Exec {
  entry: number;
  loads: ElfSegment[];
}

const PT_LOAD = 1;
const ET_EXEC = 2;
const EM_386 = 3;

export function isElf(image: Uint8Array): boolean {
  return (
    image.length >= 4 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46
  );
}

const ELF_TYPES: Record<number, string> = {
  0: 'none',
  1: 'relocatable object (.o)',
  3: 'shared object / PIE',
  4: 'core dump',
};
const ELF_MACHINES: Record<number, string> = {
  62: 'x86-64',
  40: 'ARM',
  183: 'AArch64',
  243: 'RISC-V',
  8: 'MIPS',
};

export function parseElf32(image: Uint8Array): Elf32Exec {
  if (!isElf(image))
    throw new LoadError('not an ELF file (the first 4 bytes are not 7f 45 4c 46, "\\x7fELF")');
  if (image.length < 52)
    throw new LoadError(`truncated ELF file: ${image.length} bytes, shorter than the 52-byte ELF32 header`);
  const cls = image[4]!;
  if (cls !== 1) {
    throw new LoadError(
      `unsupported ELF class ${cls}${cls === 2 ? ' (64-bit)' : ''}: TrapLab boots 32-bit (ELFCLASS32) kernels only`,
    );
  }
  if (image[5] !== 1)
    throw new LoadError(`unsupported ELF data encoding ${image[5]}: IA-32 kernels are little-endian (1)`);
  const type = u16(image, 16);
  if (type !== ET_EXEC) {
    throw new LoadError(
      `unsupported ELF type ${type} (${ELF_TYPES[type] ?? 'unknown'}): a kernel must be an executable (ET_EXEC, 2)`,
    );
  }
  const machine = u16(image, 18);
  if (machine !== EM_386) {
    throw new LoadError(
      `unsupported ELF machine ${machine}${ELF_MACHINES[machine] ? ` (${ELF_MACHINES[machine]})` : ''}: expected Intel 80386 (3)`,
    );
  }
  const entry = u32(image, 24);
  const phoff = u32(image, 28);
  const phentsize = u16(image, 42);
  const phnum = u16(image, 44);
  if (phnum === 0) throw new LoadError('ELF file has no program headers, so nothing to load');
  if (phentsize < 32) throw new LoadError(`bad ELF program-header entry size ${phentsize} (expected 32)`);
  if (phoff + phnum * phentsize > image.length) {
    throw new LoadError(
      `truncated ELF file: the program-header table (${phnum} × ${phentsize} bytes at offset ${hex(phoff)}) runs past the end of the ${image.length}-byte file`,
    );
  }
  const loads: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (u32(image, p) !== PT_LOAD) continue;
    const seg: ElfSegment = {
      index: i,
      offset: u32(image, p + 4),
      vaddr: u32(image, p + 8),
      paddr: u32(image, p + 12),
      filesz: u32(image, p + 16),
      memsz: u32(image, p + 20),
    };
    if (seg.filesz > seg.memsz) {
      throw new LoadError(
        `bad ELF segment ${i}: its file size (${seg.filesz}) is larger than its memory size (${seg.memsz})`,
      );
    }
    if (seg.offset + seg.filesz > image.length) {
      throw new LoadError(
        `truncated ELF file: segment ${i} needs file bytes ${hex(seg.offset)}–${hex(seg.offset + seg.filesz)} but the file is only ${image.length} bytes`,
      );
    }
    if (seg.memsz > 0) loads.push(seg);
  }
  if (loads.length === 0)
    throw new LoadError('ELF file has no loadable (PT_LOAD) segments with a non-zero size');
  return { entry, loads };
}
