/** Two-byte opcodes 0F xx (SDM Vol.2 Table A-3), except the system group in system.ts. */
import { LZ_LOGIC, LZ_SUB } from './base.ts';
import { AF, CF, DS, EAX, EBX, ECX, EDX, ES, FS, GS, OF, PF, SF, SS, UD, ZF } from './constants.ts';
import type { CpuCore } from './core.ts';
import { R8 } from './core.ts';
import { imulG, jumpNear } from './ops-main.ts';
import { execSystem } from './system.ts';

export function exec0F(c: CpuCore): void {
  const b = c.fetch8();
  const r = c.regs;
  if (b >= 0x80 && b <= 0x8f) {
    const d = c.fetchImm();
    if (c.cond(b & 15)) jumpNear(c, c.ip + d);
    return;
  }
  if (b >= 0x40 && b <= 0x4f) {
    c.decodeModrm();
    const v = c.getE(); // the source is read (and may fault) even when the condition is false
    if (c.cond(b & 15)) c.setG(v);

    return;
  }
  if (b >= 0x90 && b <= 0x9f) {
    c.decodeModrm();
    c.setE8(c.cond(b & 15) ? 1 : 0);
    return;
  }
  if (b >= 0xc8 && b <= 0xcf) {
    const v = r[b & 7];
    r[b & 7] = (v >>> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24) | 0;
    return;
  }
  switch (b) {
    case 0xa0:
      c.push(c.segSel[FS]);
      return;
    case 0xa8:
      c.push(c.segSel[GS]);
      return;
    case 0xa1:
    case 0xa9: {
      const s = b === 0xa1 ? FS : GS;
      const v = c.opsz32 ? c.rd32(SS, c.spAdd(0)) : c.rd16(SS, c.spAdd(0));
      c.loadSeg(s, v & 0xffff);
      c.setSp(c.spAdd(c.opsz32 ? 4 : 2));
      return;
    }
    case 0xa3:
    case 0xab:
    case 0xb3:
    case 0xbb: {
      c.decodeModrm();
      bitOp(c, (b >> 3) & 3, c.getG(), true);
      return;
    }
    case 0xba: {
      c.decodeModrm();
      const op = c.regField;
      if (op < 4) c.raise(UD);
      bitOp(c, op & 3, c.fetch8(), false);
      return;
    }
    case 0xa4:
    case 0xa5:
    case 0xac:
    case 0xad: {
      c.decodeModrm();
      const count = (b & 1 ? c.r8[4] : c.fetch8()) & 31;
      shiftDouble(c, b >= 0xac, count);
      return;
    }
    case 0xaf: {
      c.decodeModrm();
      imulG(c, c.getE(), c.getG());
      return;
    }
    case 0xb0: {
      c.decodeModrm();
      const d = c.getE8();
      c.alu(7, c.r8[0], d, 8);
      if (c.r8[0] === d) c.setE8(c.r8[R8[c.regField]]);
      else {
        c.setE8(d); // the destination is always written (locked RMW)
        c.r8[0] = d;
      }
      return;
    }
    case 0xb1: {
      c.decodeModrm();
      const bits = c.osBits;
      const d = c.getE();
      const acc = c.getReg(EAX);
      c.alu(7, acc, d, bits);
      if (acc === d) c.setE(c.getG());
      else {
        c.setE(d);
        c.setReg(EAX, d);
      }
      return;
    }
    case 0xb2:
    case 0xb4:
    case 0xb5: {
      c.decodeModrm();
      c.requireMem();
      const off = c.opsz32 ? c.rd32(c.eaSeg, c.eaOff) : c.rd16(c.eaSeg, c.eaOff);
      const o2 = c.adsz32 ? (c.eaOff + (c.opsz32 ? 4 : 2)) >>> 0 : (c.eaOff + (c.opsz32 ? 4 : 2)) & 0xffff;
      const sel = c.rd16(c.eaSeg, o2);
      c.loadSeg(b === 0xb2 ? SS : b === 0xb4 ? FS : GS, sel);
      c.setG(off);
      return;
    }
    case 0xb6:
      c.decodeModrm();
      c.setG(c.getE8());
      return;
    case 0xb7:
      c.decodeModrm();
      c.setG(c.getE16());
      return;
    case 0xbe:
      c.decodeModrm();
      c.setG((c.getE8() << 24) >> 24);
      return;
    case 0xbf:
      c.decodeModrm();
      c.setG((c.getE16() << 16) >> 16);
      return;
    case 0xbc:
    case 0xbd: {
      c.decodeModrm();
      const bits = c.osBits;
      const v = c.opsz32 ? c.getE() : c.getE() & 0xffff;
      c.materialize();
      if (v === 0) {
        c.flags |= ZF;
        return;
      }
      const idx = b === 0xbc ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
      c.setG(idx);
      c.setLazy(LZ_LOGIC, 1, 0, 1, bits, ZF);
      return;
    }
    case 0xc0: {
      c.decodeModrm();
      const d = c.getE8();
      const g = R8[c.regField];
      const s = c.r8[g];
      const sum = c.alu(0, d, s, 8);
      c.setE8(sum);
      c.r8[g] = d;
      return;
    }
    case 0xc1: {
      c.decodeModrm();
      const d = c.getE();
      const s = c.getG();
      const sum = c.alu(0, d, s, c.osBits);
      c.setE(sum);
      c.setG(d);
      return;
    }
    case 0xc7: {
      c.decodeModrm();
      if (c.regField !== 1 || c.modrm >= 0xc0) c.raise(UD);
      const lo = c.rd32(c.eaSeg, c.eaOff);
      const hi = c.rd32(c.eaSeg, (c.eaOff + 4) >>> 0);
      c.materialize();
      if (lo === r[EAX] && hi === r[EDX]) {
        c.wr32(c.eaSeg, (c.eaOff + 4) >>> 0, r[ECX]);
        c.wr32(c.eaSeg, c.eaOff, r[EBX]);
        c.flags |= ZF;
      } else {
        c.probeWrite(c.eaSeg, c.eaOff, 8);
        c.wr32(c.eaSeg, (c.eaOff + 4) >>> 0, hi);
        c.wr32(c.eaSeg, c.eaOff, lo);
        r[EAX] = lo;
        r[EDX] = hi;
        c.flags &= ~ZF;
      }
      return;
    }
    case 0x0b:
    case 0xb9:
    case 0xff:
      c.raise(UD);
      return;
    case 0x1f:
    case 0x18:
    case 0x19:
    case 0x1a:
    case 0x1b:
    case 0x1c:
    case 0x1d:
    case 0x1e:
    case 0x0d:
      // Hint NOPs (0F 1F /0 multi-byte NOP, prefetch hints): decode the operand, do nothing.
      c.decodeModrm();
      return;
    default:
      execSystem(c, b);
  }
}

/** BT/BTS/BTR/BTC (op 0..3). Register bit offsets address memory as a bit string (SDM BT). */
function bitOp(c: CpuCore, op: number, off: number, regOffset: boolean): void {
  const bits = c.osBits;
  let bit: number;
  if (c.modrm >= 0xc0 || !regOffset) {
    bit = off & (bits - 1);
  } else {
    // Signed bit offset from the G register: the addressed unit moves (aligned to operand size).
    const so = bits === 32 ? off | 0 : (off << 16) >> 16;
    const unit = Math.floor(so / bits);
    const delta = unit * (bits >> 3);
    c.eaOff = c.adsz32 ? (c.eaOff + delta) >>> 0 : (c.eaOff + delta) & 0xffff;
    bit = so - unit * bits;
  }
  const v = c.getE();
  const cf = (v >>> bit) & 1;
  c.setCF(cf);
  if (op === 0) return;
  const m = 1 << bit;
  const nv = op === 1 ? v | m : op === 2 ? v & ~m : v ^ m;
  c.setE(nv);
}

function shiftDouble(c: CpuCore, right: boolean, count: number): void {
  const bits = c.osBits;
  const dst = c.getE();
  const src = c.getG();
  if (count === 0) return;
  let res: number;
  let cf: number;
  if (bits === 32) {
    const d = dst >>> 0;
    const s = src >>> 0;
    if (right) {
      res = (d >>> count) | (s << (32 - count));
      cf = (d >>> (count - 1)) & 1;
    } else {
      res = (d << count) | (s >>> (32 - count));
      cf = (d >>> (32 - count)) & 1;
    }
    res |= 0;
  } else {
    // 16-bit: counts above 16 are undefined; continue the dst:src:dst pattern (P6 behaviour).
    const d = dst & 0xffff;
    const s = src & 0xffff;
    if (right) {
      if (count <= 16) {
        res = (d >>> count) | (s << (16 - count));
        cf = (d >>> (count - 1)) & 1;
      } else {
        res = (s >>> (count - 16)) | (d << (32 - count));
        cf = (s >>> (count - 17)) & 1;
      }
    } else if (count <= 16) {
      res = (d << count) | (s >>> (16 - count));
      cf = (d >>> (16 - count)) & 1;
    } else {
      res = (s << (count - 16)) | (d >>> (32 - count));
      cf = (s >>> (32 - count)) & 1;
    }
    res &= 0xffff;
  }
  c.setE(res);
  const msb = bits - 1;
  const of = (((res ^ dst) >>> msb) & 1) !== 0;
  c.setLazy(LZ_LOGIC, res, 0, res, bits, ZF | SF | PF);
  c.flags = (c.flags & ~(CF | OF | AF)) | cf | (of ? OF : 0);
}

export { DS, ES, LZ_SUB };
