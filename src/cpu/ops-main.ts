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
  const b = c.fetch8();
  if (IS_PREFIX[b] === 0) {
    OPS[b](c, b);
    return;
  }
  prefixed(c, b, d32);
}

const IS_PREFIX = new Uint8Array(256);
for (const p of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) IS_PREFIX[p] = 1;

/** Prefix loop (the less common path). */
function prefixed(c: CpuCore, first: number, d32: boolean): void {
  let b = first;
  for (;;) {
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
        OPS[b](c, b);
        return;
    }
    // SDM §2.3.11: an instruction longer than 15 bytes raises #GP(0).
    if ((c.ip - c.eip) >>> 0 >= 15) c.gp(0);
    b = c.fetch8();
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

/** One-byte opcode handlers, indexed by opcode (small functions so V8 can inline their helpers). */
export const OPS: Array<(c: CpuCore, b: number) => void> = new Array(256).fill(opUD);
function opUD(c: CpuCore, _b: number): void {
  c.raise(UD);
}
for (let op = 0; op < 0x40; op++) if ((op & 7) < 6) OPS[op] = alu6;
OPS[0x06] = op_06;
OPS[0x07] = op_07;
OPS[0x0e] = op_0e;
OPS[0x0f] = op_0f;
OPS[0x16] = op_16;
OPS[0x17] = op_17;
OPS[0x1e] = op_1e;
OPS[0x1f] = op_1f;
OPS[0x27] = op_27;
OPS[0x2f] = op_27;
OPS[0x37] = op_27;
OPS[0x3f] = op_27;
OPS[0x40] = op_40;
OPS[0x41] = op_40;
OPS[0x42] = op_40;
OPS[0x43] = op_40;
OPS[0x44] = op_40;
OPS[0x45] = op_40;
OPS[0x46] = op_40;
OPS[0x47] = op_40;
OPS[0x48] = op_48;
OPS[0x49] = op_48;
OPS[0x4a] = op_48;
OPS[0x4b] = op_48;
OPS[0x4c] = op_48;
OPS[0x4d] = op_48;
OPS[0x4e] = op_48;
OPS[0x4f] = op_48;
OPS[0x50] = op_50;
OPS[0x51] = op_50;
OPS[0x52] = op_50;
OPS[0x53] = op_50;
OPS[0x54] = op_50;
OPS[0x55] = op_50;
OPS[0x56] = op_50;
OPS[0x57] = op_50;
OPS[0x58] = op_58;
OPS[0x59] = op_58;
OPS[0x5a] = op_58;
OPS[0x5b] = op_58;
OPS[0x5c] = op_58;
OPS[0x5d] = op_58;
OPS[0x5e] = op_58;
OPS[0x5f] = op_58;
OPS[0x60] = op_60;
OPS[0x61] = op_61;
OPS[0x62] = op_62;
OPS[0x63] = op_63;
OPS[0x68] = op_68;
OPS[0x69] = op_69;
OPS[0x6b] = op_69;
OPS[0x6a] = op_6a;
OPS[0x6c] = op_6c;
OPS[0x6d] = op_6c;
OPS[0x6e] = op_6c;
OPS[0x6f] = op_6c;
OPS[0xa4] = op_6c;
OPS[0xa5] = op_6c;
OPS[0xa6] = op_6c;
OPS[0xa7] = op_6c;
OPS[0xaa] = op_6c;
OPS[0xab] = op_6c;
OPS[0xac] = op_6c;
OPS[0xad] = op_6c;
OPS[0xae] = op_6c;
OPS[0xaf] = op_6c;
OPS[0x70] = op_70;
OPS[0x71] = op_70;
OPS[0x72] = op_70;
OPS[0x73] = op_70;
OPS[0x74] = op_70;
OPS[0x75] = op_70;
OPS[0x76] = op_70;
OPS[0x77] = op_70;
OPS[0x78] = op_70;
OPS[0x79] = op_70;
OPS[0x7a] = op_70;
OPS[0x7b] = op_70;
OPS[0x7c] = op_70;
OPS[0x7d] = op_70;
OPS[0x7e] = op_70;
OPS[0x7f] = op_70;
OPS[0x80] = op_80;
OPS[0x81] = op_80;
OPS[0x82] = op_80;
OPS[0x83] = op_80;
OPS[0x84] = op_84;
OPS[0x85] = op_85;
OPS[0x86] = op_86;
OPS[0x87] = op_87;
OPS[0x88] = op_88;
OPS[0x89] = op_89;
OPS[0x8a] = op_8a;
OPS[0x8b] = op_8b;
OPS[0x8c] = op_8c;
OPS[0x8d] = op_8d;
OPS[0x8e] = op_8e;
OPS[0x8f] = op_8f;
OPS[0x90] = op_90;
OPS[0x91] = op_91;
OPS[0x92] = op_91;
OPS[0x93] = op_91;
OPS[0x94] = op_91;
OPS[0x95] = op_91;
OPS[0x96] = op_91;
OPS[0x97] = op_91;
OPS[0x98] = op_98;
OPS[0x99] = op_99;
OPS[0x9a] = op_9a;
OPS[0x9b] = op_9b;
OPS[0x9c] = op_9c;
OPS[0x9d] = op_9d;
OPS[0x9e] = op_9e;
OPS[0x9f] = op_9f;
OPS[0xa0] = op_a0;
OPS[0xa1] = op_a0;
OPS[0xa2] = op_a0;
OPS[0xa3] = op_a0;
OPS[0xa8] = op_a8;
OPS[0xa9] = op_a9;
OPS[0xb0] = op_b0;
OPS[0xb1] = op_b0;
OPS[0xb2] = op_b0;
OPS[0xb3] = op_b0;
OPS[0xb4] = op_b0;
OPS[0xb5] = op_b0;
OPS[0xb6] = op_b0;
OPS[0xb7] = op_b0;
OPS[0xb8] = op_b8;
OPS[0xb9] = op_b8;
OPS[0xba] = op_b8;
OPS[0xbb] = op_b8;
OPS[0xbc] = op_b8;
OPS[0xbd] = op_b8;
OPS[0xbe] = op_b8;
OPS[0xbf] = op_b8;
OPS[0xc0] = op_c0;
OPS[0xc1] = op_c0;
OPS[0xd0] = op_c0;
OPS[0xd1] = op_c0;
OPS[0xd2] = op_c0;
OPS[0xd3] = op_c0;
OPS[0xc2] = op_c2;
OPS[0xc3] = op_c2;
OPS[0xc4] = op_c4;
OPS[0xc5] = op_c4;
OPS[0xc6] = op_c6;
OPS[0xc7] = op_c6;
OPS[0xc8] = op_c8;
OPS[0xc9] = op_c9;
OPS[0xca] = op_ca;
OPS[0xcb] = op_ca;
OPS[0xcc] = op_cc;
OPS[0xcd] = op_cd;
OPS[0xce] = op_ce;
OPS[0xcf] = op_cf;
OPS[0xd4] = op_d4;
OPS[0xd5] = op_d4;
OPS[0xd6] = op_d6;
OPS[0xd7] = op_d7;
OPS[0xd8] = op_d8;
OPS[0xd9] = op_d8;
OPS[0xda] = op_d8;
OPS[0xdb] = op_d8;
OPS[0xdc] = op_d8;
OPS[0xdd] = op_d8;
OPS[0xde] = op_d8;
OPS[0xdf] = op_d8;
OPS[0xe0] = op_e0;
OPS[0xe1] = op_e0;
OPS[0xe2] = op_e0;
OPS[0xe3] = op_e3;
OPS[0xe4] = op_e4;
OPS[0xe5] = op_e4;
OPS[0xe6] = op_e4;
OPS[0xe7] = op_e4;
OPS[0xec] = op_ec;
OPS[0xed] = op_ec;
OPS[0xee] = op_ec;
OPS[0xef] = op_ec;
OPS[0xe8] = op_e8;
OPS[0xe9] = op_e9;
OPS[0xea] = op_ea;
OPS[0xeb] = op_eb;
OPS[0xf1] = op_f1;
OPS[0xf4] = op_f4;
OPS[0xf5] = op_f5;
OPS[0xf6] = op_f6;
OPS[0xf7] = op_f6;
OPS[0xf8] = op_f8;
OPS[0xf9] = op_f9;
OPS[0xfa] = op_fa;
OPS[0xfb] = op_fb;
OPS[0xfc] = op_fc;
OPS[0xfd] = op_fd;
OPS[0xfe] = op_fe;
OPS[0xff] = op_fe;

function op_06(c: CpuCore, _b: number): void {
  pushSeg(c, ES);
  return;
}

function op_07(c: CpuCore, _b: number): void {
  popSeg(c, ES);
  return;
}

function op_0e(c: CpuCore, _b: number): void {
  pushSeg(c, CS);
  return;
}

function op_0f(c: CpuCore, _b: number): void {
  exec0F(c);
  return;
}

function op_16(c: CpuCore, _b: number): void {
  pushSeg(c, SS);
  return;
}

function op_17(c: CpuCore, _b: number): void {
  popSeg(c, SS);
  return;
}

function op_1e(c: CpuCore, _b: number): void {
  pushSeg(c, DS);
  return;
}

function op_1f(c: CpuCore, _b: number): void {
  popSeg(c, DS);
  return;
}

function op_27(c: CpuCore, b: number): void {
  bcd(c, b);
  return;
}

function op_40(c: CpuCore, b: number): void {
  if (c.opsz32) c.regs[b & 7] = c.incdec(c.regs[b & 7], false, 32);
  else c.r16[(b & 7) << 1] = c.incdec(c.r16[(b & 7) << 1], false, 16);
}

function op_48(c: CpuCore, b: number): void {
  if (c.opsz32) c.regs[b & 7] = c.incdec(c.regs[b & 7], true, 32);
  else c.r16[(b & 7) << 1] = c.incdec(c.r16[(b & 7) << 1], true, 16);
}

function op_50(c: CpuCore, b: number): void {
  if (c.opsz32) c.push32(c.regs[b & 7]);
  else c.push16(c.r16[(b & 7) << 1]);
}

function op_58(c: CpuCore, b: number): void {
  if (c.opsz32) c.regs[b & 7] = c.pop32();
  else c.r16[(b & 7) << 1] = c.pop16();
}

function op_60(c: CpuCore, _b: number): void {
  // PUSHA: check the whole frame first (restartable).
  const w = c.opsz32 ? 4 : 2;
  for (let i = 1; i <= 8; i++) c.probeWrite(SS, c.spAdd(-w * i), w); // each slot (SP may wrap)
  const sp = c.getReg(ESP);
  for (let i = 0; i < 8; i++) c.push(i === ESP ? sp : c.getReg(i));
  return;
}

function op_61(c: CpuCore, _b: number): void {
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

function op_62(c: CpuCore, _b: number): void {
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

function op_63(c: CpuCore, _b: number): void {
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

function op_68(c: CpuCore, _b: number): void {
  c.push(c.fetchImm());
  return;
}

function op_69(c: CpuCore, b: number): void {
  c.decodeModrm();
  const a = c.getE();
  const imm = b === 0x69 ? c.fetchImm() : (c.fetch8() << 24) >> 24;
  imulG(c, a, imm);
  return;
}

function op_6a(c: CpuCore, _b: number): void {
  c.push((c.fetch8() << 24) >> 24);
  return;
}

function op_6c(c: CpuCore, b: number): void {
  stringOp(c, b);
  return;
}

function op_70(c: CpuCore, b: number): void {
  const d = (c.fetch8() << 24) >> 24;
  if (c.cond(b & 15)) {
    const t = c.opsz32 ? (c.ip + d) >>> 0 : (c.ip + d) & 0xffff;
    if (t > c.csLim) c.gp(0);
    c.ip = t;
  }
}

function op_80(c: CpuCore, b: number): void {
  group1(c, b);
  return;
}

function op_84(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.alu(4, c.getE8(), c.r8[R8[c.regField]], 8);
  return;
}

function op_85(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.alu(4, c.getE(), c.getG(), c.osBits);
  return;
}

function op_86(c: CpuCore, _b: number): void {
  c.decodeModrm();
  const a = c.getE8();
  const g = R8[c.regField];
  c.setE8(c.r8[g]);
  c.r8[g] = a;
  return;
}

function op_87(c: CpuCore, _b: number): void {
  c.decodeModrm();
  const a = c.getE();
  c.setE(c.getG());
  c.setG(a);
  return;
}

function op_88(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.setE8(c.r8[R8[c.regField]]);
  return;
}

function op_89(c: CpuCore, _b: number): void {
  const m = c.decodeModrm();
  if (c.opsz32) {
    const v = c.regs[(m >> 3) & 7];
    if (m >= 0xc0) c.regs[m & 7] = v;
    else c.wr32(c.eaSeg, c.eaOff, v);
    return;
  }
  c.setE(c.getG());
}

function op_8a(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.r8[R8[c.regField]] = c.getE8();
  return;
}

function op_8b(c: CpuCore, _b: number): void {
  const m = c.decodeModrm();
  if (c.opsz32) {
    c.regs[(m >> 3) & 7] = m >= 0xc0 ? c.regs[m & 7] : c.rd32(c.eaSeg, c.eaOff);
    return;
  }
  c.setG(c.getE());
}

function op_8c(c: CpuCore, _b: number): void {
  c.decodeModrm();
  const s = c.regField;
  if (s > 5) c.raise(UD);
  // To a register with 32-bit operand size the upper half is zeroed (P6+); memory gets 16 bits.
  if (c.modrm >= 0xc0 && c.opsz32) c.regs[c.modrm & 7] = c.segSel[s];
  else c.setE16(c.segSel[s]);
  return;
}

function op_8d(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.requireMem();
  c.setG(c.eaOff);
  return;
}

function op_8e(c: CpuCore, _b: number): void {
  c.decodeModrm();
  const s = c.regField;
  if (s > 5 || s === CS) c.raise(UD);
  c.loadSeg(s, c.getE16());
  if (s === SS) c.setShadow();
  return;
}

function op_8f(c: CpuCore, _b: number): void {
  const r = c.regs;
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

function op_90(_c: CpuCore, _b: number): void {
  return;
}

function op_91(c: CpuCore, b: number): void {
  const a = c.getReg(EAX);
  c.setReg(EAX, c.getReg(b & 7));
  c.setReg(b & 7, a);
  return;
}

function op_98(c: CpuCore, _b: number): void {
  const r = c.regs;
  if (c.opsz32) r[EAX] = (r[EAX] << 16) >> 16;
  else c.r16[0] = (c.r8[0] << 24) >> 24;
  return;
}

function op_99(c: CpuCore, _b: number): void {
  const r = c.regs;
  if (c.opsz32) r[EDX] = r[EAX] >> 31;
  else c.r16[EDX << 1] = (c.r16[0] & 0x8000) !== 0 ? 0xffff : 0;
  return;
}

function op_9a(c: CpuCore, _b: number): void {
  const off = c.fetchImm();
  const sel = c.fetch16();
  c.farCall(sel, c.opsz32 ? off >>> 0 : off);
  return;
}

function op_9b(c: CpuCore, _b: number): void {
  // WAIT/FWAIT: #NM when MP and TS are both set (SDM Table 2-2).
  if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) c.raise(NM);
  return;
}

function op_9c(c: CpuCore, _b: number): void {
  pushf(c);
  return;
}

function op_9d(c: CpuCore, _b: number): void {
  popf(c);
  c.afterIfChange();
  return;
}

function op_9e(c: CpuCore, _b: number): void {
  c.setFlagBits(c.r8[1], 0xd5);
  return;
}

function op_9f(c: CpuCore, _b: number): void {
  c.r8[1] = c.getEflags() & 0xff;
  return;
}

function op_a0(c: CpuCore, b: number): void {
  const r = c.regs;
  const off = c.adsz32 ? c.fetch32() >>> 0 : c.fetch16();
  const s = c.segOv >= 0 ? c.segOv : DS;
  if (b === 0xa0) c.r8[0] = c.rd8(s, off);
  else if (b === 0xa1) c.setReg(EAX, c.opsz32 ? c.rd32(s, off) : c.rd16(s, off));
  else if (b === 0xa2) c.wr8(s, off, c.r8[0]);
  else if (c.opsz32) c.wr32(s, off, r[EAX]);
  else c.wr16(s, off, c.r16[0]);
  return;
}

function op_a8(c: CpuCore, _b: number): void {
  c.alu(4, c.r8[0], c.fetch8(), 8);
  return;
}

function op_a9(c: CpuCore, _b: number): void {
  c.alu(4, c.getReg(EAX), c.fetchImm(), c.osBits);
  return;
}

function op_b0(c: CpuCore, b: number): void {
  c.r8[R8[b & 7]] = c.fetch8();
  return;
}

function op_b8(c: CpuCore, b: number): void {
  c.setReg(b & 7, c.fetchImm());
  return;
}

function op_c0(c: CpuCore, b: number): void {
  group2(c, b);
  return;
}

function op_c2(c: CpuCore, b: number): void {
  const imm = b === 0xc2 ? c.fetch16() : 0;
  if (imm === 0 && c.opsz32) {
    // RET near, 32-bit: pop first (a #SS/#PF leaves ESP intact), then check the target.
    const esp = c.regs[ESP];
    const t = c.pop32() >>> 0;
    if (t > c.csLim) {
      c.regs[ESP] = esp;
      c.gp(0);
    }
    c.ip = t;
    return;
  }
  const t = c.opsz32 ? c.rd32(SS, c.spAdd(0)) : c.rd16(SS, c.spAdd(0));
  jumpNear(c, t);
  c.setSp(c.spAdd((c.opsz32 ? 4 : 2) + imm));
  return;
}

function op_c4(c: CpuCore, b: number): void {
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

function op_c6(c: CpuCore, b: number): void {
  c.decodeModrm();
  if (c.regField !== 0) c.raise(UD);
  if (b === 0xc6) c.setE8(c.fetch8());
  else c.setE(c.fetchImm());
  return;
}

function op_c8(c: CpuCore, _b: number): void {
  enter(c);
  return;
}

function op_c9(c: CpuCore, _b: number): void {
  const r = c.regs;
  // LEAVE: ESP = EBP, pop EBP (read before changing anything).
  const bp = c.ss32 ? r[EBP] >>> 0 : r[EBP] & 0xffff;
  const v = c.opsz32 ? c.rd32(SS, bp) : c.rd16(SS, bp);
  c.setSp(c.ss32 ? (bp + (c.opsz32 ? 4 : 2)) >>> 0 : (bp + (c.opsz32 ? 4 : 2)) & 0xffff);
  c.setReg(EBP, v);
  return;
}

function op_ca(c: CpuCore, b: number): void {
  const imm = b === 0xca ? c.fetch16() : 0;
  c.farRet(imm);
  return;
}

function op_cc(c: CpuCore, _b: number): void {
  c.softInt(BP, EventKind.Software);
  return;
}

function op_cd(c: CpuCore, _b: number): void {
  const v = c.fetch8();
  c.softInt(v, EventKind.Software);
  return;
}

function op_ce(c: CpuCore, _b: number): void {
  if (c.getOF()) c.softInt(OFV, EventKind.Software);
  return;
}

function op_cf(c: CpuCore, _b: number): void {
  c.iret();
  c.afterIfChange();
  return;
}

function op_d4(c: CpuCore, b: number): void {
  bcd(c, b);
  return;
}

function op_d6(c: CpuCore, _b: number): void {
  c.r8[0] = c.getCF() ? 0xff : 0;
  return;
}

function op_d7(c: CpuCore, _b: number): void {
  const r = c.regs;
  const s = c.segOv >= 0 ? c.segOv : DS;
  const off = c.adsz32 ? (r[3] + c.r8[0]) >>> 0 : (c.r16[6] + c.r8[0]) & 0xffff;
  c.r8[0] = c.rd8(s, off);
  return;
}

function op_d8(c: CpuCore, b: number): void {
  esc(c, b);
  return;
}

function op_e0(c: CpuCore, b: number): void {
  const r = c.regs;
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

function op_e3(c: CpuCore, _b: number): void {
  const r = c.regs;
  const d = (c.fetch8() << 24) >> 24;
  const cnt = c.adsz32 ? r[ECX] : c.r16[ECX << 1];
  if (cnt === 0) jumpNear(c, c.ip + d);
  return;
}

function op_e4(c: CpuCore, b: number): void {
  portIo(c, b, c.fetch8());
  return;
}

function op_ec(c: CpuCore, b: number): void {
  portIo(c, b, c.r16[EDX << 1]);
  return;
}

function op_e8(c: CpuCore, _b: number): void {
  const d = c.fetchImm();
  const t = c.opsz32 ? (c.ip + d) >>> 0 : (c.ip + d) & 0xffff;
  if (t > c.csLim) c.gp(0);
  if (c.opsz32) c.push32(c.ip);
  else c.push16(c.ip);
  c.ip = t;
}

function op_e9(c: CpuCore, _b: number): void {
  const d = c.fetchImm();
  jumpNear(c, c.ip + d);
  return;
}

function op_ea(c: CpuCore, _b: number): void {
  const off = c.fetchImm();
  const sel = c.fetch16();
  c.farJump(sel, c.opsz32 ? off >>> 0 : off);
  return;
}

function op_eb(c: CpuCore, _b: number): void {
  const d = (c.fetch8() << 24) >> 24;
  jumpNear(c, c.ip + d);
  return;
}

function op_f1(c: CpuCore, _b: number): void {
  c.softInt(DB, EventKind.Icebp);
  return;
}

function op_f4(c: CpuCore, _b: number): void {
  if (c.protectedMode && c.cpl !== 0) c.gp(0);
  c.halted = true;
  c.attention = true;
  return;
}

function op_f5(c: CpuCore, _b: number): void {
  c.setCF(c.getCF() ^ 1);
  return;
}

function op_f6(c: CpuCore, b: number): void {
  group3(c, b);
  return;
}

function op_f8(c: CpuCore, _b: number): void {
  c.setCF(0);
  return;
}

function op_f9(c: CpuCore, _b: number): void {
  c.setCF(1);
  return;
}

function op_fa(c: CpuCore, _b: number): void {
  if (!ioplOk(c)) c.gp(0);
  c.flags &= ~IF;
  return;
}

function op_fb(c: CpuCore, _b: number): void {
  if (!ioplOk(c)) c.gp(0);
  if ((c.flags & IF) === 0) c.setShadow();
  c.flags |= IF;
  c.afterIfChange();
  return;
}

function op_fc(c: CpuCore, _b: number): void {
  c.flags &= ~DF;
  return;
}

function op_fd(c: CpuCore, _b: number): void {
  c.flags |= DF;
  return;
}

function op_fe(c: CpuCore, b: number): void {
  group45(c, b);
  return;
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
      const m = c.decodeModrm();
      if (c.opsz32) {
        const r = c.regs;
        if (m >= 0xc0) {
          const res = c.alu(op, r[m & 7], r[(m >> 3) & 7], 32);
          if (op !== 7) r[m & 7] = res;
          return;
        }
        const res = c.alu(op, c.rd32(c.eaSeg, c.eaOff), r[(m >> 3) & 7], 32);
        if (op !== 7) c.wr32(c.eaSeg, c.eaOff, res);
        return;
      }
      const res = c.alu(op, c.getE(), c.getG(), 16);
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
      const m = c.decodeModrm();
      if (c.opsz32) {
        const r = c.regs;
        const src = m >= 0xc0 ? r[m & 7] : c.rd32(c.eaSeg, c.eaOff);
        const res = c.alu(op, r[(m >> 3) & 7], src, 32);
        if (op !== 7) r[(m >> 3) & 7] = res;
        return;
      }
      const res = c.alu(op, c.getG(), c.getE(), 16);
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
