/**
 * Pre-decoding for the block cache (blocks.ts): one instruction's bytes become a handler plus
 * eight operand slots (registers, displacement, immediate, segment, branch target) so that running
 * it again costs no fetch and no decode. Handlers are a fixed set of module-level functions —
 * never closures made per instruction: V8 would pay a lazy-compile runtime call for every new
 * closure's first call, which costs more than decoding a cold instruction.
 *
 * Only the common 32-bit forms are pre-decoded; anything else (16-bit code, operand/address-size
 * prefixes, REP/LOCK, system and sensitive instructions but unprefixed IN/OUT (block-io.ts),
 * string instructions, far transfers…) ends the block with `interpret`, which runs the ordinary
 * interpreter on the same bytes. Each handler performs exactly the interpreter's accesses in the
 * interpreter's order (probe the destination, then read, then write), so faults, error codes, A/D
 * bits and the restartability of every instruction are unchanged — a pre-decoded block is an
 * optimisation the guest cannot observe (tests: blocks.test.ts, fastpath-determinism.test.ts).
 */

import { divM, divR } from './block-div.ts';
import { ioDx, ioImm } from './block-io.ts';
import {
  ALU_RI,
  ALU_RR,
  aluMI,
  aluMI8,
  aluMR,
  aluMR8,
  aluRI8,
  aluRM,
  aluRM8,
  aluRR8,
  B,
  btMI,
  btMR,
  btRI,
  btRR,
  callM,
  callR,
  callRel,
  cdq,
  cmovM,
  cmovR,
  cmpMI,
  cmpRM,
  cmpxchgM,
  cwde,
  D,
  DISP,
  decM,
  decReg,
  flagsMR,
  imulRM,
  imulRMI,
  imulRR,
  imulRRI,
  incM,
  incReg,
  interpret,
  jcc,
  jecxz,
  jmp,
  jmpM,
  jmpR,
  lea,
  leave,
  movMI,
  movMI8,
  movMI16,
  movMR,
  movMR8,
  movMR16,
  movRI,
  movRI8,
  movRI16,
  movRM,
  movRM8,
  movRM16,
  movRR,
  movRR8,
  movRR16,
  movsxRM8,
  movsxRM16,
  movsxRR8,
  movsxRR16,
  movzxRM8,
  movzxRM16,
  movzxRR8,
  movzxRR16,
  mulR,
  negR,
  nop,
  notR,
  type Op,
  popReg,
  pushImm,
  pushM,
  pushReg,
  ret,
  retImm,
  S,
  SC,
  SG,
  SLOTS,
  setccM,
  setccR,
  shiftRCL,
  shiftRI,
  shiftRI8,
  shiftRI16,
  T,
  testMI,
  testMI8,
  testRI,
  testRI8,
  testRR,
  X,
  xaddM,
  xchgRR,
} from './block-ops.ts';
import { DS, EBP, ESP, SS } from './constants.ts';
import { R8 } from './core.ts';

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

/**
 * The prefixes predecode() takes, by byte: 0–5 a segment override (ES CS SS DS FS GS), 6 the
 * operand-size prefix, -1 none. Both kinds run the same bytecodes in the prefix loop, and its
 * branches only move values: V8 deoptimizes an optimized function at an operation first run after
 * it was compiled, and the first segment prefix of a Linux boot (~9 M instructions in, long after
 * 0x66) cost `build` and `predecode` a deoptimization and a TurboFan recompile each (PERF.md).
 */
const PREFIX_KIND = new Int8Array(256).fill(-1);
for (const [byte, kind] of [
  [0x26, 0],
  [0x2e, 1],
  [0x36, 2],
  [0x3e, 3],
  [0x64, 4],
  [0x65, 5],
  [0x66, 6],
] as const)
  PREFIX_KIND[byte] = kind;
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
  let opsz16 = false;
  let pk = PREFIX_KIND[b];
  while (pk >= 0) {
    const osz = pk === 6;
    opsz16 = opsz16 || osz;
    segOv = osz ? segOv : pk;
    b = cur.u8();
    pk = PREFIX_KIND[b];
    if (++prefixes > 4) return null;
  }
  const op = opsz16 ? decode16(b, segOv) : decodeOp(b, segOv);
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
      // Compared before the branch: TEST with a memory operand comes late in a Linux boot, and a
      // compare first run then deoptimized the decoder (see PREFIX_KIND).
      const byte = b === 0x84;
      o[T] = 4 | 8;
      if (mod === 3) {
        const g = o[D];
        o[D] = o[S];
        o[S] = g;
        return byte ? aluRR8 : testRR;
      }
      return byte ? aluMR8 : flagsMR;
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
    case 0xc0:
    case 0xc1:
    case 0xd0:
    case 0xd1: {
      const mod = modrm(segOv);
      const n = (b === 0xc0 || b === 0xc1 ? cur.u8() : 1) & 31;
      const sh = o[D];
      if (sh === 2 || sh === 3 || mod !== 3) return null; // RCL/RCR, memory: interpreter
      if (n === 0) return nop;
      o[T] = sh;
      o[D] = o[S];
      o[S] = n;
      return (b & 1) === 0 ? shiftRI8 : shiftRI;
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
    case 0xe3: {
      // JECXZ (32-bit address size; an 0x67 prefix is not pre-decoded): translated RETs use it.
      const d = cur.s8();
      o[T] = (next() + d) >>> 0;
      kind = K_JCC;
      return jecxz;
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
      return decodeMore(b, segOv);
  }
}

/** The few 16-bit operand-size forms (66 prefix) worth pre-decoding in 32-bit code: MOVs. */
function decode16(b: number, segOv: number): Op | null {
  kind = K_PLAIN;
  switch (b) {
    case 0x89:
      if (modrm(segOv) === 3) {
        const g = o[D];
        o[D] = o[S];
        o[S] = g;
        return movRR16;
      }
      return movMR16;
    case 0x8b:
      return modrm(segOv) === 3 ? movRR16 : movRM16;
    case 0xc7: {
      const mod = modrm(segOv);
      if (o[D] !== 0) return null;
      const imm = cur.u8() | (cur.u8() << 8);
      if (mod === 3) {
        o[D] = o[S];
        o[S] = imm;
        return movRI16;
      }
      o[S] = imm;
      return movMI16;
    }
    case 0xc1:
    case 0xd1: {
      const mod = modrm(segOv);
      const n = (b === 0xc1 ? cur.u8() : 1) & 31;
      const sh = o[D];
      if (sh === 2 || sh === 3 || mod !== 3) return null;
      if (n === 0) return nop;
      o[T] = sh;
      o[D] = o[S];
      o[S] = n;
      return shiftRI16;
    }
    case 0x90:
      return nop; // XCHG AX, AX
    default:
      if (b >= 0xb8 && b < 0xc0) {
        o[D] = b & 7;
        o[S] = cur.u8() | (cur.u8() << 8);
        return movRI16;
      }
      return null;
  }
}

/** One-byte opcodes beyond the core set (decodeOp's default case). */
function decodeMore(b: number, segOv: number): Op | null {
  switch (b) {
    case 0x69:
    case 0x6b: {
      const mod = modrm(segOv);
      o[T] = b === 0x69 ? cur.i32() : cur.s8();
      return mod === 3 ? imulRRI : imulRMI;
    }
    case 0x87:
      if (modrm(segOv) !== 3) return null; // a locked memory exchange: interpreter
      return xchgRR;
    case 0x98:
      return cwde;
    case 0x99:
      return cdq;
    case 0xa0:
    case 0xa1:
    case 0xa2:
    case 0xa3:
      // MOV AL/EAX <-> moffs: the memory-operand handlers with [disp32] (D = AL/EAX).
      o[D] = 0;
      o[B] = Z;
      o[X] = Z;
      o[SC] = 0;
      o[DISP] = cur.i32();
      o[SG] = segOv >= 0 ? segOv : DS;
      return b === 0xa0 ? movRM8 : b === 0xa1 ? movRM : b === 0xa2 ? movMR8 : movMR;
    case 0xc2:
      o[S] = cur.u8() | (cur.u8() << 8);
      kind = K_END;
      return retImm;
    case 0xc6:
    case 0xc7: {
      const mod = modrm(segOv);
      if (o[D] !== 0) return null; // #UD
      const imm = b === 0xc6 ? cur.u8() : cur.i32();
      if (mod === 3) {
        o[D] = b === 0xc6 ? R8[o[S]] : o[S];
        o[S] = imm;
        return b === 0xc6 ? movRI8 : movRI;
      }
      o[S] = imm;
      return b === 0xc6 ? movMI8 : movMI;
    }
    case 0xc9:
      return leave;
    case 0xe4:
    case 0xe5:
    case 0xe6:
    case 0xe7:
      // IN/OUT (block-io.ts): the block's last record, so EIP/IP are stored before it.
      o[S] = cur.u8();
      o[T] = b;
      kind = K_END;
      return ioImm;
    case 0xec:
    case 0xed:
    case 0xee:
    case 0xef:
      o[T] = b;
      kind = K_END;
      return ioDx;
    case 0xd3: {
      const mod = modrm(segOv);
      const sh = o[D];
      if (sh === 2 || sh === 3 || mod !== 3) return null;
      o[T] = sh;
      o[D] = o[S];
      return shiftRCL;
    }
    case 0xf6:
    case 0xf7: {
      const mod = modrm(segOv);
      const op = o[D];
      if (op === 0 || op === 1) {
        // TEST r/m, imm (/1 is an undocumented alias the interpreter also accepts).
        const imm = b === 0xf6 ? cur.u8() : cur.i32();
        if (mod === 3) {
          o[D] = o[S];
          o[S] = imm;
          return b === 0xf6 ? testRI8 : testRI;
        }
        o[S] = imm;
        return b === 0xf6 ? testMI8 : testMI;
      }
      if (b === 0xf7 && mod === 3 && (op === 2 || op === 3)) {
        o[D] = o[S];
        return op === 2 ? notR : negR;
      }
      if (b === 0xf7 && mod === 3 && (op === 4 || op === 5)) {
        o[D] = o[S];
        o[T] = op;
        return mulR;
      }
      if (b === 0xf7 && op >= 6) {
        o[T] = op;
        if (mod !== 3) return divM;
        o[D] = o[S];
        return divR;
      }
      return null;
    }
    case 0xff: {
      const mod = modrm(segOv);
      const op = o[D];
      switch (op) {
        case 0:
        case 1:
          if (mod === 3) {
            o[D] = o[S];
            return op === 0 ? incReg : decReg;
          }
          return op === 0 ? incM : decM;
        case 2:
          o[T] = next();
          kind = K_END;
          return mod === 3 ? callR : callM;
        case 4:
          kind = K_END;
          return mod === 3 ? jmpR : jmpM;
        case 6:
          if (mod === 3) {
            o[D] = o[S];
            return pushReg;
          }
          return pushM;
        default:
          return null;
      }
    }
    default:
      if (b > 0x90 && b < 0x98) {
        o[D] = 0;
        o[S] = b & 7;
        return xchgRR;
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
  if (b >= 0x90 && b < 0xa0) {
    const mod = modrm(segOv);
    o[T] = b & 15;
    return mod === 3 ? setccR : setccM;
  }
  if (b >= 0x40 && b < 0x50) {
    const mod = modrm(segOv);
    o[T] = b & 15;
    return mod === 3 ? cmovR : cmovM;
  }
  if (b === 0xaf) return modrm(segOv) === 3 ? imulRR : imulRM;
  if (b === 0xba) {
    const mod = modrm(segOv);
    const op = o[D];
    const imm = cur.u8();
    if (op < 4) return null; // #UD
    o[T] = op & 3;
    if (mod === 3) o[D] = o[S];
    o[S] = imm & 31;
    return mod === 3 ? btRI : btMI;
  }
  if (b === 0xa3 || b === 0xab || b === 0xb3 || b === 0xbb) {
    // BT/BTS/BTR/BTC Ev, Gv: S = the offset register, D = the destination register.
    const mod = modrm(segOv);
    o[T] = (b >> 3) & 3;
    const g = o[D];
    if (mod === 3) {
      o[D] = o[S];
      o[S] = g;
      return btRR;
    }
    o[S] = g;
    return btMR;
  }
  if (b === 0xb1 || b === 0xc1) {
    // CMPXCHG / XADD m32, r32 without LOCK (a uniprocessor kernel's atomics); D = the register.
    if (modrm(segOv) === 3) return null;
    return b === 0xb1 ? cmpxchgM : xaddM;
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
