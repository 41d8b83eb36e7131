import { SilentKind } from './base.ts';
import {
  AC,
  BP,
  CF,
  CR0_EM,
  CR0_MP,
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
  GP,
  ID,
  IF,
  NM,
  NT,
  OFV,
  RF,
  SS,
  TF,
  UD,
} from './constants.ts';
import type { CpuCore } from './core.ts';
import { R8 } from './core.ts';
import { checkPending, execEsc } from './fpu/exec.ts';
import { EventKind } from './interrupts.ts';
import { bcd, group1, group2, group3, group45 } from './ops-groups.ts';
import { ioplOk, jumpNear, popf, pushf } from './ops-main.ts';
import { vmxHlt, vmxIo } from './vmx/nonroot.ts';

type Handler = (c: CpuCore, b: number) => void;

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
  // ESC follows CR0.EM/TS (SDM §2.5, Table 2-2): #NM when EM or TS.
  if (c.cr0 & (CR0_EM | CR0_TS)) c.raise(NM);
  c.decodeModrm();
  if (c.fpu !== null) {
    execEsc(c, c.fpu, op);
    return;
  }
  // EM=0 and no FPU present: the operand is formed and limit-checked (as the 286 data shows); no-op.
  if (c.modrm < 0xc0) c.segCheck(c.eaSeg, c.eaOff, ESC_SIZE[(op & 7) * 8 + ((c.modrm >> 3) & 7)] ?? 4, false);
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
  if (c.observer !== null && c.cpl > 0 && (s === CS || s === SS))
    c.silent(SilentKind.SegmentRead, c.segSel[s]);
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
  if (c.fpu !== null) checkPending(c, c.fpu);
  return;
}

function op_9c(c: CpuCore, _b: number): void {
  pushf(c);
  return;
}

function op_9d(c: CpuCore, _b: number): void {
  const old = c.flags;
  popf(c);
  if ((old ^ c.flags) & AC) c.refreshAc();
  // Only IF 0→1 (pending IRQ may now be taken) or TF/RF need the slow boundary path.
  if ((~old & c.flags & IF) !== 0 || (c.flags & (TF | RF)) !== 0) c.afterIfChange();
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
    c.retNear32();
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
  c.checkWide(c.opsz32 ? 6 : 4);
  const off = c.opsz32 ? c.rd32(c.eaSeg, c.eaOff) : c.rd16(c.eaSeg, c.eaOff);
  const sel = c.rd16(c.eaSeg, c.wideOff(c.opsz32 ? 4 : 2));
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
  if (c.vmxNonRoot) vmxHlt(c);
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
  if ((c.flags & IF) === 0) {
    c.setShadow();
    c.flags |= IF;
    c.afterIfChange();
  }
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
  // FrameTemp is ESP for o32 and SP for o16 whatever the stack size (SDM Vol.2 ENTER pseudocode;
  // Bochs agrees): o32 with a 16-bit stack pushes and loads into EBP all of ESP, upper word included.
  const frameTemp = c.opsz32 ? r[ESP] : c.r16[ESP << 1];
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

/**
 * IN/OUT (opcode `b`: E4–E7 imm8 port, EC–EF DX) on `port`; also the blocks tier's IN/OUT records
 * (block-io.ts), which run it with EIP/IP on the instruction as here.
 */
export function portIo(c: CpuCore, b: number, port: number): void {
  const size = b & 1 ? (c.opsz32 ? 4 : 2) : 1;
  // #GP(0) thrown here (see CpuTask.ioPermitted).
  if (!c.ioPermitted(port, size)) throw c.fault(GP, 0);
  const out = (b & 2) !== 0;
  if (c.vmxNonRoot) vmxIo(c, port, size, !out, false, false, (b & 8) === 0);
  const io = c.io;
  if (out) {
    if (size === 1) io.out8(port, c.r8[0]);
    else if (size === 2) io.out16(port, c.r16[0]);
    else io.out32(port, c.regs[EAX]);
  } else if (size === 1) c.r8[0] = io.in8(port);
  else if (size === 2) c.r16[0] = io.in16(port);
  else c.regs[EAX] = io.in32(port);
  c.ioHappened = true;
  if (c.timing !== null) c.chargedCycles += c.timing.portIo;
}

export { AC, CF, ID, NT, TF };

export const HIGH_OPS: Array<[number, Handler]> = [
  [0x80, op_80],
  [0x81, op_80],
  [0x82, op_80],
  [0x83, op_80],
  [0x84, op_84],
  [0x85, op_85],
  [0x86, op_86],
  [0x87, op_87],
  [0x88, op_88],
  [0x89, op_89],
  [0x8a, op_8a],
  [0x8b, op_8b],
  [0x8c, op_8c],
  [0x8d, op_8d],
  [0x8e, op_8e],
  [0x8f, op_8f],
  [0x90, op_90],
  [0x91, op_91],
  [0x92, op_91],
  [0x93, op_91],
  [0x94, op_91],
  [0x95, op_91],
  [0x96, op_91],
  [0x97, op_91],
  [0x98, op_98],
  [0x99, op_99],
  [0x9a, op_9a],
  [0x9b, op_9b],
  [0x9c, op_9c],
  [0x9d, op_9d],
  [0x9e, op_9e],
  [0x9f, op_9f],
  [0xa0, op_a0],
  [0xa1, op_a0],
  [0xa2, op_a0],
  [0xa3, op_a0],
  [0xa8, op_a8],
  [0xa9, op_a9],
  [0xb0, op_b0],
  [0xb1, op_b0],
  [0xb2, op_b0],
  [0xb3, op_b0],
  [0xb4, op_b0],
  [0xb5, op_b0],
  [0xb6, op_b0],
  [0xb7, op_b0],
  [0xb8, op_b8],
  [0xb9, op_b8],
  [0xba, op_b8],
  [0xbb, op_b8],
  [0xbc, op_b8],
  [0xbd, op_b8],
  [0xbe, op_b8],
  [0xbf, op_b8],
  [0xc0, op_c0],
  [0xc1, op_c0],
  [0xd0, op_c0],
  [0xd1, op_c0],
  [0xd2, op_c0],
  [0xd3, op_c0],
  [0xc2, op_c2],
  [0xc3, op_c2],
  [0xc4, op_c4],
  [0xc5, op_c4],
  [0xc6, op_c6],
  [0xc7, op_c6],
  [0xc8, op_c8],
  [0xc9, op_c9],
  [0xca, op_ca],
  [0xcb, op_ca],
  [0xcc, op_cc],
  [0xcd, op_cd],
  [0xce, op_ce],
  [0xcf, op_cf],
  [0xd4, op_d4],
  [0xd5, op_d4],
  [0xd6, op_d6],
  [0xd7, op_d7],
  [0xd8, op_d8],
  [0xd9, op_d8],
  [0xda, op_d8],
  [0xdb, op_d8],
  [0xdc, op_d8],
  [0xdd, op_d8],
  [0xde, op_d8],
  [0xdf, op_d8],
  [0xe0, op_e0],
  [0xe1, op_e0],
  [0xe2, op_e0],
  [0xe3, op_e3],
  [0xe4, op_e4],
  [0xe5, op_e4],
  [0xe6, op_e4],
  [0xe7, op_e4],
  [0xec, op_ec],
  [0xed, op_ec],
  [0xee, op_ec],
  [0xef, op_ec],
  [0xe8, op_e8],
  [0xe9, op_e9],
  [0xea, op_ea],
  [0xeb, op_eb],
  [0xf1, op_f1],
  [0xf4, op_f4],
  [0xf5, op_f5],
  [0xf6, op_f6],
  [0xf7, op_f6],
  [0xf8, op_f8],
  [0xf9, op_f9],
  [0xfa, op_fa],
  [0xfb, op_fb],
  [0xfc, op_fc],
  [0xfd, op_fd],
  [0xfe, op_fe],
  [0xff, op_fe],
];
