/** Small helpers shared by the loaders: little-endian access, formatting, RAM and region checks. */
import { LoadError } from './types.ts';

export const KiB = 1024;
export const MiB = 1024 * 1024;
/** Start of the legacy hole (VGA memory, option ROMs, system BIOS) that is not RAM on a PC. */
export const LOW_RAM_END = 0xa0000;
export const HIGH_RAM_START = 0x100000;
/** Conventional memory a PC BIOS reports (640 KiB minus a 1 KiB EBDA), as QEMU/SeaBIOS do. */
export const BASE_MEM_END = 0x9fc00;
/** Largest RAM a loader accepts: keeps the top of the 4 GiB space free for ROM and devices. */
export const MAX_RAM = 0xc0000000;

export function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}

export function sizeText(bytes: number): string {
  if (bytes >= MiB && bytes % (MiB / 100) === 0) return `${+(bytes / MiB).toFixed(2)} MiB`;
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(2)} MiB (${bytes} bytes)`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} bytes`;
}

export function u8(b: Uint8Array, off: number): number {
  return b[off]!;
}
export function u16(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8);
}
export function u32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}
export function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
}
export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}
/** Store a non-negative integer below 2^53 as a little-endian 64-bit value. */
export function put64(b: Uint8Array, off: number, v: number): void {
  put32(b, off, v % 0x100000000);
  put32(b, off + 4, Math.floor(v / 0x100000000));
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
export function alignDown(n: number, a: number): number {
  return Math.floor(n / a) * a;
}

/** ASCII (Latin-1 for bytes ≥ 0x80 is refused) encoding of a command line, NUL-terminated. */
export function cString(text: string, what: string): Uint8Array {
  const out = new Uint8Array(text.length + 1);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c > 0x7e) {
      throw new LoadError(
        `${what} contains a character the boot protocol cannot carry (code ${c} at position ${i})`,
      );
    }
    out[i] = c;
  }
  return out;
}

export function checkImage(image: Uint8Array, what: string): void {
  if (!(image instanceof Uint8Array)) throw new LoadError(`${what}: no image bytes given`);
  if (image.length === 0) throw new LoadError(`${what}: the file is empty (0 bytes)`);
}

export function checkRam(ramBytes: number): void {
  if (!Number.isInteger(ramBytes) || ramBytes < HIGH_RAM_START || ramBytes > MAX_RAM) {
    throw new LoadError(
      `RAM size ${ramBytes} bytes is not supported: it must be a whole number of bytes between 1 MiB and ${MAX_RAM / MiB} MiB`,
    );
  }
}

/** Throw unless [addr, addr+len) is RAM the machine has, outside the 640 KiB–1 MiB hole. */
export function checkRamRange(addr: number, len: number, ramBytes: number, what: string): void {
  const end = addr + len;
  if (end > 0x100000000) {
    throw new LoadError(
      `${what} at ${hex(addr)} (${sizeText(len)}) runs past the end of the 4 GiB address space`,
    );
  }
  if (addr < HIGH_RAM_START && end > LOW_RAM_END) {
    throw new LoadError(
      `${what} at ${hex(addr)}–${hex(end - 1)} overlaps the legacy hole ${hex(LOW_RAM_END)}–0xfffff (video memory and BIOS ROM), which is not RAM`,
    );
  }
  if (end > ramBytes) {
    throw new LoadError(
      `${what} at ${hex(addr)}–${hex(end - 1)} does not fit in RAM: the image needs at least ${sizeText(alignUp(end, MiB))} but the machine has ${sizeText(ramBytes)}`,
    );
  }
}

/** Does [a, a+alen) overlap [b, b+blen)? */
export function overlaps(a: number, alen: number, b: number, blen: number): boolean {
  return a < b + blen && b < a + alen;
}
