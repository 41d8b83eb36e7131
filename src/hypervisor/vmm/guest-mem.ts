/**
 * The VMM's view of a guest's memory: guest-physical through the VM's slice, guest-linear through
 * the guest's *own* page tables (the virtual CR3, CR0.PG/WP, CR4.PSE), with the guest-visible
 * accessed/dirty bits set exactly as the hardware would (SDM Vol.3 §4.3, §4.8).
 */
import type { GuestMemoryMap } from './memory-map.ts';

const CR0_PG = 0x80000000;
const CR0_WP = 0x10000;
const CR4_PSE = 0x10;

/** A page fault the guest itself must see (thrown by the linear accessors). */
export class GuestPageFault {
  constructor(
    readonly lin: number,
    readonly errorCode: number,
  ) {}
}

/** The guest's control-register view the walker needs. */
export interface PagingRegs {
  cr0: number;
  cr3: number;
  cr4: number;
}

/** Result of the last successful walk. */
export interface WalkInfo {
  /** Guest-physical address of the byte. */
  gpa: number;
  /** The mapping allows writes (at this privilege, honouring CR0.WP). */
  writable: boolean;
  /** User-accessible (U/S set at both levels). */
  user: boolean;
  /** The leaf entry's dirty bit is set (after this walk). */
  dirty: boolean;
  /** The translation came from a 4 MiB page. */
  large: boolean;
  /** Writes are allowed only because CR0.WP = 0 (supervisor write to a read-only page). */
  wpOverride: boolean;
}

export class GuestMemory {
  /** Called after every store into host RAM (the CPU's code cache listens; see VmOptions.onRamWrite). */
  onWrite: ((hostAddr: number, len: number) => void) | null = null;
  readonly info: WalkInfo = {
    gpa: 0,
    writable: false,
    user: false,
    dirty: false,
    large: false,
    wpOverride: false,
  };

  constructor(
    private readonly ram: Uint8Array,
    readonly map: GuestMemoryMap,
    private readonly regs: PagingRegs,
  ) {}

  // ---- guest-physical ----

  readPhys8(gpa: number): number {
    const h = this.map.toHost(gpa);
    return h < 0 ? 0xff : this.ram[h];
  }
  writePhys8(gpa: number, v: number): void {
    const h = this.map.toHost(gpa);
    if (h >= 0) {
      this.ram[h] = v;
      if (this.onWrite !== null) this.onWrite(h, 1);
    }
  }
  readPhys32(gpa: number): number {
    return (
      (this.readPhys8(gpa) |
        (this.readPhys8(gpa + 1) << 8) |
        (this.readPhys8(gpa + 2) << 16) |
        (this.readPhys8(gpa + 3) << 24)) >>>
      0
    );
  }
  writePhys32(gpa: number, v: number): void {
    this.writePhys8(gpa, v & 0xff);
    this.writePhys8(gpa + 1, (v >>> 8) & 0xff);
    this.writePhys8(gpa + 2, (v >>> 16) & 0xff);
    this.writePhys8(gpa + 3, (v >>> 24) & 0xff);
  }

  // ---- the guest's page walk ----

  /**
   * Translate a guest-linear address through the guest's page tables. On success fills `info`
   * and returns true (setting A, and D for writes, when `setAD`); on failure returns the #PF error
   * code the guest must see (SDM §4.7: P, W/R, U/S bits) as a number ≥ 0… encoded as `~code`
   * (a negative number), so callers test `r !== true`.
   */
  walk(lin: number, write: boolean, user: boolean, setAD: boolean): true | number {
    lin >>>= 0;
    const i = this.info;
    const r = this.regs;
    const wBit = write ? 2 : 0;
    const uBit = user ? 4 : 0;
    if ((r.cr0 & CR0_PG) === 0) {
      i.gpa = lin;
      i.writable = true;
      i.user = true;
      i.dirty = true;
      i.large = false;
      i.wpOverride = false;
      return true;
    }
    const pdeAddr = ((r.cr3 & 0xfffff000) + ((lin >>> 22) << 2)) >>> 0;
    const pde = this.readPhys32(pdeAddr);
    if ((pde & 1) === 0) return wBit | uBit;
    const wp = (r.cr0 & CR0_WP) !== 0;
    if (pde & 0x80 && r.cr4 & CR4_PSE) {
      const rw = (pde & 2) !== 0;
      const us = (pde & 4) !== 0;
      if (!permit(rw, us, write, user, wp)) return 1 | wBit | uBit;
      let n = pde | 0x20;
      if (write) n |= 0x40;
      if (setAD && n !== pde) this.writePhys32(pdeAddr, n);
      i.gpa = ((pde & 0xffc00000) | (lin & 0x3fffff)) >>> 0;
      i.large = true;
      i.user = us;
      i.writable = user ? rw : rw || !wp;
      i.wpOverride = !user && !rw && !wp;
      i.dirty = ((setAD ? n : pde) & 0x40) !== 0;
      return true;
    }
    const pteAddr = ((pde & 0xfffff000) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
    const pte = this.readPhys32(pteAddr);
    if ((pte & 1) === 0) return wBit | uBit;
    const rw = (pde & pte & 2) !== 0;
    const us = (pde & pte & 4) !== 0;
    if (!permit(rw, us, write, user, wp)) return 1 | wBit | uBit;
    if (setAD) {
      if ((pde & 0x20) === 0) this.writePhys32(pdeAddr, pde | 0x20);
      let n = pte | 0x20;
      if (write) n |= 0x40;
      if (n !== pte) this.writePhys32(pteAddr, n);
      i.dirty = (n & 0x40) !== 0;
    } else i.dirty = (pte & 0x40) !== 0;
    i.gpa = ((pte & 0xfffff000) | (lin & 0xfff)) >>> 0;
    i.large = false;
    i.user = us;
    i.writable = user ? rw : rw || !wp;
    i.wpOverride = !user && !rw && !wp;
    return true;
  }

  /** Side-effect-free translation for debugger views: guest-physical or null. */
  peek(lin: number): number | null {
    return this.walk(lin, false, false, false) === true ? this.info.gpa : null;
  }

  // ---- guest-linear accessors (throw GuestPageFault) ----

  private xlate(lin: number, write: boolean, user: boolean): number {
    const r = this.walk(lin, write, user, true);
    if (r !== true) throw new GuestPageFault(lin >>> 0, r);
    return this.info.gpa;
  }

  read8(lin: number, user = false): number {
    return this.readPhys8(this.xlate(lin, false, user));
  }
  write8(lin: number, v: number, user = false): void {
    this.writePhys8(this.xlate(lin, true, user), v & 0xff);
  }
  read(lin: number, size: number, user = false): number {
    let v = 0;
    for (let k = 0; k < size; k++) v |= this.read8((lin + k) >>> 0, user) << (8 * k);
    return v >>> 0;
  }
  /** Writes all bytes or none: every page is checked before the first byte is stored. */
  write(lin: number, size: number, v: number, user = false): void {
    this.xlate(lin, true, user);
    if (((lin & 0xfff) + size - 1) >>> 12 !== 0) this.xlate((lin + size - 1) >>> 0, true, user);
    for (let k = 0; k < size; k++) this.write8((lin + k) >>> 0, (v >>> (8 * k)) & 0xff, user);
  }
  /** Up to `n` bytes for instruction decoding / logging, stopping at the first unmapped byte. */
  fetch(lin: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    let k = 0;
    // One walk per page (a trap record's bytes: called on every logged trap).
    while (k < n) {
      const a = (lin + k) >>> 0;
      const g = this.peek(a);
      if (g === null) break;
      const run = Math.min(n - k, 4096 - (a & 0xfff));
      for (let i = 0; i < run; i++) out[k + i] = this.readPhys8((g + i) >>> 0);
      k += run;
    }
    return k === n ? out : out.slice(0, k);
  }
}

function permit(rw: boolean, us: boolean, write: boolean, user: boolean, wp: boolean): boolean {
  if (user) return us && (!write || rw);
  return !write || rw || !wp;
}
