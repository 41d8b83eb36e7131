/**
 * Modelled cycles of the hosted (Type 2) path, on the same Pentium 4-class yardstick as
 * vmm/cost-model.ts. Sources: Sugerman, Venkitachalam & Lim, "Virtualizing I/O Devices on VMware
 * Workstation's Hosted Virtual Machine Monitor" (USENIX ATC 2001) for the structure — every I/O the
 * VMM cannot finish itself goes VMM → world switch → VMApp → host system call, and a host interrupt
 * during the VMM world forces a world switch back — and Adams & Agesen (ASPLOS 2006) for the
 * native anchors (a fault round trip ≈ 889 cycles, a native `int 0x80` system call ≈ 242).
 * These are a model, not measurements of the emulator (the reference's caution: the type alone
 * does not make a hypervisor slow; the extra hops do, and the model charges each hop).
 */
import { COST, TRAP_ROUND_TRIP } from '../vmm/cost-model.ts';

export const HOST_COST = {
  /**
   * One world switch between the host and the VMM: save and load the whole CPU state, CR3 and the
   * descriptor tables, flush the TLB — the same work as the VMM's own world switch between VMs.
   */
  worldSwitch: COST.worldSwitch,
  /**
   * A host system call VMApp makes for the guest: the native system call (A&A: 242) plus the host
   * kernel's file and driver layers (copying the buffer, the serial driver) — ≈ 1,250.
   */
  hostSyscall: 242 + 1_008,
  /**
   * A host interrupt in the VMM world: the VMM takes it (a fault-like delivery, 889), and the host
   * driver re-raises it with INT n (another delivery); the two world switches are charged apart.
   */
  hostInterrupt: 2 * TRAP_ROUND_TRIP,
} as const;
