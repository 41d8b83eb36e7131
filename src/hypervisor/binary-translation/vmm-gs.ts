/**
 * GS is the VMM's while translated code runs (VMware's binary translator reserved one segment
 * register the same way: Bugnion et al., TOCS 30(4), 2012, §6.2 — "the VMM uses %gs to access its
 * own data").
 *
 * Why: the guest's data segments are cut below the VMM's slot (../vmm/slot-guard.ts), so the
 * TC can no longer reach its area, RET table and chaining cells through SS as it did. It reaches
 * them through GS instead, a flat ring-1 data segment covering the whole linear space, loaded into
 * the segment cache by the VMM (like the caches of CS/SS it loads on each delivery; no instruction
 * ever reloads it from a table: every guest instruction that names GS is a callout, see
 * classify.ts). The guest's own GS is *held* in the VM's BtState while the CPU is in the TC and
 * is put back in the real register whenever the guest runs at ring 3 (the real IRET/RETF that
 * returns there, or the VMM's own delivery). Linux 6.1 (i386) touches GS only at context switch
 * and in user mode, minikernel in its interrupt stubs.
 */
import type { Cpu } from '../../cpu/index.ts';
import { AR_ACCESSED, AR_DB, AR_P, AR_RW, AR_S, AR_UNUSABLE } from '../vmm/descriptors.ts';
import type { BtState } from './state.ts';

const GS = 5;
/** Granularity (4 KiB units) in the cache's AR layout. */
const AR_G = 0x8000;

/** The selector the VMM's GS carries: RPL 1, top of the GDT; never loaded from a table. */
export const VMM_GS_SEL = 0xfff9;
/** A present, writable, accessed, 32-bit, page-granular data segment of DPL 1. */
export const VMM_GS_AR = AR_P | AR_S | AR_RW | AR_ACCESSED | AR_DB | AR_G | (1 << 5);

/** Entering the TC: keep the guest's GS, give the CPU the VMM's. */
export function holdGuestGs(cpu: Cpu, b: BtState): void {
  if (b.gsHeld) return;
  const g = b.gs;
  g.sel = cpu.segSel[GS];
  g.base = cpu.segBase[GS] >>> 0;
  g.limit = cpu.segLim[GS] >>> 0;
  g.ar = cpu.segAr[GS];
  b.gsHeld = true;
  cpu.setSeg(GS, VMM_GS_SEL, 0, 0xffffffff, VMM_GS_AR);
}

/** Leaving for guest ring 3 (or the VM stops): the guest's GS is the real one again. */
export function releaseGuestGs(cpu: Cpu, b: BtState): void {
  if (!b.gsHeld) return;
  const g = b.gs;
  b.gsHeld = false;
  cpu.setSeg(GS, g.sel, g.base, g.limit, g.ar);
}

/** The guest's GS as a register panel shows it (held or real). */
export function guestGs(cpu: Cpu, b: BtState): { sel: number; base: number; limit: number; ar: number } {
  if (b.gsHeld) return { ...b.gs };
  return { sel: cpu.segSel[GS], base: cpu.segBase[GS] >>> 0, limit: cpu.segLim[GS] >>> 0, ar: cpu.segAr[GS] };
}

export const NULL_SEG_AR = AR_UNUSABLE;
