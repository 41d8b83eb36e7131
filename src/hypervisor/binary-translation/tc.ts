/**
 * The translation cache (TC): real IA-32 code the CPU executes at ring 1 in the VMM's 4 MiB slot
 * of the linear address space, with the bookkeeping the VMM needs around it:
 *
 * - `units`: guest EIP → translation unit (the lookup for dispatch and chaining);
 * - `sites`: TC offset of each callout instruction → what the VMM must do there;
 * - the TC → guest map (`starts`/`guests`/`exact`): for every translated instruction, its TC
 *   offset and the guest EIP it stands for, so a fault or an interrupt inside the TC is delivered
 *   with the guest's EIP (guest-precise state). `exact` is false inside a rewritten sequence whose
 *   first instruction has already changed guest state (no interrupt may be injected there);
 * - `pageUnits`: guest-physical page → the units translated from it (coherence: a write there
 *   drops them); `incoming` links (chaining) are re-pointed at their stubs when a unit goes.
 *
 * The TC is bounded (`size` bytes): when a unit does not fit, everything is flushed (logged by the
 * caller). A flush, or a move of the VMM slot, bumps `gen`; anything older is dead.
 */

import { Listings } from './listing.ts';

export const TC_PAGES = 256;
/** SiteTable index chunks: 2^CHUNK_BITS slots each (two TC bytes a slot). */
const CHUNK_BITS = 12;
const CHUNK_SLOTS = 1 << CHUNK_BITS;
/** Page indices inside the VMM slot: 0–31 shadow GDT/LDT (shadow.ts), the area, then the TC. */
export const AREA_PAGE = 32;
export const TC_PAGE = 64;
/**
 * The VM's virtual-CPU area (one page, the only writable one of the slot). Dwords:
 * - AREA_VIF: the virtual IF as the EFLAGS bit (0x200 = interrupts enabled, 0 = disabled), so the
 *   inline PUSHF can add it to a real flags image and the inline CLI/STI/POPF store it directly;
 * - AREA_SCR, AREA_SCR2: the guest's ECX/EDX while an inline sequence borrows them;
 * - AREA_TARGET: the guest target of an inline indirect branch (RET, JMP/CALL r/m);
 * - AREA_IOPL: the virtual IOPL << 12 (the inline POPF calls out when an image changes it);
 * - AREA_FADJ: what turns a real ring-1 PUSHF image (IF = 1, IOPL = 0, TF maybe the VMM's) into
 *   the guest's, besides the virtual IF: (IOPL << 12) − 0x200 − (the VMM's TF);
 * - AREA_PENDING: 1 while the VM's virtual PIC has an interrupt to deliver (written by the VMM on
 *   every exit from it; devices change only inside the VMM), so an inline STI/POPF that enables
 *   interrupts calls out only when one is waiting.
 */
export const AREA_VIF = 0;
export const AREA_SCR = 4;
export const AREA_TARGET = 8;
export const AREA_SCR2 = 12;
export const AREA_IOPL = 16;
export const AREA_FADJ = 20;
export const AREA_PENDING = 24;
/**
 * The guest's GS selector (zero-extended) while the VMM holds it (vmm-gs.ts): the inline
 * MOV r32/r16←GS and PUSH GS read it, as the CPU reads its segment register.
 */
export const AREA_GSSEL = 28;
/** How a TC instruction maps back (tc.mapInsn): */
export const Map_ = {
  /** Inside a rewritten sequence: the guest state is half-way; nothing may happen here. */
  Mid: 0,
  /** A guest instruction boundary: interrupts may be injected, faults restart here. */
  Exact: 1,
  /**
   * Guest state is exactly that before the guest instruction (every borrowed register restored),
   * but the sequence has started: a fault here is precise and restarts at this TC instruction,
   * yet no interrupt is injected here.
   */
  Precise: 2,
} as const;
/**
 * The RET lookup table: 65,536 TC addresses (a unit's entry check, or the miss stub) indexed by
 * the low 16 bits of the guest target, in its own 64 pages of the slot after the TC.
 */
export const TABLE_PAGE = TC_PAGE + TC_PAGES;
export const TABLE_PAGES = 64;
export const TABLE_ENTRIES = 65536;
/**
 * Chaining cells: one dword per exit whose target was not translated yet, holding the TC address
 * its `jmp gs:[cell]` goes to (first its callout stub, then the target unit once chained). Chaining
 * writes a cell, never the code: a write into translated code makes the CPU drop every block it
 * decoded from that page (and gives the page up after a few dozen), so patching rel32s as units
 * chain kept the hottest TC pages in the interpreter. Read-only to the guest, after the table.
 */
export const CELL_PAGE = TABLE_PAGE + TABLE_PAGES;
export const CELL_PAGES = 32;
export const CELLS = CELL_PAGES * 1024;

export interface Exit {
  /** Guest EIP the branch goes to. */
  target: number;
  /** TC offset of the branch's rel32 when it goes straight to its target (linked when translated), else -1. */
  patch: number;
  /** Its chaining cell (CELLS), or -1 (a direct branch, or a transient unit's exit). */
  cell: number;
  /** TC offset of this exit's callout stub. */
  stub: number;
  /** Unit it is chained to, or null (goes through its stub). */
  linked: Unit | null;
  from: Unit;
}

export interface Unit {
  id: number;
  gen: number;
  guestEip: number;
  /** Guest-physical address of its first byte (checked on every dispatch lookup). */
  gpa: number;
  /** Guest-physical pages its bytes came from. */
  pages: number[];
  start: number;
  end: number;
  exits: Exit[];
  incoming: Exit[];
  valid: boolean;
  /** Not entered in the lookup and protects nothing (one instruction re-run after an SMC write). */
  transient: boolean;
  insns: number;
  ident: number;
  rewritten: number;
  guestBytes: number;
  /** Its first row and first guest byte in the TC's `listings` (the UI's listing, built on demand). */
  row0: number;
  byte0: number;
  /** Times the VMM dispatched into it (lookups, not chained entries). */
  dispatches: number;
  /** TC offset of its entry check for indirect branches (RET lookup table), or -1. */
  indEntry: number;
}

export interface Site {
  co: number;
  op: number;
  guestEip: number;
  len: number;
  /** TC offset right after the callout instruction (where a non-control callout resumes). */
  resume: number;
  /** The callout ends its unit (nothing to resume at after it). */
  ends: boolean;
  /** The guest instruction's bytes (equal to guest memory while the unit is alive: coherence). */
  bytes: Uint8Array;
  unit: Unit;
  exit: Exit | null;
  /** Times this callout fired. */
  count: number;
}

export class TranslationCache {
  readonly size = TC_PAGES * 4096;
  used = 0;
  gen = 1;
  /** Bumped whenever a unit dies or the TC is flushed (a saved TC address may be stale). */
  epoch = 0;
  units = new Map<number, Unit>();
  readonly sites = new SiteTable(TC_PAGES * 4096);
  pageUnits = new Map<number, Set<Unit>>();
  private starts = new Int32Array(4096);
  private guests = new Int32Array(4096);
  private exact = new Uint8Array(4096);
  private n = 0;
  private nextId = 1;
  /** TC offset of the shared RET-lookup miss stub (emitted after every flush), or -1. */
  missStub = -1;
  /** Called when a unit dies (the VMM unhooks it from the RET lookup table). */
  onKill: ((u: Unit) => void) | null = null;
  /**
   * Statistics: `linked` exits went straight to a unit that existed when they were translated;
   * `codePatches` are writes into already-written TC code (re-pointing a direct branch at its stub
   * when its target dies), each of which makes the CPU drop the blocks it decoded from that page.
   */
  stats = {
    units: 0,
    flushes: 0,
    invalidations: 0,
    chained: 0,
    linked: 0,
    codePatches: 0,
    lookups: 0,
    callouts: 0,
  };
  /** Chaining cells handed out since the last flush. */
  cellsUsed = 0;
  /** Linear address of TC offset 0 (the VMM sets it whenever the TC is emptied). */
  lin = 0;
  /** The guest instructions of every unit since the last flush (see `Unit.row0`). */
  readonly listings = new Listings();

  constructor(
    private readonly ram: Uint8Array,
    /** Host frames of the TC pages, in order. */
    readonly frames: number[],
    /** Told of every write into TC code (the CPU drops what it decoded there). An object, not a closure: a stable call target. */
    private readonly code: { codeWritten(host: number, len: number): void },
    /** Host frames of the chaining cells (CELL_PAGES). */
    readonly cellFrames: number[] = [],
  ) {}

  newUnit(guestEip: number, gpa: number, transient: boolean): Unit {
    return {
      id: this.nextId++,
      gen: this.gen,
      guestEip,
      gpa,
      pages: [],
      start: this.used,
      end: this.used,
      exits: [],
      incoming: [],
      valid: true,
      transient,
      insns: 0,
      ident: 0,
      rewritten: 0,
      guestBytes: 0,
      row0: this.listings.rows,
      byte0: this.listings.used,
      dispatches: 0,
      indEntry: -1,
    };
  }

  /** Host address of TC offset `off`. */
  host(off: number): number {
    return this.frames[off >>> 12] + (off & 0xfff);
  }

  /** Copy code into the TC (the CPU forgets any pre-decoded code there). */
  write(off: number, bytes: ArrayLike<number>): void {
    let i = 0;
    while (i < bytes.length) {
      const h = this.host(off + i);
      const n = Math.min(bytes.length - i, 4096 - ((off + i) & 0xfff));
      for (let k = 0; k < n; k++) this.ram[h + k] = bytes[i + k];
      this.code.codeWritten(h, n);
      i += n;
    }
  }

  /** A fresh chaining cell (the caller checked `cellsFree`). */
  newCell(): number {
    return this.cellsUsed++;
  }
  get cellsFree(): number {
    return this.cellFrames.length * 1024 - this.cellsUsed;
  }
  /** Host address of cell `i`. */
  cellHost(i: number): number {
    return this.cellFrames[i >>> 10] + 4 * (i & 1023);
  }
  /** Point cell `i` at TC offset `to` (a data store: no decoded code is touched). */
  setCell(i: number, to: number): void {
    const h = this.cellHost(i);
    const v = (this.lin + to) >>> 0;
    this.ram[h] = v & 0xff;
    this.ram[h + 1] = (v >>> 8) & 0xff;
    this.ram[h + 2] = (v >>> 16) & 0xff;
    this.ram[h + 3] = v >>> 24;
  }

  readBytes(off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.ram[this.host(off + i)];
    return out;
  }

  /** Point the rel32 at TC offset `patch` to TC offset `to`. */
  patchRel32(patch: number, to: number): void {
    this.stats.codePatches++;
    const rel = (to - (patch + 4)) | 0;
    this.write(patch, [rel & 0xff, (rel >>> 8) & 0xff, (rel >>> 16) & 0xff, (rel >>> 24) & 0xff]);
  }

  /** Entries in the TC → guest map so far (see `setMapKind`). */
  get mapped(): number {
    return this.n;
  }
  /** Change how map entry `i` maps back (the STI shadow makes the next instruction non-exact). */
  setMapKind(i: number, kind: number): void {
    if (i < this.n) this.exact[i] = kind;
  }

  /**
   * Record that TC offset `tc` holds code standing for guest EIP `guest`; `exact`: true/Map_.Exact,
   * false/Map_.Mid, or Map_.Precise.
   */
  mapInsn(tc: number, guest: number, exact: boolean | number): void {
    if (this.n === this.starts.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts, (k) => new Int32Array(k));
      this.guests = grow(this.guests, (k) => new Int32Array(k));
      this.exact = grow(this.exact, (k) => new Uint8Array(k));
    }
    this.starts[this.n] = tc;
    this.guests[this.n] = guest;
    this.exact[this.n] = exact === true ? 1 : exact === false ? 0 : exact;
    this.n++;
  }

  /**
   * The guest EIP a TC offset stands for. `exact`: `tc` is the first TC instruction of a guest
   * instruction (or a point where the guest state is complete), so an interrupt may be taken there.
   */
  toGuest(tc: number): { guest: number; exact: boolean; precise: boolean } | null {
    let lo = 0;
    let hi = this.n - 1;
    if (hi < 0 || tc < this.starts[0]) return null;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid] <= tc) lo = mid;
      else hi = mid - 1;
    }
    const at = this.starts[lo] === tc;
    return {
      guest: this.guests[lo] >>> 0,
      exact: at && this.exact[lo] === 1,
      precise: at && this.exact[lo] !== 0,
    };
  }

  /** Enter a finished unit: lookup, coherence pages. */
  commit(u: Unit): void {
    this.used = u.end;
    this.stats.units++;
    if (u.transient) return;
    this.units.set(u.guestEip, u);
    for (const p of u.pages) {
      let s = this.pageUnits.get(p);
      if (!s) {
        s = new Set();
        this.pageUnits.set(p, s);
      }
      s.add(u);
    }
  }

  /** Chain exit `e` straight to unit `to` (through its cell; a direct branch only if it has none). */
  link(e: Exit, to: Unit): void {
    if (!e.from.valid || e.from.gen !== this.gen || !to.valid || to.transient) return;
    if (e.cell >= 0) this.setCell(e.cell, to.start);
    else this.patchRel32(e.patch, to.start);
    e.linked = to;
    to.incoming.push(e);
    this.stats.chained++;
  }

  /** Drop every unit translated from guest-physical page `page`. Returns how many went. */
  invalidatePage(page: number): number {
    const s = this.pageUnits.get(page);
    if (!s) return 0;
    this.pageUnits.delete(page);
    let n = 0;
    for (const u of s) if (this.kill(u)) n++;
    this.stats.invalidations += n;
    return n;
  }

  /** Take a unit out of service: unlink its predecessors (back to their stubs), drop its lookup. */
  kill(u: Unit): boolean {
    if (!u.valid) return false;
    u.valid = false;
    this.epoch++;
    if (this.units.get(u.guestEip) === u) this.units.delete(u.guestEip);
    for (const e of u.incoming) {
      if (e.linked === u && e.from.valid && e.from.gen === this.gen) {
        if (e.cell >= 0) this.setCell(e.cell, e.stub);
        else this.patchRel32(e.patch, e.stub);
        e.linked = null;
      }
    }
    u.incoming = [];
    for (const p of u.pages) this.pageUnits.get(p)?.delete(u);
    if (u.indEntry >= 0) this.onKill?.(u);
    return true;
  }

  /** Empty the whole TC. */
  flush(): number {
    const n = this.units.size;
    for (const u of this.units.values()) u.valid = false;
    this.units.clear();
    this.sites.clear();
    this.pageUnits.clear();
    this.listings.clear();
    this.n = 0;
    this.used = 0;
    this.cellsUsed = 0;
    this.missStub = -1;
    this.gen++;
    this.epoch++;
    this.stats.flushes++;
    return n;
  }

  /** Pages holding translated code (coherence). */
  isCodePage(page: number): boolean {
    const s = this.pageUnits.get(page);
    return s !== undefined && s.size > 0;
  }
}

/**
 * TC offset → callout site, for the VMM's lookup on every callout. A typed-array index over the
 * TC's bytes (two bytes per slot: a site is a 2-byte `int 0xBB`), not a Map: a Map of the ~50 k
 * sites of a Linux boot, grown one entry at a time, cost more than 1 µs per entry (its growing
 * tables were copied again by every young-generation collection) — more than the translation it
 * served. The index is made of 16 KiB chunks (8 KiB of TC each), each allocated when a site first
 * lands in it: one 2 MiB index, allocated and cleared whole, was ~2 ms of every Session creation
 * under binary translation (issue 15: ≤ 10 ms), and its fill again at every TC flush.
 */
export class SiteTable {
  /** Per chunk of CHUNK_SLOTS slots (slot = offset >> 1): 1 + index in `list`, or 0; null: none yet. */
  private readonly ix: (Int32Array | null)[];
  /** The TC offset of each listed site (two offsets share a slot; only one can be a site). */
  private offs = new Int32Array(4096);
  private list: Site[] = [];

  constructor(tcBytes: number) {
    this.ix = new Array<Int32Array | null>(Math.ceil((tcBytes >>> 1) / CHUNK_SLOTS)).fill(null);
  }

  get size(): number {
    return this.list.length;
  }

  get(off: number): Site | undefined {
    const chunk = this.ix[off >>> (CHUNK_BITS + 1)];
    if (chunk === undefined || chunk === null) return undefined;
    const i = chunk[(off >>> 1) & (CHUNK_SLOTS - 1)];
    if (i === 0 || this.offs[i - 1] !== off) return undefined;
    return this.list[i - 1];
  }

  set(off: number, site: Site): void {
    const c = off >>> (CHUNK_BITS + 1);
    let chunk = this.ix[c];
    // Past the TC (never, from the translator): listed, not found by get(), as a typed array drops it.
    if (chunk === null) {
      chunk = new Int32Array(CHUNK_SLOTS);
      this.ix[c] = chunk;
    }
    const slot = (off >>> 1) & (CHUNK_SLOTS - 1);
    const i = chunk === undefined ? 0 : chunk[slot];
    if (i !== 0 && this.offs[i - 1] === off) {
      this.list[i - 1] = site;
      return;
    }
    const n = this.list.length;
    if (n === this.offs.length) {
      const o = new Int32Array(n * 2);
      o.set(this.offs);
      this.offs = o;
    }
    this.offs[n] = off;
    this.list.push(site);
    if (chunk !== undefined) chunk[slot] = n + 1;
  }

  clear(): void {
    this.ix.fill(null);
    this.list = [];
  }

  values(): readonly Site[] {
    return this.list;
  }
}
