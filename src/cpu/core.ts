/**
 * CpuCore: operand decoding (ModR/M, SIB, displacements, immediates) and the ALU with its flag
 * rules (SDM Vol.1 App. A / Vol.2 instruction pages). Instruction bodies live in ops-*.ts.
 */

import { LZ_ADC, LZ_ADD, LZ_LOGIC, LZ_SBB, LZ_SUB } from './base.ts';
import { AF, ARITH, CF, DS, EBP, EBX, EDI, ESI, ESP, OF, PF, SF, SS, UD, ZF } from './constants.ts';
import { CpuCtl } from './control.ts';
import type { Fpu } from './fpu/fpu.ts';

/** Byte offsets of AL,CL,DL,BL,AH,CH,DH,BH in the register buffer (little-endian). */
export const R8 = new Uint8Array([0, 4, 8, 12, 1, 5, 9, 13]);

export class CpuCore extends CpuCtl {
  /** The x87 (a machine option: null = the i486SX-style PC without one, Linux emulates it). */
  fpu: Fpu | null = null;
  /** A local APIC (machine option): IA32_APIC_BASE (MSR 1Bh) and CPUID.APIC; null = none. */
  apic: { baseMsr: number; msrWrite(v: number): void } | null = null;
  modrm = 0;
  eaSeg = DS;
  eaOff = 0;
  /** 64-bit multiply/divide results. */
  mulLo = 0;
  mulHi = 0;

  /** An IoBus callback ran: devices may have raised INTR. */
  set ioHappened(_v: boolean) {
    this.checkIntr = true;
    this.attention = true;
  }
  /** IF, TF or the interrupt shadow may have changed. */
  afterIfChange(): void {
    this.checkIntr = true;
    this.attention = true;
  }
  override afterFlagsLoad(): void {
    this.checkIntr = true;
    this.attention = true;
  }

  /** Fetch a ModR/M byte and decode its memory operand (if any). */
  decodeModrm(): number {
    const m = this.fetch8();
    this.modrm = m;
    if (m < 0xc0) {
      if (this.adsz32) this.ea32(m);
      else this.ea16(m);
    }
    return m;
  }

  decodeEA(m: number): void {
    if (this.adsz32) this.ea32(m);
    else this.ea16(m);
  }

  /** 32-bit addressing (SDM Vol.2 Table 2-2/2-3). */
  ea32(m: number): void {
    const mod = m >> 6;
    const rm = m & 7;
    const r = this.regs;
    let seg = DS;
    let off: number;
    if (rm === 4) {
      const sib = this.fetch8();
      const base = sib & 7;
      const idx = (sib >> 3) & 7;
      if (base === 5 && mod === 0) off = this.fetch32();
      else {
        off = r[base];
        if (base === 4 || base === 5) seg = SS;
      }
      // Sums wrap to int32 here (`| 0`), as eaOff does below: a plain `+=` let V8 speculate that
      // they never leave the int32 range, and the first base + index that did (a kernel address
      // plus a large index) deoptimized every function with this inlined ("overflow").
      if (idx !== 4) off = (off + (r[idx] << (sib >> 6))) | 0;
    } else if (rm === 5 && mod === 0) {
      off = this.fetch32();
    } else {
      off = r[rm];
      if (rm === 5) seg = SS;
    }
    if (mod === 1) off = (off + ((this.fetch8() << 24) >> 24)) | 0;
    else if (mod === 2) off = (off + this.fetch32()) | 0;
    // segOv loaded once: a second load only on the override path was first run at the first
    // segment override after V8 optimized this (inlined in most handlers) and deoptimized it.
    const ov = this.segOv;
    this.eaSeg = ov >= 0 ? ov : seg;
    // Kept as int32 (a Smi/int field even for kernel addresses ≥ 2 GiB); every consumer reads it
    // modulo 2^32: segCheck uses `off >>> 0`, accessors `(base + off) | 0`, neighbours `(off + k) >>> 0`.
    this.eaOff = off | 0;
  }

  /** 16-bit addressing (SDM Vol.2 Table 2-1). */
  ea16(m: number): void {
    const mod = m >> 6;
    const r = this.regs;
    let seg = DS;
    let off: number;
    switch (m & 7) {
      case 0:
        off = r[EBX] + r[ESI];
        break;
      case 1:
        off = r[EBX] + r[EDI];
        break;
      case 2:
        off = r[EBP] + r[ESI];
        seg = SS;
        break;
      case 3:
        off = r[EBP] + r[EDI];
        seg = SS;
        break;
      case 4:
        off = r[ESI];
        break;
      case 5:
        off = r[EDI];
        break;
      case 6:
        if (mod === 0) off = this.fetch16();
        else {
          off = r[EBP];
          seg = SS;
        }
        break;
      default:
        off = r[EBX];
        break;
    }
    if (mod === 1) off += (this.fetch8() << 24) >> 24;
    else if (mod === 2) off += this.fetch16();
    const ov = this.segOv; // once (see ea32)
    this.eaSeg = ov >= 0 ? ov : seg;
    this.eaOff = off & 0xffff;
  }

  /** Register index from the ModR/M reg field. */
  get regField(): number {
    return (this.modrm >> 3) & 7;
  }

  getE8(): number {
    const m = this.modrm;
    if (m >= 0xc0) return this.r8[R8[m & 7]];
    return this.rd8(this.eaSeg, this.eaOff);
  }
  getE16(): number {
    const m = this.modrm;
    if (m >= 0xc0) return this.r16[(m & 7) << 1];
    return this.rd16(this.eaSeg, this.eaOff);
  }
  getE32(): number {
    const m = this.modrm;
    if (m >= 0xc0) return this.regs[m & 7];
    return this.rd32(this.eaSeg, this.eaOff);
  }
  setE8(v: number): void {
    const m = this.modrm;
    if (m >= 0xc0) this.r8[R8[m & 7]] = v;
    else this.wr8(this.eaSeg, this.eaOff, v);
  }
  setE16(v: number): void {
    const m = this.modrm;
    if (m >= 0xc0) this.r16[(m & 7) << 1] = v;
    else this.wr16(this.eaSeg, this.eaOff, v);
  }
  setE32(v: number): void {
    const m = this.modrm;
    if (m >= 0xc0) this.regs[m & 7] = v;
    else this.wr32(this.eaSeg, this.eaOff, v);
  }
  /** Operand-size dispatch: value of E as an unsigned 16-bit or int32. */
  getE(): number {
    return this.opsz32 ? this.getE32() : this.getE16();
  }
  setE(v: number): void {
    if (this.opsz32) this.setE32(v);
    else this.setE16(v);
  }
  getG(): number {
    const g = (this.modrm >> 3) & 7;
    return this.opsz32 ? this.regs[g] : this.r16[g << 1];
  }
  setG(v: number): void {
    const g = (this.modrm >> 3) & 7;
    if (this.opsz32) this.regs[g] = v;
    else this.r16[g << 1] = v;
  }
  setReg(i: number, v: number): void {
    if (this.opsz32) this.regs[i] = v;
    else this.r16[i << 1] = v;
  }
  getReg(i: number): number {
    return this.opsz32 ? this.regs[i] : this.r16[i << 1];
  }
  /**
   * Read-modify-write on memory: check the destination is writable before anything (flags
   * included) changes, so a #PF/#GP on the write leaves the instruction restartable (SDM §6.5).
   */
  rmw(size: number): void {
    if (this.modrm < 0xc0) this.probeWrite(this.eaSeg, this.eaOff, size);
  }

  /** RET near, 32-bit: pop first (a #SS/#PF leaves ESP intact), then check the target. */
  retNear32(): void {
    const esp = this.regs[ESP];
    const t = this.pop32() >>> 0;
    if (t > this.csLim) {
      this.regs[ESP] = esp;
      this.gp(0);
    }
    this.ip = t;
  }

  /**
   * A multi-part memory operand (far pointer, BOUND pair, LGDT image) of `len` bytes: the limit
   * and type check covers the whole operand before any part is read, and the parts never wrap at
   * 64 KiB — on the 386 and later only the effective address is truncated to 16 bits, an operand
   * running past a 64 KiB limit is #GP(0)/#SS(0) (SDM Vol.2 LDS/LES…, BOUND, LGDT "outside the
   * segment limit"; Vol.3 §5.3). Returns the offset of the part `k` bytes in: `wideOff(k)`.
   */
  checkWide(len: number): void {
    if ((this.eaOff >>> 0) + len - 1 > this.segRdMax[this.eaSeg])
      this.segCheck(this.eaSeg, this.eaOff, len, false);
  }
  wideOff(k: number): number {
    return (this.eaOff + k) >>> 0;
  }

  /** Memory-only operand: #UD when mod = 3 (LEA, LDS, BOUND, LGDT, ...). */
  requireMem(): void {
    if (this.modrm >= 0xc0) this.raise(UD);
  }
  fetchImm(): number {
    return this.opsz32 ? this.fetch32() : this.fetch16();
  }
  get osBits(): number {
    return this.opsz32 ? 32 : 16;
  }

  // ---- ALU ---------------------------------------------------------------------------------

  /** The eight classic ALU operations (ADD OR ADC SBB AND SUB XOR CMP); operands pre-truncated. */
  alu(op: number, a: number, b: number, bits: number): number {
    const mask = bits === 32 ? -1 : (1 << bits) - 1;
    let r: number;
    switch (op) {
      case 0:
        r = (a + b) & mask;
        this.setLazy(LZ_ADD, a, b, r, bits, ARITH);
        return r;
      case 1:
        r = (a | b) & mask;
        this.setLogic(r, bits);
        return r;
      case 2: {
        const c = this.getCF();
        r = (a + b + c) & mask;
        this.setLazy(c ? LZ_ADC : LZ_ADD, a, b, r, bits, ARITH);
        return r;
      }
      case 3: {
        const c = this.getCF();
        r = (a - b - c) & mask;
        this.setLazy(c ? LZ_SBB : LZ_SUB, a, b, r, bits, ARITH);
        return r;
      }
      case 4:
        r = a & b & mask;
        this.setLogic(r, bits);
        return r;
      case 6:
        r = (a ^ b) & mask;
        this.setLogic(r, bits);
        return r;
      default:
        r = (a - b) & mask;
        this.setLazy(LZ_SUB, a, b, r, bits, ARITH);
        return r;
    }
  }

  /** INC/DEC: like ADD/SUB 1 but CF is preserved. */
  incdec(a: number, dec: boolean, bits: number): number {
    const mask = bits === 32 ? -1 : (1 << bits) - 1;
    const cf = this.getCF();
    this.flags = (this.flags & ~CF) | cf;
    const r = (dec ? a - 1 : a + 1) & mask;
    this.setLazy(dec ? LZ_SUB : LZ_ADD, a, 1, r, bits, ARITH & ~CF);
    return r;
  }

  /** NEG: 0 - a. */
  neg(a: number, bits: number): number {
    const mask = bits === 32 ? -1 : (1 << bits) - 1;
    const r = -a & mask;
    this.setLazy(LZ_SUB, 0, a, r, bits, ARITH);
    return r;
  }

  /**
   * Shift/rotate group 2 (op = ModR/M reg). Count already masked to 5 bits by the caller.
   * Flags per SDM SAL/SAR/SHL/SHR and RCL/RCR/ROL/ROR; a zero count changes nothing.
   */
  shift(op: number, a: number, count: number, bits: number): number {
    if (count === 0) return a;
    const mask = bits === 32 ? -1 : (1 << bits) - 1;
    const msb = bits - 1;
    let r: number;
    let cf: number;
    let of: number;
    switch (op) {
      case 0: {
        // ROL
        const n = count & msb;
        r = n === 0 ? a : ((a << n) | ((a & mask) >>> (bits - n))) & mask;
        cf = r & 1;
        of = ((r >>> msb) & 1) ^ cf;
        this.setRotFlags(cf, of);
        return r;
      }
      case 1: {
        // ROR
        const n = count & msb;
        r = n === 0 ? a : (((a & mask) >>> n) | (a << (bits - n))) & mask;
        cf = (r >>> msb) & 1;
        of = cf ^ ((r >>> (msb - 1)) & 1);
        this.setRotFlags(cf, of);
        return r;
      }
      case 2: {
        // RCL through CF: a (bits+1)-bit rotation.
        const n = bits === 32 ? count : count % (bits + 1);
        let c = this.getCF();
        if (n === 0) {
          // A whole-turn rotation leaves the value and CF, but OF is recomputed (as the 286 does).
          this.setRotFlags(c, ((a >>> msb) & 1) ^ c);
          return a;
        }
        r = a;
        for (let i = 0; i < n; i++) {
          const out = (r >>> msb) & 1;
          r = ((r << 1) | c) & mask;
          c = out;
        }
        this.setRotFlags(c, ((r >>> msb) & 1) ^ c);
        return r;
      }
      case 3: {
        // RCR
        const n = bits === 32 ? count : count % (bits + 1);
        let c = this.getCF();
        if (n === 0) {
          this.setRotFlags(c, ((a >>> msb) & 1) ^ ((a >>> (msb - 1)) & 1));
          return a;
        }
        r = a & mask;
        of = ((r >>> msb) & 1) ^ c;
        for (let i = 0; i < n; i++) {
          const out = r & 1;
          r = ((r >>> 1) | (c << msb)) & mask;
          c = out;
        }
        this.setRotFlags(c, ((r >>> msb) & 1) ^ ((r >>> (msb - 1)) & 1));
        return r;
      }
      case 4:
      case 6: {
        // SHL/SAL
        if (count < 32) {
          r = (a << count) & mask;
          cf = count <= bits ? ((a & mask) >>> (bits - count)) & 1 : 0;
        } else {
          r = 0;
          cf = 0;
        }
        of = ((r >>> msb) & 1) ^ cf;
        break;
      }
      case 5: {
        // SHR
        const ua = (a & mask) >>> 0;
        r = count < 32 ? (ua >>> count) & mask : 0;
        cf = count <= bits ? (ua >>> (count - 1)) & 1 : 0;
        // OF as left by the last 1-bit step: MSB of the value before it (SDM: defined for count 1).
        of = count <= 32 ? (((ua >>> (count - 1)) & mask) >>> msb) & 1 : 0;
        break;
      }
      default: {
        // SAR
        const sa = (a << (32 - bits)) >> (32 - bits);
        const n = Math.min(count, msb);
        r = (sa >> n) & mask;
        cf = count > msb ? (sa >>> 31) & 1 : (sa >> (count - 1)) & 1;
        of = 0;
        break;
      }
    }
    this.setLazy(LZ_LOGIC, r, 0, r, bits, ZF | SF | PF);
    this.flags = (this.flags & ~(CF | OF | AF)) | cf | (of ? OF : 0);
    return r;
  }

  /**
   * shift() for 32-bit operands and a count of 1–31 (already masked): the same flag rules, in a
   * body small enough for V8 to inline. RCL/RCR go to the general shift().
   */
  shift32(op: number, a: number, n: number): number {
    let r: number;
    let cf: number;
    let of: number;
    switch (op) {
      case 0:
        r = (a << n) | (a >>> (32 - n));
        cf = r & 1;
        this.setRotFlags(cf, (r >>> 31) ^ cf);
        return r;
      case 1:
        r = (a >>> n) | (a << (32 - n));
        cf = r >>> 31;
        this.setRotFlags(cf, cf ^ ((r >>> 30) & 1));
        return r;
      case 2:
      case 3:
        return this.shift(op, a, n, 32);
      case 5:
        r = (a >>> n) | 0;
        cf = (a >>> (n - 1)) & 1;
        of = n === 1 ? a >>> 31 : 0;
        break;
      case 7:
        r = a >> n;
        cf = (a >> (n - 1)) & 1;
        of = 0;
        break;
      default:
        r = a << n;
        cf = (a >>> (32 - n)) & 1;
        of = (r >>> 31) ^ cf;
        break;
    }
    this.setLazy(LZ_LOGIC, r, 0, r, 32, ZF | SF | PF);
    this.flags = (this.flags & ~(CF | OF | AF)) | cf | (of ? OF : 0);
    return r;
  }

  private setRotFlags(cf: number, of: number): void {
    // Only CF and OF change: the other status flags may stay lazy (they are still described by
    // lzOp/lzA/lzB/lzR), so drop CF|OF from the lazy mask instead of materializing all six.
    this.lzMask &= ~(CF | OF);
    this.flags = (this.flags & ~(CF | OF)) | cf | (of ? OF : 0);
  }

  /** Unsigned 32×32→64 into mulLo/mulHi. */
  mulu32(a: number, b: number): void {
    const al = a & 0xffff;
    const ah = a >>> 16;
    const bl = b & 0xffff;
    const bh = b >>> 16;
    const ll = al * bl;
    const lh = al * bh;
    const hl = ah * bl;
    const hh = ah * bh;
    const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
    this.mulLo = (mid << 16) | (ll & 0xffff) | 0;
    this.mulHi = (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) | 0;
  }
  /** Signed 32×32→64 into mulLo/mulHi. */
  muls32(a: number, b: number): void {
    this.mulu32(a >>> 0, b >>> 0);
    let hi = this.mulHi;
    if (a < 0) hi = (hi - b) | 0;
    if (b < 0) hi = (hi - a) | 0;
    this.mulHi = hi;
  }

  /** Set CF=OF for MUL/IMUL; SF/ZF/PF from the low result (undefined per SDM; P6 style). */
  mulFlags(overflow: boolean, lo: number, bits: number): void {
    this.setLazy(LZ_LOGIC, lo, 0, lo, bits, ZF | SF | PF);
    this.flags = (this.flags & ~(CF | OF | AF)) | (overflow ? CF | OF : 0);
  }

  /** Unsigned 64/32 division of hi:lo by d into mulLo (quotient) / mulHi (remainder); false on overflow. */
  divu64(hi: number, lo: number, d: number): boolean {
    hi >>>= 0;
    lo >>>= 0;
    d >>>= 0;
    if (d === 0 || hi >= d) return false;
    if (hi === 0) {
      this.mulLo = Math.floor(lo / d) | 0;
      this.mulHi = (lo % d) | 0;
      return true;
    }
    let rem = hi;
    let q = 0;
    for (let i = 31; i >= 0; i--) {
      const carry = rem >= 0x80000000;
      rem = ((rem * 2) % 4294967296) + ((lo >>> i) & 1);
      q = q * 2;
      if (carry || rem >= d) {
        rem = carry ? rem + 4294967296 - d : rem - d;
        q += 1;
      }
    }
    this.mulLo = q | 0;
    this.mulHi = rem | 0;
    return true;
  }
}

export { AF, ARITH, LZ_LOGIC };
