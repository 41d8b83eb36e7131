/**
 * One-byte opcode map (SDM Vol.2 Table A-2): prefixes, then dispatch. Group opcodes are in
 * ops-groups.ts, 0F xx in ops-0f.ts, string instructions in string.ts.
 */
import { SilentKind } from './base.ts';
import {
  AC,
  BP,
  BR,
  CF,
  CR0_EM,
  CR0_MP,
  CR0_PE,
  CR0_TS,
  CS,
  DB,
  DF,
  DS,
  EAX,
  EBP,
  ECX,
  EDX,
  ES,
  ESP,
  FS,
  GS,
  ID,
  IF,
  IOPL,
  NM,
  NT,
  OFV,
  RF,
  SS,
  TF,
  UD,
  VM,
} from './constants.ts';
import type { CpuCore } from './core.ts';
import { R8 } from './core.ts';
import { EventKind } from './interrupts.ts';
import { exec0F } from './ops-0f.ts';
import { bcd, group1, group2, group3, group45 } from './ops-groups.ts';
import { stringOp } from './string.ts';
import { lookup } from './table.ts';

/** Execute one instruction at c.ip (== c.eip). */
export function execute(c: CpuCore): void {
  const d32 = c.code32;
  c.opsz32 = d32;
  c.adsz32 = d32;
  c.segOv = -1;
  c.rep = 0;
  c.lock = false;
  for (;;) {
    const b = c.fetch8();
    switch (b) {
      case 0x26:
        c.segOv = ES;
        break;
      case 0x2e:
        c.segOv = CS;
        break;
      case 0x36:
        c.segOv = SS;
        break;
      case 0x3e:
        c.segOv = DS;
        break;
      case 0x64:
        c.segOv = FS;
        break;
      case 0x65:
        c.segOv = GS;
        break;
      case 0x66:
        c.opsz32 = !d32;
        break;
      case 0x67:
        c.adsz32 = !d32;
        break;
      case 0xf0:
        c.lock = true;
        break;
      case 0xf2:
        c.rep = 2;
        break;
      case 0xf3:
        c.rep = 3;
        break;
      default:
        if (c.lock) checkLock(c, b);
        op1(c, b);
        return;
    }
    // SDM §2.3.11: an instruction longer than 15 bytes raises #GP(0).
    if ((c.ip - c.eip) >>> 0 >= 15) c.gp(0);
  }
}

/** LOCK is valid only on the table's lockable forms with a memory destination (else #UD). */
function checkLock(c: CpuCore, b: number): void {
  const save = c.ip;
  const two = b === 0x0f;
  const op = two ? c.fetch8() : b;
  const m = c.fetch8();
  c.ip = save;
  const info = lookup(op, two, (m >> 3) & 7);
  if (info === null || !info.lock || m >= 0xc0) c.raise(UD);
}

/** Near jump to `t` (truncated to the operand size), checked against the CS limit. */
export function jumpNear(c: CpuCore, t: number): void {
  t = c.opsz32 ? t >>> 0 : t & 0xffff;
  if (t > c.csLim) c.gp(0);
  c.ip = t;
}

function pushSeg(c: CpuCore, s: number): void {
  // A 32-bit push of a segment register writes 2 bytes on P6 and later but 4 on 486; we write 4.
  c.push(c.segSel[s]);
}
function popSeg(c: CpuCore, s: number): void {
  const sp = c.spAdd(0);
  const v = c.opsz32 ? c.rd32(SS, sp) : c.rd16(SS, sp);
  c.loadSeg(s, v & 0xffff);
  c.setSp(c.spAdd(c.opsz32 ? 4 : 2));
  if (s === SS) c.setShadow();
}

/** Protected-mode IOPL test: CPL ≤ IOPL (V86 uses IOPL = 3). */
export function ioplOk(c: CpuCore): boolean {
  if ((c.cr0 & CR0_PE) === 0) return true;
  const iopl = (c.flags >> 12) & 3;
  if (c.flags & VM) return iopl === 3;
  return c.cpl <= iopl;
}

/** Memory operand size of ESC opcode (D8+i, reg) for the limit check. */
const ESC_SIZE = [
  4,
  4,
  4,
  4,
  4,
  4,
  4,
  4, // D8 m32real
  4,
  4,
  4,
  4,
  14,
  2,
  14,
  2, // D9 fld/fst m32, fldenv, fldcw, fstenv, fstcw
  4,
  4,
  4,
  4,
  4,
  4,
  4,
  4, // DA m32int
  4,
  4,
  4,
  4,
  10,
  10,
  10,
  10, // DB m32int, fld/fstp m80
  8,
  8,
  8,
  8,
  8,
  8,
  8,
  8, // DC m64real
  8,
  8,
  8,
  8,
  94,
  94,
  94,
  2, // DD m64, frstor/fsave, fstsw
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2, // DE m16int
  2,
  2,
  2,
  2,
  10,
  8,
  10,
  8, // DF m16int, fbld, fild m64, fbstp, fistp m64
];

function esc(c: CpuCore, op: number): void {
  // No x87: ESC follows CR0.EM/TS (SDM §2.5, Table 2-2) — #NM when EM or TS; else #NM too.
  if (c.cr0 & (CR0_EM | CR0_TS)) c.raise(NM);
  c.decodeModrm();
  // EM=0 and no FPU present: the operand is formed and limit-checked (as the 286 data shows); no-op.
  if (c.modrm < 0xc0) c.segCheck(c.eaSeg, c.eaOff, ESC_SIZE[(op & 7) * 8 + ((c.modrm >> 3) & 7)] ?? 4, false);
}

export function pushf(c: CpuCore): void {
  if (c.flags & VM && (c.flags & IOPL) !== IOPL) c.gp(0);
  const f = c.getEflags() & ~(VM | RF);
  c.push(f);
}

export function popf(c: CpuCore): void {
  const v86 = (c.flags & VM) !== 0;
  if (v86 && (c.flags & IOPL) !== IOPL) c.gp(0);
  const v = c.pop();
  c.materialize();
  const cur = c.flags;
  // Writable bits: status, TF, IF, DF, IOPL, NT, AC, ID (RF/VM/VIF/VIP never by POPF).
  let mask = c.opsz32 ? 0x247fd5 : 0x7fd5;
  if (c.cr0 & CR0_PE) {
    if (v86 || c.cpl > 0) {
      mask &= ~IOPL;
      if (((v ^ cur) & IOPL) !== 0 && !v86) c.silent(SilentKind.IoplDropped, v);
    }
    if (!v86 && c.cpl > ((cur >> 12) & 3)) {
      mask &= ~IF;
      if (((v ^ cur) & IF) !== 0) c.silent(SilentKind.PopfIfDropped, v);
    }
  }
  c.flags = (cur & ~mask) | (v & mask) | 2;
}

function op1(c: CpuCore, b: number): void {
  const r = c.regs;
  if (b < 0x40 && (b & 7) < 6) {
    alu6(c, b);
    return;
  }
  switch (b) {
    case 0x06:
      pushSeg(c, ES);
      return;
    case 0x07:
      popSeg(c, ES);
      return;
    case 0x0e:
      pushSeg(c, CS);
      return;
    case 0x0f:
      exec0F(c);
      return;
    case 0x16:
      pushSeg(c, SS);
      return;
    case 0x17:
      popSeg(c, SS);
      return;
    case 0x1e:
      pushSeg(c, DS);
      return;
    case 0x1f:
      popSeg(c, DS);
      return;
    case 0x27:
    case 0x2f:
    case 0x37:
    case 0x3f:
      bcd(c, b);
      return;
    case 0x40:
    case 0x41:
    case 0x42:
    case 0x43:
    case 0x44:
    case 0x45:
    case 0x46:
    case 0x47:
      c.setReg(b & 7, c.incdec(c.getReg(b & 7), false, c.osBits));
      return;
    case 0x48:
    case 0x49:
    case 0x4a:
    case 0x4b:
    case 0x4c:
    case 0x4d:
    case 0x4e:
    case 0x4f:
      c.setReg(b & 7, c.incdec(c.getReg(b & 7), true, c.osBits));
      return;
    case 0x50:
    case 0x51:
    case 0x52:
    case 0x53:
    case 0x54:
    case 0x55:
    case 0x56:
    case 0x57:
      c.push(c.getReg(b & 7));
      return;
    case 0x58:
    case 0x59:
    case 0x5a:
    case 0x5b:
    case 0x5c:
    case 0x5d:
    case 0x5e:
    case 0x5f: {
      const v = c.pop();
      c.setReg(b & 7, v);
      return;
    }
    case 0x60: {
      // PUSHA: check the whole frame first (restartable).
      const w = c.opsz32 ? 4 : 2;
      for (let i = 1; i <= 8; i++) c.probeWrite(SS, c.spAdd(-w * i), w); // each slot (SP may wrap)
      const sp = c.getReg(ESP);
      for (let i = 0; i < 8; i++) c.push(i === ESP ? sp : c.getReg(i));
      return;
    }
    case 0x61: {
      const s = c.opsz32 ? 4 : 2;
      const base = c.spAdd(0);
      const vals = c.frameVals;
      for (let i = 7; i >= 0; i--) {
        const o = c.ss32 ? (base + (7 - i) * s) >>> 0 : (base + (7 - i) * s) & 0xffff;
        vals[i] = s === 4 ? c.rd32(SS, o) : c.rd16(SS, o);
      }
      for (let i = 0; i < 8; i++) if (i !== ESP) c.setReg(i, vals[i]);
      c.setSp(c.spAdd(8 * s));
      return;
    }
    case 0x62: {
      c.decodeModrm();
      c.requireMem();
      const idx = c.getG();
      let lo: number;
      let hi: number;
      let v: number;
      if (c.opsz32) {
        lo = c.rd32(c.eaSeg, c.eaOff);
        hi = c.rd32(c.eaSeg, (c.eaOff + 4) >>> 0);
        v = idx;
      } else {
        lo = (c.rd16(c.eaSeg, c.eaOff) << 16) >> 16;
        hi = (c.rd16(c.eaSeg, c.adsz32 ? (c.eaOff + 2) >>> 0 : (c.eaOff + 2) & 0xffff) << 16) >> 16;
        v = (idx << 16) >> 16;
      }
      if (v < lo || v > hi) c.raise(BR);
      return;
    }
    case 0x63: {
      // ARPL: #UD in real and V86 mode.
      if ((c.cr0 & CR0_PE) === 0 || c.flags & VM) c.raise(UD);
      c.decodeModrm();
      const dst = c.getE16();
      const src = c.r16[c.regField << 1];
      c.materialize();
      if ((dst & 3) < (src & 3)) {
        c.setE16((dst & ~3) | (src & 3));
        c.flags |= 0x40;
      } else c.flags &= ~0x40;
      return;
    }
    case 0x68:
      c.push(c.fetchImm());
      return;
    case 0x69:
    case 0x6b: {
      c.decodeModrm();
      const a = c.getE();
      const imm = b === 0x69 ? c.fetchImm() : (c.fetch8() << 24) >> 24;
      imulG(c, a, imm);
      return;
    }
    case 0x6a:
      c.push((c.fetch8() << 24) >> 24);
      return;
    case 0x6c:
    case 0x6d:
    case 0x6e:
    case 0x6f:
    case 0xa4:
    case 0xa5:
    case 0xa6:
    case 0xa7:
    case 0xaa:
    case 0xab:
    case 0xac:
    case 0xad:
    case 0xae:
    case 0xaf:
      stringOp(c, b);
      return;
    case 0x70:
    case 0x71:
    case 0x72:
    case 0x73:
    case 0x74:
    case 0x75:
    case 0x76:
    case 0x77:
    case 0x78:
    case 0x79:
    case 0x7a:
    case 0x7b:
    case 0x7c:
    case 0x7d:
    case 0x7e:
    case 0x7f: {
      const d = (c.fetch8() << 24) >> 24;
      if (c.cond(b & 15)) jumpNear(c, c.ip + d);
      return;
    }
    case 0x80:
    case 0x81:
    case 0x82:
    case 0x83:
      group1(c, b);
      return;
    case 0x84:
      c.decodeModrm();
      c.alu(4, c.getE8(), c.r8[R8[c.regField]], 8);
      return;
    case 0x85:
      c.decodeModrm();
      c.alu(4, c.getE(), c.getG(), c.osBits);
      return;
    case 0x86: {
      c.decodeModrm();
      const a = c.getE8();
      const g = R8[c.regField];
      c.setE8(c.r8[g]);
      c.r8[g] = a;
      return;
    }
    case 0x87: {
      c.decodeModrm();
      const a = c.getE();
      c.setE(c.getG());
      c.setG(a);
      return;
    }
    case 0x88:
      c.decodeModrm();
      c.setE8(c.r8[R8[c.regField]]);
      return;
    case 0x89:
      c.decodeModrm();
      c.setE(c.getG());
      return;
    case 0x8a:
      c.decodeModrm();
      c.r8[R8[c.regField]] = c.getE8();
      return;
    case 0x8b:
      c.decodeModrm();
      c.setG(c.getE());
      return;
    case 0x8c: {
      c.decodeModrm();
      const s = c.regField;
      if (s > 5) c.raise(UD);
      // To a register with 32-bit operand size the upper half is zeroed (P6+); memory gets 16 bits.
      if (c.modrm >= 0xc0 && c.opsz32) c.regs[c.modrm & 7] = c.segSel[s];
      else c.setE16(c.segSel[s]);
      return;
    }
    case 0x8d:
      c.decodeModrm();
      c.requireMem();
      c.setG(c.eaOff);
      return;
    case 0x8e: {
      c.decodeModrm();
      const s = c.regField;
      if (s > 5 || s === CS) c.raise(UD);
      c.loadSeg(s, c.getE16());
      if (s === SS) c.setShadow();
      return;
    }
    case 0x8f: {
      // POP Ev: ESP is incremented before the destination address is used (SDM POP).
      const save = c.ip;
      const m = c.fetch8();
      if (((m >> 3) & 7) !== 0) c.raise(UD);
      const v = c.opsz32 ? c.rd32(SS, c.spAdd(0)) : c.rd16(SS, c.spAdd(0));
      const oldEsp = r[ESP];
      c.setSp(c.spAdd(c.opsz32 ? 4 : 2));
      c.ip = save;
      try {
        c.decodeModrm();
        c.setE(v);
      } catch (e) {
        r[ESP] = oldEsp;
        throw e;
      }
      return;
    }
    case 0x90:
      return;
    case 0x91:
    case 0x92:
    case 0x93:
    case 0x94:
    case 0x95:
    case 0x96:
    case 0x97: {
      const a = c.getReg(EAX);
      c.setReg(EAX, c.getReg(b & 7));
      c.setReg(b & 7, a);
      return;
    }
    case 0x98:
      if (c.opsz32) r[EAX] = (r[EAX] << 16) >> 16;
      else c.r16[0] = (c.r8[0] << 24) >> 24;
      return;
    case 0x99:
      if (c.opsz32) r[EDX] = r[EAX] >> 31;
      else c.r16[EDX << 1] = (c.r16[0] & 0x8000) !== 0 ? 0xffff : 0;
      return;
    case 0x9a: {
      const off = c.fetchImm();
      const sel = c.fetch16();
      c.farCall(sel, c.opsz32 ? off >>> 0 : off);
      return;
    }
    case 0x9b:
      // WAIT/FWAIT: #NM when MP and TS are both set (SDM Table 2-2).
      if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) c.raise(NM);
      return;
    case 0x9c:
      pushf(c);
      return;
    case 0x9d:
      popf(c);
      c.afterIfChange();
      return;
    case 0x9e:
      c.setFlagBits(c.r8[1], 0xd5);
      return;
    case 0x9f:
      c.r8[1] = c.getEflags() & 0xff;
      return;
    case 0xa0:
    case 0xa1:
    case 0xa2:
    case 0xa3: {
      const off = c.adsz32 ? c.fetch32() >>> 0 : c.fetch16();
      const s = c.segOv >= 0 ? c.segOv : DS;
      if (b === 0xa0) c.r8[0] = c.rd8(s, off);
      else if (b === 0xa1) c.setReg(EAX, c.opsz32 ? c.rd32(s, off) : c.rd16(s, off));
      else if (b === 0xa2) c.wr8(s, off, c.r8[0]);
      else if (c.opsz32) c.wr32(s, off, r[EAX]);
      else c.wr16(s, off, c.r16[0]);
      return;
    }
    case 0xa8:
      c.alu(4, c.r8[0], c.fetch8(), 8);
      return;
    case 0xa9:
      c.alu(4, c.getReg(EAX), c.fetchImm(), c.osBits);
      return;
    case 0xb0:
    case 0xb1:
    case 0xb2:
    case 0xb3:
    case 0xb4:
    case 0xb5:
    case 0xb6:
    case 0xb7:
      c.r8[R8[b & 7]] = c.fetch8();
      return;
    case 0xb8:
    case 0xb9:
    case 0xba:
    case 0xbb:
    case 0xbc:
    case 0xbd:
    case 0xbe:
    case 0xbf:
      c.setReg(b & 7, c.fetchImm());
      return;
    case 0xc0:
    case 0xc1:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
      group2(c, b);
      return;
    case 0xc2:
    case 0xc3: {
      const imm = b === 0xc2 ? c.fetch16() : 0;
      const t = c.opsz32 ? c.rd32(SS, c.spAdd(0)) : c.rd16(SS, c.spAdd(0));
      jumpNear(c, t);
      c.setSp(c.spAdd((c.opsz32 ? 4 : 2) + imm));
      return;
    }
    case 0xc4:
    case 0xc5: {
      if (c.protectedMode && !c.v86) {
        const save = c.ip;
        const m = c.fetch8();
        c.ip = save;
        if (m >= 0xc0) c.raise(UD);
      }
      c.decodeModrm();
      c.requireMem();
      const off = c.opsz32 ? c.rd32(c.eaSeg, c.eaOff) : c.rd16(c.eaSeg, c.eaOff);
      const sel = c.rd16(
        c.eaSeg,
        c.adsz32 ? (c.eaOff + (c.opsz32 ? 4 : 2)) >>> 0 : (c.eaOff + (c.opsz32 ? 4 : 2)) & 0xffff,
      );
      c.loadSeg(b === 0xc4 ? ES : DS, sel);
      c.setG(off);
      return;
    }
    case 0xc6:
    case 0xc7: {
      c.decodeModrm();
      if (c.regField !== 0) c.raise(UD);
      if (b === 0xc6) c.setE8(c.fetch8());
      else c.setE(c.fetchImm());
      return;
    }
    case 0xc8:
      enter(c);
      return;
    case 0xc9: {
      // LEAVE: ESP = EBP, pop EBP (read before changing anything).
      const bp = c.ss32 ? r[EBP] >>> 0 : r[EBP] & 0xffff;
      const v = c.opsz32 ? c.rd32(SS, bp) : c.rd16(SS, bp);
      c.setSp(c.ss32 ? (bp + (c.opsz32 ? 4 : 2)) >>> 0 : (bp + (c.opsz32 ? 4 : 2)) & 0xffff);
      c.setReg(EBP, v);
      return;
    }
    case 0xca:
    case 0xcb: {
      const imm = b === 0xca ? c.fetch16() : 0;
      c.farRet(imm);
      return;
    }
    case 0xcc:
      c.softInt(BP, EventKind.Software);
      return;
    case 0xcd: {
      const v = c.fetch8();
      c.softInt(v, EventKind.Software);
      return;
    }
    case 0xce:
      if (c.getOF()) c.softInt(OFV, EventKind.Software);
      return;
    case 0xcf:
      c.iret();
      c.afterIfChange();
      return;
    case 0xd4:
    case 0xd5:
      bcd(c, b);
      return;
    case 0xd6:
      c.r8[0] = c.getCF() ? 0xff : 0;
      return;
    case 0xd7: {
      const s = c.segOv >= 0 ? c.segOv : DS;
      const off = c.adsz32 ? (r[3] + c.r8[0]) >>> 0 : (c.r16[6] + c.r8[0]) & 0xffff;
      c.r8[0] = c.rd8(s, off);
      return;
    }
    case 0xd8:
    case 0xd9:
    case 0xda:
    case 0xdb:
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf:
      esc(c, b);
      return;
    case 0xe0:
    case 0xe1:
    case 0xe2: {
      const d = (c.fetch8() << 24) >> 24;
      let cnt: number;
      if (c.adsz32) cnt = r[ECX] = (r[ECX] - 1) | 0;
      else cnt = c.r16[ECX << 1] = (c.r16[ECX << 1] - 1) & 0xffff;
      let take = cnt !== 0;
      if (b === 0xe0) take = take && !c.getZF();
      else if (b === 0xe1) take = take && c.getZF();
      if (take) jumpNear(c, c.ip + d);
      return;
    }
    case 0xe3: {
      const d = (c.fetch8() << 24) >> 24;
      const cnt = c.adsz32 ? r[ECX] : c.r16[ECX << 1];
      if (cnt === 0) jumpNear(c, c.ip + d);
      return;
    }
    case 0xe4:
    case 0xe5:
    case 0xe6:
    case 0xe7:
      portIo(c, b, c.fetch8());
      return;
    case 0xec:
    case 0xed:
    case 0xee:
    case 0xef:
      portIo(c, b, c.r16[EDX << 1]);
      return;
    case 0xe8: {
      const d = c.fetchImm();
      const t = c.opsz32 ? (c.ip + d) >>> 0 : (c.ip + d) & 0xffff;
      if (t > c.csLim) c.gp(0);
      c.push(c.ip);
      c.ip = t;
      return;
    }
    case 0xe9: {
      const d = c.fetchImm();
      jumpNear(c, c.ip + d);
      return;
    }
    case 0xea: {
      const off = c.fetchImm();
      const sel = c.fetch16();
      c.farJump(sel, c.opsz32 ? off >>> 0 : off);
      return;
    }
    case 0xeb: {
      const d = (c.fetch8() << 24) >> 24;
      jumpNear(c, c.ip + d);
      return;
    }
    case 0xf1:
      c.softInt(DB, EventKind.Icebp);
      return;
    case 0xf4:
      if (c.protectedMode && c.cpl !== 0) c.gp(0);
      c.halted = true;
      c.attention = true;
      return;
    case 0xf5:
      c.setCF(c.getCF() ^ 1);
      return;
    case 0xf6:
    case 0xf7:
      group3(c, b);
      return;
    case 0xf8:
      c.setCF(0);
      return;
    case 0xf9:
      c.setCF(1);
      return;
    case 0xfa:
      if (!ioplOk(c)) c.gp(0);
      c.flags &= ~IF;
      return;
    case 0xfb:
      if (!ioplOk(c)) c.gp(0);
      if ((c.flags & IF) === 0) c.setShadow();
      c.flags |= IF;
      c.afterIfChange();
      return;
    case 0xfc:
      c.flags &= ~DF;
      return;
    case 0xfd:
      c.flags |= DF;
      return;
    case 0xfe:
    case 0xff:
      group45(c, b);
      return;
    default:
      c.raise(UD);
  }
}

function alu6(c: CpuCore, b: number): void {
  const op = b >> 3;
  switch (b & 7) {
    case 0: {
      c.decodeModrm();
      const res = c.alu(op, c.getE8(), c.r8[R8[c.regField]], 8);
      if (op !== 7) c.setE8(res);
      return;
    }
    case 1: {
      c.decodeModrm();
      const bits = c.osBits;
      const res = c.alu(op, c.getE(), c.getG(), bits);
      if (op !== 7) c.setE(res);
      return;
    }
    case 2: {
      c.decodeModrm();
      const g = R8[c.regField];
      const res = c.alu(op, c.r8[g], c.getE8(), 8);
      if (op !== 7) c.r8[g] = res;
      return;
    }
    case 3: {
      c.decodeModrm();
      const res = c.alu(op, c.getG(), c.getE(), c.osBits);
      if (op !== 7) c.setG(res);
      return;
    }
    case 4: {
      const res = c.alu(op, c.r8[0], c.fetch8(), 8);
      if (op !== 7) c.r8[0] = res;
      return;
    }
    default: {
      const imm = c.fetchImm();
      const res = c.alu(op, c.getReg(EAX), c.opsz32 ? imm : imm & 0xffff, c.osBits);
      if (op !== 7) c.setReg(EAX, res);
    }
  }
}

/** IMUL Gv, value, imm (and 0F AF with imm = G). */
export function imulG(c: CpuCore, a: number, imm: number): void {
  if (c.opsz32) {
    c.muls32(a | 0, imm | 0);
    const lo = c.mulLo;
    c.setG(lo);
    c.mulFlags(c.mulHi !== lo >> 31, lo, 32);
  } else {
    const p = ((a << 16) >> 16) * ((imm << 16) >> 16);
    c.setG(p & 0xffff);
    c.mulFlags(p !== (p << 16) >> 16, p & 0xffff, 16);
  }
}

function enter(c: CpuCore): void {
  const size = c.fetch16();
  const level = c.fetch8() & 31;
  const r = c.regs;
  const s = c.opsz32 ? 4 : 2;
  // Check the whole frame is writable first (restartable).
  const frame = s * (level + 1);
  c.probeWrite(SS, c.spAdd(-frame), frame);
  const bp0 = r[EBP];
  c.push(c.opsz32 ? bp0 : bp0 & 0xffff);
  const frameTemp = c.spAdd(0);
  let bp = c.ss32 ? bp0 >>> 0 : bp0 & 0xffff;
  for (let i = 1; i < level; i++) {
    bp = c.ss32 ? (bp - s) >>> 0 : (bp - s) & 0xffff;
    c.push(s === 4 ? c.rd32(SS, bp) : c.rd16(SS, bp));
  }
  if (level > 0) c.push(frameTemp);
  const newSp = c.spAdd(-size);
  if (size > 0) c.probeWrite(SS, newSp, 1);
  if (c.opsz32) r[EBP] = frameTemp;
  else c.r16[EBP << 1] = frameTemp;
  c.setSp(newSp);
}

function portIo(c: CpuCore, b: number, port: number): void {
  const size = b & 1 ? (c.opsz32 ? 4 : 2) : 1;
  c.checkIoPerm(port, size);
  const out = (b & 2) !== 0;
  const io = c.io;
  if (out) {
    if (size === 1) io.out8(port, c.r8[0]);
    else if (size === 2) io.out16(port, c.r16[0]);
    else io.out32(port, c.regs[EAX]);
  } else if (size === 1) c.r8[0] = io.in8(port);
  else if (size === 2) c.r16[0] = io.in16(port);
  else c.regs[EAX] = io.in32(port);
  c.ioHappened = true;
}

export { AC, CF, ID, NT, TF };
