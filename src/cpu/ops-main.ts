/**
 * One-byte opcode map (SDM Vol.2 Table A-2): prefixes, then dispatch. Group opcodes are in
 * ops-groups.ts, 0F xx in ops-0f.ts, string instructions in string.ts.
 */
import { SilentKind } from './base.ts';
import { BR, CR0_PE, CS, DS, EAX, ES, ESP, IF, IOPL, RF, SS, UD, VM } from './constants.ts';
import type { CpuCore } from './core.ts';
import { R8 } from './core.ts';
import { exec0F } from './ops-0f.ts';
import { bcd, group1, group2, group3, group45 } from './ops-groups.ts';
import { HIGH_OPS } from './ops-high.ts';
import { STRING_OPS } from './string.ts';
import { lookup } from './table.ts';

/** Execute one instruction at c.ip (== c.eip). */
export function execute(c: CpuCore): void {
  // Invariant between instructions: opsz32 = adsz32 = code32, segOv = -1, rep = 0, lock = false
  // (restored by prefixed(), by CS loads and after event delivery), so the common prefix-free
  // path does no per-instruction resets.
  // Prefix bytes have their own OPS entry (opPrefix), so the common path is one table call.
  const b = c.fetch8();
  OPS[b](c, b);
}

const PREFIXES = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3];
function opPrefix(c: CpuCore, b: number): void {
  prefixed(c, b, c.code32);
}

/** Prefix loop (the less common path). */
function prefixed(c: CpuCore, first: number, d32: boolean): void {
  try {
    prefixLoop(c, first, d32);
  } finally {
    c.resetPrefixes();
  }
}

/**
 * What a prefix byte sets (SDM Vol.2 §2.1.1): 0–5 the segment override (ES CS SS DS FS GS), 6
 * operand size, 7 address size, 8 LOCK, 9 REPNE, 10 REP/REPE; -1 not a prefix.
 */
const PREFIX_SETS = new Int8Array(256).fill(-1);
PREFIXES.forEach((b, i) => {
  PREFIX_SETS[b] = i;
});

function prefixLoop(c: CpuCore, first: number, d32: boolean): void {
  let b = first;
  for (;;) {
    const k = PREFIX_SETS[b];
    if (k < 0) {
      if (c.lock) checkLock(c, b);
      OPS[b](c, b);
      return;
    }
    // Every prefix stores all five fields (the others keep their values): one store site per field
    // rather than one per prefix byte, so a prefix first met after V8 optimized this loop needs no
    // new type feedback (a switch deoptimized it, and opPrefix with it inlined, at the first SS:
    // and the first LOCK of a Linux boot).
    c.segOv = k < 6 ? k : c.segOv;
    c.opsz32 = k === 6 ? !d32 : c.opsz32;
    c.adsz32 = k === 7 ? !d32 : c.adsz32;
    c.lock = k === 8 ? true : c.lock;
    c.rep = k === 9 ? 2 : k === 10 ? 3 : c.rep;
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
  // The pop belongs to the stack it reads: the increment uses the old SS.B even when POP SS
  // loads a segment of the other size (SDM Vol.2 POP, StackAddrSize at the instruction's start).
  const next = c.spAdd(c.opsz32 ? 4 : 2);
  const old32 = c.ss32;
  c.loadSeg(s, v & 0xffff);
  if (old32) c.regs[ESP] = next;
  else c.r16[ESP << 1] = next;
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
export function pushf(c: CpuCore): void {
  if (c.flags & VM && (c.flags & IOPL) !== IOPL) c.gp(0);
  const f = c.getEflags() & ~(VM | RF);
  c.push(f);
  if (c.observer !== null && c.cpl > 0) c.silent(SilentKind.FlagsRead, f);
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
      // Every ignored IF bit is reported (SilentKind.PopfIfDropped): the observer judges it.
      if (c.observer !== null) c.silent(SilentKind.PopfIfDropped, v);
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
for (const [op, fn] of HIGH_OPS) OPS[op] = fn;
// Group opcodes straight to their bodies (the one-line wrappers in ops-high cost a call each).
for (const op of [0x80, 0x81, 0x82, 0x83]) OPS[op] = group1;
for (const op of [0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3]) OPS[op] = group2;
OPS[0xf6] = group3;
OPS[0xf7] = group3;
OPS[0xfe] = group45;
OPS[0xff] = group45;
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
// The string instructions, a function per family (string.ts says why).
STRING_OPS.forEach((f, op) => {
  OPS[op] = f;
});
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
for (const p of PREFIXES) OPS[p] = opPrefix;

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
  if (c.observer !== null && c.cpl > 0) c.silent(SilentKind.SegmentRead, c.segSel[CS]);
  return;
}

function op_0f(c: CpuCore, _b: number): void {
  exec0F(c);
  return;
}

function op_16(c: CpuCore, _b: number): void {
  pushSeg(c, SS);
  if (c.observer !== null && c.cpl > 0) c.silent(SilentKind.SegmentRead, c.segSel[SS]);
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
  c.checkWide(c.opsz32 ? 8 : 4);
  if (c.opsz32) {
    lo = c.rd32(c.eaSeg, c.eaOff);
    hi = c.rd32(c.eaSeg, c.wideOff(4));
    v = idx;
  } else {
    lo = (c.rd16(c.eaSeg, c.eaOff) << 16) >> 16;
    hi = (c.rd16(c.eaSeg, c.wideOff(2)) << 16) >> 16;
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

function op_70(c: CpuCore, b: number): void {
  const d = (c.fetch8() << 24) >> 24;
  if (c.cond(b & 15)) {
    const t = c.opsz32 ? (c.ip + d) >>> 0 : (c.ip + d) & 0xffff;
    if (t > c.csLim) c.gp(0);
    c.ip = t;
  }
}

function alu6(c: CpuCore, b: number): void {
  const op = b >> 3;
  switch (b & 7) {
    case 0: {
      c.decodeModrm();
      if (op !== 7) c.rmw(1);
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
        if (op !== 7) c.rmw(4);
        const res = c.alu(op, c.rd32(c.eaSeg, c.eaOff), r[(m >> 3) & 7], 32);
        if (op !== 7) c.wr32(c.eaSeg, c.eaOff, res);
        return;
      }
      if (op !== 7) c.rmw(2);
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
      // fetchImm's 16-bit form is already 0–0xffff: no mask (an `& 0xffff` only on that path was an
      // operation first run ~8 M instructions into a Linux boot, after V8 had optimized this
      // function, and deoptimized it).
      const res = c.alu(op, c.getReg(EAX), c.fetchImm(), c.osBits);
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
