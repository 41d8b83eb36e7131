/**
 * CpuMmu: paging (SDM Vol.3 ch.4, 32-bit paging), the TLB, data breakpoints, and the linear and
 * implicit supervisor accesses. Segment-checked access, fetch and the stack are access.ts's.
 *
 * TLB: four Int32Array(1M) maps from linear page to `(phys ^ lin) & ~0xFFF | flags`, one each for
 * {supervisor,user} × {read,write}. An entry is -1 when invalid. Low bits: 0 = direct RAM (fast
 * path: `ram[entry ^ lin]`), 1 = slow (ROM/MMIO through MemoryBus). `tlbR`/`tlbW` point at the
 * views for the current CPL. A fill list records live pages so flushes cost O(live entries).
 * The arrays hold each entry inverted (`~entry`, so invalid is 0): a fresh, allocator-zeroed
 * array is an empty TLB and creating a CPU touches none of its 16 MiB. Every read is `~arr[page]`,
 * every store `arr[page] = ~entry`.
 */
import { CpuBase } from './base.ts';
import { CodeMap } from './codemap.ts';
import { CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, FAULT, GP, PFV } from './constants.ts';
import type { CpuCore } from './core.ts';
import { freshBuffer, giveBuffer } from './fresh-buffer.ts';
import { eptTranslate } from './vmx/ept.ts';

const TLB_PAGES = 1 << 20;
const FILL_MAX = 4096;
/** TLB entries per chunk: one 4 KiB host page of an Int32Array table. */
const CHUNK_BITS = 10;
const CHUNKS = TLB_PAGES >>> CHUNK_BITS;

export class CpuMmu extends CpuBase {
  /** One buffer behind the six page-indexed tables below (18 MiB; see fresh-buffer.ts). */
  private readonly pageTables = freshBuffer(18 * TLB_PAGES);
  // Zero-filled, i.e. all invalid (entries are stored inverted): creating a CPU writes none of this.
  readonly tlbRS = new Int32Array(this.pageTables, 0, TLB_PAGES);
  readonly tlbWS = new Int32Array(this.pageTables, 4 * TLB_PAGES, TLB_PAGES);
  readonly tlbRU = new Int32Array(this.pageTables, 8 * TLB_PAGES, TLB_PAGES);
  readonly tlbWU = new Int32Array(this.pageTables, 12 * TLB_PAGES, TLB_PAGES);
  readonly tlbGlobal = new Uint8Array(this.pageTables, 16 * TLB_PAGES, TLB_PAGES);
  /** Linear pages holding an enabled data breakpoint: their TLB entries take the slow path. */
  readonly watchPages = new Uint8Array(this.pageTables, 17 * TLB_PAGES, TLB_PAGES);
  watchOn = false;
  /** watchPages has been written since it was last zeroed. */
  private watchUsed = false;
  /** DR6 B0–B3 bits hit by data accesses of the current instruction (a trap after it). */
  dataBpHits = 0;
  tlbR: Int32Array = this.tlbRS;
  tlbW: Int32Array = this.tlbWS;
  /** Physical pages holding pre-decoded code: their TLB write entries are slow (see codemap.ts). */
  readonly code = new CodeMap(this.ram.length);
  readonly fillList = new Int32Array(FILL_MAX);
  fillCount = 0;
  fillOverflow = false;
  /**
   * Chunks of 1 024 linear pages that have held an entry since the tables were last wholly clear.
   * Once the fill list has overflowed, a flush or a code-page scan visits only these: touching the
   * 17 MiB of tables whole faults in ~4 300 fresh host pages (~12 µs each on a VM: ~50 ms).
   */
  readonly tlbChunks = new Uint8Array(CHUNKS);

  /**
   * Code-fetch window: CS offsets in [fetchLo, fetchHi) lie in one direct RAM page inside the CS
   * limit, at physical `offset + fetchDelta`. fetchHi = 0 invalidates it.
   */
  fetchLo = 0;
  fetchHi = 0;
  fetchDelta = 0;
  /** Cached CS base and limit for fetch. */
  csBase = 0;
  csLim = 0xffff;

  // Pending exception (set by raise()).
  excVector = -1;
  excCode = 0;
  excHasCode = false;
  /** Linear address of the last page fault / data breakpoint candidate (for monitors). */
  faultAddr = 0;

  /** Restore the between-instructions decoder state (no prefixes, sizes from CS.D). */
  resetPrefixes(): void {
    this.opsz32 = this.code32;
    this.adsz32 = this.code32;
    this.segOv = -1;
    this.rep = 0;
    this.lock = false;
  }

  /** Unwind the current instruction with exception `vector`. */
  raise(vector: number, code = -1): never {
    this.excVector = vector;
    this.excCode = Math.max(code, 0);
    this.excHasCode = code >= 0;
    throw FAULT;
  }
  /**
   * What raise() records, returned for the caller to throw (`throw c.fault(GP, 0)`): the throw then
   * unwinds from the caller's frame, not from raise's, which V8 never optimizes on a path that
   * only faults.
   */
  fault(vector: number, code = -1): unknown {
    this.excVector = vector;
    this.excCode = Math.max(code, 0);
    this.excHasCode = code >= 0;
    return FAULT;
  }
  gp(code: number): never {
    return this.raise(GP, code & 0xffff);
  }

  // ---- TLB -----------------------------------------------------------------------------------

  flushTlb(keepGlobal: boolean): void {
    this.fetchHi = 0;
    if (this.fillOverflow) {
      this.code.bump();
      const chunks = this.tlbChunks;
      for (let k = 0; k < CHUNKS; k++) {
        if (chunks[k] === 0) continue;
        const lo = k << CHUNK_BITS;
        const hi = lo + (1 << CHUNK_BITS);
        this.tlbRS.fill(0, lo, hi);
        this.tlbWS.fill(0, lo, hi);
        this.tlbRU.fill(0, lo, hi);
        this.tlbWU.fill(0, lo, hi);
        this.tlbGlobal.fill(0, lo, hi);
      }
      chunks.fill(0);
      this.fillCount = 0;
      this.fillOverflow = false;
      return;
    }
    const list = this.fillList;
    let kept = 0;
    let code = false;
    for (let i = 0; i < this.fillCount; i++) {
      const p = list[i];
      if (keepGlobal && this.tlbGlobal[p]) {
        list[kept++] = p;
        continue;
      }
      if (!code && this.mapsCode(p)) code = true;
      this.tlbRS[p] = 0;
      this.tlbWS[p] = 0;
      this.tlbRU[p] = 0;
      this.tlbWU[p] = 0;
      this.tlbGlobal[p] = 0;
    }
    this.fillCount = kept;
    if (code) this.code.bump();
  }

  /**
   * Linear page `p` has a read entry (either view) on a physical page holding decoded code: block
   * links may rely on it (codemap.ts, epoch), so dropping or replacing it must bump the epoch.
   */
  private mapsCode(p: number): boolean {
    const lin = p << 12;
    const rs = ~this.tlbRS[p];
    const ru = ~this.tlbRU[p];
    return (
      ((rs & 0xfff) === 0 && this.code.active[(rs ^ lin) >>> 12] !== 0) ||
      ((ru & 0xfff) === 0 && this.code.active[(ru ^ lin) >>> 12] !== 0)
    );
  }

  invlpg(lin: number): void {
    const p = lin >>> 12;
    if (this.mapsCode(p)) this.code.bump();
    this.tlbRS[p] = 0;
    this.tlbWS[p] = 0;
    this.tlbRU[p] = 0;
    this.tlbWU[p] = 0;
    this.tlbGlobal[p] = 0;
    this.fetchHi = 0;
  }

  private noteFill(p: number): void {
    if ((this.tlbRS[p] | this.tlbWS[p] | this.tlbRU[p] | this.tlbWU[p]) === 0) {
      this.tlbChunks[p >>> CHUNK_BITS] = 1;
      if (this.fillCount < FILL_MAX) this.fillList[this.fillCount++] = p;
      else this.fillOverflow = true;
    }
  }

  /** Select the TLB views for the current CPL. */
  updateTlbViews(): void {
    const user = this.cpl === 3;
    if (user !== (this.tlbR === this.tlbRU)) this.code.swapView();
    this.tlbR = user ? this.tlbRU : this.tlbRS;
    this.tlbW = user ? this.tlbWU : this.tlbWS;
    this.fetchHi = 0;
  }

  /**
   * Translate linear → physical for an access, filling the TLB. `user`: a CPL-3 access (not an
   * implicit supervisor access). Raises #PF with the SDM §4.7 error code; sets A/D bits only when
   * the access is permitted (as hardware does: no A bits on a faulting walk).
   */
  translate(lin: number, write: boolean, user: boolean, fetch = false): number {
    const page = lin >>> 12;
    const a20 = this.a20Mask;
    // EPT access kind of the final address (vmx/ept.ts): fetch 4, write 2, read 1.
    const eptAccess = fetch ? 4 : write ? 2 : 1;
    if ((this.cr0 & CR0_PG) === 0) {
      let phys = lin & a20;
      // VMX non-root with EPT (vmx/ept.ts): the guest-physical address goes through the EPT walk.
      if (this.eptOn) {
        phys = this.ept(phys, eptAccess, lin, true);
        if (!this.eptR) return phys; // execute-only: nothing a data read could use is cached
      }
      const e = this.eptOn && !this.eptX ? this.entryFor(phys, lin) | 1 : this.entryFor(phys, lin);
      const ew = this.eptOn && !this.eptW ? -1 : this.writeEntry(e, phys);
      this.noteFill(page);
      this.replacing(page, e);
      this.tlbRS[page] = ~e;
      this.tlbWS[page] = ~ew;
      this.tlbRU[page] = ~e;
      this.tlbWU[page] = ~ew;
      if (ew !== -1) this.ramWritten[phys >>> 12] = 1;
      return phys;
    }
    let pdeAddr = ((this.cr3 & ~0xfff) + ((lin >>> 22) << 2)) & a20;
    if (this.eptOn) pdeAddr = this.ept(pdeAddr, 1, lin, false);
    const pde = this.physRead32(pdeAddr);
    const uBit = user ? 4 : 0;
    const wBit = write ? 2 : 0;
    if ((pde & 1) === 0) return this.pageFault(lin, wBit | uBit);
    let phys: number;
    let rw: number;
    let us: number;
    let global: number;
    let dirty: boolean;
    if (pde & 0x80 && this.cr4 & CR4_PSE) {
      // 4 MiB page (SDM §4.3, Table 4-4). Bits 21:13 are reserved without PSE-36.
      if (pde & 0x3fe000) return this.pageFault(lin, 1 | 8 | wBit | uBit);
      rw = pde & 2;
      us = pde & 4;
      if (!this.permit(rw, us, write, user)) return this.pageFault(lin, 1 | wBit | uBit);
      let npde = pde | 0x20;
      if (write) npde |= 0x40;
      if (npde !== pde) this.physWrite32(pdeAddr, npde);
      dirty = (npde & 0x40) !== 0;
      phys = ((pde & 0xffc00000) | (lin & 0x3fffff)) & a20;
      global = pde & 0x100;
    } else {
      let pteAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) & a20;
      if (this.eptOn) pteAddr = this.ept(pteAddr, 1, lin, false);
      const pte = this.physRead32(pteAddr);
      if ((pte & 1) === 0) return this.pageFault(lin, wBit | uBit);
      rw = pde & pte & 2;
      us = pde & pte & 4;
      if (!this.permit(rw, us, write, user)) return this.pageFault(lin, 1 | wBit | uBit);
      if ((pde & 0x20) === 0) this.physWrite32(pdeAddr, pde | 0x20);
      let npte = pte | 0x20;
      if (write) npte |= 0x40;
      if (npte !== pte) this.physWrite32(pteAddr, npte);
      dirty = (npte & 0x40) !== 0;
      phys = ((pte & ~0xfff) | (lin & 0xfff)) & a20;
      global = pte & 0x100;
    }
    if (this.eptOn) {
      phys = this.ept(phys, eptAccess, lin, true);
      if (!this.eptR) return phys;
    }
    // A leaf without EPT execute permission is cached non-direct: fetches through it walk again.
    const e = this.eptOn && !this.eptX ? this.entryFor(phys, lin) | 1 : this.entryFor(phys, lin);
    const ew = this.writeEntry(e, phys);
    this.noteFill(page);
    if (global && this.cr4 & CR4_PGE) this.tlbGlobal[page] = 1;
    this.replacing(page, e);
    // Supervisor may always read; user only if U/S. Writes cached only once the page is dirty.
    this.tlbRS[page] = ~e;
    if (us) this.tlbRU[page] = ~e;
    if (dirty && (!this.eptOn || this.eptW)) {
      if (rw || (this.cr0 & CR0_WP) === 0) this.tlbWS[page] = ~ew;
      if (rw && us) this.tlbWU[page] = ~ew;
      this.ramWritten[phys >>> 12] = 1;
    }
    return phys;
  }

  private permit(rw: number, us: number, write: boolean, user: boolean): boolean {
    if (user) {
      if (!us) return false;
      if (write && !rw) return false;
      return true;
    }
    if (write && !rw && this.cr0 & CR0_WP) return false;
    return true;
  }

  /** Guest-physical → host-physical through the EPT (VMX non-root only; see vmx/ept.ts). */
  private ept(gpa: number, access: number, lin: number, final: boolean): number {
    return eptTranslate(this as unknown as CpuCore, gpa, access, lin, true, final);
  }

  private pageFault(lin: number, code: number): never {
    // A #PF that causes a VM exit leaves CR2 unchanged (SDM Vol.3C §27.1): keep the old value.
    if (this.vmxNonRoot) this.vmxCr2 = this.cr2;
    this.cr2 = lin | 0;
    this.faultAddr = lin | 0;
    return this.raise(PFV, code);
  }

  private entryFor(phys: number, lin: number): number {
    const direct =
      this.mem.isDirect(phys >>> 12) && phys + 4096 <= this.ram.length && this.watchPages[lin >>> 12] === 0;
    return ((phys ^ lin) & ~0xfff) | (direct ? 0 : 1);
  }

  /** A live read entry for `page` is being replaced by `e`: links relying on it are stale. */
  private replacing(page: number, e: number): void {
    const rs = ~this.tlbRS[page];
    const ru = ~this.tlbRU[page];
    if (((rs !== -1 && rs !== e) || (ru !== -1 && ru !== e)) && this.mapsCode(page)) this.code.bump();
  }

  /** The write-TLB form of entry `e`: writes to pages holding decoded code take the slow path. */
  private writeEntry(e: number, phys: number): number {
    return (e & 1) === 0 && this.code.active[phys >>> 12] !== 0 ? e | 1 : e;
  }

  /**
   * Physical page `page` has just become a code page: live TLB write entries that map it become
   * slow, so every later store to it reaches physWrite* and its code check.
   */
  markCodePage(page: number): void {
    // Not a TLB flush: that would be visible (a re-walk sets A bits the guest may have cleared).
    if (!this.fillOverflow) {
      const list = this.fillList;
      for (let i = 0; i < this.fillCount; i++) this.slowWrites(list[i], page);
      return;
    }
    const chunks = this.tlbChunks;
    for (let k = 0; k < CHUNKS; k++) {
      if (chunks[k] === 0) continue;
      const hi = (k + 1) << CHUNK_BITS;
      for (let p = k << CHUNK_BITS; p < hi; p++) this.slowWrites(p, page);
    }
  }

  /** Make linear page `p`'s write entries slow if they map physical page `page`. */
  private slowWrites(p: number, page: number): void {
    const ws = ~this.tlbWS[p];
    if (ws !== -1 && (ws & 1) === 0 && (ws ^ (p << 12)) >>> 12 === page) this.tlbWS[p] = ~(ws | 1);
    const wu = ~this.tlbWU[p];
    if (wu !== -1 && (wu & 1) === 0 && (wu ^ (p << 12)) >>> 12 === page) this.tlbWU[p] = ~(wu | 1);
  }

  /**
   * RAM at physical `addr` was written other than through the fast TLB path (slow path here, or
   * a host-side writer such as a loader or a VMM). Decoded code there is dropped, and the run loop
   * leaves its block at the next instruction boundary.
   */
  codeWritten(addr: number, len: number): void {
    // A host-side writer (loader, VMM) reports here, so this is also where its pages are marked
    // written: a machine disposed with recycled RAM (PhysicalMemory.release) zeroes them.
    const w = this.ramWritten;
    const last = Math.min((addr + len - 1) >>> 12, w.length - 1);
    for (let p = addr >>> 12; p <= last; p++) w[p] = 1;
    if (this.code.written(addr, len)) this.attention = true;
  }

  // ---- physical access (page walker, slow paths) -----------------------------------------------

  physRead8(p: number): number {
    if (this.mem.isDirect(p >>> 12) && p < this.ram.length) return this.ram[p];
    this.checkIntr = true;
    this.attention = true;
    return this.mem.read8(p) & 0xff;
  }
  physWrite8(p: number, v: number): void {
    if (this.mem.isDirect(p >>> 12) && p < this.ram.length) {
      this.ram[p] = v;
      this.ramWritten[p >>> 12] = 1;
      if (this.code.active[p >>> 12] !== 0) this.codeWritten(p, 1);
    } else {
      this.checkIntr = true;
      this.attention = true;
      this.mem.write8(p, v & 0xff);
    }
  }
  physRead32(p: number): number {
    if ((p & 3) === 0 && this.ram32 !== null && p + 4 <= this.ram.length && this.mem.isDirect(p >>> 12))
      return this.ram32[p >>> 2];
    return (
      this.physRead8(p) |
      (this.physRead8(p + 1) << 8) |
      (this.physRead8(p + 2) << 16) |
      (this.physRead8(p + 3) << 24)
    );
  }
  physWrite32(p: number, v: number): void {
    if ((p & 3) === 0 && this.ram32 !== null && p + 4 <= this.ram.length && this.mem.isDirect(p >>> 12)) {
      this.ram32[p >>> 2] = v;
      this.ramWritten[p >>> 12] = 1;
      if (this.code.active[p >>> 12] !== 0) this.codeWritten(p, 4);
      return;
    }
    this.physWrite8(p, v & 0xff);
    this.physWrite8(p + 1, (v >>> 8) & 0xff);
    this.physWrite8(p + 2, (v >>> 16) & 0xff);
    this.physWrite8(p + 3, v >>> 24);
  }

  // ---- linear access with current privilege --------------------------------------------------

  /** Data breakpoints (SDM §17.2.4–17.2.5): record DR0–DR3 matches of an access as a pending trap. */
  bpCheck(lin: number, len: number, write: boolean): void {
    if (!this.watchOn) return;
    const dr7 = this.dr[7];
    for (let i = 0; i < 4; i++) {
      if (((dr7 >> (i * 2)) & 3) === 0) continue;
      const rw = (dr7 >>> (16 + i * 4)) & 3;
      if (rw === 0 || rw === 2 || (rw === 1 && !write)) continue;
      const l = (dr7 >>> (18 + i * 4)) & 3;
      const blen = l === 0 ? 1 : l === 1 ? 2 : l === 3 ? 4 : 8;
      const start = (this.dr[i] & ~(blen - 1)) >>> 0;
      const a = lin >>> 0;
      if (a <= start + blen - 1 && start <= a + len - 1) {
        this.dataBpHits |= 1 << i;
        this.attention = true;
      }
    }
  }

  /**
   * Zero the TLB tables and hand their buffer to the next CPU (fresh-buffer.ts); only the chunks
   * ever filled are written. The CPU must not run afterwards.
   */
  releaseTables(): void {
    this.fillOverflow = true;
    this.flushTlb(false);
    if (this.watchUsed) this.watchPages.fill(0);
    this.watchUsed = false;
    this.watchOn = false;
    giveBuffer(this.pageTables);
  }

  /** Recompute watched pages after DR0–DR3/DR7 change. */
  updateWatch(): void {
    if (this.watchUsed) this.watchPages.fill(0);
    this.watchUsed = false;
    const dr7 = this.dr[7];
    let on = false;
    for (let i = 0; i < 4; i++) {
      const rw = (dr7 >>> (16 + i * 4)) & 3;
      if (((dr7 >> (i * 2)) & 3) === 0 || rw === 0 || rw === 2) continue;
      on = true;
      this.watchUsed = true;
      this.watchPages[this.dr[i] >>> 12] = 1;
      this.watchPages[((this.dr[i] + 7) | 0) >>> 12] = 1;
    }
    this.watchOn = on;
    this.fillOverflow = true;
    this.flushTlb(false);
  }

  /**
   * Physical address for a linear read/write (or, with `fetch`, an instruction fetch) by the
   * current CPL, through the TLB. Under EPT a non-direct entry may lack execute permission, so a
   * fetch translates it again. fetchSlow() comes here too rather than calling translate() itself:
   * its own call site first ran long after fastLoop was optimized with it inlined (the blocks'
   * pre-decoder fills the code pages' TLB entries), so fastLoop deoptimized there and was compiled
   * again by TurboFan; this call site has run since the first data access.
   */
  xlate(lin: number, write: boolean, fetch = false): number {
    const e = ~(write ? this.tlbW : this.tlbR)[lin >>> 12];
    if (e !== -1 && !(fetch && this.eptOn && (e & 0xfff) !== 0)) return e ^ lin ^ (e & 0xfff);
    return this.translate(lin, write, this.cpl === 3, fetch);
  }

  lrd8(lin: number): number {
    const e = ~this.tlbR[lin >>> 12];
    if ((e & 0xfff) === 0) return this.ram[e ^ lin];
    if (this.watchOn) this.bpCheck(lin, 1, false);
    return this.physRead8(this.xlate(lin, false));
  }
  lrd16(lin: number): number {
    if ((lin & 0xfff) !== 0xfff) {
      const e = ~this.tlbR[lin >>> 12];
      if ((e & 0xfff) === 0) {
        const p = e ^ lin;
        return this.ram[p] | (this.ram[p + 1] << 8);
      }
    }
    if (this.watchOn) this.bpCheck(lin, 2, false);
    return this.lrd8(lin) | (this.lrd8((lin + 1) | 0) << 8);
  }
  lrd32(lin: number): number {
    if ((lin & 0xfff) <= 0xffc) {
      const e = ~this.tlbR[lin >>> 12];
      if ((e & 0xfff) === 0) {
        const p = e ^ lin;
        if ((p & 3) === 0 && this.ram32 !== null) return this.ram32[p >>> 2];
        const r = this.ram;
        return r[p] | (r[p + 1] << 8) | (r[p + 2] << 16) | (r[p + 3] << 24);
      }
    }
    if (this.watchOn) this.bpCheck(lin, 4, false);
    return this.lrd16(lin) | (this.lrd16((lin + 2) | 0) << 16);
  }
  lwr8(lin: number, v: number): void {
    const e = ~this.tlbW[lin >>> 12];
    if ((e & 0xfff) === 0) {
      this.ram[e ^ lin] = v;
      return;
    }
    if (this.watchOn) this.bpCheck(lin, 1, true);
    this.physWrite8(this.xlate(lin, true), v & 0xff);
  }
  lwr16(lin: number, v: number): void {
    if ((lin & 0xfff) !== 0xfff) {
      const e = ~this.tlbW[lin >>> 12];
      if ((e & 0xfff) === 0) {
        const p = e ^ lin;
        this.ram[p] = v;
        this.ram[p + 1] = v >> 8;
        return;
      }
    }
    // Translate both bytes before writing either: the instruction must stay restartable.
    if (this.watchOn) this.bpCheck(lin, 2, true);
    const p0 = this.xlate(lin, true);
    const p1 = this.xlate((lin + 1) | 0, true);
    this.physWrite8(p0, v & 0xff);
    this.physWrite8(p1, (v >> 8) & 0xff);
  }
  lwr32(lin: number, v: number): void {
    if ((lin & 0xfff) <= 0xffc) {
      const e = ~this.tlbW[lin >>> 12];
      if ((e & 0xfff) === 0) {
        const p = e ^ lin;
        if ((p & 3) === 0 && this.ram32 !== null) {
          this.ram32[p >>> 2] = v;
          return;
        }
        const r = this.ram;
        r[p] = v;
        r[p + 1] = v >> 8;
        r[p + 2] = v >> 16;
        r[p + 3] = v >> 24;
        return;
      }
    }
    if (this.watchOn) this.bpCheck(lin, 4, true);
    const p0 = this.xlate(lin, true);
    const p3 = this.xlate((lin + 3) | 0, true);
    if ((p0 & 0xfff) <= 0xffc) {
      for (let i = 0; i < 4; i++) this.physWrite8(p0 + i, (v >>> (8 * i)) & 0xff);
    } else {
      for (let i = 0; i < 4; i++) {
        const li = (lin + i) | 0;
        const pi = ((li ^ lin) & ~0xfff) === 0 ? p0 + i : (p3 & ~0xfff) | (li & 0xfff);
        this.physWrite8(pi, (v >>> (8 * i)) & 0xff);
      }
    }
  }

  // ---- supervisor (implicit) linear accesses: descriptor tables, TSS, IDT --------------------

  srd8(lin: number): number {
    const e = ~this.tlbRS[lin >>> 12];
    const p = (e & 0xfff) === 0 ? e ^ lin : this.sxlate(lin, false);
    return this.physRead8(p);
  }
  srd16(lin: number): number {
    return this.srd8(lin) | (this.srd8((lin + 1) | 0) << 8);
  }
  srd32(lin: number): number {
    return this.srd16(lin) | (this.srd16((lin + 2) | 0) << 16);
  }
  swr8(lin: number, v: number): void {
    this.physWrite8(this.sxlate(lin, true), v & 0xff);
  }
  swr16(lin: number, v: number): void {
    const p0 = this.sxlate(lin, true);
    const p1 = this.sxlate((lin + 1) | 0, true);
    this.physWrite8(p0, v & 0xff);
    this.physWrite8(p1, (v >>> 8) & 0xff);
  }
  swr32(lin: number, v: number): void {
    this.swr16(lin, v & 0xffff);
    this.swr16((lin + 2) | 0, v >>> 16);
  }
  sxlate(lin: number, write: boolean): number {
    const e = ~(write ? this.tlbWS : this.tlbRS)[lin >>> 12];
    if (e !== -1) return e ^ lin ^ (e & 0xfff);
    return this.translate(lin, write, false);
  }
}
