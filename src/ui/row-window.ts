/**
 * Which rows of a virtualised table to draw. Browsers clamp an element's height (Chromium at about
 * 33.5M px), so beyond `maxPx` the scroll range is scaled: the scrollbar position maps to a row
 * proportionally and the window of rows is drawn where the viewport is.
 */
export interface RowWindow {
  /** Height of the scrolled content. */
  spacerH: number;
  scaled: boolean;
  /** Rows that fit in the viewport (plus one partly visible). */
  visible: number;
  /** First row under the top of the viewport. */
  first: number;
}

export function rowWindow(
  total: number,
  rowH: number,
  viewH: number,
  scrollTop: number,
  maxPx: number,
): RowWindow {
  const fullH = total * rowH;
  const scaled = fullH > maxPx;
  const spacerH = Math.min(fullH, maxPx);
  const visible = Math.ceil(viewH / rowH) + 1;
  const maxFirst = Math.max(0, total - visible + 1);
  const first = scaled
    ? Math.round((Math.min(scrollTop, spacerH - viewH) / Math.max(1, spacerH - viewH)) * maxFirst)
    : Math.min(Math.floor(scrollTop / rowH), maxFirst);
  return { spacerH, scaled, visible, first: Math.max(0, first) };
}

/** Vertical offset of the drawn rows inside the scrolled content. */
export function rowsOffset(w: RowWindow, scrollTop: number, drawFirst: number, rowH: number): number {
  return w.scaled ? scrollTop : drawFirst * rowH;
}
