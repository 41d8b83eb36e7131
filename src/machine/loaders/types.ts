/**
 * The loader contract (see notes/session-contract.md, "Loaders"): pure functions that turn a guest
 * image into a BootImage. They never touch a Pc; the machine places the chunks and starts the CPU.
 */

export type EntryRegName = 'eax' | 'ebx' | 'ecx' | 'edx' | 'esi' | 'edi' | 'ebp' | 'esp';
export type EntryRegs = Partial<Record<EntryRegName, number>>;

/** A malformed or unbootable image. The message names what is wrong, for the user to read. */
export class LoadError extends Error {
  override name = 'LoadError';
}

export interface BootChunk {
  /** Physical address of the first byte (0 … 2^32 − 1). */
  addr: number;
  /**
   * Read only, by everyone: it may view the caller's image (no copy — a Linux kernel and initrd
   * are ~2 MiB that every Session creation would otherwise page-fault into fresh memory), and a
   * reset loads it again.
   */
  bytes: Uint8Array;
  /** Map read-only (BIOS ROM and its alias below 1 MiB). */
  rom?: boolean;
}

export interface BootImage {
  /** Bytes to place in physical memory (RAM or ROM). Chunks never overlap each other. */
  chunks: BootChunk[];
  /** How to start the CPU. */
  entry:
    | { mode: 'protected-flat'; eip: number; regs: EntryRegs }
    | { mode: 'real'; cs: number; ip: number; regs?: EntryRegs }
    | { mode: 'reset' };
  /** What the loader did, for logs/UI (e.g. "multiboot ELF: 2 segments, entry 0x100010"). */
  summary: string;
}
