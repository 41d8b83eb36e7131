/**
 * Which physical RAM pages hold pre-decoded code (blocks.ts), so that a write to them can drop
 * the stale translations: the self-modifying-code rule. SDM Vol.3 §8.1.3: a store to an address
 * in the instruction stream takes effect for every later instruction (P6 and later snoop their
 * prefetch queue), which is what the interpreter does naturally and the block cache must match.
 *
 * Per page we keep the byte range [lo, hi) covered by decoded instructions, so writes to data
 * that merely shares a page with code (a small guest's stack or variables) do not throw the code
 * away. A page invalidated too often is given up on (`noCache`): it runs in the interpreter.
 */

/** Invalidations after which a page is never cached again (until reset). */
const STRIKES = 32;

export class CodeMap {
  /** Number of RAM pages tracked. */
  readonly pages: number;
  /** 1 while the page holds decoded code (its TLB write entries take the slow path). */
  readonly active: Uint8Array;
  /** Covered byte range inside an active page. */
  readonly lo: Uint16Array;
  readonly hi: Uint16Array;
  /** Bumped on every invalidation; a block is valid only while its page's generation matches. */
  readonly gen: Int32Array;
  /** Invalidation count per page; at STRIKES the page gets `noCache`. */
  readonly strikes: Uint8Array;
  readonly noCache: Uint8Array;
  /** Total invalidations (for stats). */
  invalidations = 0;
  /**
   * Block-to-block links (blocks.ts) hold while this is unchanged. It moves (bump) whenever what a
   * link relies on may have changed: the linear → physical mapping of a page holding decoded code
   * (a TLB flush, INVLPG or changed translation that drops or replaces such an entry: mmu.ts),
   * CS's base, limit or default size, decoded bytes (an invalidation), or the block cache (a flush).
   * A TLB entry of a page without decoded code cannot be what a link relies on (a link is made to a
   * block just found through a live entry, and the page stays `active` until an invalidation bumps
   * the epoch), so the VMM's INVLPGs of data pages keep every link.
   *
   * One value per TLB view (supervisor, user: a link's target was found through the view it was
   * made in): `epoch` is the current view's, `otherEpoch` the other's, swapped on a view change
   * (swapView). Both move by 4 on every bump and start at 0 and 2, so they never meet, and
   * `epoch - 1` (odd) is never valid: blocks.ts marks "no link yet" with it.
   */
  epoch = 0;
  private otherEpoch = 2;

  /** Drop every block link, in both TLB views. */
  bump(): void {
    this.epoch = (this.epoch + 4) | 0;
    this.otherEpoch = (this.otherEpoch + 4) | 0;
  }

  /** The CPU switched TLB views (CPL 3 ⇄ CPL 0–2): links made in the other view apply again. */
  swapView(): void {
    const e = this.epoch;
    this.epoch = this.otherEpoch;
    this.otherEpoch = e;
  }

  constructor(ramBytes: number) {
    this.pages = Math.ceil(ramBytes / 4096);
    this.active = new Uint8Array(this.pages);
    this.lo = new Uint16Array(this.pages);
    this.hi = new Uint16Array(this.pages);
    this.gen = new Int32Array(this.pages);
    this.strikes = new Uint8Array(this.pages);
    this.noCache = new Uint8Array(this.pages);
  }

  /**
   * Record that [off, end) of physical page `page` now holds decoded code. Returns true when the
   * page was not active before (the caller must make existing TLB write entries slow).
   */
  cover(page: number, off: number, end: number): boolean {
    if (this.active[page] === 0) {
      this.active[page] = 1;
      this.lo[page] = off;
      this.hi[page] = end;
      return true;
    }
    if (off < this.lo[page]) this.lo[page] = off;
    if (end > this.hi[page]) this.hi[page] = end;
    return false;
  }

  /**
   * `len` bytes at physical `addr` were written. Returns true when decoded code was hit (all
   * blocks of that page are now stale).
   */
  written(addr: number, len: number): boolean {
    let hit = false;
    const last = addr + len - 1;
    for (let p = addr >>> 12; p <= last >>> 12 && p < this.pages; p++) {
      if (this.active[p] === 0) continue;
      const s = p === addr >>> 12 ? addr & 0xfff : 0;
      const e = p === last >>> 12 ? (last & 0xfff) + 1 : 4096;
      if (e <= this.lo[p] || s >= this.hi[p]) continue;
      this.invalidatePage(p);
      hit = true;
    }
    return hit;
  }

  invalidatePage(p: number): void {
    this.active[p] = 0;
    this.bump();
    this.gen[p] = (this.gen[p] + 1) | 0;
    this.invalidations++;
    if (this.strikes[p] < 255 && ++this.strikes[p] >= STRIKES) this.noCache[p] = 1;
  }

  /** Forget everything (reset, or RAM replaced wholesale by a loader). */
  clear(): void {
    this.bump();
    for (let p = 0; p < this.pages; p++) {
      if (this.active[p]) this.gen[p] = (this.gen[p] + 1) | 0;
    }
    this.active.fill(0);
    this.strikes.fill(0);
    this.noCache.fill(0);
  }
}
