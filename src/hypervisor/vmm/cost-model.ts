/**
 * Modelled cost, in CPU cycles, of what the VMM does — shown in the trap log. These are not
 * measurements of the emulator: they model a CPU generation so a student can compare techniques by
 * the same yardstick. Without a preset (`--cpu-model` unset) every table is the Pentium 4 one and
 * the guest's TSC counts instructions, as before presets existed; with a preset the CPU also
 * charges its own hardware events (src/cpu/timing.ts) and RDTSC reads the modelled cycles, so a
 * guest's own benchmark (minikernel's `bench`) prints cycles per operation under each technique.
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
import type { CpuTiming } from '../../cpu/timing.ts';

/** The CPU-generation presets (`--cpu-model`, session config `cpuModel`). */
export type CpuModelId = 'p4' | 'nehalem' | 'modern';
export const CPU_MODELS: readonly CpuModelId[] = ['p4', 'nehalem', 'modern'];

export interface CpuModelPreset {
  readonly id: CpuModelId;
  /** Short label for tables and the picker. */
  readonly label: string;
  /** The part and why it was chosen. */
  readonly part: string;
  readonly year: number;
  /** Native hardware events the CPU charges itself (src/cpu/timing.ts). */
  readonly hw: CpuTiming;
  /** A fault into a software VMM and its return (IRET) with the VMM's entry/exit stub. */
  readonly trapRoundTrip: number;
  /** The VMM's own software paths (decode, emulation, shadow walks, device models) vs the P4's. */
  readonly vmmWork: number;
  /** VT-x VM exit + VM entry, the hardware's part of every exit (hardware-assisted/cost.ts). */
  readonly vmExit: number;
}

/**
 * The minimal stub around a trap into the VMM (save, dispatch, restore): A&A's `divzero` 889
 * minus the P4's modelled delivery and IRET. Kept in every preset; it is instructions, not
 * microcode, and only the preset's `vmmWork` would shrink it (a rounding error beside the rest).
 */
const STUB = 89;

export const CPU_MODEL_PRESETS: Readonly<Record<CpuModelId, CpuModelPreset>> = {
  p4: {
    id: 'p4',
    label: 'Pentium 4 (2006)',
    part: 'Pentium 4 672 "Prescott", 3.8 GHz: the machine Adams & Agesen (ASPLOS 2006) measured on',
    year: 2006,
    hw: {
      // Delivery and IRET together are A&A's native divzero, 889 cycles, less the 89-cycle stub
      // (STUB): a minimal handler is a few dozen instructions. The split (delivery 500 > IRET 300)
      // is an estimate: delivery reads the IDT and a TSS and pushes; IRET pops and checks.
      event: 500,
      iret: 300,
      // A&A's native `in` from port 0x80: 3,209 cycles, an access to an off-chip chipset register.
      portIo: 3_200,
      // A&A: BT's translated cr8 write (35 cycles) is "about four times faster than native": a
      // serializing control-register write ≈ 140. MOV to CR0 is taken to cost the same (estimate).
      crWrite: 140,
      // Estimate, from A&A's native pgfault 1,093 − divzero 889 ≈ 200 for what a page fault adds:
      // minikernel's pgfault pays an INVLPG besides the fault, so most of the difference is put there.
      invlpg: 200,
    },
    trapRoundTrip: 889,
    vmmWork: 1,
    // Agesen et al. (USENIX ATC 2012) put a Prescott VM exit + entry at "several thousand" cycles;
    // 2,600 plus the per-reason work below sums to A&A's measured VT-x column (in 15,826).
    vmExit: 2_600,
  },
  nehalem: {
    id: 'nehalem',
    label: 'Nehalem (2009)',
    part: 'Xeon X5570 "Nehalem-EP", 2.93 GHz: the first Intel part with EPT and VPID (2009)',
    year: 2009,
    hw: {
      // Estimate: VMware's 2009 performance blog notes Netburst's pipeline had twice as many stages
      // as the Core generation that followed; a pipeline-draining delivery or IRET is taken at half.
      event: 250,
      iret: 150,
      // Estimate: the port sits on the LPC bus, whose timing does not scale with the core clock;
      // A&A's 3,209 cycles at 3.8 GHz ≈ 0.84 µs, which is ≈ 2,470 cycles at 2.93 GHz.
      portIo: 2_470,
      // Estimates, halved with the pipeline as above.
      crWrite: 70,
      invlpg: 100,
    },
    trapRoundTrip: 250 + 150 + STUB,
    // Estimate: integer code (the VMM's decode/emulate paths) retires ~1.5–2× more per cycle on
    // Core-generation parts than on Netburst at equal clock.
    vmmWork: 0.6,
    // SplitX (Landau, Ben-Yehuda, Gordon; WIOV 2011): ≈ 2,000 cycles direct cost of an exit on a
    // Xeon X5570 under KVM (VMware's 2009 blog shows the same generational drop, qualitatively).
    vmExit: 2_000,
  },
  modern: {
    id: 'modern',
    label: 'Modern (2020s)',
    part: 'a 2020s server core at ~3.5 GHz (EPT/NPT, VPID, posted interrupts not modelled)',
    year: 2020,
    hw: {
      // Estimates: a further third off Nehalem's exception delivery and IRET (wider, better-predicted
      // cores; no kernel page-table isolation modelled).
      event: 170,
      iret: 100,
      // Estimate: port 0x80 is still a ~0.84 µs bus access (Linux uses it as its I/O delay), ≈ 2,900
      // cycles at 3.5 GHz.
      portIo: 2_900,
      // Estimates: MOV CR0 stays serializing (~50); INVLPG is ~150 on recent cores with PCID.
      crWrite: 50,
      invlpg: 150,
    },
    trapRoundTrip: 170 + 100 + STUB,
    // Estimate: another ~1.5× in integer work per cycle since Nehalem.
    vmmWork: 0.4,
    // LKML, December 2020 (KVM on AMD SVM, "KVM: SVM: use vmsave/vmload for saving/restoring
    // additional host state"): VMRUN to #VMEXIT and back measured at ≈ 1,350 cycles on an EPYC host.
    vmExit: 1_350,
  },
};

/** Parse a `--cpu-model` / `cpuModel` value; null when it is not a preset. */
export function parseCpuModel(v: unknown): CpuModelId | null {
  return typeof v === 'string' && (CPU_MODELS as readonly string[]).includes(v) ? (v as CpuModelId) : null;
}

/** The preset whose VMM tables apply: the P4 when none was chosen (today's numbers). */
export function presetFor(model: CpuModelId | undefined): CpuModelPreset {
  return CPU_MODEL_PRESETS[model ?? 'p4'];
}

/** Hardware cost of a fault into the VMM and its return to the guest (P4). */
export const TRAP_ROUND_TRIP = 889;
/** Decoding the faulting instruction from guest memory (P4). */
export const DECODE = 120;

/**
 * The software VMM's table (trap-and-emulate and binary translation) for a trap round trip `rt`
 * and a VMM-work scale `s`: each figure is the hardware trap (where there is one) plus the VMM's
 * work on the P4 times `s`. With rt = 889 and s = 1 it is the P4 table the trap log always showed.
 */
function vmmTable(rt: number, s: number) {
  const w = (cycles: number) => Math.round(cycles * s);
  return {
    /** The trap round trip itself (the hardware's part of every trap into the VMM). */
    roundTrip: rt,
    /** CLI/STI/CLTS/INVD/WBINVD/CPUID/RDTSC/MSR: flip virtual state. */
    simple: rt + w(DECODE + 60),
    /** MOV CRn/DRn read, LMSW, MOV SS. */
    register: rt + w(DECODE + 150),
    /** HLT: block the VM (the scheduler decides what runs next). */
    halt: rt + w(DECODE + 300),
    /** IN/OUT: trap + dispatch to the VM's device model (Adams & Agesen: ~3,200 natively). */
    portIo: rt + w(DECODE + 2_200),
    /** INS/OUTS: per element on top of portIo. */
    portIoElement: w(400),
    /** LGDT/LLDT: rebuild a shadow table; per descriptor on top. */
    descriptorTable: rt + w(DECODE + 400),
    perDescriptor: w(12),
    /** LIDT/LTR: the VMM only records the guest's value. */
    lidt: rt + w(DECODE + 100),
    /** MOV to CR3 / CR0.PG change: drop the shadow tables; per dropped table on top. */
    cr3Write: rt + w(DECODE + 1_000),
    perShadowTable: w(200),
    /** INVLPG: drop one shadow entry. */
    invlpg: rt + w(DECODE + 250),
    /** Hidden page fault: walk the guest's tables, fill the shadow entry (~ native pgfault 1,093). */
    hiddenFault: rt + w(1_100),
    /** Reflecting an exception: trap + building the guest's frame (a native delivery, ~450). */
    reflect: rt + w(450),
    /** Reflected page fault: the guest walk found nothing, then the reflection. */
    reflectPageFault: rt + w(1_100 + 450),
    /** Emulated IRET back into guest ring 0. */
    iret: rt + w(DECODE + 350),
    /** Injecting a virtual interrupt (acknowledge the virtual PIC + frame). */
    inject: w(600),
    /** World switch: save and restore the whole CPU state, switch shadow tables, flush the TLB. */
    worldSwitch: w(6_000),
    /** Resynchronising a stale shadow GDT after a segment-load fault. */
    resync: rt + w(1_500),
    /** Silent events cost nothing: nobody saw them. */
    silent: 0,
    // Binary translation (Adams & Agesen 2006: BT's `in` ≈ 15× cheaper than native, call/ret 51 vs
    // 11 cycles): a callout is a call into the VMM inside the same address space, not a fault.
    /** A callout from translated code into the VMM and back (the VMM's work is added per case). */
    btCallout: w(150),
    /** An indirect branch (RET, JMP/CALL r/m) looked up from guest EIP to TC address (~40 cycles). */
    btLookup: w(40),
    /** Translating one unit, plus per guest instruction. */
    btTranslate: w(800),
    btPerInsn: w(120),
    /** Dropping the translations of one guest page (unchain, unlink), plus per unit. */
    tcInvalidate: w(600),
    perUnit: w(60),
    /** Emptying the translation cache. */
    tcFlush: w(2_000),
    /** Retranslating a faulting store into a callout (adaptive translation). */
    adaptive: w(1_500),
    /** What `simple` pays for decoding and its own work: BT's callouts refund it (rebate). */
    simpleWork: w(DECODE),
  };
}

export type VmmCosts = Readonly<ReturnType<typeof vmmTable>>;

/** The software VMM's cost table for a preset (the P4's when none was chosen). */
export function vmmCosts(model: CpuModelId | undefined): VmmCosts {
  const p = presetFor(model);
  return vmmTable(p.trapRoundTrip, p.vmmWork);
}

/** The P4 table: what every record costs when no preset was chosen. */
export const COST: VmmCosts = vmmCosts(undefined);
