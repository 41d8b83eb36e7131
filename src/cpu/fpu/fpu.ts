/**
 * The x87 register file and its bookkeeping (SDM Vol.1 §8.1): eight 80-bit data registers used
 * as a stack (TOP in the status word), tags, control/status words, the last-instruction pointers,
 * and exception signalling: a flag is always recorded in the status word; when it is unmasked the
 * summary bits ES/B are set and the *next* waiting x87 instruction reports it — #MF with CR0.NE,
 * otherwise FERR# (the PC wires it to IRQ 13; SDM Vol.1 §8.7, App. D).
 */
import { type F80, f80, fromWords, IE, indefinite, isDenormal, isZero, SF } from './f80.ts';

export const C0 = 0x100;
export const C1 = 0x200;
export const C2 = 0x400;
export const C3 = 0x4000;
export const ES = 0x80;
export const B = 0x8000;

export const TAG_VALID = 0;
export const TAG_ZERO = 1;
export const TAG_SPECIAL = 2;
export const TAG_EMPTY = 3;

export class Fpu {
  /** Control word; power-on value 0040h (SDM Vol.3 Table 9-1), FNINIT gives 037Fh. */
  cw = 0x40;
  /** Status word without TOP (bits 13:11 are kept in `top`). */
  sw = 0;
  top = 0;
  /** Tags by physical register: TAG_*. */
  readonly tag = new Uint8Array(8);
  /** Physical registers: sign|exponent, significand high and low 32 bits. */
  readonly se = new Uint16Array(8);
  readonly hi = new Uint32Array(8);
  readonly lo = new Uint32Array(8);
  /** Last x87 instruction (FIP/FCS, opcode) and data operand (FDP/FDS). */
  fip = 0;
  fcs = 0;
  fop = 0;
  fdp = 0;
  fds = 0;
  /** FERR# output (the machine raises IRQ 13 with it). */
  onFerr: (() => void) | null = null;

  constructor() {
    this.powerOn();
  }

  powerOn(): void {
    this.init();
    this.cw = 0x40;
    // Tag word 5555h after RESET (every register "zero"), registers +0 (SDM Vol.3 Table 9-1).
    this.tag.fill(TAG_ZERO);
  }

  /** FNINIT (SDM Vol.2 FINIT): CW 037Fh, SW 0, all tags empty, pointers cleared. */
  init(): void {
    this.cw = 0x37f;
    this.sw = 0;
    this.top = 0;
    this.tag.fill(TAG_EMPTY);
    this.fip = this.fcs = this.fop = this.fdp = this.fds = 0;
  }

  get statusWord(): number {
    return (this.sw & ~0x3800) | (this.top << 11);
  }
  set statusWord(v: number) {
    this.top = (v >> 11) & 7;
    this.sw = v & ~0x3800 & 0xffff;
  }

  /** The full 16-bit tag word (2 bits per physical register). */
  get tagWord(): number {
    let t = 0;
    for (let i = 0; i < 8; i++) t |= this.tag[i] << (2 * i);
    return t;
  }
  /** Loading a tag word keeps only empty / non-empty; non-empty tags are recomputed from contents. */
  set tagWord(t: number) {
    for (let i = 0; i < 8; i++) this.tag[i] = ((t >> (2 * i)) & 3) === 3 ? TAG_EMPTY : this.classify(i);
  }
  /** FXSAVE's abridged tag byte: 1 bit per register, 1 = not empty. */
  get abridgedTag(): number {
    let t = 0;
    for (let i = 0; i < 8; i++) if (this.tag[i] !== TAG_EMPTY) t |= 1 << i;
    return t;
  }
  set abridgedTag(t: number) {
    for (let i = 0; i < 8; i++) this.tag[i] = t & (1 << i) ? this.classify(i) : TAG_EMPTY;
  }

  private classify(p: number): number {
    const e = this.se[p] & 0x7fff;
    if (e === 0) return this.hi[p] === 0 && this.lo[p] === 0 ? TAG_ZERO : TAG_SPECIAL;
    if (e === 0x7fff || (this.hi[p] & 0x80000000) === 0) return TAG_SPECIAL;
    return TAG_VALID;
  }

  phys(i: number): number {
    return (this.top + i) & 7;
  }
  isEmpty(i: number): boolean {
    return this.tag[this.phys(i)] === TAG_EMPTY;
  }
  /** ST(i) as an F80 (empty registers read as their stale contents; callers check first). */
  get(i: number): F80 {
    const p = this.phys(i);
    return fromWords(this.lo[p], this.hi[p], this.se[p]);
  }
  setPhys(p: number, v: F80): void {
    this.se[p] = (v.s << 15) | v.e;
    this.hi[p] = Number((v.m >> 32n) & 0xffffffffn);
    this.lo[p] = Number(v.m & 0xffffffffn);
    this.tag[p] = isZero(v)
      ? TAG_ZERO
      : v.e === 0x7fff || isDenormal(v) || v.m >> 63n === 0n
        ? TAG_SPECIAL
        : TAG_VALID;
  }
  set(i: number, v: F80): void {
    this.setPhys(this.phys(i), v);
  }
  pop(): void {
    this.tag[this.top] = TAG_EMPTY;
    this.top = (this.top + 1) & 7;
  }
  /** Push `v`; a full stack is a stack overflow (#IS, C1 = 1): masked, the indefinite is pushed. */
  push(v: F80): boolean {
    const p = (this.top - 1) & 7;
    if (this.tag[p] !== TAG_EMPTY) {
      this.sw |= C1;
      if (!this.signal(IE | SF)) return false;
      v = indefinite();
    }
    this.top = p;
    this.setPhys(p, v);
    return true;
  }
  /** Stack underflow (#IS with C1 = 0). Returns true when masked (the caller writes the indefinite). */
  underflow(): boolean {
    this.sw &= ~C1;
    return this.signal(IE | SF);
  }

  /**
   * Record exception flags. Returns true when every one of them is masked (the instruction goes on
   * with the masked response); otherwise ES and B are set and the caller must not store.
   */
  signal(flags: number): boolean {
    this.sw |= flags;
    if (flags & ~this.cw & 0x3f) {
      this.sw |= ES | B;
      return false;
    }
    return true;
  }
  /** Unmasked exceptions in `flags` (SF counts as IE). */
  unmasked(flags: number): number {
    return flags & ~this.cw & 0x3f;
  }
  /** Recompute ES/B after the control word or status word changed (FLDCW, FLDENV, FRSTOR). */
  updateSummary(): void {
    if (this.sw & ~this.cw & 0x3f) this.sw |= ES | B;
    else this.sw &= ~(ES | B);
  }

  /** Precision control → significand bits (SDM Vol.1 §8.1.5.2; 01b is reserved, treated as 64). */
  get precision(): number {
    const pc = (this.cw >> 8) & 3;
    return pc === 0 ? 24 : pc === 2 ? 53 : 64;
  }
  get rc(): number {
    return (this.cw >> 10) & 3;
  }

  /** Snapshot of the architectural state (for getState/setState). */
  save(): number[] {
    const a = [this.cw, this.statusWord, this.tagWord, this.fip, this.fcs, this.fop, this.fdp, this.fds];
    for (let i = 0; i < 8; i++) a.push(this.se[i], this.hi[i], this.lo[i], this.tag[i]);
    return a;
  }
  restore(a: number[]): void {
    [this.cw, this.statusWord, , this.fip, this.fcs, this.fop, this.fdp, this.fds] = a;
    for (let i = 0; i < 8; i++) {
      this.se[i] = a[8 + 4 * i];
      this.hi[i] = a[9 + 4 * i];
      this.lo[i] = a[10 + 4 * i];
      this.tag[i] = a[11 + 4 * i];
    }
  }
}

export { f80 };
