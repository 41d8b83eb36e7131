/**
 * Two walks of one guest-linear address, read live for the page-tables view: the guest's own walk
 * (its CR3, PDE, PTE — guest-physical addresses, as the guest kernel wrote them) and the real
 * CPU's walk through the VMM's shadow tables (host-physical), which map the same page straight to
 * the host frame behind the guest's frame. Reads only: no accessed/dirty bit is set.
 */
import type { Vm } from './vm.ts';

const CR0_PG = 0x80000000;
const CR4_PSE = 0x10;

export interface WalkStep {
  level: 'PDE' | 'PTE';
  /** Index of the entry in its table (bits 31–22 or 21–12 of the address). */
  index: number;
  /** Address of the entry (guest-physical in the guest's walk, host-physical in the shadow's). */
  addr: number;
  value: number;
}

export interface PageWalkInfo {
  vm: number;
  lin: number;
  guest: {
    paging: boolean;
    cr3: number;
    steps: WalkStep[];
    /** Guest-physical address, or null: the guest's tables do not map it (a fault it must see). */
    gpa: number | null;
    /** A 4 MiB page (CR4.PSE and PDE.PS). */
    large: boolean;
  };
  /** Host-physical address of the guest-physical page (the VM's slice), or null (not RAM). */
  host: number | null;
  shadow: {
    /** The real CR3 while this VM runs: the shadow page directory's host frame. */
    cr3: number;
    steps: WalkStep[];
    /** Host-physical address, or null: not filled yet (the next touch is a hidden page fault). */
    hpa: number | null;
  };
}

export function pageWalk(vm: Vm, lin: number): PageWalkInfo {
  lin >>>= 0;
  const v = vm.v;
  const steps: WalkStep[] = [];
  let gpa: number | null = lin;
  let large = false;
  const paging = (v.cr0 & CR0_PG) !== 0;
  if (paging) {
    gpa = null;
    const pdi = lin >>> 22;
    const pdeAddr = ((v.cr3 & 0xfffff000) + pdi * 4) >>> 0;
    const pde = vm.mem.readPhys32(pdeAddr);
    steps.push({ level: 'PDE', index: pdi, addr: pdeAddr, value: pde });
    if (pde & 1 && pde & 0x80 && v.cr4 & CR4_PSE) {
      large = true;
      gpa = ((pde & 0xffc00000) | (lin & 0x3fffff)) >>> 0;
    } else if (pde & 1) {
      const pti = (lin >>> 12) & 0x3ff;
      const pteAddr = ((pde & 0xfffff000) + pti * 4) >>> 0;
      const pte = vm.mem.readPhys32(pteAddr);
      steps.push({ level: 'PTE', index: pti, addr: pteAddr, value: pte });
      if (pte & 1) gpa = ((pte & 0xfffff000) | (lin & 0xfff)) >>> 0;
    }
  }
  const h = gpa === null ? -1 : vm.map.toHost(gpa & ~0xfff);
  const sh = vm.shadow.walkSteps(lin);
  const leaf = sh.at(-1)!;
  return {
    vm: vm.index,
    lin,
    guest: { paging, cr3: v.cr3 >>> 0, steps, gpa, large },
    host: h < 0 ? null : (h | (lin & 0xfff)) >>> 0,
    shadow: {
      cr3: vm.shadow.pd,
      steps: sh,
      hpa: leaf.level === 'PTE' && leaf.value & 1 ? ((leaf.value & ~0xfff) | (lin & 0xfff)) >>> 0 : null,
    },
  };
}
