/**
 * Modelled cost, in CPU cycles, of what the VMM does — shown in the trap log. These are not
 * measurements of the emulator: they model a Pentium 4-class machine (the one Adams & Agesen,
 * ASPLOS 2006, measured on) so a student can compare techniques by the same yardstick.
 *
 * Anchors (Adams & Agesen 2006, native column of their nanobenchmark table):
 * - an exception round trip (fault → handler → IRET) costs ~889 cycles natively (their `divzero`);
 *   a trap into a software VMM is that hardware round trip plus the VMM's own work;
 * - port I/O to an ISA device costs ~3,209 cycles natively (`in` port 0x80): an emulated device
 *   access adds the device model to the trap;
 * - a native page fault costs ~1,093 cycles (`pgfault`); shadow-paging work (walking the guest's
 *   tables, filling the shadow) is of the same order, and a fault the guest must see pays the trap,
 *   the walk and a reflected delivery;
 * - a native instruction is ~1 cycle (`call/ret` = 11 for two instructions + pipeline).
 * The resulting ordering matches theirs for a software VMM: cheap innocuous instructions ≪
 * CLI/STI emulation < control-register and descriptor-table emulation < port I/O < page faults
 * (hidden fill < reflected fault, which pays the hidden work plus delivery) < a world switch,
 * which saves and restores everything and flushes the TLB.
 */

/** Hardware cost of a fault into the VMM and its return to the guest. */
export const TRAP_ROUND_TRIP = 889;
/** Decoding the faulting instruction from guest memory. */
export const DECODE = 120;

export const COST = {
  /** CLI/STI/CLTS/INVD/WBINVD/CPUID/RDTSC/MSR: flip virtual state. */
  simple: TRAP_ROUND_TRIP + DECODE + 60,
  /** MOV CRn/DRn read, LMSW, MOV SS. */
  register: TRAP_ROUND_TRIP + DECODE + 150,
  /** HLT: block the VM (the scheduler decides what runs next). */
  halt: TRAP_ROUND_TRIP + DECODE + 300,
  /** IN/OUT: trap + dispatch to the VM's device model (Adams & Agesen: ~3,200 natively). */
  portIo: TRAP_ROUND_TRIP + DECODE + 2_200,
  /** INS/OUTS: per element on top of portIo. */
  portIoElement: 400,
  /** LGDT/LLDT: rebuild a shadow table; per descriptor on top. */
  descriptorTable: TRAP_ROUND_TRIP + DECODE + 400,
  perDescriptor: 12,
  /** LIDT/LTR: the VMM only records the guest's value. */
  lidt: TRAP_ROUND_TRIP + DECODE + 100,
  /** MOV to CR3 / CR0.PG change: drop the shadow tables; per dropped table on top. */
  cr3Write: TRAP_ROUND_TRIP + DECODE + 1_000,
  perShadowTable: 200,
  /** INVLPG: drop one shadow entry. */
  invlpg: TRAP_ROUND_TRIP + DECODE + 250,
  /** Hidden page fault: walk the guest's tables, fill the shadow entry (~ native pgfault 1,093). */
  hiddenFault: TRAP_ROUND_TRIP + 1_100,
  /** Reflecting an exception: trap + building the guest's frame (a native delivery, ~450). */
  reflect: TRAP_ROUND_TRIP + 450,
  /** Reflected page fault: the guest walk found nothing, then the reflection. */
  reflectPageFault: TRAP_ROUND_TRIP + 1_100 + 450,
  /** Emulated IRET back into guest ring 0. */
  iret: TRAP_ROUND_TRIP + DECODE + 350,
  /** Injecting a virtual interrupt (acknowledge the virtual PIC + frame). */
  inject: 600,
  /** World switch: save and restore the whole CPU state, switch shadow tables, flush the TLB. */
  worldSwitch: 6_000,
  /** Resynchronising a stale shadow GDT after a segment-load fault. */
  resync: TRAP_ROUND_TRIP + 1_500,
  /** Silent events cost nothing: nobody saw them. */
  silent: 0,
  // Binary translation (Adams & Agesen 2006: BT's `in` ≈ 15× cheaper than native, call/ret 51 vs
  // 11 cycles): a callout is a call into the VMM inside the same address space, not a fault.
  /** A callout from translated code into the VMM and back (the VMM's work is added per case). */
  btCallout: 150,
  /** An indirect branch (RET, JMP/CALL r/m) looked up from guest EIP to TC address (~40 cycles). */
  btLookup: 40,
  /** Translating one unit, plus per guest instruction. */
  btTranslate: 800,
  btPerInsn: 120,
  /** Dropping the translations of one guest page (unchain, unlink), plus per unit. */
  tcInvalidate: 600,
  perUnit: 60,
  /** Emptying the translation cache. */
  tcFlush: 2_000,
  /** Retranslating a faulting store into a callout (adaptive translation). */
  adaptive: 1_500,
} as const;
