/**
 * The physical memory map a PC BIOS would report through INT 15h/E820, for a machine with
 * `ramBytes` of RAM and no ACPI tables: conventional memory up to the 1 KiB EBDA at 0x9FC00, the
 * EBDA and the system-BIOS area 0xF0000–0xFFFFF reserved, and extended memory from 1 MiB to the end
 * of RAM. Both the multiboot mmap and the Linux zero page's e820 table are encoded from this list.
 */
import { BASE_MEM_END, HIGH_RAM_START, LOW_RAM_END, put32, put64 } from './util.ts';

export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface MemRegion {
  base: number;
  length: number;
  type: typeof E820_RAM | typeof E820_RESERVED;
}

export function pcMemoryMap(ramBytes: number): MemRegion[] {
  const map: MemRegion[] = [
    { base: 0, length: BASE_MEM_END, type: E820_RAM },
    { base: BASE_MEM_END, length: LOW_RAM_END - BASE_MEM_END, type: E820_RESERVED },
    { base: 0xf0000, length: 0x10000, type: E820_RESERVED },
  ];
  if (ramBytes > HIGH_RAM_START)
    map.push({ base: HIGH_RAM_START, length: ramBytes - HIGH_RAM_START, type: E820_RAM });
  return map;
}

/** One struct boot_e820_entry (Linux, arch/x86/include/uapi/asm/bootparam.h): addr u64, size u64, type u32. */
export const E820_ENTRY_SIZE = 20;

export function encodeE820(map: MemRegion[], out: Uint8Array, off: number): void {
  map.forEach((r, i) => {
    const p = off + i * E820_ENTRY_SIZE;
    put64(out, p, r.base);
    put64(out, p + 8, r.length);
    put32(out, p + 16, r.type);
  });
}

/**
 * Multiboot mmap entries (Multiboot 0.6.96 §3.3): `size` (u32, the entry's size not counting
 * itself: 20), base_addr u64, length u64, type u32 (1 = available RAM, anything else reserved).
 */
export const MB_MMAP_ENTRY_SIZE = 24;

export function encodeMultibootMmap(map: MemRegion[], out: Uint8Array, off: number): void {
  map.forEach((r, i) => {
    const p = off + i * MB_MMAP_ENTRY_SIZE;
    put32(out, p, 20);
    put64(out, p + 4, r.base);
    put64(out, p + 12, r.length);
    put32(out, p + 20, r.type);
  });
}
