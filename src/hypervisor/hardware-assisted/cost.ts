/**
 * Modelled cycles of VT-x exits. The P4 table (also used when no `--cpu-model` is chosen) models a
 * Pentium 4 "Prescott", the machine Adams & Agesen measured in 2006 (ASPLOS, their nanobenchmark
 * table). Their VT-x column: `divzero` 1,014 cycles (an exception the guest handles itself, no
 * exit) vs. 889 native; `in` 15,826 cycles (one I/O exit + device emulation); `pgfault` 11,242
 * and `ptemod` 12,733 with shadow paging. A VM exit plus VMRESUME on Prescott costs a few thousand
 * cycles by itself (Agesen et al., ATC 2012, give "several thousand" for that generation): the
 * round trip is taken as 2,600 here, and the VMM's work per exit reason is added so the sums land
 * on A&A's measurements. Later presets take their exit latency from the preset (cited in
 * ../vmm/cost-model.ts) and scale the VMM's work with its `vmmWork`.
 */
import { type CpuModelId, presetFor } from '../vmm/cost-model.ts';

function vtxTable(exit: number, s: number) {
  const w = (cycles: number) => Math.round(cycles * s);
  return {
    /** VM exit + VM entry (VMRESUME), the hardware's part of every record. */
    exit,
    /** CPUID emulation. */
    cpuid: w(150),
    /** HLT: block the VM. */
    halt: w(300),
    /** Port I/O: decode the qualification, run the device model (A&A `in`: 15,826 in total). */
    portIo: w(13_200),
    /** MOV CR read from the VMM's copy (CR3 store exiting). */
    crRead: w(150),
    /** MOV CR0/CR4 write of a VMM-owned bit, or a CR3 load with shadow paging (drop the tables). */
    crWrite: w(1_000),
    /** Injecting a virtual interrupt at VM entry (acknowledging the virtual PIC). */
    inject: w(300),
    /** EPT violation on unbacked memory: add one EPT entry, INVEPT. */
    eptFill: w(1_500),
    /** Shadow paging: a hidden #PF exit (walk the guest tables, fill the shadow; A&A pgfault 11,242). */
    hiddenFault: w(8_600),
    /** A #PF the guest must see: walk, then inject it at VM entry. */
    reflect: w(3_000),
    /** INVLPG exit: drop one shadow entry. */
    invlpg: w(600),
  };
}

export type VtxCosts = Readonly<ReturnType<typeof vtxTable>>;

/** The VT-x cost table of a preset (the P4's when none was chosen). */
export function vtxCosts(model: CpuModelId | undefined): VtxCosts {
  const p = presetFor(model);
  return vtxTable(p.vmExit, p.vmmWork);
}

/** The P4 table (no preset chosen). */
export const VTX_COST: VtxCosts = vtxCosts(undefined);
