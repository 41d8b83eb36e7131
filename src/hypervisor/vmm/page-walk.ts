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

/** What the page-tables view shows: a shadow-paging walk pair, or a direct-paging (PV) walk. */
export type PageWalkInfo = ShadowPageWalk | DirectPageWalk;

export interface ShadowPageWalk {
  kind: 'shadow';
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

export function pageWalk(vm: Vm, lin: number): ShadowPageWalk {
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
    kind: 'shadow',
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

/** The hypervisor's bookkeeping for one machine frame under direct paging (paravirtual/pagetables.ts). */
export interface FrameFacts {
  mfn: number;
  /** The guest's pseudo-physical frame number. */
  pfn: number;
  /** Validated as a page directory (L2) or a page table (L1), or ordinary memory. */
  type: 'L2' | 'L1' | 'none';
  /** Pinned by the guest (MMUEXT_PIN_L1/L2_TABLE): keeps its type while nothing else refers to it. */
  pinned: boolean;
  /** Type references (page-directory entries or CR3 pointing at it, plus a pin). */
  refs: number;
  /** Writable mappings of the frame in validated page tables (zero for any page-table frame). */
  writable: number;
  /** Where the guest's current address space maps this frame (first few), and whether writable. */
  mappedAt: { lin: number; rw: boolean }[];
  /** How many mappings there are in all. */
  mappings: number;
}

export interface DirectWalkStep extends WalkStep {
  /** The frame holding this entry: the page directory, then the page table (null: the hypervisor's own). */
  table: FrameFacts | null;
}

/**
 * Direct paging (Xen PV): one walk. The guest's own tables are the ones the MMU walks, holding
 * machine addresses, each table frame validated and typed by the hypervisor and never writable.
 */
export interface DirectPageWalk {
  kind: 'direct';
  vm: number;
  lin: number;
  /** Machine address of the page directory in CR3 (the domain's base pointer). */
  cr3: number;
  steps: DirectWalkStep[];
  /** Machine address, or null: the guest's tables do not map it (a page fault the guest sees). */
  machine: number | null;
  /** The same page as the guest numbers it (pseudo-physical), or null outside its memory. */
  pseudo: number | null;
  /** The page is the domain's shared info page (the one frame outside its memory it may map). */
  sharedInfo: boolean;
  /** The mapped frame's own bookkeeping (is it itself a page table?). */
  target: FrameFacts | null;
  /** The hypervisor's hole: the top of every address space, from `start`. */
  hole: {
    start: number;
    firstSlot: number;
    /** This address lies in it. */
    inside: boolean;
    /** Present page-directory entries in the hole (slot, machine address of the table). */
    slots: { slot: number; table: number }[];
  };
  /** Frames the hypervisor holds typed as tables in this domain. */
  counts: { l1: number; l2: number; pinned: number };
}
