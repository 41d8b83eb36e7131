/**
 * Handlers of pre-decoded instructions (predecode.ts decodes, blocks.ts stores, cpu.ts runs them).
 * A handler gets the CPU, the block arena and the index of its operand slots. Handlers are a fixed
 * set of module-level functions — never closures made per instruction: V8 would pay a lazy-compile
 * runtime call for every new closure's first call, which costs more than decoding a cold
 * instruction. Each performs exactly the interpreter's accesses in the interpreter's order (probe
 * the destination, then read, then write), so faults, error codes, A/D bits and restartability are
 * the interpreter's.
 */
import { LZ_ADD, LZ_SUB } from './base.ts';
import { ARITH, CF, EBP, ECX, SS } from './constants.ts';
import type { CpuCore } from './core.ts';
import { R8 } from './core.ts';
import { execute } from './ops-main.ts';

/** A pre-decoded instruction: operands are a[k] … a[k + 7] (see the slot names below). */
export type Op = (c: CpuCore, a: Int32Array, k: number) => void;
/** Operand slots per instruction. */
export const SLOTS = 8;
// Slot meanings: D destination / ModR/M reg, S source reg or immediate, then the memory operand
// [B + (X << SC) + DISP] in segment SG (B/X = 8 → regsZ's constant 0), and T (ALU op or target).
export const D = 0;
export const S = 1;
export const B = 2;
export const X = 3;
export const SC = 4;
export const DISP = 5;
export const SG = 6;
export const T = 7;

/** The interpreter on the instruction at c.eip (block terminator for everything not below). */
export const interpret: Op = (c) => {
  c.ip = c.eip;
  execute(c);
};

export const ALU_RR: Op[] = [];
export const ALU_RI: Op[] = [];

// ---- handlers -------------------------------------------------------------------------------

/**
 * Effective address offset of the memory operand (the interpreter keeps it as an int32 too).
 * Each sum is truncated on its own: `(b + i + d) | 0` let V8 speculate that `b + i` fits an int32
 * and deoptimize every function it was inlined into (fastLoop too, through LEA) the first time a
 * kernel address overflowed it. Same value modulo 2^32.
 */
export function ea(c: CpuCore, a: Int32Array, k: number): number {
  const z = c.regsZ;
  return (((z[a[k + B]] + (z[a[k + X]] << a[k + SC])) | 0) + a[k + DISP]) | 0;
}

export const nop: Op = () => {};

export function add32(c: CpuCore, x: number, y: number): number {
  const r = (x + y) | 0;
  c.setLazy(LZ_ADD, x, y, r, 32, ARITH);
  return r;
}
export function sub32(c: CpuCore, x: number, y: number): number {
  const r = (x - y) | 0;
  c.setLazy(LZ_SUB, x, y, r, 32, ARITH);
  return r;
}

// Register–register ALU, one handler per operation (the hot ones without the alu() switch).
ALU_RR[0] = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  r[d] = add32(c, r[d], r[a[k + S]]);
};
ALU_RR[1] = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  const v = r[d] | r[a[k + S]];
  r[d] = v;
  c.setLogic(v, 32);
};
ALU_RR[2] = aluRRGeneric;
ALU_RR[3] = aluRRGeneric;
ALU_RR[4] = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  const v = r[d] & r[a[k + S]];
  r[d] = v;
  c.setLogic(v, 32);
};
ALU_RR[5] = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  r[d] = sub32(c, r[d], r[a[k + S]]);
};
ALU_RR[6] = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  const v = r[d] ^ r[a[k + S]];
  r[d] = v;
  c.setLogic(v, 32);
};
ALU_RR[7] = (c, a, k) => {
  const r = c.regs;
  sub32(c, r[a[k]], r[a[k + S]]);
};
function aluRRGeneric(c: CpuCore, a: Int32Array, k: number): void {
  const r = c.regs;
  const d = a[k];
  r[d] = c.alu(a[k + T], r[d], r[a[k + S]], 32);
}
export const testRR: Op = (c, a, k) => {
  const r = c.regs;
  c.setLogic(r[a[k]] & r[a[k + S]], 32);
};

// Register–immediate ALU.
ALU_RI[0] = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  r[d] = add32(c, r[d], a[k + S]);
};
ALU_RI[1] = aluRIGeneric;
ALU_RI[2] = aluRIGeneric;
ALU_RI[3] = aluRIGeneric;
ALU_RI[4] = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  const v = r[d] & a[k + S];
  r[d] = v;
  c.setLogic(v, 32);
};
ALU_RI[5] = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  r[d] = sub32(c, r[d], a[k + S]);
};
ALU_RI[6] = aluRIGeneric;
ALU_RI[7] = (c, a, k) => {
  sub32(c, c.regs[a[k]], a[k + S]);
};
function aluRIGeneric(c: CpuCore, a: Int32Array, k: number): void {
  const r = c.regs;
  const d = a[k];
  r[d] = c.alu(a[k + T], r[d], a[k + S], 32);
}
/** TEST r32, imm32 (A9 with D = EAX, F7 /0). */
export const testRI: Op = (c, a, k) => {
  c.setLogic(c.regs[a[k]] & a[k + S], 32);
};
/** TEST r8, imm8 (D = register number). */
export const testRI8: Op = (c, a, k) => {
  c.setLogic(c.r8[R8[a[k]]] & a[k + S], 8);
};

/** Gv op= [mem] (03, 0B, …, 33; never writes memory). */
export const aluRM: Op = (c, a, k) => {
  const v = c.rd32(a[k + SG], ea(c, a, k));
  const d = a[k];
  c.regs[d] = c.alu(a[k + T], c.regs[d], v, 32);
};
export const cmpRM: Op = (c, a, k) => {
  sub32(c, c.regs[a[k]], c.rd32(a[k + SG], ea(c, a, k)));
};
/** [mem] op= Gv: probe the write first, as the interpreter's rmw() does. */
export const aluMR: Op = (c, a, k) => {
  const seg = a[k + SG];
  const off = ea(c, a, k);
  c.probeWrite(seg, off, 4);
  c.wr32(seg, off, c.alu(a[k + T], c.rd32(seg, off), c.regs[a[k]], 32));
};
/** CMP/TEST [mem], Gv: flags only (op in T; TEST is 4 | 8). */
export const flagsMR: Op = (c, a, k) => {
  c.alu(a[k + T] & 7, c.rd32(a[k + SG], ea(c, a, k)), c.regs[a[k]], 32);
};
export const aluMI: Op = (c, a, k) => {
  const seg = a[k + SG];
  const off = ea(c, a, k);
  c.probeWrite(seg, off, 4);
  c.wr32(seg, off, c.alu(a[k + T], c.rd32(seg, off), a[k + S], 32));
};
export const cmpMI: Op = (c, a, k) => {
  sub32(c, c.rd32(a[k + SG], ea(c, a, k)), a[k + S]);
};

// Byte ALU forms (op in T; ≥ 7 = flags only, TEST = 4 | 8). D and S are R8 register numbers.
export const aluRR8: Op = (c, a, k) => {
  const r = c.r8;
  const d = R8[a[k]];
  const op = a[k + T];
  const v = c.alu(op & 7, r[d], r[R8[a[k + S]]], 8);
  if (op < 7) r[d] = v;
};
export const aluRI8: Op = (c, a, k) => {
  const r = c.r8;
  const d = R8[a[k]];
  const op = a[k + T];
  const v = c.alu(op & 7, r[d], a[k + S], 8);
  if (op < 7) r[d] = v;
};
export const aluRM8: Op = (c, a, k) => {
  const v = c.rd8(a[k + SG], ea(c, a, k));
  const d = R8[a[k]];
  const op = a[k + T];
  const res = c.alu(op, c.r8[d], v, 8);
  if (op !== 7) c.r8[d] = res;
};
export const aluMR8: Op = (c, a, k) => {
  const seg = a[k + SG];
  const off = ea(c, a, k);
  const op = a[k + T];
  const g = c.r8[R8[a[k]]];
  if (op >= 7) {
    c.alu(op & 7, c.rd8(seg, off), g, 8);
    return;
  }
  c.probeWrite(seg, off, 1);
  c.wr8(seg, off, c.alu(op, c.rd8(seg, off), g, 8));
};
export const aluMI8: Op = (c, a, k) => {
  const seg = a[k + SG];
  const off = ea(c, a, k);
  const op = a[k + T];
  if (op === 7) {
    c.alu(7, c.rd8(seg, off), a[k + S], 8);
    return;
  }
  c.probeWrite(seg, off, 1);
  c.wr8(seg, off, c.alu(op, c.rd8(seg, off), a[k + S], 8));
};

/** INC/DEC r32: like ADD/SUB 1 with CF kept (materialized from the lazy state first). */
export const incReg: Op = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  const x = r[d];
  const v = (x + 1) | 0;
  c.flags = (c.flags & ~CF) | c.getCF();
  c.setLazy(LZ_ADD, x, 1, v, 32, ARITH & ~CF);
  r[d] = v;
};
export const decReg: Op = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  const x = r[d];
  const v = (x - 1) | 0;
  c.flags = (c.flags & ~CF) | c.getCF();
  c.setLazy(LZ_SUB, x, 1, v, 32, ARITH & ~CF);
  r[d] = v;
};
/** PUSH r32 pushes the value before the decrement (PUSH ESP included). */
export const pushReg: Op = (c, a, k) => {
  c.push32(c.regs[a[k]]);
};
/** POP r32 (POP ESP: ESP = the value read, as the SDM says). */
export const popReg: Op = (c, a, k) => {
  const v = c.pop32();
  c.regs[a[k]] = v;
};
export const pushImm: Op = (c, a, k) => {
  c.push32(a[k + S]);
};

export const movRR: Op = (c, a, k) => {
  const r = c.regs;
  r[a[k]] = r[a[k + S]];
};
export const movRR8: Op = (c, a, k) => {
  const r = c.r8;
  r[R8[a[k]]] = r[R8[a[k + S]]];
};
export const movRI: Op = (c, a, k) => {
  c.regs[a[k]] = a[k + S];
};
/** MOV r8, imm8 (D is already a byte offset into r8). */
export const movRI8: Op = (c, a, k) => {
  c.r8[a[k]] = a[k + S];
};
export const movRM: Op = (c, a, k) => {
  c.regs[a[k]] = c.rd32(a[k + SG], ea(c, a, k));
};
export const movMR: Op = (c, a, k) => {
  c.wr32(a[k + SG], ea(c, a, k), c.regs[a[k]]);
};
export const movRM8: Op = (c, a, k) => {
  c.r8[R8[a[k]]] = c.rd8(a[k + SG], ea(c, a, k));
};
export const movMR8: Op = (c, a, k) => {
  c.wr8(a[k + SG], ea(c, a, k), c.r8[R8[a[k]]]);
};
export const lea: Op = (c, a, k) => {
  c.regs[a[k]] = ea(c, a, k);
};
// MOVZX/MOVSX: register sources are pre-mapped (S = r16 index or r8 byte offset).
export const movzxRR8: Op = (c, a, k) => {
  c.regs[a[k]] = c.r8[a[k + S]];
};
export const movsxRR8: Op = (c, a, k) => {
  c.regs[a[k]] = (c.r8[a[k + S]] << 24) >> 24;
};
export const movzxRR16: Op = (c, a, k) => {
  c.regs[a[k]] = c.r16[a[k + S]];
};
export const movsxRR16: Op = (c, a, k) => {
  c.regs[a[k]] = (c.r16[a[k + S]] << 16) >> 16;
};
export const movzxRM8: Op = (c, a, k) => {
  c.regs[a[k]] = c.rd8(a[k + SG], ea(c, a, k));
};
export const movsxRM8: Op = (c, a, k) => {
  c.regs[a[k]] = (c.rd8(a[k + SG], ea(c, a, k)) << 24) >> 24;
};
export const movzxRM16: Op = (c, a, k) => {
  c.regs[a[k]] = c.rd16(a[k + SG], ea(c, a, k));
};
export const movsxRM16: Op = (c, a, k) => {
  c.regs[a[k]] = (c.rd16(a[k + SG], ea(c, a, k)) << 16) >> 16;
};

/** ROL/ROR/SHL/SHR/SAR r32, n (n = 1–31; RCL/RCR stay in the interpreter). */
export const shiftRI: Op = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  r[d] = c.shift32(a[k + T], r[d], a[k + S]);
};

// Control transfers: the target (T) was computed and limit-checked at decode time.
export const jcc: Op = (c, a, k) => {
  if (c.cond(a[k + S])) c.ip = a[k + T] >>> 0;
};
/** JECXZ rel8: a branch on ECX, not on the flags (so never fused with a flag setter). */
export const jecxz: Op = (c, a, k) => {
  if (c.regs[ECX] === 0) c.ip = a[k + T] >>> 0;
};
export const jmp: Op = (c, a, k) => {
  c.ip = a[k + T] >>> 0;
};
export const callRel: Op = (c, a, k) => {
  c.push32(a[k + S]);
  c.ip = a[k + T] >>> 0;
};
/** RET near, 32-bit (the interpreter's own body). */
export const ret: Op = (c) => {
  c.retNear32();
};

// ---- more forms (the ones the Linux boot leaves to the interpreter most often) ------------------

/** MOV r/m32, imm32 and MOV r/m8, imm8 (C7/C6 /0) to memory. */
export const movMI: Op = (c, a, k) => {
  c.wr32(a[k + SG], ea(c, a, k), a[k + S]);
};
export const movMI8: Op = (c, a, k) => {
  c.wr8(a[k + SG], ea(c, a, k), a[k + S]);
};
// 16-bit MOV forms (66 89 / 66 8B / 66 C7); D and S are register numbers.
export const movRR16: Op = (c, a, k) => {
  const r = c.r16;
  r[a[k] << 1] = r[a[k + S] << 1];
};
export const movRM16: Op = (c, a, k) => {
  c.r16[a[k] << 1] = c.rd16(a[k + SG], ea(c, a, k));
};
export const movMR16: Op = (c, a, k) => {
  c.wr16(a[k + SG], ea(c, a, k), c.r16[a[k] << 1]);
};
export const movRI16: Op = (c, a, k) => {
  c.r16[a[k] << 1] = a[k + S];
};
export const movMI16: Op = (c, a, k) => {
  c.wr16(a[k + SG], ea(c, a, k), a[k + S]);
};

/** TEST r/m, imm with a memory operand (F6/F7 /0): flags only. */
export const testMI8: Op = (c, a, k) => {
  c.setLogic(c.rd8(a[k + SG], ea(c, a, k)) & a[k + S], 8);
};
export const testMI: Op = (c, a, k) => {
  c.setLogic(c.rd32(a[k + SG], ea(c, a, k)) & a[k + S], 32);
};
/** NOT r32 (no flags) and NEG r32 (flags as 0 - x). */
export const notR: Op = (c, a, k) => {
  const r = c.regs;
  r[a[k]] = ~r[a[k]];
};
export const negR: Op = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  r[d] = sub32(c, 0, r[d]);
};

/** INC/DEC m32 (FF /0, /1): probe the write first, as the interpreter's rmw(). */
export const incM: Op = (c, a, k) => {
  const seg = a[k + SG];
  const off = ea(c, a, k);
  c.probeWrite(seg, off, 4);
  c.wr32(seg, off, c.incdec(c.rd32(seg, off), false, 32));
};
export const decM: Op = (c, a, k) => {
  const seg = a[k + SG];
  const off = ea(c, a, k);
  c.probeWrite(seg, off, 4);
  c.wr32(seg, off, c.incdec(c.rd32(seg, off), true, 32));
};
/** PUSH m32 (FF /6): the operand is read before ESP moves. */
export const pushM: Op = (c, a, k) => {
  c.push32(c.rd32(a[k + SG], ea(c, a, k)));
};
/** CALL/JMP near indirect (FF /2, /4); T = the return address for CALL. */
export const callR: Op = (c, a, k) => {
  const t = c.regs[a[k + S]] >>> 0;
  if (t > c.csLim) c.gp(0);
  c.push32(a[k + T]);
  c.ip = t;
};
export const callM: Op = (c, a, k) => {
  const t = c.rd32(a[k + SG], ea(c, a, k)) >>> 0;
  if (t > c.csLim) c.gp(0);
  c.push32(a[k + T]);
  c.ip = t;
};
export const jmpR: Op = (c, a, k) => {
  const t = c.regs[a[k + S]] >>> 0;
  if (t > c.csLim) c.gp(0);
  c.ip = t;
};
export const jmpM: Op = (c, a, k) => {
  const t = c.rd32(a[k + SG], ea(c, a, k)) >>> 0;
  if (t > c.csLim) c.gp(0);
  c.ip = t;
};
/** RET imm16 (32-bit): read the target, check it, then release 4 + imm bytes. */
export const retImm: Op = (c, a, k) => {
  const sp = c.spAdd(0);
  const t = c.rd32(SS, sp) >>> 0;
  if (t > c.csLim) c.gp(0);
  c.ip = t;
  c.setSp(c.spAdd(4 + a[k + S]));
};
/** LEAVE (32-bit operand size): ESP = EBP, then pop EBP — the read comes first. */
export const leave: Op = (c) => {
  const r = c.regs;
  const bp = c.ss32 ? r[EBP] >>> 0 : r[EBP] & 0xffff;
  const v = c.rd32(SS, bp);
  c.setSp(c.ss32 ? (bp + 4) >>> 0 : (bp + 4) & 0xffff);
  r[EBP] = v;
};

/** SETcc r/m8 (condition in T). */
export const setccR: Op = (c, a, k) => {
  c.r8[R8[a[k + S]]] = c.cond(a[k + T]) ? 1 : 0;
};
export const setccM: Op = (c, a, k) => {
  c.wr8(a[k + SG], ea(c, a, k), c.cond(a[k + T]) ? 1 : 0);
};
/** CMOVcc r32, r/m32: the source is read (and may fault) even when the condition is false. */
export const cmovR: Op = (c, a, k) => {
  const v = c.regs[a[k + S]];
  if (c.cond(a[k + T])) c.regs[a[k]] = v;
};
export const cmovM: Op = (c, a, k) => {
  const v = c.rd32(a[k + SG], ea(c, a, k));
  if (c.cond(a[k + T])) c.regs[a[k]] = v;
};

/** IMUL r32, r/m32[, imm] (0F AF, 69, 6B); imm in T (0F AF: T unused, the factor is D itself). */
function imul32(c: CpuCore, d: number, x: number, y: number): void {
  c.muls32(x | 0, y | 0);
  const lo = c.mulLo;
  c.regs[d] = lo;
  c.mulFlags(c.mulHi !== lo >> 31, lo, 32);
}
export const imulRRI: Op = (c, a, k) => {
  imul32(c, a[k], c.regs[a[k + S]], a[k + T]);
};
export const imulRMI: Op = (c, a, k) => {
  imul32(c, a[k], c.rd32(a[k + SG], ea(c, a, k)), a[k + T]);
};
export const imulRR: Op = (c, a, k) => {
  imul32(c, a[k], c.regs[a[k + S]], c.regs[a[k]]);
};
export const imulRM: Op = (c, a, k) => {
  imul32(c, a[k], c.rd32(a[k + SG], ea(c, a, k)), c.regs[a[k]]);
};

/**
 * ROL/ROR/SHL/SHR/SAR r8, n (C0, D0; n = 1–31) and the same on r16 (66 C1, 66 D1): the
 * interpreter's group-2 shift (core.ts shift), which with a nonzero count always writes back.
 */
export const shiftRI8: Op = (c, a, k) => {
  const r = c.r8;
  const d = R8[a[k]];
  r[d] = c.shift(a[k + T], r[d], a[k + S], 8);
};
export const shiftRI16: Op = (c, a, k) => {
  const r = c.r16;
  const d = a[k] << 1;
  r[d] = c.shift(a[k + T], r[d], a[k + S], 16);
};

/** SHL/SHR/SAR/ROL/ROR r32, CL (D3): a masked count of 0 changes nothing (flags included). */
export const shiftRCL: Op = (c, a, k) => {
  const n = c.r8[4] & 31;
  if (n === 0) return;
  const r = c.regs;
  const d = a[k];
  r[d] = c.shift32(a[k + T], r[d], n);
};

/** BT/BTS/BTR/BTC r32, imm8 (0F BA /4–/7; op in T, bit in S): CF = the bit, then modify. */
export const btRI: Op = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  const v = r[d];
  const bit = a[k + S];
  c.setCF((v >>> bit) & 1);
  const op = a[k + T];
  if (op === 0) return;
  const m = 1 << bit;
  r[d] = op === 1 ? v | m : op === 2 ? v & ~m : v ^ m;
};

/** CDQ, CWDE, XCHG r32, r32 (87 and 90+r). */
export const cdq: Op = (c) => {
  c.regs[2] = c.regs[0] >> 31;
};
export const cwde: Op = (c) => {
  c.regs[0] = (c.r16[0] << 16) >> 16;
};
export const xchgRR: Op = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  const s = a[k + S];
  const v = r[d];
  r[d] = r[s];
  r[s] = v;
};

// ---- forms the warm Linux boot still interpreted most (PERF.md, "The Linux boot's interpreted
// instructions") — each the interpreter's body (ops-groups.ts group3, ops-0f.ts bitOp/x_b1/x_c1)
// with the decode done once.

/** MUL/IMUL r32 (F7 /4, /5, register; T = 4 or 5): EDX:EAX = EAX * r32. */
export const mulR: Op = (c, a, k) => {
  const r = c.regs;
  const v = r[a[k]];
  if (a[k + T] === 4) {
    c.mulu32(r[0], v);
    r[0] = c.mulLo;
    r[2] = c.mulHi;
    c.mulFlags(c.mulHi !== 0, c.mulLo, 32);
  } else {
    c.muls32(r[0], v);
    r[0] = c.mulLo;
    r[2] = c.mulHi;
    c.mulFlags(c.mulHi !== c.mulLo >> 31, c.mulLo, 32);
  }
};

/** BT/BTS/BTR/BTC r32, r32 (0F A3/AB/B3/BB, register; T = 0–3): the bit is r[S] mod 32. */
export const btRR: Op = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  const v = r[d];
  const bit = r[a[k + S]] & 31;
  c.setCF((v >>> bit) & 1);
  const op = a[k + T];
  if (op === 0) return;
  const m = 1 << bit;
  r[d] = op === 1 ? v | m : op === 2 ? v & ~m : v ^ m;
};

/** The bit-string access shared by the memory forms: probe (not BT), read, CF, write. */
function bitMem(c: CpuCore, op: number, seg: number, off: number, bit: number): void {
  if (op !== 0) c.probeWrite(seg, off, 4);
  const v = c.rd32(seg, off);
  c.setCF((v >>> bit) & 1);
  if (op === 0) return;
  const m = 1 << bit;
  c.wr32(seg, off, op === 1 ? v | m : op === 2 ? v & ~m : v ^ m);
}

/**
 * BT/BTS/BTR/BTC m32, r32: the register is a signed bit offset, so the dword addressed moves by
 * (offset >> 5) * 4 bytes (SDM Vol.2 BT, "bit base"); the bit is offset mod 32.
 */
export const btMR: Op = (c, a, k) => {
  const so = c.regs[a[k + S]];
  bitMem(c, a[k + T], a[k + SG], (ea(c, a, k) + ((so >> 5) << 2)) | 0, so & 31);
};
/** BT/BTS/BTR/BTC m32, imm8 (0F BA /4–/7): the immediate mod 32, no displacement. */
export const btMI: Op = (c, a, k) => {
  bitMem(c, a[k + T], a[k + SG], ea(c, a, k), a[k + S]);
};

/** XADD m32, r32 (0F C1, memory, no LOCK): r ← old [m], [m] ← sum, in the interpreter's order. */
export const xaddM: Op = (c, a, k) => {
  const seg = a[k + SG];
  const off = ea(c, a, k);
  c.probeWrite(seg, off, 4);
  const d = c.rd32(seg, off);
  const g = a[k];
  const sum = c.alu(0, d, c.regs[g], 32);
  c.regs[g] = d;
  c.wr32(seg, off, sum);
};

/** CMPXCHG m32, r32 (0F B1, memory, no LOCK): the destination is always written (SDM Vol.2). */
export const cmpxchgM: Op = (c, a, k) => {
  const seg = a[k + SG];
  const off = ea(c, a, k);
  c.probeWrite(seg, off, 4);
  const r = c.regs;
  const d = c.rd32(seg, off);
  const acc = r[0];
  c.alu(7, acc, d, 32);
  if (acc === d) c.wr32(seg, off, r[a[k]]);
  else {
    c.wr32(seg, off, d);
    r[0] = d;
  }
};
