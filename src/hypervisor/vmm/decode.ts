/**
 * Decoding of the instructions the VMM emulates, from the bytes at the guest's faulting CS:EIP:
 * prefixes, opcode, ModR/M + SIB effective address (SDM Vol.2 §2.1, Tables 2-1 to 2-3). Only the
 * sensitive/privileged instructions are recognised; anything else decodes to op 0 (the VMM then
 * reflects the fault to the guest). Mnemonics for the log come from the CPU's disassembler, which
 * is driven by the same opcode table as the interpreter.
 */
import { TrapOp } from './trap-log.ts';

// Segment register indices (ModR/M sreg encoding), as in the CPU.
export const ES = 0;
export const CS = 1;
export const SS = 2;
export const DS = 3;
export const FS = 4;
export const GS = 5;

export interface Insn {
  /** Total length in bytes (prefixes included). */
  len: number;
  /** TrapOp of the instruction, or 0 when it is none the VMM emulates. */
  op: number;
  /** Opcode: one byte, or 0x0F00 | second byte. */
  opcode: number;
  opsz32: boolean;
  adsz32: boolean;
  /** Segment override, or -1. */
  segOv: number;
  /** 0, 0xF2 or 0xF3. */
  rep: number;
  /** ModR/M byte or -1; mod/reg/rm split out. */
  modrm: number;
  mod: number;
  reg: number;
  rm: number;
  /** Memory operand (mod != 3): effective offset and segment. */
  eaOff: number;
  eaSeg: number;
  /** Immediate (port number for IN/OUT imm8, vector for INT). */
  imm: number;
}

const PREFIX_SEG: Record<number, number> = { 38: ES, 46: CS, 54: SS, 62: DS, 100: FS, 101: GS };

/**
 * Decode one instruction from `b` (bytes at CS:EIP). `regs` are the guest's general registers
 * (EAX..EDI as in the CPU) for the effective address. Returns null when the bytes run out.
 */
export function decode(
  b: Uint8Array,
  code32: boolean,
  regs: Int32Array,
  /** Parse a ModR/M after any opcode (binary translation's adaptive stores: only the address). */
  anyModrm = false,
): Insn | null {
  const d: Insn = {
    len: 0,
    op: 0,
    opcode: 0,
    opsz32: code32,
    adsz32: code32,
    segOv: -1,
    rep: 0,
    modrm: -1,
    mod: 0,
    reg: 0,
    rm: 0,
    eaOff: 0,
    eaSeg: DS,
    imm: 0,
  };
  bytes = b;
  pos = 0;
  try {
    let op = next();
    for (;;) {
      if (op === 0x66) d.opsz32 = !code32;
      else if (op === 0x67) d.adsz32 = !code32;
      else if (op === 0xf2 || op === 0xf3) d.rep = op;
      else if (op === 0xf0) {
        /* lock: ignored */
      } else if (op in PREFIX_SEG) d.segOv = PREFIX_SEG[op];
      else break;
      op = next();
    }
    if (op === 0x0f) op = 0x0f00 | next();
    d.opcode = op;
    // 0x8C, 0xFF and LAR/LSL carry a ModR/M too: binary translation emulates them (classify → 0 here).
    const needModrm =
      op === 0x8e ||
      op === 0x8c ||
      op === 0xff ||
      op === 0x0f00 ||
      op === 0x0f01 ||
      op === 0x0f02 ||
      op === 0x0f03 ||
      (op >= 0x0f20 && op <= 0x0f23) ||
      op === 0x0fb2;
    if (needModrm || anyModrm) modrm(d, regs, op >= 0x0f20 && op <= 0x0f23);
    if (op === 0xe4 || op === 0xe5 || op === 0xe6 || op === 0xe7 || op === 0xcd) d.imm = next();
    d.op = classify(d);
    d.len = pos;
    return d;
  } catch (e) {
    if (e === RANGE) return null;
    throw e;
  } finally {
    bytes = EMPTY;
  }
}

const RANGE = { range: true };
const EMPTY = new Uint8Array(0);
/**
 * The bytes being decoded and the position in them: module state rather than a closure, since a
 * VMM decodes at every trap and a closure per call (plus tsx's name-keeping wrapper around each,
 * in the bench) cost trap-bound guests ~15 % of their profile (PERF.md, "Session 14 — reset14").
 */
let bytes: Uint8Array = EMPTY;
let pos = 0;

/** The next instruction byte; RANGE past the bytes given or the 15-byte limit. */
function next(): number {
  if (pos >= bytes.length || pos >= 15) throw RANGE;
  return bytes[pos++];
}

function modrm(d: Insn, regs: Int32Array, regOnly: boolean): void {
  const m = next();
  d.modrm = m;
  // MOV CRn/DRn always take a register operand: mod is ignored (SDM MOV—Move to/from Control Registers).
  d.mod = regOnly ? 3 : m >> 6;
  d.reg = (m >> 3) & 7;
  d.rm = m & 7;
  if (d.mod === 3) return;
  let seg = DS;
  let off = 0;
  if (d.adsz32) {
    let base = d.rm;
    if (d.rm === 4) {
      const sib = next();
      const scale = sib >> 6;
      const idx = (sib >> 3) & 7;
      base = sib & 7;
      if (idx !== 4) off = (regs[idx] << scale) | 0;
      if (base === 5 && d.mod === 0) {
        off = (off + (next() | (next() << 8) | (next() << 16) | (next() << 24))) | 0;
        base = -1;
      }
    } else if (d.rm === 5 && d.mod === 0) {
      off = next() | (next() << 8) | (next() << 16) | (next() << 24);
      base = -1;
    }
    if (base >= 0) {
      off = (off + regs[base]) | 0;
      if (base === 4 || base === 5) seg = SS;
    }
    if (d.mod === 1) off = (off + ((next() << 24) >> 24)) | 0;
    else if (d.mod === 2) off = (off + (next() | (next() << 8) | (next() << 16) | (next() << 24))) | 0;
    d.eaOff = off >>> 0;
  } else {
    if (d.mod === 0 && d.rm === 6) off = next() | (next() << 8);
    else {
      off = base16(regs, d.rm);
      if (d.rm === 2 || d.rm === 3 || d.rm === 6) seg = SS;
    }
    if (d.mod === 1) off += (next() << 24) >> 24;
    else if (d.mod === 2) off += next() | (next() << 8);
    d.eaOff = off & 0xffff;
  }
  d.eaSeg = d.segOv >= 0 ? d.segOv : seg;
}

/** The 16-bit base + index of ModR/M r/m 0–7 (BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP, BX). */
function base16(regs: Int32Array, rm: number): number {
  const bx = regs[3] & 0xffff;
  const bp = regs[5] & 0xffff;
  const si = regs[6] & 0xffff;
  const di = regs[7] & 0xffff;
  switch (rm) {
    case 0:
      return bx + si;
    case 1:
      return bx + di;
    case 2:
      return bp + si;
    case 3:
      return bp + di;
    case 4:
      return si;
    case 5:
      return di;
    case 6:
      return bp;
    default:
      return bx;
  }
}

function classify(d: Insn): number {
  switch (d.opcode) {
    case 0xfa:
      return TrapOp.CLI;
    case 0xfb:
      return TrapOp.STI;
    case 0xf4:
      return TrapOp.HLT;
    case 0xcf:
      return TrapOp.IRET;
    case 0x9c:
      return TrapOp.PUSHF;
    case 0x9d:
      return TrapOp.POPF;
    case 0xe4:
    case 0xe5:
    case 0xec:
    case 0xed:
      return TrapOp.IN;
    case 0xe6:
    case 0xe7:
    case 0xee:
    case 0xef:
      return TrapOp.OUT;
    case 0x6c:
    case 0x6d:
      return TrapOp.INS;
    case 0x6e:
    case 0x6f:
      return TrapOp.OUTS;
    case 0x17:
      return TrapOp.SEG_LOAD;
    case 0x8e:
      return d.reg === SS ? TrapOp.SEG_LOAD : 0;
    case 0x0fb2:
      return d.mod !== 3 ? TrapOp.SEG_LOAD : 0;
    case 0x0f00:
      return d.reg === 2 ? TrapOp.LLDT : d.reg === 3 ? TrapOp.LTR : 0;
    case 0x0f01:
      if (d.reg === 2 && d.mod !== 3) return TrapOp.LGDT;
      if (d.reg === 3 && d.mod !== 3) return TrapOp.LIDT;
      if (d.reg === 6) return TrapOp.LMSW;
      if (d.reg === 7 && d.mod !== 3) return TrapOp.INVLPG;
      return 0;
    case 0x0f06:
      return TrapOp.CLTS;
    case 0x0f08:
      return TrapOp.INVD;
    case 0x0f09:
      return TrapOp.WBINVD;
    case 0x0f20:
      return TrapOp.MOV_FROM_CR;
    case 0x0f22:
      return TrapOp.MOV_TO_CR;
    case 0x0f21:
    case 0x0f23:
      return TrapOp.MOV_DR;
    case 0x0f30:
      return TrapOp.WRMSR;
    case 0x0f31:
      return TrapOp.RDTSC;
    case 0x0f32:
      return TrapOp.RDMSR;
    case 0x0fa2:
      return TrapOp.CPUID;
    default:
      return 0;
  }
}
