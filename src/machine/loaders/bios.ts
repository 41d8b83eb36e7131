/**
 * BIOS-style ROM images (`--bios FILE`).
 *
 * Accepted sizes: a whole number of 4 KiB pages from 4 KiB to 1 MiB. (Real BIOS images are 64, 128
 * or 256 KiB; the 4 KiB granularity also lets a hand-written teaching ROM of one page boot.)
 * Mapping, as on a PC and in QEMU: the whole image read-only at the top of the 4 GiB space, so its
 * last 16 bytes hold the reset vector at 0xFFFFFFF0 (SDM Vol. 3 §9.1.4 "First Instruction
 * Executed"), and its last 128 KiB (or the whole image, if smaller) aliased read-only just below
 * 1 MiB, ending at 0xFFFFF, for the real-mode code that runs after the first far jump.
 */
import { isElf } from './elf.ts';
import { isBzImage } from './linux.ts';
import { scanMultibootHeader } from './multiboot.ts';
import { type BootImage, LoadError } from './types.ts';
import { checkImage, hex, KiB, MiB, sizeText } from './util.ts';

export const BIOS_MAX_BYTES = MiB;
export const BIOS_GRANULE = 4 * KiB;
export const BIOS_LOW_ALIAS_MAX = 128 * KiB;

export function loadBios(image: Uint8Array): BootImage {
  checkImage(image, 'BIOS image');
  if (isElf(image) || isBzImage(image) || scanMultibootHeader(image).found) {
    throw new LoadError(
      `this file is ${isElf(image) ? 'an ELF file' : isBzImage(image) ? 'a Linux bzImage' : 'a multiboot kernel'}, not a BIOS ROM image: boot it as a kernel (--kernel)`,
    );
  }
  if (image.length > BIOS_MAX_BYTES) {
    throw new LoadError(`BIOS image too large: ${sizeText(image.length)} (the limit is 1 MiB)`);
  }
  if (image.length % BIOS_GRANULE !== 0) {
    throw new LoadError(
      `BIOS image size ${image.length} bytes is not a multiple of 4 KiB; a ROM image must be padded to whole 4 KiB pages so that it ends exactly at the reset vector`,
    );
  }
  const top = 0x100000000 - image.length;
  const aliasLen = Math.min(image.length, BIOS_LOW_ALIAS_MAX);
  const aliasAddr = 0x100000 - aliasLen;
  const rom = image.slice();
  return {
    chunks: [
      { addr: top, bytes: rom, rom: true },
      { addr: aliasAddr, bytes: rom.subarray(image.length - aliasLen), rom: true },
    ],
    entry: { mode: 'reset' },
    summary: `BIOS ROM ${sizeText(image.length)} at ${hex(top)}–0xffffffff, last ${sizeText(aliasLen)} aliased at ${hex(aliasAddr)}–0xfffff; CPU starts at the reset vector 0xfffffff0`,
  };
}
