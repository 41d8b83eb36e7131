/**
 * The PC's physical address space, as the CPU sees it through `MemoryBus`.
 *
 *   0x00000000 – 0x0009FFFF  RAM (conventional memory)
 *   0x000A0000 – 0x000BFFFF  legacy VGA window: unmapped (no video card) unless an MMIO handler is
 *                            registered there
 *   0x000C0000 – 0x000DFFFF  option-ROM area: unmapped (reads 0xFF)
 *   0x000E0000 – 0x000FFFFF  the last 128 KiB of the BIOS ROM (all of it if smaller) as a PC's
 *                            chipset aliases it below 1 MiB; unmapped without a ROM
 *   0x00100000 – ramSize-1   RAM (extended memory)
 *   ramSize    – 4G-romSize  unmapped, except MMIO regions registered by devices
 *   4G-romSize – 0xFFFFFFFF  the BIOS ROM; the reset vector FFFFFFF0 is its last 16 bytes
 *
 * RAM pages are "direct": the CPU reads and writes `ram` itself (and caches the page in its TLB).
 * Everything else goes through read8/write8. Unmapped reads return 0xFF; writes to ROM or unmapped
 * space are dropped. The A20 gate is applied by the CPU (`Cpu.setA20`), not here.
 */
import type { MemoryBus } from '../cpu/bus.ts';
import { freshBuffer, giveBuffer } from '../cpu/fresh-buffer.ts';

export interface MmioHandler {
  /** `addr` is the full physical address. */
  read8(addr: number): number;
  write8(addr: number, value: number): void;
}

const KIND_UNMAPPED = 0;
const KIND_RAM = 1;
const KIND_ROM = 2;
const KIND_MMIO = 3;

const PAGES = 0x100000; // 4 GiB / 4 KiB
const MiB = 1024 * 1024;
/** RAM may not reach into the top 512 MiB (ROM and MMIO space). */
export const MAX_RAM_BYTES = 0xe0000000;

export interface MemoryOptions {
  /** RAM size in bytes: a multiple of 4 KiB, at least 1 MiB. Default 64 MiB. */
  ramBytes?: number;
}

interface Region {
  base: number;
  size: number;
  name: string;
  /** ROM contents (read-only), or null for MMIO. */
  rom: Uint8Array | null;
  handler: MmioHandler | null;
}

export class PhysicalMemory implements MemoryBus {
  readonly ram: Uint8Array;
  readonly ramBytes: number;
  /** Per 4 KiB page: KIND_*. */
  private readonly kind: Uint8Array;
  /** Per page: index into `regions` for ROM and MMIO pages. */
  private readonly regionIndex: Uint16Array;
  private readonly regions: Region[] = [];
  /**
   * Per RAM page: written since creation (by the CPU, which marks the pages it gets write access
   * to — cpu/bus.ts — by write8 or by a loader). `release` zeroes exactly these pages.
   */
  readonly written: Uint8Array;
  /** [first, last) page ranges of `kind`/`regionIndex` written (zeroed again by `release`). */
  private readonly tableRanges: number[] = [];
  private released = false;

  constructor(options: MemoryOptions = {}) {
    const bytes = options.ramBytes ?? 64 * MiB;
    if (!Number.isInteger(bytes) || bytes < MiB || bytes % 4096 !== 0 || bytes > MAX_RAM_BYTES) {
      throw new Error(
        `memory: RAM size ${bytes} bytes is invalid (need a multiple of 4 KiB between 1 MiB and ${MAX_RAM_BYTES / MiB} MiB)`,
      );
    }
    this.ramBytes = bytes;
    // The page tables and RAM share one zero-filled buffer that costs nothing to create
    // (cpu/fresh-buffer.ts); RAM ends the buffer, so a view from its offset to the end is RAM.
    let buf: ArrayBuffer;
    try {
      buf = freshBuffer(3 * PAGES + bytes);
    } catch {
      throw new Error(`memory: cannot allocate ${bytes / MiB} MiB of guest RAM on this host`);
    }
    const tables = buf.byteLength - bytes - 3 * PAGES;
    this.kind = new Uint8Array(buf, tables, PAGES);
    this.regionIndex = new Uint16Array(buf, tables + PAGES, PAGES);
    this.ram = new Uint8Array(buf, buf.byteLength - bytes, bytes);
    this.written = new Uint8Array(bytes >>> 12);
    this.kind.fill(KIND_RAM, 0, bytes >>> 12);
    this.tableRanges.push(0, bytes >>> 12);
    // Legacy holes 0xA0000–0xFFFFF are not RAM on a PC.
    this.kind.fill(KIND_UNMAPPED, 0xa0, 0x100);
  }

  /**
   * Zero every page written since creation, and the page tables, and hand the buffer to the next
   * PhysicalMemory of the same size (cpu/fresh-buffer.ts): it then starts on resident pages — no
   * page faults while loading and running, no new external memory for V8's GC to chase. Only for
   * an owner whose every RAM write is seen: the CPU's (through `written`, which also takes the
   * writes reported to `cpu.codeWritten`), write8 and loadRam. A VMM marks its own frames
   * (hypervisor/vmm/memory-map.ts); an owner that writes `ram` unseen must not call this. The
   * memory must not be used afterwards.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    const w = this.written;
    for (let p = 0; p < w.length; p++) {
      if (w[p] === 0) continue;
      let q = p + 1;
      while (q < w.length && w[q] !== 0) q++;
      this.ram.fill(0, p * 4096, q * 4096);
      p = q;
    }
    const r = this.tableRanges;
    for (let i = 0; i < r.length; i += 2) {
      this.kind.fill(0, r[i], r[i + 1]);
      this.regionIndex.fill(0, r[i], r[i + 1]);
    }
    giveBuffer(this.ram.buffer as ArrayBuffer);
  }

  isDirect(page: number): boolean {
    return this.kind[page & 0xfffff] === KIND_RAM;
  }

  read8(addr: number): number {
    addr >>>= 0;
    const page = addr >>> 12;
    switch (this.kind[page]) {
      case KIND_RAM:
        return this.ram[addr];
      case KIND_ROM: {
        const r = this.regions[this.regionIndex[page]];
        return (r.rom as Uint8Array)[addr - r.base];
      }
      case KIND_MMIO:
        return (this.regions[this.regionIndex[page]].handler as MmioHandler).read8(addr) & 0xff;
      default:
        return 0xff;
    }
  }

  write8(addr: number, value: number): void {
    addr >>>= 0;
    const page = addr >>> 12;
    switch (this.kind[page]) {
      case KIND_RAM:
        this.ram[addr] = value;
        this.written[page] = 1;
        return;
      case KIND_MMIO:
        (this.regions[this.regionIndex[page]].handler as MmioHandler).write8(addr, value & 0xff);
        return;
      default:
        return; // ROM and unmapped: dropped
    }
  }

  private addRegion(region: Region, kind: number): void {
    const { base, size, name } = region;
    if (
      !Number.isInteger(base) ||
      base % 4096 !== 0 ||
      size % 4096 !== 0 ||
      size <= 0 ||
      base < 0 ||
      base + size > 0x100000000
    ) {
      throw new Error(
        `memory: region ${name} at 0x${base.toString(16)}+0x${size.toString(16)} must be 4 KiB aligned and below 4 GiB`,
      );
    }
    const first = base / 4096;
    const last = first + size / 4096;
    for (let p = first; p < last; p++) {
      if (this.kind[p] !== KIND_UNMAPPED) {
        throw new Error(
          `memory: region ${name} overlaps ${this.describe(p * 4096)} at 0x${(p * 4096).toString(16)}`,
        );
      }
    }
    if (this.regions.length >= 0xffff) throw new Error('memory: too many regions');
    const idx = this.regions.length;
    this.regions.push(region);
    this.kind.fill(kind, first, last);
    this.regionIndex.fill(idx, first, last);
    this.tableRanges.push(first, last);
  }

  /**
   * Map read-only bytes at `base` (4 KiB aligned; a length that is not a page multiple is padded
   * with 0xFF). Must not overlap RAM or another region. The bytes are copied.
   */
  mapRom(base: number, bytes: Uint8Array, name = 'rom'): void {
    const size = Math.ceil(bytes.length / 4096) * 4096;
    const rom = new Uint8Array(size).fill(0xff);
    rom.set(bytes);
    this.addRegion({ base, size, name, rom, handler: null }, KIND_ROM);
  }

  /**
   * Map a BIOS ROM image at the top of the 4 GiB space (reset vector FFFFFFF0 = its last 16 bytes)
   * and alias its last 128 KiB (all of it if smaller) ending at 0xFFFFF, as a PC chipset does.
   * Size: a non-zero multiple of 4 KiB, at most 16 MiB.
   */
  mapBios(image: Uint8Array): void {
    const size = image.length;
    if (size === 0 || size % 4096 !== 0 || size > 16 * MiB) {
      throw new Error(
        `memory: BIOS image is ${size} bytes; it must be a non-zero multiple of 4 KiB, at most 16 MiB`,
      );
    }
    this.mapRom(0x100000000 - size, image, 'bios');
    const aliasSize = Math.min(size, 0x20000);
    this.mapRom(0x100000 - aliasSize, image.subarray(size - aliasSize), 'bios-alias');
  }

  /** Remove every ROM region (e.g. before loading another BIOS). MMIO regions stay. */
  unmapRoms(): void {
    for (let p = 0; p < PAGES; p++) {
      if (this.kind[p] === KIND_ROM) this.kind[p] = KIND_UNMAPPED;
    }
  }

  /**
   * Register an MMIO region. `base` and `size` must be 4 KiB aligned and cover only unmapped pages
   * (the legacy VGA window 0xA0000–0xBFFFF and the space above RAM qualify).
   */
  mapMmio(base: number, size: number, handler: MmioHandler, name: string): void {
    this.addRegion({ base, size, name, rom: null, handler }, KIND_MMIO);
  }

  /** True if [addr, addr+length) lies entirely in RAM pages. */
  isRamRange(addr: number, length: number): boolean {
    if (addr < 0 || length < 0 || addr + length > this.ramBytes) return false;
    for (let p = addr >>> 12; p < Math.ceil((addr + length) / 4096); p++)
      if (this.kind[p] !== KIND_RAM) return false;
    return true;
  }

  /** Copy `bytes` into RAM at physical `addr` (for loaders). Throws if it does not fit in RAM. */
  loadRam(addr: number, bytes: Uint8Array): void {
    if (!Number.isInteger(addr) || addr < 0 || addr + bytes.length > this.ramBytes) {
      throw new Error(
        `memory: cannot load ${bytes.length} bytes at 0x${addr.toString(16)}: RAM ends at 0x${this.ramBytes.toString(16)}`,
      );
    }
    this.ram.set(bytes, addr);
    if (bytes.length > 0) this.written.fill(1, addr >>> 12, ((addr + bytes.length - 1) >>> 12) + 1);
  }

  /** Read `length` bytes of physical memory through the bus (any mapping). */
  readBytes(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8((addr + i) >>> 0);
    return out;
  }

  /** Describe the mapping of physical `addr`: 'ram' | 'rom' | 'mmio:<name>' | 'unmapped'. */
  describe(addr: number): string {
    const page = (addr >>> 0) >>> 12;
    switch (this.kind[page]) {
      case KIND_RAM:
        return 'ram';
      case KIND_ROM:
        return `rom:${this.regions[this.regionIndex[page]].name}`;
      case KIND_MMIO:
        return `mmio:${this.regions[this.regionIndex[page]].name}`;
      default:
        return 'unmapped';
    }
  }
}
