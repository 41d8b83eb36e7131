/**
 * A hex-view row as a few runs of text instead of a DOM element per byte. The memory panel follows
 * EIP while a guest runs, and a 16-row window of one span per byte rewrote ~300 elements per
 * refresh, each a box the page laid out again; runs of bytes drawn alike (changed, zero, other)
 * make a row a handful of text nodes. Bytes are separated by one space, with a second one after
 * byte 8 of a 16-byte row (white-space: pre keeps them).
 */

export type HexClass = 'changed' | 'zero' | '';

export interface HexRun {
  cls: HexClass;
  text: string;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'));

/**
 * `isChanged(i)`: byte `i` of the row differs from the previous read of the same address. A run of
 * changed bytes keeps its separators inside it (one highlight); a separator next to a styled run is
 * a run of its own, unstyled, so no highlight reaches past a byte.
 */
export function hexRuns(row: Uint8Array, isChanged: (i: number) => boolean): HexRun[] {
  const runs: HexRun[] = [];
  let cur: HexRun | null = null;
  for (let i = 0; i < row.length; i++) {
    const b = row[i];
    const cls: HexClass = isChanged(i) ? 'changed' : b === 0 ? 'zero' : '';
    const sep = i === 0 ? '' : row.length === 16 && i === 8 ? '  ' : ' ';
    if (cur && cur.cls === cls) {
      cur.text += sep + HEX[b];
      continue;
    }
    if (sep) {
      const last = runs[runs.length - 1];
      if (last.cls === '') last.text += sep;
      else runs.push({ cls: '', text: sep });
    }
    const prev = runs[runs.length - 1];
    if (cls === '' && prev?.cls === '') {
      prev.text += HEX[b];
      cur = prev;
    } else {
      cur = { cls, text: HEX[b] };
      runs.push(cur);
    }
  }
  return runs;
}
