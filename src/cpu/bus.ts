/**
 * The CPU's view of the world around it. `cpu/` is the lowest layer: it defines these interfaces
 * and `machine/` (the physical PC) or `hypervisor/` (a VM's virtual hardware) implement them.
 *
 * Physical memory is split in two for speed: plain RAM is one `Uint8Array` the CPU (and its TLB)
 * reads and writes directly; everything else (ROM, MMIO, unmapped holes) goes through the slow
 * callbacks. The machine decides per 4 KiB physical page which path applies.
 */
export interface MemoryBus {
  /** Directly addressable RAM: physical address `a` lives at `ram[a]` when `isDirect(a >>> 12)`. */
  readonly ram: Uint8Array;
  /**
   * True when physical page `page` (address >>> 12) is plain RAM inside `ram`, so the CPU may
   * cache a direct mapping for it in its TLB. False for ROM, MMIO and unmapped pages.
   * Only consulted when a TLB entry is filled, never per access.
   */
  isDirect(page: number): boolean;
  /** Slow path for non-direct pages. Unmapped addresses read as all ones (0xFF per byte). */
  read8(addr: number): number;
  write8(addr: number, value: number): void;
  /**
   * Optional, per 4 KiB page of `ram`: the CPU sets 1 for every page it may write (a write TLB
   * entry installed, a physical write), so that the owner can zero exactly those before reusing
   * the buffer (machine/memory.ts).
   */
  readonly written?: Uint8Array;
}

/** Port-mapped I/O. Unclaimed ports read as all ones and ignore writes. */
export interface IoBus {
  in8(port: number): number;
  in16(port: number): number;
  in32(port: number): number;
  out8(port: number, value: number): void;
  out16(port: number, value: number): void;
  out32(port: number, value: number): void;
}

/** The INTR pin: the machine's interrupt controller (an 8259A pair, real or virtual). */
export interface InterruptLine {
  /** True while a maskable interrupt request is asserted. Checked between instructions when IF=1. */
  hasInterrupt(): boolean;
  /** The interrupt-acknowledge cycle: returns the vector (0–255) and updates the controller. */
  acknowledge(): number;
}
