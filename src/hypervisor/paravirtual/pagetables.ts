/**
 * Direct paging, as Xen does it (Barham et al. 2003, §3.3.2): the real CR3 points at the guest's
 * own page tables, which hold machine addresses. The guest may read them but never write them: a
 * frame in use as a page table (an L1 page table or an L2 page directory) must have no writable
 * mapping anywhere, and every change goes through a hypercall that validates it. The invariants,
 * kept with per-frame type and reference counts:
 *   - a present entry maps only a frame of this domain (or its shared info page);
 *   - a writable L1 entry never maps a frame typed as a page table;
 *   - a frame becomes a page table only while nothing maps it writable;
 *   - an L2 entry points only at an L1 (no linear page tables, no 4 MiB pages), and the top 64 MiB
 *     (HYPERVISOR_VIRT_START) belong to the hypervisor.
 * Stale TLB entries are the one hole: the TLB is flushed whenever a frame becomes a page table.
 */
import { E, FIRST_HYP_PDE, HYP_PDE } from './abi.ts';
import type { PvDomain } from './domain.ts';

const NONE = 0;
const L1 = 1;
const L2 = 2;

export class DirectPaging {
  readonly type: Uint8Array;
  readonly refs: Uint16Array;
  readonly pinned: Uint8Array;
  /** Writable mappings of each frame in validated L1 tables. */
  readonly writable: Uint16Array;
  /** Pseudo-physical frame of the L2 in CR3 (the base pointer holds a reference), or −1. */
  base = -1;
  /** Entries validated (for the cost of the last operation). */
  validated = 0;
  /** Why the last refusal happened (for the log and errors). */
  why = '';

  constructor(private readonly d: PvDomain) {
    this.type = new Uint8Array(d.npages);
    this.refs = new Uint16Array(d.npages);
    this.pinned = new Uint8Array(d.npages);
    this.writable = new Uint16Array(d.npages);
  }

  private refuse(code: number, why: string): number {
    this.why = why;
    return -code;
  }

  private entry(pfn: number, i: number): number {
    return this.d.r32(this.d.hostOf(pfn * 4096 + i * 4));
  }

  /** Check a new L1 entry (0 or −errno). */
  checkL1e(e: number): number {
    if ((e & 1) === 0) return 0;
    const mfn = e >>> 12;
    if (this.d.isSharedInfo(mfn)) return 0;
    const pfn = this.d.ownPfn(mfn);
    if (pfn < 0)
      return this.refuse(E.INVAL, `maps machine frame 0x${mfn.toString(16)}, which this domain does not own`);
    if (e & 2 && this.type[pfn] !== NONE)
      return this.refuse(E.INVAL, `would map page-table frame 0x${mfn.toString(16)} writable`);
    return 0;
  }

  private countWritable(e: number, delta: number): void {
    if ((e & 3) !== 3) return;
    const pfn = this.d.ownPfn(e >>> 12);
    if (pfn >= 0) this.writable[pfn] += delta;
  }

  /** Take a type reference on `pfn` as an L1, validating it on first use. */
  getL1(pfn: number): number {
    if (this.type[pfn] === L1) {
      this.refs[pfn]++;
      return 0;
    }
    if (this.type[pfn] !== NONE)
      return this.refuse(
        E.INVAL,
        `frame 0x${this.d.mfn(pfn).toString(16)} is a page directory, not a page table`,
      );
    if (this.writable[pfn] > 0)
      return this.refuse(E.INVAL, `page table 0x${this.d.mfn(pfn).toString(16)} is still mapped writable`);
    for (let i = 0; i < 1024; i++) {
      const r = this.checkL1e(this.entry(pfn, i));
      if (r) return r;
    }
    for (let i = 0; i < 1024; i++) this.countWritable(this.entry(pfn, i), 1);
    this.validated += 1024;
    this.type[pfn] = L1;
    this.refs[pfn] = 1;
    this.d.cpu.flushTlb(false); // no stale writable translation of the new table survives
    return 0;
  }

  putL1(pfn: number): void {
    if (this.type[pfn] !== L1 || --this.refs[pfn] > 0) return;
    for (let i = 0; i < 1024; i++) this.countWritable(this.entry(pfn, i), -1);
    this.type[pfn] = NONE;
  }

  /** Check an L2 entry's target and take its L1 reference (0 or −errno). */
  private getL2e(e: number): number {
    if ((e & 1) === 0) return 0;
    if (e & 0x80) return this.refuse(E.INVAL, 'a 4 MiB page (PS) in a page directory');
    const pfn = this.d.ownPfn(e >>> 12);
    if (pfn < 0)
      return this.refuse(
        E.INVAL,
        `points at machine frame 0x${(e >>> 12).toString(16)}, which this domain does not own`,
      );
    return this.getL1(pfn);
  }
  private putL2e(e: number): void {
    if ((e & 1) === 0) return;
    const pfn = this.d.ownPfn(e >>> 12);
    if (pfn >= 0) this.putL1(pfn);
  }

  /** Take a type reference on `pfn` as an L2 (page directory), validating it on first use. */
  getL2(pfn: number): number {
    if (this.type[pfn] === L2) {
      this.refs[pfn]++;
      return 0;
    }
    if (this.type[pfn] !== NONE)
      return this.refuse(
        E.INVAL,
        `frame 0x${this.d.mfn(pfn).toString(16)} is a page table, not a page directory`,
      );
    if (this.writable[pfn] > 0)
      return this.refuse(
        E.INVAL,
        `page directory 0x${this.d.mfn(pfn).toString(16)} is still mapped writable`,
      );
    for (let i = FIRST_HYP_PDE; i < HYP_PDE; i++)
      if (this.entry(pfn, i) & 1) return this.refuse(E.INVAL, `maps the hypervisor's area (slot ${i})`);
    this.type[pfn] = L2; // (an L2 cannot contain itself as an L1: the type check refuses it)
    for (let i = 0; i < FIRST_HYP_PDE; i++) {
      const r = this.getL2e(this.entry(pfn, i));
      if (r) {
        for (let k = 0; k < i; k++) this.putL2e(this.entry(pfn, k));
        this.type[pfn] = NONE;
        return r;
      }
    }
    this.validated += 1024;
    this.refs[pfn] = 1;
    // The hypervisor's own tables (GDT, IDT, TSS) in the top 4 MiB of this address space.
    this.d.w32(this.d.hostOf(pfn * 4096 + HYP_PDE * 4), this.d.hypPt | 3);
    this.d.cpu.flushTlb(false);
    return 0;
  }

  putL2(pfn: number): void {
    if (this.type[pfn] !== L2 || --this.refs[pfn] > 0) return;
    this.type[pfn] = NONE;
    for (let i = 0; i < FIRST_HYP_PDE; i++) this.putL2e(this.entry(pfn, i));
    this.d.w32(this.d.hostOf(pfn * 4096 + HYP_PDE * 4), 0);
  }

  /** MMU_NORMAL_PT_UPDATE: write `val` to the entry at machine address `ptr` (0 or −errno). */
  update(ptr: number, val: number): number {
    if (ptr & 3) return this.refuse(E.INVAL, 'misaligned entry address');
    const pfn = this.d.ownPfn(ptr >>> 12);
    if (pfn < 0)
      return this.refuse(
        E.INVAL,
        `the entry lies in machine frame 0x${(ptr >>> 12).toString(16)}, which this domain does not own`,
      );
    const i = (ptr & 0xfff) >>> 2;
    const at = this.d.hostOf(pfn * 4096 + i * 4);
    const old = this.d.r32(at);
    if (this.type[pfn] === L1) {
      const r = this.checkL1e(val);
      if (r) return r;
      this.countWritable(old, -1);
      this.countWritable(val, 1);
      this.validated += 1;
    } else if (this.type[pfn] === L2) {
      if (i >= FIRST_HYP_PDE)
        return this.refuse(E.PERM, `slot ${i} of a page directory belongs to the hypervisor`);
      if ((old ^ val) >>> 12 !== 0 || ((old ^ val) & 1) !== 0) {
        const r = this.getL2e(val);
        if (r) return r;
        this.putL2e(old);
      } else if (val & 0x80) return this.refuse(E.INVAL, 'a 4 MiB page (PS) in a page directory');
      this.validated += 1;
    }
    // A frame that is no page table is ordinary memory: the update is a plain write.
    this.d.w32(at, val);
    return 0;
  }

  pin(pfn: number, level: 1 | 2): number {
    if (this.pinned[pfn])
      return this.refuse(E.INVAL, `frame 0x${this.d.mfn(pfn).toString(16)} is already pinned`);
    const r = level === 1 ? this.getL1(pfn) : this.getL2(pfn);
    if (r) return r;
    this.pinned[pfn] = level;
    return 0;
  }

  unpin(pfn: number): number {
    const level = this.pinned[pfn];
    if (!level) return this.refuse(E.INVAL, `frame 0x${this.d.mfn(pfn).toString(16)} is not pinned`);
    this.pinned[pfn] = 0;
    if (level === 1) this.putL1(pfn);
    else this.putL2(pfn);
    return 0;
  }

  /** MMUEXT_NEW_BASEPTR: load CR3 with a (validated) page directory. */
  newBase(pfn: number): number {
    const r = this.getL2(pfn);
    if (r) return r;
    if (this.base >= 0) this.putL2(this.base);
    this.base = pfn;
    this.d.cpu.cr3 = this.d.mfn(pfn) << 12;
    this.d.cpu.flushTlb(false);
    return 0;
  }

  /** Machine address of the L1 entry that maps `va` in the current address space, or −1. */
  l1eFor(va: number): number {
    if (this.base < 0) return -1;
    const pde = this.entry(this.base, va >>> 22);
    if ((pde & 1) === 0) return -1;
    return (((pde & ~0xfff) >>> 0) + ((va >>> 12) & 1023) * 4) >>> 0;
  }

  /** Frames typed as page tables (for the UI and tests). */
  counts(): { l1: number; l2: number; pinned: number } {
    let l1 = 0;
    let l2 = 0;
    let pinned = 0;
    for (let i = 0; i < this.type.length; i++) {
      if (this.type[i] === L1) l1++;
      else if (this.type[i] === L2) l2++;
      if (this.pinned[i]) pinned++;
    }
    return { l1, l2, pinned };
  }
}
