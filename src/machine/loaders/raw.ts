/**
 * Raw images (`--raw FILE@ADDR --entry ADDR`): the file's bytes copied to physical ADDR, the CPU
 * started in flat 32-bit protected mode at EIP = entry: CR0.PE = 1, paging off, CS = 0x10 and
 * DS/ES/FS/GS/SS = 0x18 with base 0 and 4 GiB limits, IF = 0, general registers 0. No stack and no
 * GDT/IDT of its own are provided: the image sets up ESP, and loads its own GDT/IDT before it
 * reloads a segment register or enables interrupts.
 */
import { type BootImage, LoadError } from './types.ts';
import { checkImage, checkRam, checkRamRange, hex, sizeText } from './util.ts';

export interface RawOptions {
  ramBytes: number;
  addr: number;
  entry: number;
}

function checkAddress(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new LoadError(`${what} ${String(n)} is not a 32-bit physical address`);
  }
}

export function loadRaw(image: Uint8Array, opts: RawOptions): BootImage {
  checkImage(image, 'raw image');
  checkRam(opts.ramBytes);
  checkAddress(opts.addr, 'load address');
  checkAddress(opts.entry, 'entry point');
  checkRamRange(opts.addr, image.length, opts.ramBytes, `raw image (${sizeText(image.length)})`);
  const end = opts.addr + image.length;
  if (opts.entry < opts.addr || opts.entry >= end) {
    throw new LoadError(
      `entry point ${hex(opts.entry)} lies outside the raw image loaded at ${hex(opts.addr)}–${hex(end - 1)}`,
    );
  }
  return {
    chunks: [{ addr: opts.addr, bytes: image.slice() }],
    entry: {
      mode: 'protected-flat',
      eip: opts.entry,
      regs: { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0, esp: 0 },
    },
    summary: `raw image: ${sizeText(image.length)} at ${hex(opts.addr)}, entry ${hex(opts.entry)} (flat protected mode, paging off)`,
  };
}
