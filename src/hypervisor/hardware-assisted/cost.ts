/**
 * Modelled cycles of VT-x exits (a Pentium 4 "Prescott", the machine Adams & Agesen measured in
 * 2006, ASPLOS, Table 1). Their VT-x column: `divzero` 1,014 cycles (an
 * exception the guest handles itself, no exit) vs. 889 native; `in` 15,826 cycles (one I/O exit
 * + device emulation); `pgfault` 11,242 and `ptemod` 12,733 with shadow paging. A VM exit plus
 * VMRESUME on Prescott costs a few thousand cycles by itself (Agesen et al., ATC 2012, give
 * "several thousand" for that generation): the round trip is taken as 2,600 here, and the VMM's
 * work per exit reason is added so the sums land on A&A's measurements.
 */
export const VTX_COST = {
  /** VM exit + VM entry (VMRESUME), the hardware's part of every record. */
  exit: 2_600,
  /** CPUID emulation. */
  cpuid: 150,
  /** HLT: block the VM. */
  halt: 300,
  /** Port I/O: decode the qualification, run the device model (A&A `in`: 15,826 in total). */
  portIo: 13_200,
  /** MOV CR read from the VMM's copy (CR3 store exiting). */
  crRead: 150,
  /** MOV CR0/CR4 write of a VMM-owned bit, or a CR3 load with shadow paging (drop the tables). */
  crWrite: 1_000,
  /** Injecting a virtual interrupt at VM entry (acknowledging the virtual PIC). */
  inject: 300,
  /** EPT violation on unbacked memory: add one EPT entry, INVEPT. */
  eptFill: 1_500,
  /** Shadow paging: a hidden #PF exit (walk the guest tables, fill the shadow; A&A pgfault 11,242). */
  hiddenFault: 8_600,
  /** A #PF the guest must see: walk, then inject it at VM entry. */
  reflect: 3_000,
  /** INVLPG exit: drop one shadow entry. */
  invlpg: 600,
} as const;
