/** Group opcodes 80–83, C0/C1/D0–D3, F6/F7, FE/FF, and the BCD adjust instructions. */
import { LZ_LOGIC } from './base.ts';
import { AF, CF, DE, EAX, ECX, EDX, OF, PF, SF, SS, UD, ZF } from './constants.ts';
import type { CpuCore } from './core.ts';
import { jumpNear } from './ops-main.ts';

export function group1(c: CpuCore, b: number): void {
  const m = c.decodeModrm();
  const op = (m >> 3) & 7;
  if (b === 0x83 && c.opsz32) {
    // Common fast form: 32-bit operand, sign-extended imm8 (ADD ESP,n / CMP reg,n / AND …).
    if (m >= 0xc0) {
      const r = c.regs;
      const res = c.alu(op, r[m & 7], (c.fetch8() << 24) >> 24, 32);
      if (op !== 7) r[m & 7] = res;
      return;
    }
    if (op !== 7) c.rmw(4);
    const a = c.rd32(c.eaSeg, c.eaOff);
    const res = c.alu(op, a, (c.fetch8() << 24) >> 24, 32);
    if (op !== 7) c.wr32(c.eaSeg, c.eaOff, res);
    return;
  }
  if (op !== 7) c.rmw(b === 0x80 || b === 0x82 ? 1 : c.opsz32 ? 4 : 2);
  if (b === 0x81) {
    const bits = c.osBits;
    const a = c.getE();
    const imm = c.fetchImm();
    const r = c.alu(op, a, bits === 32 ? imm : imm & 0xffff, bits);
    if (op !== 7) c.setE(r);
  } else if (b === 0x83) {
    const bits = c.osBits;
    const a = c.getE();
    const imm = (c.fetch8() << 24) >> 24;
    const r = c.alu(op, a, bits === 32 ? imm : imm & 0xffff, bits);
    if (op !== 7) c.setE(r);
  } else {
    const a = c.getE8();
    const r = c.alu(op, a, c.fetch8(), 8);
    if (op !== 7) c.setE8(r);
  }
}

export function group2(c: CpuCore, b: number): void {
  const m = c.decodeModrm();
  const op = (m >> 3) & 7;
  const byte = (b & 1) === 0;
  let count: number;
  if (b <= 0xc1) count = c.fetch8();
  else if (b <= 0xd1) count = 1;
  else count = c.r8[4];
  count &= 31;
  if (!byte && c.opsz32) {
    // 32-bit operand: the common case, on the small shift32 (a zero count changes nothing).
    if (count === 0) return;
    if (m >= 0xc0) {
      const r = c.regs;
      r[m & 7] = c.shift32(op, r[m & 7], count);
      return;
    }
    c.rmw(4);
    c.wr32(c.eaSeg, c.eaOff, c.shift32(op, c.rd32(c.eaSeg, c.eaOff), count));
    return;
  }
  if (count !== 0) c.rmw(byte ? 1 : c.opsz32 ? 4 : 2);
  if (byte) {
    const a = c.getE8();
    const r = c.shift(op, a, count, 8);
    if (count !== 0) c.setE8(r);
  } else {
    const bits = c.osBits;
    const a = c.getE();
    const r = c.shift(op, a, count, bits);
    if (count !== 0) c.setE(r);
  }
}

export function group3(c: CpuCore, b: number): void {
  c.decodeModrm();
  const op = c.regField;
  const r = c.regs;
  if (op === 2 || op === 3) c.rmw(b === 0xf6 ? 1 : c.opsz32 ? 4 : 2);
  if (b === 0xf6) {
    const a = c.getE8();
    switch (op) {
      case 0:
      case 1:
        c.alu(4, a, c.fetch8(), 8);
        return;
      case 2:
        c.setE8(~a & 0xff);
        return;
      case 3:
        c.setE8(c.neg(a, 8));
        return;
      case 4: {
        const p = c.r8[0] * a;
        c.r16[0] = p;
        c.mulFlags((p & 0xff00) !== 0, p & 0xff, 8);
        return;
      }
      case 5: {
        const p = ((c.r8[0] << 24) >> 24) * ((a << 24) >> 24);
        c.r16[0] = p;
        c.mulFlags(p !== (p << 24) >> 24, p & 0xff, 8);
        return;
      }
      case 6: {
        const n = c.r16[0];
        if (a === 0) c.raise(DE);
        const q = Math.floor(n / a);
        if (q > 0xff) c.raise(DE);
        c.r8[0] = q;
        c.r8[1] = n % a;
        return;
      }
      default: {
        const n = (c.r16[0] << 16) >> 16;
        const d = (a << 24) >> 24;
        if (d === 0) c.raise(DE);
        const q = Math.trunc(n / d);
        if (q > 127 || q < -128) c.raise(DE);
        c.r8[0] = q;
        c.r8[1] = n % d;
        return;
      }
    }
  }
  const bits = c.osBits;
  const a = c.getE();
  switch (op) {
    case 0:
    case 1:
      c.alu(4, a, c.fetchImm(), bits);
      return;
    case 2:
      c.setE(~a);
      return;
    case 3:
      c.setE(c.neg(a, bits));
      return;
    case 4:
      if (bits === 32) {
        c.mulu32(r[EAX], a);
        r[EAX] = c.mulLo;
        r[EDX] = c.mulHi;
        c.mulFlags(c.mulHi !== 0, c.mulLo, 32);
      } else {
        const p = c.r16[0] * a;
        c.r16[0] = p;
        c.r16[EDX << 1] = p >>> 16;
        c.mulFlags(p >>> 16 !== 0, p & 0xffff, 16);
      }
      return;
    case 5:
      if (bits === 32) {
        c.muls32(r[EAX], a);
        r[EAX] = c.mulLo;
        r[EDX] = c.mulHi;
        c.mulFlags(c.mulHi !== c.mulLo >> 31, c.mulLo, 32);
      } else {
        const p = ((c.r16[0] << 16) >> 16) * ((a << 16) >> 16);
        c.r16[0] = p;
        c.r16[EDX << 1] = p >> 16;
        c.mulFlags(p !== (p << 16) >> 16, p & 0xffff, 16);
      }
      return;
    case 6:
      if (bits === 32) div32(c, 6, a);
      else {
        const n = ((c.r16[EDX << 1] << 16) | c.r16[0]) >>> 0;
        if (a === 0) c.raise(DE);
        const q = Math.floor(n / a);
        if (q > 0xffff) c.raise(DE);
        c.r16[0] = q;
        c.r16[EDX << 1] = n % a;
      }
      return;
    default:
      if (bits === 32) idiv32(c, a);
      else {
        const n = (c.r16[EDX << 1] << 16) | c.r16[0];
        const d = (a << 16) >> 16;
        if (d === 0) c.raise(DE);
        const q = Math.trunc(n / d);
        if (q > 32767 || q < -32768) c.raise(DE);
        c.r16[0] = q;
        c.r16[EDX << 1] = n % d;
      }
  }
}

/**
 * DIV (op 6) or IDIV (op 7) of EDX:EAX by the 32-bit `d`: #DE on a zero divisor or a quotient that
 * does not fit (SDM Vol.2 DIV, IDIV). Also the blocks tier's DIV/IDIV records (block-div.ts). The
 * #DE is thrown here (CpuCore.fault), not from raise(): one small frame fewer for it to unwind.
 */
export function div32(c: CpuCore, op: number, d: number): void {
  if (op === 7) {
    idiv32(c, d);
    return;
  }
  const r = c.regs;
  if (!c.divu64(r[EDX], r[EAX], d)) throw c.fault(DE);
  r[EAX] = c.mulLo;
  r[EDX] = c.mulHi;
}

function idiv32(c: CpuCore, d: number): void {
  const r = c.regs;
  let hi = r[EDX];
  let lo = r[EAX];
  const neg = hi < 0;
  if (neg) {
    // Two's-complement negate hi:lo.
    lo = ~lo + 1;
    hi = ~hi + (lo === 0 ? 1 : 0);
  }
  const dneg = d < 0;
  const ad = dneg ? -d >>> 0 : d >>> 0;
  if (ad === 0) throw c.fault(DE);
  if (!c.divu64(hi, lo, ad)) throw c.fault(DE);
  const q = c.mulLo >>> 0;
  const rem = c.mulHi >>> 0;
  const qneg = neg !== dneg;
  if (qneg ? q > 0x80000000 : q > 0x7fffffff) throw c.fault(DE);
  r[EAX] = qneg ? -q | 0 : q | 0;
  r[EDX] = neg ? -rem | 0 : rem | 0;
}

export function group45(c: CpuCore, b: number): void {
  c.decodeModrm();
  const op = c.regField;
  if (b === 0xfe) {
    if (op > 1) c.raise(UD);
    c.rmw(1);
    c.setE8(c.incdec(c.getE8(), op === 1, 8));
    return;
  }
  switch (op) {
    case 0:
    case 1:
      c.rmw(c.opsz32 ? 4 : 2);
      c.setE(c.incdec(c.getE(), op === 1, c.osBits));
      return;
    case 2: {
      const t = c.getE();
      const ret = c.ip;
      const tt = c.opsz32 ? t >>> 0 : t & 0xffff;
      if (tt > c.csLim) c.gp(0);
      c.push(ret);
      c.ip = tt;
      return;
    }
    case 3:
    case 5: {
      c.requireMem();
      c.checkWide(c.opsz32 ? 6 : 4);
      const off = c.opsz32 ? c.rd32(c.eaSeg, c.eaOff) >>> 0 : c.rd16(c.eaSeg, c.eaOff);
      const sel = c.rd16(c.eaSeg, c.wideOff(c.opsz32 ? 4 : 2));
      if (op === 3) c.farCall(sel, off);
      else c.farJump(sel, off);
      return;
    }
    case 4:
      jumpNear(c, c.getE());
      return;
    case 6: {
      const v = c.getE();
      c.push(v);
      return;
    }
    default:
      c.raise(UD);
  }
}

/** DAA DAS AAA AAS AAM AAD (SDM pseudocode; undefined flags as the P6 leaves them). */
export function bcd(c: CpuCore, b: number): void {
  const r8 = c.r8;
  switch (b) {
    case 0x27:
    case 0x2f: {
      const oldAl = r8[0];
      const oldCf = c.getCF();
      const af = c.getAF();
      let al = oldAl;
      let cf = 0;
      let newAf = 0;
      const sub = b === 0x2f;
      if ((al & 0xf) > 9 || af) {
        al = sub ? al - 6 : al + 6;
        cf = oldCf | (sub ? (al < 0 ? 1 : 0) : al > 0xff ? 1 : 0);
        al &= 0xff;
        newAf = AF;
      }
      if (oldAl > 0x99 || oldCf) {
        al = (sub ? al - 0x60 : al + 0x60) & 0xff;
        cf = 1;
      }
      r8[0] = al;
      setSzp(c, al, 8, (cf ? CF : 0) | newAf);
      return;
    }
    case 0x37:
    case 0x3f: {
      const sub = b === 0x3f;
      let flagsOut = 0;
      if ((r8[0] & 0xf) > 9 || c.getAF()) {
        if (sub) {
          c.r16[0] = (c.r16[0] - 6) & 0xffff;
          r8[1] = (r8[1] - 1) & 0xff;
        } else {
          c.r16[0] = (c.r16[0] + 0x106) & 0xffff;
        }
        flagsOut = AF | CF;
      }
      r8[0] &= 0xf;
      setSzp(c, r8[0], 8, flagsOut);
      return;
    }
    case 0xd4: {
      const base = c.fetch8();
      if (base === 0) c.raise(DE);
      const al = r8[0];
      r8[1] = Math.floor(al / base);
      r8[0] = al % base;
      setSzp(c, r8[0], 8, 0);
      return;
    }
    default: {
      const base = c.fetch8();
      const al = (r8[0] + r8[1] * base) & 0xff;
      c.r16[0] = al;
      setSzp(c, al, 8, 0);
    }
  }
}

/** SF/ZF/PF from `v`; CF/AF/OF from `other` (non-lazy). */
function setSzp(c: CpuCore, v: number, bits: number, other: number): void {
  c.setLazy(LZ_LOGIC, v, 0, v, bits, ZF | SF | PF);
  c.flags = (c.flags & ~(CF | AF | OF)) | other;
}

export { ECX, SS };
