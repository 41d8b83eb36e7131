/**
 * CpuAccess: segment-checked data access (SDM Vol.3 §5.3–§5.4 limit and type checks, #AC), the
 * instruction fetch window and the stack, on top of CpuMmu's linear accesses and TLB.
 */
import { AR_CODE, AR_DB, AR_DC, AR_RW, AR_S, AR_UNUSABLE, CS, ESP, GP, SS, SSF } from './constants.ts';
import { CpuMmu } from './mmu.ts';

// segChk bits.
export const CHK_R = 1;
export const CHK_W = 2;
export const CHK_EXPDOWN = 4;
/** Reads need no check at all (readable, expand-up, limit 4 GiB-1). */
export const CHK_FLAT_R = 8;
export const CHK_FLAT_W = 16;
export const CHK_UNUSABLE = 32;

/**
 * segRdB/segWrB's entry for an access of `size` bytes to a segment whose accesses may end at
 * `max` (segRdMax: +Infinity, a limit, or -1): FLAT_B for a flat segment (no test at all), else
 * the first offset that ends past `max`, clamped to 0..0xfffffffe, biased by 2^31 as an int32 (so
 * never FLAT_B). `(off ^ 0x80000000) >= it` then says "check".
 */
export function biasedFirstCheck(max: number, size: number): number {
  if (max === Number.POSITIVE_INFINITY) return FLAT_B;
  const first = Math.min(Math.max(max - size + 2, 0), 0xfffffffe);
  return (first ^ 0x80000000) | 0;
}
/** segRdB/segWrB's mark of a flat segment: the accessors test nothing else. */
export const FLAT_B = 0x7fffffff;

/** A segRdB/segWrB table with every segment's bound at `max` (as segRdMax's zeros before a load). */
function boundsFor(max: number): Int32Array {
  const t = new Int32Array(32);
  for (let s = 0; s < 8; s++) {
    t[s << 2] = biasedFirstCheck(max, 1);
    t[(s << 2) | 1] = biasedFirstCheck(max, 2);
    t[(s << 2) | 3] = biasedFirstCheck(max, 4);
  }
  return t;
}

export class CpuAccess extends CpuMmu {
  /**
   * Per segment cache: the highest offset an access may end at without segCheck(), for reads
   * (segRdMax) and writes (segWrMax). +Infinity for a flat segment (no check at all: its offsets
   * wrap at 4 GiB, as before); the limit for any other usable, expand-up segment of the right type
   * (an access ending at or below it passes every check of SDM Vol.3 §5.3–§5.4, so the slow
   * check would find nothing: binary translation's segments cut below its slot live here); -1
   * when every access must take segCheck() (expand-down, unusable or wrong type, #AC active).
   * Set by updateSegChk() with segChk.
   */
  readonly segRdMax = new Float64Array(8);
  readonly segWrMax = new Float64Array(8);
  /**
   * The same bounds for rd8…wr32, push32 and pop32 as int32s, at `s << 2 | (size - 1)` for sizes
   * 1, 2 and 4: FLAT_B for a flat segment, which they then test no further (one load and one
   * compare, no arithmetic on the offset); otherwise the first offset an access of that size must
   * send to the exact check, biased by 2^31 (`off ^ 0x80000000`) so that an unsigned comparison
   * becomes a signed one. Neither test leaves int32: `(off >>> 0) + 3`, the old one, became a
   * non-int32 number the first time a kernel address (>= 2^31) came by, and every optimized
   * function that had inlined the accessor deoptimized once ("lost precision"/"not int32", PERF.md
   * "Session 10 — web15").
   */
  readonly segRdB = boundsFor(0);
  readonly segWrB = boundsFor(0);
  /** Alignment checking active (CR0.AM, EFLAGS.AC, CPL 3): every access takes segCheck(). */
  acOn = false;
  refreshAc(): void {
    const on = (this.cr0 & 0x40000) !== 0 && (this.flags & 0x40000) !== 0 && this.cpl === 3;
    if (on === this.acOn) return;
    this.acOn = on;
    for (let s = 0; s < 6; s++) this.updateSegChk(s);
  }

  // ---- segmentation ------------------------------------------------------------------------

  /** Recompute the check bits of segment cache `s` from its AR and limit. */
  updateSegChk(s: number): void {
    const ar = this.segAr[s];
    let c = 0;
    if (ar & AR_UNUSABLE) c = CHK_UNUSABLE;
    else if ((ar & AR_S) === 0) c = 0;
    else if (ar & AR_CODE) c = ar & AR_RW ? CHK_R : 0;
    else c = CHK_R | (ar & AR_RW ? CHK_W : 0) | (ar & AR_DC ? CHK_EXPDOWN : 0);
    const lim = this.segLim[s];
    if ((c & CHK_EXPDOWN) === 0 && lim === 0xffffffff && !this.acOn) {
      if (c & CHK_R) c |= CHK_FLAT_R;
      if (c & CHK_W) c |= CHK_FLAT_W;
    }
    this.segChk[s] = c;
    const upTo = (c & (CHK_EXPDOWN | CHK_UNUSABLE)) === 0 && !this.acOn;
    const rdMax = c & CHK_FLAT_R ? Infinity : upTo && c & CHK_R ? lim : -1;
    const wrMax = c & CHK_FLAT_W ? Infinity : upTo && c & CHK_W ? lim : -1;
    this.segRdMax[s] = rdMax;
    this.segWrMax[s] = wrMax;
    const b = s << 2;
    this.segRdB[b] = biasedFirstCheck(rdMax, 1);
    this.segRdB[b | 1] = biasedFirstCheck(rdMax, 2);
    this.segRdB[b | 3] = biasedFirstCheck(rdMax, 4);
    this.segWrB[b] = biasedFirstCheck(wrMax, 1);
    this.segWrB[b | 1] = biasedFirstCheck(wrMax, 2);
    this.segWrB[b | 3] = biasedFirstCheck(wrMax, 4);
    if (s === CS) {
      const d = (ar & AR_DB) !== 0;
      // Blocks hold CS's base, limit and size (blocks.ts lookup): a CS load that changes none of
      // them (user ⇄ kernel on flat segments) keeps the links.
      if (this.csBase !== this.segBase[CS] || this.csLim !== this.segLim[CS] || this.code32 !== d)
        this.code.bump();
      this.csBase = this.segBase[CS];
      this.csLim = this.segLim[CS];
      this.code32 = d;
      this.opsz32 = d;
      this.adsz32 = d;
      this.fetchHi = 0;
    } else if (s === SS) {
      this.ss32 = (ar & AR_DB) !== 0;
    }
  }

  /** Slow segment check: limit/type per SDM Vol.3 §5.3 and §5.4; #SS for SS, #GP otherwise. */
  segCheck(s: number, off: number, len: number, write: boolean): void {
    const c = this.segChk[s];
    const vec = s === SS ? SSF : GP;
    if (c & CHK_UNUSABLE) this.raise(vec, 0);
    if ((c & (write ? CHK_W : CHK_R)) === 0) this.raise(vec, 0);
    const o = off >>> 0;
    const lim = this.segLim[s];
    if (c & CHK_EXPDOWN) {
      const upper = this.segAr[s] & AR_DB ? 0xffffffff : 0xffff;
      if (o <= lim || o + len - 1 > upper) this.raise(vec, 0);
    } else if (o + len - 1 > lim) this.raise(vec, 0);
    // #AC(0) for a misaligned word/dword/qword at CPL 3 with CR0.AM and EFLAGS.AC (SDM §6.15, #17).
    if (this.acOn && (len === 2 || len === 4 || len === 8) && ((this.segBase[s] + o) & (len - 1)) !== 0)
      this.raise(17, 0);
  }

  /** The exact bound test behind rd8…rd32's int32 one (segRdB), then the full check if it fails. */
  rdCheck(s: number, off: number, len: number): void {
    if ((off >>> 0) + len - 1 > this.segRdMax[s]) this.segCheck(s, off, len, false);
  }
  wrCheck(s: number, off: number, len: number): void {
    if ((off >>> 0) + len - 1 > this.segWrMax[s]) this.segCheck(s, off, len, true);
  }
  rd8(s: number, off: number): number {
    const b = this.segRdB[s << 2];
    if (b !== FLAT_B && (off ^ 0x80000000) >= b) this.rdCheck(s, off, 1);
    return this.lrd8((this.segBase[s] + off) | 0);
  }
  rd16(s: number, off: number): number {
    const b = this.segRdB[(s << 2) | 1];
    if (b !== FLAT_B && (off ^ 0x80000000) >= b) this.rdCheck(s, off, 2);
    return this.lrd16((this.segBase[s] + off) | 0);
  }
  rd32(s: number, off: number): number {
    const b = this.segRdB[(s << 2) | 3];
    if (b !== FLAT_B && (off ^ 0x80000000) >= b) this.rdCheck(s, off, 4);
    return this.lrd32((this.segBase[s] + off) | 0);
  }
  wr8(s: number, off: number, v: number): void {
    const b = this.segWrB[s << 2];
    if (b !== FLAT_B && (off ^ 0x80000000) >= b) this.wrCheck(s, off, 1);
    this.lwr8((this.segBase[s] + off) | 0, v);
  }
  wr16(s: number, off: number, v: number): void {
    const b = this.segWrB[(s << 2) | 1];
    if (b !== FLAT_B && (off ^ 0x80000000) >= b) this.wrCheck(s, off, 2);
    this.lwr16((this.segBase[s] + off) | 0, v);
  }
  wr32(s: number, off: number, v: number): void {
    const b = this.segWrB[(s << 2) | 3];
    if (b !== FLAT_B && (off ^ 0x80000000) >= b) this.wrCheck(s, off, 4);
    this.lwr32((this.segBase[s] + off) | 0, v);
  }
  /** Check that a write of `len` bytes at s:off would succeed (segment + paging), without writing. */
  probeWrite(s: number, off: number, len: number): void {
    if ((off >>> 0) + len - 1 > this.segWrMax[s]) this.segCheck(s, off, len, true);
    const lin = (this.segBase[s] + off) | 0;
    this.xlate(lin, true);
    if (len > 1) this.xlate((lin + len - 1) | 0, true);
  }

  // ---- instruction fetch ---------------------------------------------------------------------

  fetch8(): number {
    const ip = this.ip;
    if (ip < this.fetchHi && ip >= this.fetchLo) {
      this.ip = ip + 1;
      return this.ram[ip + this.fetchDelta];
    }
    return this.fetchSlow();
  }
  fetchSlow(): number {
    const ip = this.ip;
    if (ip > this.csLim) this.gp(0);
    const lin = (this.csBase + ip) | 0;
    const p = this.xlate(lin, false, true);
    const e = ~this.tlbR[lin >>> 12];
    this.ip = ip + 1;
    if (e !== -1 && (e & 0xfff) === 0) {
      const ip0 = ip - (lin & 0xfff);
      this.fetchLo = Math.max(ip0, 0);
      this.fetchHi = Math.min(ip0 + 4096, this.csLim + 1);
      this.fetchDelta = p - ip;
      return this.ram[p];
    }
    this.fetchHi = 0;
    return this.physRead8(p);
  }
  fetch16(): number {
    const ip = this.ip;
    if (ip + 2 <= this.fetchHi && ip >= this.fetchLo) {
      this.ip = ip + 2;
      const p = ip + this.fetchDelta;
      return this.ram[p] | (this.ram[p + 1] << 8);
    }
    const lo = this.fetch8();
    return lo | (this.fetch8() << 8);
  }
  fetch32(): number {
    const ip = this.ip;
    if (ip + 4 <= this.fetchHi && ip >= this.fetchLo) {
      this.ip = ip + 4;
      const p = ip + this.fetchDelta;
      const r = this.ram;
      return r[p] | (r[p + 1] << 8) | (r[p + 2] << 16) | (r[p + 3] << 24);
    }
    const lo = this.fetch16();
    return lo | (this.fetch16() << 16);
  }

  // ---- stack ---------------------------------------------------------------------------------

  /** Stack pointer offset after moving by `delta` (respecting SS.B). */
  spAdd(delta: number): number {
    const esp = this.regs[ESP];
    return this.ss32 ? (esp + delta) >>> 0 : (esp + delta) & 0xffff;
  }
  setSp(v: number): void {
    if (this.ss32) this.regs[ESP] = v;
    else this.r16[ESP * 2] = v;
  }
  push16(v: number): void {
    const sp = this.spAdd(-2);
    this.wr16(SS, sp, v);
    this.setSp(sp);
  }
  push32(v: number): void {
    const sp0 = (this.regs[ESP] - 4) | 0;
    const b = this.segWrB[(SS << 2) | 3];
    if (this.ss32 && (b === FLAT_B || (sp0 ^ 0x80000000) < b)) {
      // A 32-bit stack, the dword within SS's limit (or SS flat): no further check needed.
      this.lwr32((this.segBase[SS] + sp0) | 0, v);
      this.regs[ESP] = sp0;
      return;
    }
    const sp = this.spAdd(-4);
    this.wr32(SS, sp, v);
    this.setSp(sp);
  }
  push(v: number): void {
    if (this.opsz32) this.push32(v);
    else this.push16(v);
  }
  pop16(): number {
    const sp = this.spAdd(0);
    const v = this.rd16(SS, sp);
    this.setSp(this.ss32 ? (sp + 2) >>> 0 : (sp + 2) & 0xffff);
    return v;
  }
  pop32(): number {
    const b = this.segRdB[(SS << 2) | 3];
    if (this.ss32 && (b === FLAT_B || (this.regs[ESP] ^ 0x80000000) < b)) {
      const sp = this.regs[ESP];
      const v = this.lrd32((this.segBase[SS] + sp) | 0);
      this.regs[ESP] = (sp + 4) | 0;
      return v;
    }
    const sp = this.spAdd(0);
    const v = this.rd32(SS, sp);
    this.setSp(this.ss32 ? (sp + 4) >>> 0 : (sp + 4) & 0xffff);
    return v;
  }
  pop(): number {
    return this.opsz32 ? this.pop32() : this.pop16();
  }
}
