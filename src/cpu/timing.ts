/**
 * Modelled hardware cycles (issue 19, Adams & Agesen reproduced). Off by default: the time-stamp
 * counter is then the retired-instruction count, as it always was. With a timing installed
 * (`Cpu.timing`, from a CPU-generation preset in src/hypervisor/vmm/cost-model.ts) the CPU charges
 * the events real hardware spends many cycles on — delivering an exception or interrupt, IRET,
 * an I/O port access, MOV to a control register, INVLPG — and RDTSC reads
 * `instructions + chargedCycles`: one cycle per retired instruction plus every modelled charge so
 * far (a VMM adds its own costs to `chargedCycles` when it logs them). Deterministic: a function of
 * what the guest did, never of the host's clock.
 */
export interface CpuTiming {
  /** An exception, interrupt or INT n delivered through the IDT/IVT (gate, stack switch, frame). */
  readonly event: number;
  /** IRET (frame pop, checks, a pipeline flush). */
  readonly iret: number;
  /** One IN/OUT access that reaches the I/O bus (an off-chip register); per element for INS/OUTS. */
  readonly portIo: number;
  /** MOV to CR0/CR3/CR4 (serializing; CR3 also flushes the TLB). */
  readonly crWrite: number;
  /** INVLPG. */
  readonly invlpg: number;
}
