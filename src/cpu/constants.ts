/** Architectural constants shared by every part of the CPU core. */

/** Why `Cpu.run()` returned. */
export enum StopReason {
  Budget = 0,
  Halt = 1,
  Shutdown = 2,
  Monitor = 3,
  Breakpoint = 4,
}

// EFLAGS bits (SDM Vol.1 §3.4.3).
export const CF = 0x1;
export const PF = 0x4;
export const AF = 0x10;
export const ZF = 0x40;
export const SF = 0x80;
export const TF = 0x100;
export const IF = 0x200;
export const DF = 0x400;
export const OF = 0x800;
export const IOPL = 0x3000;
export const NT = 0x4000;
export const RF = 0x10000;
export const VM = 0x20000;
export const AC = 0x40000;
export const ID = 0x200000;
/** The six arithmetic status flags. */
export const ARITH = CF | PF | AF | ZF | SF | OF;

// Segment register indices, in ModR/M `sreg` encoding; LDTR and TR share the same cache arrays.
export const ES = 0;
export const CS = 1;
export const SS = 2;
export const DS = 3;
export const FS = 4;
export const GS = 5;
export const LDTR = 6;
export const TR = 7;

// GPR indices.
export const EAX = 0;
export const ECX = 1;
export const EDX = 2;
export const EBX = 3;
export const ESP = 4;
export const EBP = 5;
export const ESI = 6;
export const EDI = 7;

// Exception vectors (SDM Vol.3 §6.3.1).
export const DE = 0;
export const DB = 1;
export const NMI = 2;
export const BP = 3;
export const OFV = 4;
export const BR = 5;
export const UD = 6;
export const NM = 7;
export const DF_ = 8;
export const TS = 10;
export const NP = 11;
export const SSF = 12;
export const GP = 13;
export const PFV = 14;
export const MF = 16;
export const ACV = 17;
export const MC = 18;

// CR0 bits.
export const CR0_PE = 0x1;
export const CR0_MP = 0x2;
export const CR0_EM = 0x4;
export const CR0_TS = 0x8;
export const CR0_ET = 0x10;
export const CR0_NE = 0x20;
export const CR0_WP = 0x10000;
export const CR0_AM = 0x40000;
export const CR0_NW = 0x20000000;
export const CR0_CD = 0x40000000;
export const CR0_PG = 0x80000000 | 0;

// CR4 bits.
export const CR4_VME = 0x1;
export const CR4_PVI = 0x2;
export const CR4_TSD = 0x4;
export const CR4_DE = 0x8;
export const CR4_PSE = 0x10;
export const CR4_PGE = 0x80;

// Segment cache "access rights" word: bits 0–7 = descriptor byte 5 (type, S, DPL, P),
// bits 12–15 = AVL, L, D/B, G (descriptor byte 6 high nibble). Bit 16 marks an unusable (null) cache.
export const AR_ACCESSED = 0x1;
export const AR_RW = 0x2; // readable (code) / writable (data)
export const AR_DC = 0x4; // conforming (code) / expand-down (data)
export const AR_CODE = 0x8;
export const AR_S = 0x10;
export const AR_P = 0x80;
export const AR_DB = 0x4000;
export const AR_G = 0x8000;
export const AR_UNUSABLE = 0x10000;

/** Processor signature in EDX at reset / CPUID leaf 1 EAX: family 5, model 2, stepping 1. */
export const CPU_SIGNATURE = 0x521;

/** Thrown (never allocated per fault) to unwind an instruction that raised an exception. */
export const FAULT = { fault: true } as const;
