/**
 * Pre-decoding for the block cache (blocks.ts): one instruction's bytes become a handler plus
 * eight operand slots (registers, displacement, immediate, segment, branch target) so that running
 * it again costs no fetch and no decode. Handlers are a fixed set of module-level functions —
 * never closures made per instruction: V8 would pay a lazy-compile runtime call for every new
 * closure's first call, which costs more than decoding a cold instruction.
 *
 * Only the common 32-bit forms are pre-decoded; anything else (16-bit code, operand/address-size
 * prefixes, REP/LOCK, system and sensitive instructions, string and I/O instructions, far
 * transfers…) ends the block with `interpret`, which runs the ordinary interpreter on the same
 * bytes. Each handler performs exactly the interpreter's accesses in the interpreter's order
 * (probe the destination, then read, then write), so faults, error codes, A/D bits and the
 * restartability of every instruction are unchanged — a pre-decoded block is an optimisation the
 * guest cannot observe (tests: blocks.test.ts, fastpath-determinism.test.ts).
 */
import { LZ_ADD, LZ_SUB } from './base.ts';
import { ARITH, CF, DS, EBP, ESP, SS } from './constants.ts';
import type { CpuCore } from './core.ts';
import { R8 } from './core.ts';
import { execute } from './ops-main.ts';

/** A pre-decoded instruction: operands are a[k] … a[k + 7] (see the slot names below). */
export type Op = (c: CpuCore, a: Int32Array, k: number) => void;
/** Operand slots per instruction. */
export const SLOTS = 8;
// Slot meanings: D destination / ModR/M reg, S source reg or immediate, then the memory operand
// [B + (X << SC) + DISP] in segment SG (B/X = 8 → regsZ's constant 0), and T (ALU op or target).
const D = 0;
const S = 1;
const B = 2;
const X = 3;
const SC = 4;
const DISP = 5;
const SG = 6;
const T = 7;

/** The interpreter on the instruction at c.eip (block terminator for everything not below). */
export const interpret: Op = (c) => {
  c.ip = c.eip;
  execute(c);
};

/** Control-transfer kinds (Decoded.kind); the target is operand slot T, checked against the limit. */
export const K_PLAIN = 0;
export const K_JCC = 1;
export const K_JMP = 2;
export const K_CALL = 3;
/** Any other control transfer (RET, indirect): ends the block. */
export const K_END = 4;

/** What predecode() found: handler, length, kind; the operands are in `operands`. */
export interface Decoded {
  op: Op;
  len: number;
  kind: number;
}
/** Operands of the last predecode() (copied by the caller). */
export const operands = new Int32Array(SLOTS);

const SEG_PREFIX: Record<number, number> = { 38: 0, 46: 1, 54: 2, 62: 3, 100: 4, 101: 5 };
const Z = 8; // regsZ index of the constant zero

/** Byte cursor over one page of RAM (decoding never crosses `end`). */
class Cursor {
  ram: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  ok = true;
  u8(): number {
    if (this.pos >= this.end) {
      this.ok = false;
      return 0;
    }
    return this.ram[this.pos++];
  }
  s8(): number {
    return (this.u8() << 24) >> 24;
  }
  i32(): number {
    return this.u8() | (this.u8() << 8) | (this.u8() << 16) | (this.u8() << 24);
  }
}
const cur = new Cursor();
const o = operands;
/** RAM position of the instruction being decoded (next EIP = ip + cur.pos - start). */
let start = 0;
let ip0 = 0;
function next(): number {
  return (ip0 + (cur.pos - start)) >>> 0;
}

/** ModR/M (32-bit addressing, SDM Vol.2 Tables 2-2/2-3) into the slots; returns mod. */
function modrm(segOv: number): number {
  const m = cur.u8();
  const mod = m >> 6;
  const rm = m & 7;
  o[D] = (m >> 3) & 7;
  o[S] = rm;
  o[B] = Z;
  o[X] = Z;
  o[SC] = 0;
  o[DISP] = 0;
  o[SG] = DS;
  if (mod === 3) return 3;
  let seg = DS;
  if (rm === 4) {
    const sib = cur.u8();
    const base = sib & 7;
    const idx = (sib >> 3) & 7;
    if (base === 5 && mod === 0) o[DISP] = cur.i32();
    else {
      o[B] = base;
      if (base === ESP || base === EBP) seg = SS;
    }
    if (idx !== 4) {
      o[X] = idx;
      o[SC] = sib >> 6;
    }
  } else if (rm === 5 && mod === 0) {
    o[DISP] = cur.i32();
  } else {
    o[B] = rm;
    if (rm === EBP) seg = SS;
  }
  if (mod === 1) o[DISP] = cur.s8();
  else if (mod === 2) o[DISP] = cur.i32();
  o[SG] = segOv >= 0 ? segOv : seg;
  return mod;
}

/**
 * Decode the instruction at ram[p] (CS offset `ip`, 32-bit code segment); `avail` bytes may be
 * read (the rest of the page, within the CS limit). Returns null when it cannot be pre-decoded
 * or does not fit: the caller ends the block with `interpret` for it.
 */
export function predecode(
  ram: Uint8Array,
  p: number,
  ip: number,
  avail: number,
  csLim: number,
): Decoded | null {
  cur.ram = ram;
  cur.pos = p;
  cur.end = p + avail;
  cur.ok = true;
  start = p;
  ip0 = ip;
  o.fill(0);
  let segOv = -1;
  let b = cur.u8();
  let prefixes = 0;
  while (b in SEG_PREFIX) {
    segOv = SEG_PREFIX[b];
    b = cur.u8();
    if (++prefixes > 4) return null;
  }
  const op = decodeOp(b, segOv);
  if (op === null || !cur.ok) return null;
  // Direct branch targets are constants, and a block runs only under the CS limit it was decoded
  // with, so the near-branch limit check (#GP(0), SDM Vol.2 JMP/Jcc/CALL) is done here, once:
  // a branch that would fault is left to the interpreter.
  if (kind >= K_JCC && kind <= K_CALL && o[T] >>> 0 > csLim) return null;
  result.op = op;
  result.len = cur.pos - p;
  result.kind = kind;
  return result;
}
const result: Decoded = { op: interpret, len: 0, kind: K_PLAIN };
/** Set by decodeOp: the control-transfer kind. */
let kind = K_PLAIN;

const ALU_RR: Op[] = [];
const ALU_RI: Op[] = [];

function decodeOp(b: number, segOv: number): Op | null {
  kind = K_PLAIN;
  if (b === 0x0f) return decode0F(segOv);
  // ALU Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz (00–3F, low 3 bits 0–5).
  if (b < 0x40) {
    const form = b & 7;
    if (form > 5) return null;
    const alu = b >> 3;
    o[T] = alu;
    switch (form) {
      case 0:
      case 1: {
        // E op= G: the register form computes D(rm) op= S(reg).
        const mod = modrm(segOv);
        if (mod === 3) {
          const g = o[D];
          o[D] = o[S];
          o[S] = g;
          return form === 0 ? aluRR8 : ALU_RR[alu];
        }
        return form === 0 ? aluMR8 : alu === 7 ? flagsMR : aluMR;
      }
      case 2:
      case 3: {
        const mod = modrm(segOv);
        if (mod === 3) return form === 2 ? aluRR8 : ALU_RR[alu];
        return form === 2 ? aluRM8 : alu === 7 ? cmpRM : aluRM;
      }
      case 4:
        o[D] = 0;
        o[S] = cur.u8();
        return aluRI8;
      default:
        o[D] = 0;
        o[S] = cur.i32();
        return ALU_RI[alu];
    }
  }
  if (b < 0x60) {
    o[D] = b & 7;
    return b < 0x48 ? incReg : b < 0x50 ? decReg : b < 0x58 ? pushReg : popReg;
  }
  if (b >= 0x70 && b < 0x80) {
    const d = cur.s8();
    o[S] = b & 15;
    o[T] = (next() + d) >>> 0;
    kind = K_JCC;
    return jcc;
  }
  switch (b) {
    case 0x68:
      o[S] = cur.i32();
      return pushImm;
    case 0x6a:
      o[S] = cur.s8();
      return pushImm;
    case 0x80:
    case 0x81:
    case 0x83: {
      const mod = modrm(segOv);
      const alu = o[D];
      o[T] = alu;
      const imm = b === 0x81 ? cur.i32() : b === 0x83 ? cur.s8() : cur.u8();
      if (mod === 3) {
        o[D] = o[S];
        o[S] = imm;
        return b === 0x80 ? aluRI8 : ALU_RI[alu];
      }
      o[S] = imm;
      if (b === 0x80) return aluMI8;
      return alu === 7 ? cmpMI : aluMI;
    }
    case 0x84:
    case 0x85: {
      const mod = modrm(segOv);
      o[T] = 4 | 8;
      if (mod === 3) {
        const g = o[D];
        o[D] = o[S];
        o[S] = g;
        return b === 0x84 ? aluRR8 : testRR;
      }
      return b === 0x84 ? aluMR8 : flagsMR;
    }
    case 0x88:
    case 0x89: {
      if (modrm(segOv) === 3) {
        const g = o[D];
        o[D] = o[S];
        o[S] = g;
        return b === 0x88 ? movRR8 : movRR;
      }
      return b === 0x88 ? movMR8 : movMR;
    }
    case 0x8a:
    case 0x8b:
      if (modrm(segOv) === 3) return b === 0x8a ? movRR8 : movRR;
      return b === 0x8a ? movRM8 : movRM;
    case 0x8d:
      if (modrm(segOv) === 3) return null; // #UD: leave it to the interpreter
      return lea;
    case 0x90:
      return nop;
    case 0xa8:
      o[S] = cur.u8();
      return testRI8;
    case 0xa9:
      o[S] = cur.i32();
      return testRI;
    case 0xc1:
    case 0xd1: {
      const mod = modrm(segOv);
      const n = (b === 0xc1 ? cur.u8() : 1) & 31;
      const sh = o[D];
      if (sh === 2 || sh === 3 || mod !== 3) return null; // RCL/RCR, memory: interpreter
      if (n === 0) return nop;
      o[T] = sh;
      o[D] = o[S];
      o[S] = n;
      return shiftRI;
    }
    case 0xc3:
      kind = K_END;
      return ret;
    case 0xe8: {
      const d = cur.i32();
      o[S] = next();
      o[T] = (o[S] + d) >>> 0;
      kind = K_CALL;
      return callRel;
    }
    case 0xe9: {
      const d = cur.i32();
      o[T] = (next() + d) >>> 0;
      kind = K_JMP;
      return jmp;
    }
    case 0xeb: {
      const d = cur.s8();
      o[T] = (next() + d) >>> 0;
      kind = K_JMP;
      return jmp;
    }
    default:
      if (b >= 0xb8 && b < 0xc0) {
        o[D] = b & 7;
        o[S] = cur.i32();
        return movRI;
      }
      if (b >= 0xb0 && b < 0xb8) {
        o[D] = R8[b & 7];
        o[S] = cur.u8();
        return movRI8;
      }
      return null;
  }
}

function decode0F(segOv: number): Op | null {
  const b = cur.u8();
  if (b >= 0x80 && b < 0x90) {
    const d = cur.i32();
    o[S] = b & 15;
    o[T] = (next() + d) >>> 0;
    kind = K_JCC;
    return jcc;
  }
  if (b === 0xb6 || b === 0xb7 || b === 0xbe || b === 0xbf) {
    const mod = modrm(segOv);
    if (mod === 3) {
      if (b & 1) {
        o[S] = o[S] << 1;
        return b === 0xb7 ? movzxRR16 : movsxRR16;
      }
      o[S] = R8[o[S]];
      return b === 0xb6 ? movzxRR8 : movsxRR8;
    }
    return b === 0xb6 ? movzxRM8 : b === 0xb7 ? movzxRM16 : b === 0xbe ? movsxRM8 : movsxRM16;
  }
  return null;
}

// ---- handlers -------------------------------------------------------------------------------

/** Effective address offset of the memory operand (the interpreter keeps it as an int32 too). */
function ea(c: CpuCore, a: Int32Array, k: number): number {
  const z = c.regsZ;
  return (z[a[k + B]] + (z[a[k + X]] << a[k + SC]) + a[k + DISP]) | 0;
}

const nop: Op = () => {};

function add32(c: CpuCore, x: number, y: number): number {
  const r = (x + y) | 0;
  c.setLazy(LZ_ADD, x, y, r, 32, ARITH);
  return r;
}
function sub32(c: CpuCore, x: number, y: number): number {
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
const testRR: Op = (c, a, k) => {
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
const testRI: Op = (c, a, k) => {
  c.setLogic(c.regs[0] & a[k + S], 32);
};
/** TEST r8, imm8 (D = register number). */
const testRI8: Op = (c, a, k) => {
  c.setLogic(c.r8[R8[a[k]]] & a[k + S], 8);
};

/** Gv op= [mem] (03, 0B, …, 33; never writes memory). */
const aluRM: Op = (c, a, k) => {
  const v = c.rd32(a[k + SG], ea(c, a, k));
  const d = a[k];
  c.regs[d] = c.alu(a[k + T], c.regs[d], v, 32);
};
const cmpRM: Op = (c, a, k) => {
  sub32(c, c.regs[a[k]], c.rd32(a[k + SG], ea(c, a, k)));
};
/** [mem] op= Gv: probe the write first, as the interpreter's rmw() does. */
const aluMR: Op = (c, a, k) => {
  const seg = a[k + SG];
  const off = ea(c, a, k);
  c.probeWrite(seg, off, 4);
  c.wr32(seg, off, c.alu(a[k + T], c.rd32(seg, off), c.regs[a[k]], 32));
};
/** CMP/TEST [mem], Gv: flags only (op in T; TEST is 4 | 8). */
const flagsMR: Op = (c, a, k) => {
  c.alu(a[k + T] & 7, c.rd32(a[k + SG], ea(c, a, k)), c.regs[a[k]], 32);
};
const aluMI: Op = (c, a, k) => {
  const seg = a[k + SG];
  const off = ea(c, a, k);
  c.probeWrite(seg, off, 4);
  c.wr32(seg, off, c.alu(a[k + T], c.rd32(seg, off), a[k + S], 32));
};
const cmpMI: Op = (c, a, k) => {
  sub32(c, c.rd32(a[k + SG], ea(c, a, k)), a[k + S]);
};

// Byte ALU forms (op in T; ≥ 7 = flags only, TEST = 4 | 8). D and S are R8 register numbers.
const aluRR8: Op = (c, a, k) => {
  const r = c.r8;
  const d = R8[a[k]];
  const op = a[k + T];
  const v = c.alu(op & 7, r[d], r[R8[a[k + S]]], 8);
  if (op < 7) r[d] = v;
};
const aluRI8: Op = (c, a, k) => {
  const r = c.r8;
  const d = R8[a[k]];
  const op = a[k + T];
  const v = c.alu(op & 7, r[d], a[k + S], 8);
  if (op < 7) r[d] = v;
};
const aluRM8: Op = (c, a, k) => {
  const v = c.rd8(a[k + SG], ea(c, a, k));
  const d = R8[a[k]];
  const op = a[k + T];
  const res = c.alu(op, c.r8[d], v, 8);
  if (op !== 7) c.r8[d] = res;
};
const aluMR8: Op = (c, a, k) => {
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
const aluMI8: Op = (c, a, k) => {
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
const incReg: Op = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  const x = r[d];
  const v = (x + 1) | 0;
  c.flags = (c.flags & ~CF) | c.getCF();
  c.setLazy(LZ_ADD, x, 1, v, 32, ARITH & ~CF);
  r[d] = v;
};
const decReg: Op = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  const x = r[d];
  const v = (x - 1) | 0;
  c.flags = (c.flags & ~CF) | c.getCF();
  c.setLazy(LZ_SUB, x, 1, v, 32, ARITH & ~CF);
  r[d] = v;
};
/** PUSH r32 pushes the value before the decrement (PUSH ESP included). */
const pushReg: Op = (c, a, k) => {
  c.push32(c.regs[a[k]]);
};
/** POP r32 (POP ESP: ESP = the value read, as the SDM says). */
const popReg: Op = (c, a, k) => {
  const v = c.pop32();
  c.regs[a[k]] = v;
};
const pushImm: Op = (c, a, k) => {
  c.push32(a[k + S]);
};

const movRR: Op = (c, a, k) => {
  const r = c.regs;
  r[a[k]] = r[a[k + S]];
};
const movRR8: Op = (c, a, k) => {
  const r = c.r8;
  r[R8[a[k]]] = r[R8[a[k + S]]];
};
const movRI: Op = (c, a, k) => {
  c.regs[a[k]] = a[k + S];
};
/** MOV r8, imm8 (D is already a byte offset into r8). */
const movRI8: Op = (c, a, k) => {
  c.r8[a[k]] = a[k + S];
};
const movRM: Op = (c, a, k) => {
  c.regs[a[k]] = c.rd32(a[k + SG], ea(c, a, k));
};
const movMR: Op = (c, a, k) => {
  c.wr32(a[k + SG], ea(c, a, k), c.regs[a[k]]);
};
const movRM8: Op = (c, a, k) => {
  c.r8[R8[a[k]]] = c.rd8(a[k + SG], ea(c, a, k));
};
const movMR8: Op = (c, a, k) => {
  c.wr8(a[k + SG], ea(c, a, k), c.r8[R8[a[k]]]);
};
const lea: Op = (c, a, k) => {
  c.regs[a[k]] = ea(c, a, k);
};
// MOVZX/MOVSX: register sources are pre-mapped (S = r16 index or r8 byte offset).
const movzxRR8: Op = (c, a, k) => {
  c.regs[a[k]] = c.r8[a[k + S]];
};
const movsxRR8: Op = (c, a, k) => {
  c.regs[a[k]] = (c.r8[a[k + S]] << 24) >> 24;
};
const movzxRR16: Op = (c, a, k) => {
  c.regs[a[k]] = c.r16[a[k + S]];
};
const movsxRR16: Op = (c, a, k) => {
  c.regs[a[k]] = (c.r16[a[k + S]] << 16) >> 16;
};
const movzxRM8: Op = (c, a, k) => {
  c.regs[a[k]] = c.rd8(a[k + SG], ea(c, a, k));
};
const movsxRM8: Op = (c, a, k) => {
  c.regs[a[k]] = (c.rd8(a[k + SG], ea(c, a, k)) << 24) >> 24;
};
const movzxRM16: Op = (c, a, k) => {
  c.regs[a[k]] = c.rd16(a[k + SG], ea(c, a, k));
};
const movsxRM16: Op = (c, a, k) => {
  c.regs[a[k]] = (c.rd16(a[k + SG], ea(c, a, k)) << 16) >> 16;
};

/** ROL/ROR/SHL/SHR/SAR r32, n (n = 1–31; RCL/RCR stay in the interpreter). */
const shiftRI: Op = (c, a, k) => {
  const r = c.regs;
  const d = a[k];
  r[d] = c.shift32(a[k + T], r[d], a[k + S]);
};

// Control transfers: the target (T) was computed and limit-checked at decode time.
const jcc: Op = (c, a, k) => {
  if (c.cond(a[k + S])) c.ip = a[k + T] >>> 0;
};
const jmp: Op = (c, a, k) => {
  c.ip = a[k + T] >>> 0;
};
const callRel: Op = (c, a, k) => {
  c.push32(a[k + S]);
  c.ip = a[k + T] >>> 0;
};
/** RET near, 32-bit: pop first (a #SS/#PF leaves ESP intact), then check the target. */
const ret: Op = (c) => {
  const esp = c.regs[ESP];
  const t = c.pop32() >>> 0;
  if (t > c.csLim) {
    c.regs[ESP] = esp;
    c.gp(0);
  }
  c.ip = t;
};

// ---- fused flag-setter + Jcc ------------------------------------------------------------------
// CMP/TEST/SUB/AND/INC/DEC on registers followed by Jcc run as one handler: the flags are still
// recorded (lazily) exactly as the pair leaves them, and the condition is decided from the
// operands directly. Neither instruction can fault (registers only; the branch target was
// limit-checked at decode) nor set `attention`, so no event could come between them anyway.
// The handler retires the first instruction itself (c.instructions++); the run loop the second.
// Slots: D, S as the flag-setter had them; SC = condition code; T = branch target.

/** Jcc after SUB/CMP x, y (r = x - y, all int32). SDM Vol.1 Appendix B condition codes. */
function condSub(c: CpuCore, cc: number, x: number, y: number, r: number): boolean {
  switch (cc) {
    case 2:
      return x >>> 0 < y >>> 0;
    case 3:
      return x >>> 0 >= y >>> 0;
    case 4:
      return r === 0;
    case 5:
      return r !== 0;
    case 6:
      return x >>> 0 <= y >>> 0;
    case 7:
      return x >>> 0 > y >>> 0;
    case 8:
      return r < 0;
    case 9:
      return r >= 0;
    case 12:
      return x < y;
    case 13:
      return x >= y;
    case 14:
      return x <= y;
    case 15:
      return x > y;
    default:
      return c.cond(cc);
  }
}
/** Jcc after a logic operation (CF = OF = 0) with the sign-extended result r. */
function condLogic(c: CpuCore, cc: number, r: number): boolean {
  switch (cc) {
    case 0:
    case 2:
      return false;
    case 1:
    case 3:
      return true;
    case 4:
    case 6:
      return r === 0;
    case 5:
    case 7:
      return r !== 0;
    case 8:
    case 12:
      return r < 0;
    case 9:
    case 13:
      return r >= 0;
    case 14:
      return r <= 0;
    case 15:
      return r > 0;
    default:
      return c.cond(cc);
  }
}
/** Jcc after INC/DEC (CF untouched): only ZF/SF conditions are decided directly. */
function condIncDec(c: CpuCore, cc: number, r: number): boolean {
  switch (cc) {
    case 4:
      return r === 0;
    case 5:
      return r !== 0;
    case 8:
      return r < 0;
    case 9:
      return r >= 0;
    default:
      return c.cond(cc);
  }
}

const cmpRRJcc: Op = (c, a, k) => {
  const x = c.regs[a[k]];
  const y = c.regs[a[k + S]];
  const r = sub32(c, x, y);
  c.instructions++;
  if (condSub(c, a[k + SC], x, y, r)) c.ip = a[k + T] >>> 0;
};
const cmpRIJcc: Op = (c, a, k) => {
  const x = c.regs[a[k]];
  const y = a[k + S];
  const r = sub32(c, x, y);
  c.instructions++;
  if (condSub(c, a[k + SC], x, y, r)) c.ip = a[k + T] >>> 0;
};
const subRRJcc: Op = (c, a, k) => {
  const d = a[k];
  const x = c.regs[d];
  const y = c.regs[a[k + S]];
  const r = sub32(c, x, y);
  c.regs[d] = r;
  c.instructions++;
  if (condSub(c, a[k + SC], x, y, r)) c.ip = a[k + T] >>> 0;
};
const subRIJcc: Op = (c, a, k) => {
  const d = a[k];
  const x = c.regs[d];
  const y = a[k + S];
  const r = sub32(c, x, y);
  c.regs[d] = r;
  c.instructions++;
  if (condSub(c, a[k + SC], x, y, r)) c.ip = a[k + T] >>> 0;
};
const testRRJcc: Op = (c, a, k) => {
  const r = c.regs[a[k]] & c.regs[a[k + S]];
  c.setLogic(r, 32);
  c.instructions++;
  if (condLogic(c, a[k + SC], r)) c.ip = a[k + T] >>> 0;
};
const testRIJcc: Op = (c, a, k) => {
  const r = c.regs[0] & a[k + S];
  c.setLogic(r, 32);
  c.instructions++;
  if (condLogic(c, a[k + SC], r)) c.ip = a[k + T] >>> 0;
};
const testRI8Jcc: Op = (c, a, k) => {
  const r = c.r8[R8[a[k]]] & a[k + S];
  c.setLogic(r, 8);
  c.instructions++;
  if (condLogic(c, a[k + SC], (r << 24) >> 24)) c.ip = a[k + T] >>> 0;
};
const andRIJcc: Op = (c, a, k) => {
  const d = a[k];
  const r = c.regs[d] & a[k + S];
  c.regs[d] = r;
  c.setLogic(r, 32);
  c.instructions++;
  if (condLogic(c, a[k + SC], r)) c.ip = a[k + T] >>> 0;
};
const decJcc: Op = (c, a, k) => {
  decReg(c, a, k);
  c.instructions++;
  if (condIncDec(c, a[k + SC], c.regs[a[k]])) c.ip = a[k + T] >>> 0;
};
const incJcc: Op = (c, a, k) => {
  incReg(c, a, k);
  c.instructions++;
  if (condIncDec(c, a[k + SC], c.regs[a[k]])) c.ip = a[k + T] >>> 0;
};

const FUSE = new Map<Op, Op>([
  [ALU_RR[7], cmpRRJcc],
  [ALU_RI[7], cmpRIJcc],
  [ALU_RR[5], subRRJcc],
  [ALU_RI[5], subRIJcc],
  [testRR, testRRJcc],
  [testRI, testRIJcc],
  [testRI8, testRI8Jcc],
  [ALU_RI[4], andRIJcc],
  [decReg, decJcc],
  [incReg, incJcc],
]);

/** The handler for flag-setter `prev` fused with the Jcc that follows it, or null. */
export function fuseJcc(prev: Op): Op | null {
  return FUSE.get(prev) ?? null;
}

/** Handlers a followed direct JMP/CALL becomes (the block continues at the target). */
export const followedJmp: Op = nop;
export const followedCall: Op = pushImm;
/** Operand slot numbers the block builder needs. */
export const SLOT_SC = SC;
export const SLOT_S = S;
export const SLOT_T = T;
