/**
 * The guest side of every unit's listing (the Translation view's left column), kept without an
 * object per instruction: the translator appends each guest instruction's bytes, length and how it
 * was translated to typed arrays shared by the whole TC, and a unit remembers where its rows start.
 * Rows (with their disassembly) are built only when the UI asks for a unit. The translator runs
 * ~18 k times per Linux boot; a row object, its copied bytes and the views over them per guest
 * instruction were most of the ~100 MB it allocated per boot (session 9).
 */
import { textOf } from './classify.ts';

/** How a guest instruction was translated: the listing's `rewritten` column (0, '': IDENT). */
export const How = {
  Ident: 0,
  Cli: 1,
  Jcc: 2,
  Jmp: 3,
  Call: 4,
  Loop: 5,
  Rewritten: 6,
  Callout: 7,
  Lookup: 8,
  Pushf: 9,
  Popf: 10,
  Sti: 11,
  GsRead: 12,
} as const;

const HOW_TEXT = [
  '',
  'inline: clear the virtual IF',
  'jcc → successor',
  'jmp → successor',
  'push guest return EIP; jmp → successor',
  'loop with re-targeted exits',
  'rewritten',
  'callout',
  'inline lookup',
  'inline: real flags + virtual IF/IOPL',
  'inline: virtual IF from the image + real popfd (callout if an interrupt is pending)',
  'inline: set the virtual IF (callout if an interrupt is pending)',
  'inline: the guest GS selector from the area',
];

/** A guest instruction of a unit's listing (built on demand). */
export interface ListingRow {
  eip: number;
  len: number;
  /** Disassembly (Intel syntax) of the bytes as they were translated. */
  text: string;
  /** '' = IDENT (copied unchanged); otherwise how it was rewritten. */
  rewritten: string;
}

/** Where a unit's rows are (its instructions are contiguous guest code from its guest EIP). */
export interface ListingRef {
  guestEip: number;
  /** First row and first byte in the TC's `Listings`. */
  row0: number;
  byte0: number;
  /** Rows (guest instructions) and guest bytes. */
  insns: number;
  guestBytes: number;
}

export class Listings {
  /** The guest bytes of every unit translated since the last flush, unit after unit. */
  bytes = new Uint8Array(1 << 16);
  private lens = new Uint8Array(1 << 14);
  private hows = new Uint8Array(1 << 14);
  /** Disassembly the classifier had already made (its pre-decoder could not size the instruction). */
  private texts = new Map<number, string>();
  rows = 0;
  used = 0;

  /** Append one guest instruction: `len` bytes of `src` from `at`, translated as `how`. */
  add(src: Uint8Array, at: number, len: number, how: number, text: string): void {
    if (this.rows === this.lens.length) {
      this.lens = grow(this.lens, this.rows * 2);
      this.hows = grow(this.hows, this.rows * 2);
    }
    if (this.used + len > this.bytes.length) this.bytes = grow(this.bytes, (this.used + len) * 2);
    const b = this.bytes;
    for (let i = 0; i < len; i++) b[this.used + i] = src[at + i];
    if (text !== '') this.texts.set(this.rows, text);
    this.lens[this.rows] = len;
    this.hows[this.rows] = how;
    this.rows++;
    this.used += len;
  }

  /** Forget everything (the TC was flushed: no unit refers to these rows any more). */
  clear(): void {
    this.rows = 0;
    this.used = 0;
    this.texts.clear();
  }

  /** Length of row `i` of unit `u`. */
  len(u: ListingRef, i: number): number {
    return this.lens[u.row0 + i];
  }

  /** Whether unit `u` holds a guest instruction starting at `eip`. */
  has(u: ListingRef, eip: number): boolean {
    let at = u.guestEip;
    for (let i = 0; i < u.insns; i++) {
      if (at === eip) return true;
      at = (at + this.lens[u.row0 + i]) >>> 0;
    }
    return false;
  }

  /** The unit's listing, with each instruction disassembled from the bytes it was translated from. */
  rowsOf(u: ListingRef): ListingRow[] {
    const out: ListingRow[] = [];
    let eip = u.guestEip;
    let at = u.byte0;
    for (let i = 0; i < u.insns; i++) {
      const r = u.row0 + i;
      const len = this.lens[r];
      out.push({
        eip,
        len,
        text: this.texts.get(r) ?? textOf(this.bytes.subarray(at, at + len), eip),
        rewritten: HOW_TEXT[this.hows[r]],
      });
      eip = (eip + len) >>> 0;
      at += len;
    }
    return out;
  }
}

function grow(a: Uint8Array, n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  b.set(a);
  return b;
}
