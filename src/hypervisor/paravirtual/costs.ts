/**
 * Modelled cycles of what the paravirtual hypervisor does, on the same Pentium 4-class yardstick as
 * trap-and-emulate (../vmm/cost-model.ts). A hypercall is a software trap (INT 0x82) into the
 * hypervisor and back — the fault round trip of Adams & Agesen's `divzero` — plus the work asked
 * for. What paravirtualization saves is not the price of one trap but their number: a batched
 * mmu_update or a multicall replaces many, and CLI/STI and system calls need none.
 */
import { TRAP_ROUND_TRIP } from '../vmm/cost-model.ts';

export const PV_COST = {
  /** INT 0x82, dispatch, return (no decoding: the call number and arguments are in registers). */
  hypercall: TRAP_ROUND_TRIP + 60,
  /** A call inside a multicall: no trap of its own. */
  batched: 60,
  /** Validating one page-table entry (owner and type checks, reference counts). */
  perEntry: 40,
  /** Validating a whole table when it becomes one (1,024 entries) — pin, new base pointer. */
  validateTable: 1_200,
  /** A TLB flush or INVLPG the guest asked for. */
  tlb: 150,
  /** Copying descriptors (set_gdt) or trap-table entries, per entry. */
  perDescriptor: 12,
  /** Console bytes copied, per byte. */
  perByte: 4,
  /** Building a bounce frame on the guest kernel stack (a native delivery, ~450). */
  bounce: 450,
  /** Reflecting an exception: the fault round trip plus the bounce frame. */
  reflect: TRAP_ROUND_TRIP + 450,
  /** An upcall: the hypervisor already has control (a timer or a hypercall return); frame only. */
  upcall: 450 + 150,
} as const;
