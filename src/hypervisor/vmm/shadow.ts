/**
 * Shadow page tables: the tables the real CPU walks while a VM runs. They map guest-linear pages
 * straight to host-physical frames of the VM's slice and are filled on demand from the guest's
 * own tables (a "hidden" page fault per first touch). Design (see README.md):
 *
 * - One shadow page directory per VM; one 4 MiB slot of it (PDE `vmmPde`, initially 1023, linear
 *   0xFFC00000–0xFFFFFFFF) is the VMM's own region, holding this VM's shadow GDT and LDT read-only;
 *   the other PDEs point to shadow page tables allocated from the VMM's frames. The VMM must live
 *   somewhere in the guest's address space (address-space compression): when the guest touches
 *   the slot, the VMM moves its region to a slot the guest does not map (`relocate`).
 * - Always 4 KiB shadow pages, even for a guest 4 MiB page (the real CR4.PSE stays 0).
 * - Accessed/dirty bits: a fill sets the guest's A bit; a page whose guest PTE is not yet dirty is
 *   shadowed read-only, so the first write faults again (hidden) and the VMM sets the guest's D bit
 *   before making the shadow writable (the real CR0.WP is always 1).
 * - Coherence follows the architectural TLB rules: the shadow is a TLB the guest must flush. A CR3
 *   write (or a change of CR0.PG/WP, CR4.PSE) drops every shadow table; INVLPG drops one entry (or
 *   the whole table that shadows a guest 4 MiB page).
 */
import type { GuestMemoryMap, VmmFrames } from './memory-map.ts';

/** Initial linear base of the VMM region (the top 4 MiB) and the tables' offsets inside it. */
export const VMM_LIN_GDT = 0xffc00000;
const GDT_OFFSET = 0;
const LDT_OFFSET = 0x10000;
/** Pages reserved for each of the shadow GDT and LDT (64 KiB: the largest table). */
export const DESC_PAGES = 16;

const P = 1;
const RW = 2;
const US = 4;
const A = 0x20;
const D = 0x40;

export class ShadowPaging {
  /** Host frame of the shadow page directory (the real CR3 while this VM runs). */
  readonly pd: number;
  readonly gdtFrames: number[] = [];
  readonly ldtFrames: number[] = [];
  /** Host frame of the shadow page table per PDE index (0 = none). */
  private readonly pt = new Int32Array(1024);
  /** The shadow table of this PDE stands in for a guest 4 MiB page. */
  private readonly large = new Uint8Array(1024);
  private tables = 0;
  /** The page-directory slot holding the VMM region. */
  vmmPde = 1023;
  private readonly vmmPt: number;
  /** Totals for the statistics. */
  fills = 0;
  flushes = 0;

  constructor(
    private readonly ram: Uint8Array,
    private readonly ram32: Int32Array,
    private readonly frames: VmmFrames,
    readonly map: GuestMemoryMap,
    /** Most shadow page tables this VM may hold before the VMM recycles them all. */
    private readonly maxTables = 256,
  ) {
    this.pd = frames.alloc();
    const vmmPt = frames.alloc();
    for (let i = 0; i < DESC_PAGES; i++) this.gdtFrames.push(frames.alloc());
    for (let i = 0; i < DESC_PAGES; i++) this.ldtFrames.push(frames.alloc());
    // The VMM region: supervisor, read-only pages (A/D preset so the CPU never writes them).
    for (let i = 0; i < DESC_PAGES; i++) {
      this.ram32[(vmmPt >>> 2) + i] = this.gdtFrames[i] | P | A | D;
      this.ram32[(vmmPt >>> 2) + 16 + i] = this.ldtFrames[i] | P | A | D;
    }
    this.vmmPt = vmmPt;
    this.ram32[(this.pd >>> 2) + this.vmmPde] = vmmPt | P | RW | A;
  }

  /** Linear base of the VMM region, of the shadow GDT and of the shadow LDT. */
  get vmmBase(): number {
    return (this.vmmPde << 22) >>> 0;
  }
  get gdtLinear(): number {
    return (this.vmmBase + GDT_OFFSET) >>> 0;
  }
  get ldtLinear(): number {
    return (this.vmmBase + LDT_OFFSET) >>> 0;
  }
  /** True when `lin` lies in the VMM region (not while the slot is lent to the guest). */
  inVmmRegion(lin: number): boolean {
    return lin >>> 22 === this.vmmPde && !this.vacated;
  }

  /**
   * Lend the VMM's slot to the guest for one instruction (slot-guard.ts): its page-directory entry
   * becomes an ordinary shadow slot, filled from the guest's tables. `keepDesc`: the instruction
   * reads descriptors, so the shadow GDT/LDT pages stay mapped.
   */
  vacate(keepDesc: boolean): void {
    if (this.vacated) return;
    this.vacated = true;
    this.lends++;
    const pde = this.vmmPde;
    this.ram32[(this.pd >>> 2) + pde] = 0;
    if (!keepDesc) return;
    if (this.tables >= this.maxTables) this.dropAll();
    const f = this.frames.alloc();
    this.pt[pde] = f;
    this.tables++;
    for (let i = 0; i < 2 * DESC_PAGES; i++) this.ram32[(f >>> 2) + i] = this.ram32[(this.vmmPt >>> 2) + i];
    this.ram32[(this.pd >>> 2) + pde] = f | P | RW | US | A;
  }

  /** Take the slot back after the instruction (drops whatever the guest's access filled there). */
  reoccupy(): void {
    if (!this.vacated) return;
    const pde = this.vmmPde;
    if (this.pt[pde] !== 0) {
      this.frames.release(this.pt[pde]);
      this.pt[pde] = 0;
      this.large[pde] = 0;
      this.tables--;
    }
    this.vacated = false;
    this.ram32[(this.pd >>> 2) + pde] = this.vmmPt | P | RW | A;
  }
  /** The slot is lent to the guest (see vacate). */
  vacated = false;
  /** How many times the slot was lent (one guest instruction each). */
  lends = 0;

  /** Move the VMM region to page-directory slot `pde` (dropping any shadow table there). */
  relocate(pde: number): void {
    if (pde === this.vmmPde) return;
    const base = this.pd >>> 2;
    if (this.pt[pde] !== 0) {
      this.frames.release(this.pt[pde]);
      this.pt[pde] = 0;
      this.large[pde] = 0;
      this.tables--;
    }
    this.ram32[base + this.vmmPde] = 0;
    this.vmmPde = pde;
    this.ram32[base + pde] = this.vmmPt | P | RW | A;
    this.relocations++;
  }
  relocations = 0;

  /** Number of live shadow page tables. */
  get tableCount(): number {
    return this.tables;
  }

  /** Drop every shadow mapping of guest space (guest CR3 write, paging mode change). */
  dropAll(): number {
    let n = 0;
    for (let i = 0; i < 1024; i++) {
      const f = this.pt[i];
      if (f !== 0) {
        this.frames.release(f);
        this.pt[i] = 0;
        this.large[i] = 0;
        this.ram32[(this.pd >>> 2) + i] = 0;
        n++;
      }
    }
    this.tables = 0;
    this.flushes++;
    return n;
  }

  /** Drop the shadow of one guest-linear page (INVLPG). Returns how many entries went. */
  invalidate(lin: number): number {
    const pdi = lin >>> 22;
    if (pdi === this.vmmPde && !this.vacated) return 0;
    const f = this.pt[pdi];
    if (f === 0) return 0;
    if (this.large[pdi]) {
      this.frames.release(f);
      this.pt[pdi] = 0;
      this.large[pdi] = 0;
      this.ram32[(this.pd >>> 2) + pdi] = 0;
      this.tables--;
      return 1024;
    }
    const idx = (f >>> 2) + ((lin >>> 12) & 0x3ff);
    const had = this.ram32[idx] & P;
    this.ram32[idx] = 0;
    return had;
  }

  /**
   * Install the shadow entry for guest-linear `lin` mapped to guest-physical `gpa`.
   * `writable` / `user`: the permissions the shadow may grant (already reduced for A/D tracking).
   * Returns the host-physical frame used.
   */
  fill(
    lin: number,
    gpa: number,
    writable: boolean,
    user: boolean,
    fromLarge: boolean,
    write: boolean,
  ): number {
    const pdi = lin >>> 22;
    let f = this.pt[pdi];
    if (f === 0) {
      if (this.tables >= this.maxTables) this.dropAll();
      f = this.frames.alloc();
      this.pt[pdi] = f;
      this.tables++;
      this.ram32[(this.pd >>> 2) + pdi] = f | P | RW | US | A;
    }
    if (fromLarge) this.large[pdi] = 1;
    let host = this.map.toHost(gpa & ~0xfff);
    let rw = writable;
    if (host < 0) {
      // Not RAM: reads see the all-ones page; a write goes to this VM's private sink page.
      host = write ? this.map.sinkPage : this.map.emptyPage;
      rw = write;
    }
    this.ram32[(f >>> 2) + ((lin >>> 12) & 0x3ff)] = host | P | A | (rw ? RW | D : 0) | (user ? US : 0);
    this.fills++;
    return host;
  }

  /** The host frame the shadow currently maps for `lin`, or -1 (for tests and the UI). */
  lookup(lin: number): number {
    const f = this.pt[lin >>> 22];
    if (f === 0 && lin >>> 22 !== this.vmmPde) return -1;
    const table = lin >>> 22 === this.vmmPde ? this.vmmPt : f;
    const e = this.ram32[(table >>> 2) + ((lin >>> 12) & 0x3ff)];
    return e & P ? e & ~0xfff : -1;
  }

  /** The raw shadow PTE for `lin` in guest space (0 when none). */
  entry(lin: number): number {
    const f = this.pt[lin >>> 22];
    return f === 0 || lin >>> 22 === this.vmmPde ? 0 : this.ram32[(f >>> 2) + ((lin >>> 12) & 0x3ff)] >>> 0;
  }

  /**
   * The real CPU's walk of `lin` through this shadow (the page-tables view): each entry's host
   * address and value, as the MMU reads them while this VM runs.
   */
  walkSteps(lin: number): { level: 'PDE' | 'PTE'; index: number; addr: number; value: number }[] {
    const pdi = lin >>> 22;
    const pdeAddr = (this.pd + pdi * 4) >>> 0;
    const pde = this.ram32[pdeAddr >>> 2] >>> 0;
    const out: { level: 'PDE' | 'PTE'; index: number; addr: number; value: number }[] = [
      { level: 'PDE', index: pdi, addr: pdeAddr, value: pde },
    ];
    if (pde & P) {
      const pti = (lin >>> 12) & 0x3ff;
      const pteAddr = ((pde & ~0xfff) + pti * 4) >>> 0;
      out.push({ level: 'PTE', index: pti, addr: pteAddr, value: this.ram32[pteAddr >>> 2] >>> 0 });
    }
    return out;
  }

  /** Every host frame any shadow entry of guest space points to (for the isolation test). */
  mappedFrames(): Set<number> {
    const s = new Set<number>();
    for (let i = 0; i < 1024; i++) {
      const f = this.pt[i];
      if (f === 0) continue;
      for (let j = 0; j < 1024; j++) {
        const e = this.ram32[(f >>> 2) + j];
        if (e & P) s.add((e & ~0xfff) >>> 0);
      }
    }
    return s;
  }

  /**
   * Map a host frame at page `index` of the VMM region (supervisor only; a technique's own pages,
   * e.g. binary translation's code cache). Pages 0–31 hold the shadow GDT/LDT.
   */
  mapVmmPage(index: number, frame: number, writable: boolean): void {
    if (index < 2 * DESC_PAGES || index > 1023) throw new RangeError(`VMM page ${index} is reserved`);
    this.ram32[(this.vmmPt >>> 2) + index] = frame | P | A | D | (writable ? RW : 0);
  }

  /**
   * Make every shadow entry that maps host frame `frame` read-only (a technique watching writes to
   * a guest page through all its aliases). Returns the linear pages changed.
   */
  writeProtectFrame(frame: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < 1024; i++) {
      const f = this.pt[i];
      if (f === 0) continue;
      const base = f >>> 2;
      for (let j = 0; j < 1024; j++) {
        const e = this.ram32[base + j];
        if (e & RW && (e & ~0xfff) === frame) {
          this.ram32[base + j] = e & ~RW;
          out.push(((i << 22) | (j << 12)) >>> 0);
        }
      }
    }
    return out;
  }

  /** Clear the write permission of the shadow entry for `lin` (if any). */
  writeProtect(lin: number): void {
    const f = this.pt[lin >>> 22];
    if (f === 0 || lin >>> 22 === this.vmmPde) return;
    this.ram32[(f >>> 2) + ((lin >>> 12) & 0x3ff)] &= ~RW;
  }

  /** Write the shadow descriptor table bytes (GDT or LDT) into the VMM pages. */
  writeTable(which: 'gdt' | 'ldt', bytes: Uint8Array): void {
    const frames = which === 'gdt' ? this.gdtFrames : this.ldtFrames;
    for (let p = 0; p < DESC_PAGES; p++) {
      const chunk = bytes.subarray(p * 4096, (p + 1) * 4096);
      this.ram.fill(0, frames[p], frames[p] + 4096);
      if (chunk.length > 0) this.ram.set(chunk, frames[p]);
    }
  }
}
