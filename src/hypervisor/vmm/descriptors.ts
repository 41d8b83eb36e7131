/**
 * Descriptors and ring compression (SDM Vol.3 §3.4.5, §5.5). The guest kernel believes it runs
 * in ring 0; the VMM runs it in ring 1. The real GDT/LDT are shadows built from the guest's with
 * every DPL-0 segment descriptor turned into DPL 1, so the guest's own selectors keep working at
 * ring 1. System descriptors (TSS, LDT, call and task gates) are left out of the shadow (zeroed):
 * the VMM emulates LTR/LLDT itself and no guest gate may lead into a real ring.
 */

export const AR_ACCESSED = 0x1;
export const AR_RW = 0x2;
export const AR_DC = 0x4;
export const AR_CODE = 0x8;
export const AR_S = 0x10;
export const AR_P = 0x80;
export const AR_DB = 0x4000;
export const AR_UNUSABLE = 0x10000;

export interface Descriptor {
  lo: number;
  hi: number;
  base: number;
  limit: number;
  /** Access rights in the CPU's cache layout: byte 5 in bits 0–7, AVL/L/DB/G in bits 12–15. */
  ar: number;
  dpl: number;
  present: boolean;
  /** S bit: code/data segment (true) or system descriptor. */
  segment: boolean;
  /** Type field (bits 8–11 of the high dword). */
  type: number;
}

export function parseDescriptor(lo: number, hi: number): Descriptor {
  const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  const limit = hi & 0x800000 ? ((raw << 12) | 0xfff) >>> 0 : raw;
  const ar = (hi >>> 8) & 0xf0ff;
  return {
    lo: lo >>> 0,
    hi: hi >>> 0,
    base,
    limit,
    ar,
    dpl: (ar >> 5) & 3,
    present: (ar & AR_P) !== 0,
    segment: (ar & AR_S) !== 0,
    type: (hi >>> 8) & 0xf,
  };
}

/** The real ring a guest privilege level runs in: 0 → 1 (ring compression), others unchanged. */
export function realRing(guestRing: number): number {
  return guestRing === 0 ? 1 : guestRing;
}

/** Access rights of the shadow of a segment descriptor (DPL 0 → 1, accessed set). */
export function compressAr(ar: number): number {
  let a = ar | AR_ACCESSED;
  if (((a >> 5) & 3) === 0) a |= 1 << 5;
  return a;
}

/**
 * Build the shadow of a descriptor table of `limit + 1` bytes read with `read8` (guest-linear
 * reads; unreadable bytes read as 0). Returns the shadow bytes and how many entries were
 * compressed / left out.
 */
export function buildShadowTable(
  limit: number,
  read32: (offset: number) => number,
): { bytes: Uint8Array; compressed: number; omitted: number } {
  const size = Math.min(0x10000, (limit >>> 0) + 1);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let compressed = 0;
  let omitted = 0;
  for (let off = 0; off + 8 <= size; off += 8) {
    const lo = read32(off) >>> 0;
    let hi = read32(off + 4) >>> 0;
    if (lo === 0 && hi === 0) continue;
    if ((hi & 0x1000) === 0) {
      omitted++;
      continue; // system descriptor: not in the shadow
    }
    hi |= 0x100; // accessed, so the CPU never writes the read-only shadow
    if (((hi >>> 13) & 3) === 0) {
      hi |= 1 << 13;
      compressed++;
    }
    view.setUint32(off, lo, true);
    view.setUint32(off + 4, hi >>> 0, true);
  }
  return { bytes, compressed, omitted };
}
