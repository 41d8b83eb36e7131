/**
 * Modelled cycles of what the paravirtual hypervisor does, on the same yardstick as
 * trap-and-emulate (../vmm/cost-model.ts, whose CPU-generation preset picks the trap round trip
 * and scales the hypervisor's own work; the P4 table when none was chosen). A hypercall is a
 * software trap (INT 0x82) into the hypervisor and back — the fault round trip of Adams & Agesen's
 * `divzero` — plus the work asked for. What paravirtualization saves is not the price of one trap
 * but their number: a batched mmu_update or a multicall replaces many, and CLI/STI and system calls
 * need none.
 */
import { type CpuModelId, presetFor } from '../vmm/cost-model.ts';

function pvTable(rt: number, s: number) {
  const w = (cycles: number) => Math.round(cycles * s);
  return {
    /** INT 0x82, dispatch, return (no decoding: the call number and arguments are in registers). */
    hypercall: rt + w(60),
    /** A call inside a multicall: no trap of its own. */
    batched: w(60),
    /** Validating one page-table entry (owner and type checks, reference counts). */
    perEntry: w(40),
    /** Validating a whole table when it becomes one (1,024 entries) — pin, new base pointer. */
    validateTable: w(1_200),
    /** A TLB flush or INVLPG the guest asked for. */
    tlb: w(150),
    /** Copying descriptors (set_gdt) or trap-table entries, per entry. */
    perDescriptor: w(12),
    /** Console bytes copied, per byte. */
    perByte: w(4),
    /** Building a bounce frame on the guest kernel stack (a native delivery, ~450). */
    bounce: w(450),
    /** Reflecting an exception: the fault round trip plus the bounce frame. */
    reflect: rt + w(450),
    /** An upcall: the hypervisor already has control (a timer or a hypercall return); frame only. */
    upcall: w(450 + 150),
  };
}

export type PvCosts = Readonly<ReturnType<typeof pvTable>>;

/** The paravirtual cost table of a preset (the P4's when none was chosen). */
export function pvCosts(model: CpuModelId | undefined): PvCosts {
  const p = presetFor(model);
  return pvTable(p.trapRoundTrip, p.vmmWork);
}

/** The P4 table (no preset chosen). */
export const PV_COST: PvCosts = pvCosts(undefined);
