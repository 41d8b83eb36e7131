/**
 * The arithmetic between the trap table's two scroll spaces. TanStack Virtual (the maintained
 * library that decides which rows to draw) works in the *virtual* space, where every row has its
 * full height: row i starts at i × rowH. The browser works in the *real* space: Chromium clamps an
 * element's height at about 33.5 M px and a million records of 32 px exceed it, so the scrolled
 * content is at most `maxPx` tall and, past that, the scrollbar maps linearly onto the virtual
 * range. Below `maxPx` the two spaces are the same.
 */

export interface ScrollGeometry {
  /** Rows in the table (matching records, or rows of grouped repeats). */
  total: number;
  rowH: number;
  viewH: number;
  /** Virtual content height: total × rowH. */
  fullH: number;
  /** Real content height (the spacer): min(fullH, maxPx). */
  spacerH: number;
  scaled: boolean;
  /** Largest scroll offsets: virtual (library) and real (element). */
  virtMax: number;
  realMax: number;
}

export function scrollGeometry(total: number, rowH: number, viewH: number, maxPx: number): ScrollGeometry {
  const fullH = Math.max(0, total) * rowH;
  const spacerH = Math.min(fullH, maxPx);
  return {
    total,
    rowH,
    viewH,
    fullH,
    spacerH,
    scaled: fullH > maxPx,
    virtMax: Math.max(0, fullH - viewH),
    realMax: Math.max(0, spacerH - viewH),
  };
}

/** The library's offset for the element's scrollTop (both ends map onto both ends). */
export function toVirtual(g: ScrollGeometry, real: number): number {
  const r = Math.min(Math.max(0, real), g.realMax);
  if (!g.scaled) return r;
  return g.realMax > 0 ? (r / g.realMax) * g.virtMax : 0;
}

/** The element's scrollTop for a library offset. */
export function toReal(g: ScrollGeometry, virt: number): number {
  const v = Math.min(Math.max(0, virt), g.virtMax);
  if (!g.scaled) return v;
  return g.virtMax > 0 ? (v / g.virtMax) * g.realMax : 0;
}

/**
 * Where, in the real content, the row that starts at `virtStart` is drawn while the element is
 * at `real` and the library at `virt`: the viewport shows the virtual range [virt, virt + viewH]
 * at [real, real + viewH], so rows keep their full height and stay contiguous in both spaces.
 */
export function realTop(real: number, virt: number, virtStart: number): number {
  return real + (virtStart - virt);
}

/**
 * Rows the library is given: a slab of the table that slides with the view (trap-virtualizer.ts).
 * TanStack Virtual rebuilds its table of row offsets, O(count) at ~0.2 µs a row, on every count
 * change: a million-row log growing every frame cost 100+ ms a frame. A constant slab of 4,096
 * rows (98 k px at 24 px) is built once; since every row has the same height, sliding it changes
 * no offset the library holds.
 */
export const SLAB_ROWS = 4096;
