/**
 * ESC (D8–DF) execution for the x87 (SDM Vol.2 "FPU instructions", opcode maps Vol.2 App. A.5).
 * Memory operands go through the CPU's segment/paging accessors (stores probe the whole operand
 * first, so a fault leaves the instruction restartable). FIP/FCS/FOP and FDP/FDS are updated by
 * every non-control instruction; waiting instructions first report a pending unmasked exception
 * (#MF with CR0.NE, else FERR# → IRQ 13 and go on, as the PC's DOS-compatible wiring does).
 */
import { CR0_NE, CR0_PE, EAX, MF, UD, VM } from '../constants.ts';
import type { CpuCore } from '../core.ts';
import { rndint } from './arith.ts';
import {
  C1 as C1F,
  DE,
  type F80,
  f80,
  fromBits,
  fromExact,
  fromInteger,
  fromWords,
  IE,
  indefinite,
  isNaN80,
  isSNaN,
  isUnsupported,
  M63,
  OE,
  out,
  PE,
  quiet,
  round,
  toBits,
  toInteger,
  UE,
  zero,
} from './f80.ts';
import { B, C0, C2, C3, ES, type Fpu } from './fpu.ts';
import {
  arith,
  ccOf,
  compare,
  examine,
  f2xm1,
  fpatan,
  fscale,
  fsqrt,
  fxtract,
  fyl2x,
  prem,
  res,
  rnd,
  trig,
  trigInRange,
} from './ops.ts';

const CC = C0 | C1F | C2 | C3;

/** Constants as 128-bit significands (rounded per RC when loaded; SDM Vol.1 §8.3.7). */
const CONSTS: Array<[bigint, number]> = [
  [1n << 127n, 0], // 1.0
  [0xd49a784bcd1b8afe492bf6ff4dafdb4dn, 1], // log2(10)
  [0xb8aa3b295c17f0bbbe87fed0691d3e88n, 0], // log2(e)
  [0xc90fdaa22168c234c4c6628b80dc1cd1n, 1], // π
  [0x9a209a84fbcff7988f8959ac0b7c9178n, -2], // log10(2)
  [0xb17217f7d1cf79abc9e3b39803f2f6afn, -1], // ln(2)
];

/** Report a pending unmasked exception before a waiting instruction (SDM Vol.1 §8.6, App. D). */
export function checkPending(c: CpuCore, f: Fpu): void {
  if ((f.sw & ES) === 0) return;
  if (c.cr0 & CR0_NE) c.raise(MF);
  f.onFerr?.();
}

function rdF(c: CpuCore, kind: number): F80 {
  const s = c.eaSeg;
  const o = c.eaOff;
  switch (kind) {
    case 0: // m32real
      return fromBits(BigInt(c.rd32(s, o) >>> 0), 8, 23);
    case 1: // m32int
      return fromInteger(BigInt(c.rd32(s, o)));
    case 2: {
      // m64real
      c.checkWide(8);
      const lo = c.rd32(s, o) >>> 0;
      const hi = c.rd32(s, c.wideOff(4)) >>> 0;
      return fromBits((BigInt(hi) << 32n) | BigInt(lo), 11, 52);
    }
    default: // m16int
      return fromInteger(BigInt((c.rd16(s, o) << 16) >> 16));
  }
}

function wr64(c: CpuCore, v: bigint): void {
  c.probeWrite(c.eaSeg, c.eaOff, 8);
  c.wr32(c.eaSeg, c.eaOff, Number(v & 0xffffffffn));
  c.wr32(c.eaSeg, c.wideOff(4), Number((v >> 32n) & 0xffffffffn));
}

function rd80(c: CpuCore, off: number): F80 {
  const lo = c.rd32(c.eaSeg, off);
  const hi = c.rd32(c.eaSeg, (off + 4) >>> 0);
  const se = c.rd16(c.eaSeg, (off + 8) >>> 0);
  return fromWords(lo, hi, se);
}
function wr80(c: CpuCore, off: number, v: F80): void {
  c.wr32(c.eaSeg, off, Number(v.m & 0xffffffffn));
  c.wr32(c.eaSeg, (off + 4) >>> 0, Number(v.m >> 32n));
  c.wr16(c.eaSeg, (off + 8) >>> 0, (v.s << 15) | v.e);
}

/** Operand check for a loaded memory value: SNaN → #IA (quieted if masked), denormal → #D. */
function loadChecks(f: Fpu, v: F80): F80 | null {
  let fl = 0;
  if (isSNaN(v)) fl = IE;
  else if (v.e === 0 && v.m !== 0n) fl = DE;
  if (fl !== 0 && !f.signal(fl)) return null;
  return fl === IE ? quiet(v) : v;
}

/** Result of an arithmetic op into ST(i): store unless an unmasked #I/#D/#Z; O/U/P are recorded. */
function commit(f: Fpu, i: number, v: F80): boolean {
  const fl = res.flags;
  f.sw &= ~C1F;
  if (f.unmasked(fl & (IE | DE | 0x04))) {
    f.signal(fl & (IE | DE | 0x04));
    return false;
  }
  f.set(i, v);
  if (fl & C1F) f.sw |= C1F;
  if (fl & 0x3f) f.signal(fl & 0x3f);
  return true;
}

function setCC(f: Fpu, cc: number): void {
  f.sw = (f.sw & ~CC) | cc;
}

function stackFault(f: Fpu, i: number): boolean {
  if (!f.isEmpty(i)) return false;
  if (f.underflow()) f.set(i === 0 ? 0 : i, indefinite());
  return true;
}

/** Integer store (FIST/FISTP): out-of-range or NaN → #IA, masked: the integer indefinite. */
function toInt(f: Fpu, v: F80, bits: number): bigint | null {
  const min = -(1n << BigInt(bits - 1));
  if (v.e === 0x7fff || isUnsupported(v)) {
    if (!f.signal(IE)) return null;
    return min;
  }
  const n = toInteger(v, f.rc);
  const fl = out.flags;
  if (n < min || n > -min - 1n) {
    if (!f.signal(IE)) return null;
    return min;
  }
  f.sw &= ~C1F;
  if (fl & C1F) f.sw |= C1F;
  if (fl & PE) f.signal(PE);
  return n;
}

/** FNSTENV/FNSAVE image of the environment (SDM Vol.1 §8.1.10, Figures 8-9 … 8-12). */
function storeEnv(c: CpuCore, f: Fpu, size: number): void {
  const s = c.eaSeg;
  const o = c.eaOff;
  const w = (k: number, v: number) =>
    size === 28 ? c.wr32(s, c.wideOff(k * 4), v) : c.wr16(s, c.wideOff(k * 2), v);
  const pm = (c.cr0 & CR0_PE) !== 0 && (c.flags & VM) === 0;
  w(0, f.cw | (size === 28 ? 0xffff0000 : 0));
  w(1, f.statusWord | (size === 28 ? 0xffff0000 : 0));
  w(2, f.tagWord | (size === 28 ? 0xffff0000 : 0));
  if (pm) {
    w(3, f.fip);
    w(4, size === 28 ? f.fcs | ((f.fop & 0x7ff) << 16) : f.fcs);
    w(5, f.fdp);
    w(6, f.fds | (size === 28 ? 0xffff0000 : 0));
  } else {
    // Real/V86 format: 20-bit linear pointers (32-bit layout: 32 bits wide, reserved bits 1s).
    const ip = (f.fcs * 16 + f.fip) >>> 0;
    const dp = (f.fds * 16 + f.fdp) >>> 0;
    if (size === 28) {
      w(3, (ip & 0xffff) | 0xffff0000);
      w(4, ((ip >>> 16) << 12) | (f.fop & 0x7ff));
      w(5, (dp & 0xffff) | 0xffff0000);
      w(6, (dp >>> 16) << 12);
    } else {
      w(3, ip & 0xffff);
      w(4, (((ip >>> 16) & 0xf) << 12) | (f.fop & 0x7ff));
      w(5, dp & 0xffff);
      w(6, ((dp >>> 16) & 0xf) << 12);
    }
  }
  void o;
}

function loadEnv(c: CpuCore, f: Fpu, size: number): void {
  const s = c.eaSeg;
  const r = (k: number) => (size === 28 ? c.rd32(s, c.wideOff(k * 4)) : c.rd16(s, c.wideOff(k * 2)));
  const pm = (c.cr0 & CR0_PE) !== 0 && (c.flags & VM) === 0;
  const cw = r(0) & 0xffff;
  const sw = r(1) & 0xffff;
  const tw = r(2) & 0xffff;
  const a = r(3) >>> 0;
  const b = r(4) >>> 0;
  const d = r(5) >>> 0;
  const e = r(6) >>> 0;
  f.cw = cw | 0x40;
  f.statusWord = sw;
  f.tagWord = tw;
  if (pm) {
    f.fip = a;
    f.fcs = b & 0xffff;
    f.fop = size === 28 ? (b >>> 16) & 0x7ff : 0;
    f.fdp = d;
    f.fds = e & 0xffff;
  } else {
    f.fcs = 0;
    f.fds = 0;
    f.fip = size === 28 ? (a & 0xffff) | ((b >>> 12) << 16) : (a & 0xffff) | (((b >>> 12) & 0xf) << 16);
    f.fop = b & 0x7ff;
    f.fdp = size === 28 ? (d & 0xffff) | ((e >>> 12) << 16) : (d & 0xffff) | (((e >>> 12) & 0xf) << 16);
  }
  f.updateSummary();
}

/** Registers ST(0)..ST(7) in an FSAVE/FRSTOR image start after the environment. */
function saveRegs(c: CpuCore, f: Fpu, base: number, stride: number): void {
  for (let i = 0; i < 8; i++) wr80(c, c.wideOff(base + i * stride), f.get(i));
}

function fxsave(c: CpuCore, f: Fpu): void {
  const s = c.eaSeg;
  if (((c.segBase[s] + c.eaOff) & 15) !== 0) c.gp(0);
  c.probeWrite(s, c.eaOff, 512);
  const o = (k: number) => c.wideOff(k);
  c.wr16(s, o(0), f.cw);
  c.wr16(s, o(2), f.statusWord);
  c.wr8(s, o(4), f.abridgedTag);
  c.wr8(s, o(5), 0);
  c.wr16(s, o(6), f.fop & 0x7ff);
  c.wr32(s, o(8), f.fip);
  c.wr32(s, o(12), f.fcs);
  c.wr32(s, o(16), f.fdp);
  c.wr32(s, o(20), f.fds);
  c.wr32(s, o(24), 0x1f80); // MXCSR (no SSE: its reset value)
  c.wr32(s, o(28), 0); // MXCSR_MASK 0: the processor does not report one (SDM Vol.1 §11.6.6)
  for (let i = 0; i < 8; i++) {
    wr80(c, o(32 + 16 * i), f.get(i));
    c.wr16(s, o(42 + 16 * i), 0);
    c.wr32(s, o(44 + 16 * i), 0);
  }
}

function fxrstor(c: CpuCore, f: Fpu): void {
  const s = c.eaSeg;
  if (((c.segBase[s] + c.eaOff) & 15) !== 0) c.gp(0);
  c.checkWide(512);
  const o = (k: number) => c.wideOff(k);
  const regs: F80[] = [];
  for (let i = 0; i < 8; i++) regs.push(rd80(c, o(32 + 16 * i)));
  f.cw = c.rd16(s, o(0)) | 0x40;
  f.statusWord = c.rd16(s, o(2));
  const tag = c.rd8(s, o(4));
  f.fop = c.rd16(s, o(6)) & 0x7ff;
  f.fip = c.rd32(s, o(8));
  f.fcs = c.rd16(s, o(12));
  f.fdp = c.rd32(s, o(16));
  f.fds = c.rd16(s, o(20));
  for (let i = 0; i < 8; i++) f.set(i, regs[i]);
  f.abridgedTag = tag;
  f.updateSummary();
}

/** 0F AE /0 FXSAVE and /1 FXRSTOR (CPUID.FXSR). */
export function fxsaveOp(c: CpuCore, f: Fpu, restore: boolean): void {
  if (restore) fxrstor(c, f);
  else fxsave(c, f);
}

/** Execute ESC `op` (D8–DF); the ModR/M byte and memory operand are already decoded. */
export function execEsc(c: CpuCore, f: Fpu, op: number): void {
  const m = c.modrm;
  const reg = (m >> 3) & 7;
  const isMem = m < 0xc0;
  // Non-waiting control instructions (FNINIT, FNCLEX, FNSTCW, FNSTSW, FNSTENV, FNSAVE) do not
  // report pending exceptions nor update the instruction pointers.
  const control =
    (op === 0xd9 && isMem && reg >= 4) ||
    (op === 0xdb && (m === 0xe2 || m === 0xe3)) ||
    (op === 0xdd && isMem && reg >= 4) ||
    (op === 0xdf && m === 0xe0);
  const noWait =
    (op === 0xdb && (m === 0xe2 || m === 0xe3)) ||
    (op === 0xd9 && isMem && (reg === 6 || reg === 7)) ||
    (op === 0xdd && isMem && (reg === 6 || reg === 7)) ||
    (op === 0xdf && m === 0xe0);
  if (!noWait) checkPending(c, f);
  if (!control) {
    f.fip = c.eip;
    f.fcs = c.segSel[1];
    f.fop = ((op & 7) << 8) | m;
    if (isMem) {
      f.fdp = c.eaOff >>> 0;
      f.fds = c.segSel[c.eaSeg];
    }
  }
  if (isMem) execMem(c, f, op, reg);
  else execReg(c, f, op, reg, m & 7);
}

function arithTo(f: Fpu, op: number, dst: number, a: F80, b: F80, popAfter: boolean): void {
  if (op === 2 || op === 3) {
    const r = compare(a, b, false);
    if (res.flags && !f.signal(res.flags)) return;
    setCC(f, ccOf(r));
    if (op === 3 || popAfter) f.pop();
    return;
  }
  const v = arith(f, op, a, b);
  if (commit(f, dst, v) || !popAfter) {
    if (popAfter) f.pop();
  }
}

function execMem(c: CpuCore, f: Fpu, op: number, reg: number): void {
  switch (op) {
    case 0xd8:
    case 0xdc:
    case 0xda:
    case 0xde: {
      const kind = op === 0xd8 ? 0 : op === 0xdc ? 2 : op === 0xda ? 1 : 3;
      let b = rdF(c, kind);
      if (stackFault(f, 0)) return;
      if (kind === 0 || kind === 2) {
        if (b.e === 0 && b.m !== 0n) {
          if (!f.signal(DE)) return;
          b = fromExact(b.s, b.m, -16382 - 63);
        }
      }
      arithTo(f, reg, 0, f.get(0), b, false);
      return;
    }
    case 0xd9:
      switch (reg) {
        case 0: {
          const v = loadChecks(f, rdF(c, 0));
          if (v !== null) f.push(v);
          return;
        }
        case 2:
        case 3:
          storeReal(c, f, 32, reg === 3);
          return;
        case 4:
          loadEnv(c, f, c.opsz32 ? 28 : 14);
          return;
        case 5:
          f.cw = c.rd16(c.eaSeg, c.eaOff) | 0x40;
          f.updateSummary();
          return;
        case 6:
          c.probeWrite(c.eaSeg, c.eaOff, c.opsz32 ? 28 : 14);
          storeEnv(c, f, c.opsz32 ? 28 : 14);
          // FNSTENV then masks every exception (SDM Vol.2 FSTENV): nothing is pending any more.
          f.cw |= 0x3f;
          f.updateSummary();
          return;
        case 7:
          c.wr16(c.eaSeg, c.eaOff, f.cw);
          return;
        default:
          c.raise(UD);
      }
      return;
    case 0xdb:
      switch (reg) {
        case 0: {
          f.push(rdF(c, 1));
          return;
        }
        case 2:
        case 3:
          storeInt(c, f, 32, reg === 3);
          return;
        case 5: {
          c.checkWide(10);
          f.push(rd80(c, c.eaOff));
          return;
        }
        case 7: {
          c.probeWrite(c.eaSeg, c.eaOff, 10);
          if (f.isEmpty(0)) {
            if (!f.underflow()) return;
            wr80(c, c.eaOff, indefinite());
          } else wr80(c, c.eaOff, f.get(0));
          f.pop();
          return;
        }
        default:
          c.raise(UD);
      }
      return;
    case 0xdd:
      switch (reg) {
        case 0: {
          const v = loadChecks(f, rdF(c, 2));
          if (v !== null) f.push(v);
          return;
        }
        case 2:
        case 3:
          storeReal(c, f, 64, reg === 3);
          return;
        case 4: {
          const env = c.opsz32 ? 28 : 14;
          c.checkWide(env + 80);
          const regs: F80[] = [];
          for (let i = 0; i < 8; i++) regs.push(rd80(c, c.wideOff(env + 10 * i)));
          loadEnv(c, f, env);
          const tags = f.tagWord;
          for (let i = 0; i < 8; i++) f.set(i, regs[i]);
          f.tagWord = tags;
          return;
        }
        case 6: {
          const env = c.opsz32 ? 28 : 14;
          c.probeWrite(c.eaSeg, c.eaOff, env + 80);
          storeEnv(c, f, env);
          saveRegs(c, f, env, 10);
          f.init();
          return;
        }
        case 7:
          c.wr16(c.eaSeg, c.eaOff, f.statusWord);
          return;
        default:
          c.raise(UD);
      }
      return;
    default: // DF
      switch (reg) {
        case 0:
          f.push(rdF(c, 3));
          return;
        case 2:
        case 3:
          storeInt(c, f, 16, reg === 3);
          return;
        case 4:
          fbld(c, f);
          return;
        case 5: {
          c.checkWide(8);
          const lo = BigInt(c.rd32(c.eaSeg, c.eaOff) >>> 0);
          const hi = BigInt(c.rd32(c.eaSeg, c.wideOff(4)));
          f.push(fromInteger((hi << 32n) | lo));
          return;
        }
        case 6:
          fbstp(c, f);
          return;
        case 7:
          storeInt(c, f, 64, true);
          return;
        default:
          c.raise(UD);
      }
  }
}

function storeReal(c: CpuCore, f: Fpu, bits: 32 | 64, pop: boolean): void {
  c.probeWrite(c.eaSeg, c.eaOff, bits / 8);
  let v: F80;
  if (f.isEmpty(0)) {
    if (!f.underflow()) return;
    v = indefinite();
  } else v = f.get(0);
  let fl = 0;
  if (isUnsupported(v)) {
    fl = IE;
    v = indefinite();
  } else if (isSNaN(v)) {
    fl = IE;
    v = quiet(v);
  } else if (v.e === 0 && v.m !== 0n) fl = DE;
  if (fl && !f.signal(fl)) return;
  const o = rnd(f);
  const b = bits === 32 ? toBits(v, 8, 23, o.rc, true, true) : toBits(v, 11, 52, o.rc, true, true);
  const rf = out.flags;
  // Unmasked overflow/underflow to memory: no store, the register is kept (SDM Vol.1 §4.9.1.4–5).
  const tiny = out.tiny;
  if ((rf & OE && !o.oeMasked) || (tiny && !o.ueMasked)) {
    f.signal(rf & OE ? OE : UE);
    return;
  }
  f.sw &= ~C1F;
  if (rf & C1F) f.sw |= C1F;
  if (rf & 0x3f) f.signal(rf & 0x3f);
  if (bits === 32) c.wr32(c.eaSeg, c.eaOff, Number(b));
  else wr64(c, b);
  if (pop) f.pop();
}

function storeInt(c: CpuCore, f: Fpu, bits: 16 | 32 | 64, pop: boolean): void {
  c.probeWrite(c.eaSeg, c.eaOff, bits / 8);
  let n: bigint | null;
  if (f.isEmpty(0)) {
    if (!f.underflow()) return;
    n = -(1n << BigInt(bits - 1));
  } else n = toInt(f, f.get(0), bits);
  if (n === null) return;
  if (bits === 16) c.wr16(c.eaSeg, c.eaOff, Number(n & 0xffffn));
  else if (bits === 32) c.wr32(c.eaSeg, c.eaOff, Number(n & 0xffffffffn));
  else wr64(c, n & 0xffffffffffffffffn);
  if (pop) f.pop();
}

/** FBLD: 18 packed BCD digits + sign byte (invalid digits give an undefined result; we decode them anyway). */
function fbld(c: CpuCore, f: Fpu): void {
  c.checkWide(10);
  let v = 0n;
  for (let i = 8; i >= 0; i--) {
    const b = c.rd8(c.eaSeg, c.wideOff(i));
    v = v * 100n + BigInt((b >> 4) * 10 + (b & 15));
  }
  const sign = c.rd8(c.eaSeg, c.wideOff(9)) & 0x80;
  const r = fromInteger(v);
  f.push(v === 0n ? zero(sign ? 1 : 0) : sign ? f80(1, r.e, r.m) : r);
}

/** FBSTP: round to an integer; beyond 18 digits or NaN → #IA, masked: the packed BCD indefinite. */
function fbstp(c: CpuCore, f: Fpu): void {
  c.probeWrite(c.eaSeg, c.eaOff, 10);
  let n: bigint | null = null;
  let neg = 0;
  if (f.isEmpty(0)) {
    if (!f.underflow()) return;
  } else {
    const v = f.get(0);
    neg = v.s;
    if (v.e !== 0x7fff && !isUnsupported(v)) {
      n = toInteger(v, f.rc);
      const fl = out.flags;
      if (n < 0n) n = -n;
      if (n > 999999999999999999n) n = null;
      else {
        f.sw &= ~C1F;
        if (fl & C1F) f.sw |= C1F;
        if (fl & PE) f.signal(PE);
      }
    }
    if (n === null && !f.signal(IE)) return;
  }
  if (n === null) {
    // Packed BCD indefinite: FFFF C000 0000 0000 0000 (SDM Vol.1 §4.8.3.7).
    for (let i = 0; i < 7; i++) c.wr8(c.eaSeg, c.wideOff(i), 0);
    c.wr8(c.eaSeg, c.wideOff(7), 0xc0);
    c.wr8(c.eaSeg, c.wideOff(8), 0xff);
    c.wr8(c.eaSeg, c.wideOff(9), 0xff);
  } else {
    let x = n;
    for (let i = 0; i < 9; i++) {
      const lo = Number(x % 10n);
      x /= 10n;
      const hi = Number(x % 10n);
      x /= 10n;
      c.wr8(c.eaSeg, c.wideOff(i), (hi << 4) | lo);
    }
    c.wr8(c.eaSeg, c.wideOff(9), neg ? 0x80 : 0);
  }
  f.pop();
}

function loadConst(f: Fpu, k: number): void {
  if (k === 6) {
    f.push(zero(0));
    return;
  }
  const [m, e] = CONSTS[k];
  // Rounded per RC to 64 bits (SDM Vol.1 §8.3.7: the internal constant is rounded as RC says).
  const v = round(0, m, e - 127, false, 64, f.rc);
  f.push(v);
}

function execReg(c: CpuCore, f: Fpu, op: number, reg: number, i: number): void {
  switch (op) {
    case 0xd8:
      if (stackFault(f, 0) || stackFault(f, i)) return;
      arithTo(f, reg, 0, f.get(0), f.get(i), false);
      return;
    case 0xdc:
    case 0xde: {
      if (op === 0xde && reg === 3) {
        if (i !== 1) c.raise(UD);
        // FCOMPP
        if (stackFault(f, 0) || stackFault(f, 1)) return;
        const r = compare(f.get(0), f.get(1), false);
        if (res.flags && !f.signal(res.flags)) return;
        setCC(f, ccOf(r));
        f.pop();
        f.pop();
        return;
      }
      if (reg === 2 || reg === 3) {
        // DC D0–DF: aliases of FCOM/FCOMP; DE D0–D7: FCOMP alias (undocumented, as on Intel parts).
        if (stackFault(f, 0) || stackFault(f, i)) return;
        arithTo(f, 3 - (reg === 2 && op === 0xdc ? 1 : 0), 0, f.get(0), f.get(i), false);
        return;
      }
      if (stackFault(f, 0) || stackFault(f, i)) return;
      // Register forms of DC/DE swap SUB/SUBR and DIV/DIVR (ST(i) ← ST(i) op ST(0)).
      const o = reg >= 4 ? reg ^ 1 : reg;
      arithTo(f, o, i, f.get(i), f.get(0), op === 0xde);
      return;
    }
    case 0xd9:
      execD9(c, f, reg, i);
      return;
    case 0xda:
      if (reg < 4) {
        fcmov(c, f, reg, i, false);
        return;
      }
      if (reg === 5 && i === 1) {
        // FUCOMPP
        if (stackFault(f, 0) || stackFault(f, 1)) return;
        const r = compare(f.get(0), f.get(1), true);
        if (res.flags && !f.signal(res.flags)) return;
        setCC(f, ccOf(r));
        f.pop();
        f.pop();
        return;
      }
      c.raise(UD);
      return;
    case 0xdb:
      if (reg < 4) {
        fcmov(c, f, reg, i, true);
        return;
      }
      if (reg === 4) {
        if (i === 2)
          f.sw &= ~(0x3f | SF_BIT | ES | B); // FNCLEX
        else if (i === 3)
          f.init(); // FNINIT
        // DB E0/E1/E4 (FENI/FDISI/FSETPM) are no-ops on the 387 and later.
        else if (i > 4) c.raise(UD);
        return;
      }
      if (reg === 5 || reg === 6) {
        fcomi(c, f, i, reg === 5, false);
        return;
      }
      c.raise(UD);
      return;
    case 0xdd:
      switch (reg) {
        case 0: // FFREE
          f.tag[f.phys(i)] = 3;
          return;
        case 1: // FXCH alias
          fxch(f, i);
          return;
        case 2:
        case 3: // FST/FSTP ST(i)
          if (f.isEmpty(0)) {
            if (!f.underflow()) return;
            f.set(i, indefinite());
          } else f.set(i, f.get(0));
          if (reg === 3) f.pop();
          return;
        case 4:
        case 5: {
          if (stackFault(f, 0) || stackFault(f, i)) return;
          const r = compare(f.get(0), f.get(i), true);
          if (res.flags && !f.signal(res.flags)) return;
          setCC(f, ccOf(r));
          if (reg === 5) f.pop();
          return;
        }
        default:
          c.raise(UD);
      }
      return;
    default: // DF
      if (reg === 4 && i === 0) {
        c.regs[EAX] = (c.regs[EAX] & 0xffff0000) | f.statusWord; // FNSTSW AX
        return;
      }
      if (reg === 5 || reg === 6) {
        fcomi(c, f, i, reg === 5, true);
        return;
      }
      if (reg === 0) {
        // FFREEP (undocumented on P6; free ST(i) and pop).
        f.tag[f.phys(i)] = 3;
        f.pop();
        return;
      }
      if (reg === 1) {
        fxch(f, i);
        return;
      }
      if (reg === 2 || reg === 3) {
        if (f.isEmpty(0)) {
          if (!f.underflow()) return;
          f.set(i, indefinite());
        } else f.set(i, f.get(0));
        f.pop();
        return;
      }
      c.raise(UD);
  }
}

const SF_BIT = 0x40;

function fxch(f: Fpu, i: number): void {
  if (f.isEmpty(0) || f.isEmpty(i)) {
    if (!f.underflow()) return;
    if (f.isEmpty(0)) f.set(0, indefinite());
    if (f.isEmpty(i)) f.set(i, indefinite());
  }
  const a = f.get(0);
  f.set(0, f.get(i));
  f.set(i, a);
  f.sw &= ~C1F;
}

/** FCMOVcc (DA/DB C0–DF): B, E, BE, U and their negations, on CF/ZF/PF. */
function fcmov(c: CpuCore, f: Fpu, cond: number, i: number, negate: boolean): void {
  if (stackFault(f, 0) || stackFault(f, i)) return;
  const fl = c.getEflags();
  const CF = fl & 1;
  const ZF = (fl >> 6) & 1;
  const PF = (fl >> 2) & 1;
  let t = cond === 0 ? CF : cond === 1 ? ZF : cond === 2 ? CF | ZF : PF;
  if (negate) t ^= 1;
  if (t) f.set(0, f.get(i));
}

/** FCOMI/FCOMIP/FUCOMI/FUCOMIP: ZF, PF, CF from the comparison; OF, SF, AF cleared. */
function fcomi(c: CpuCore, f: Fpu, i: number, unordered: boolean, pop: boolean): void {
  f.sw &= ~C1F;
  if (stackFault(f, 0) || stackFault(f, i)) {
    if (f.cw & 1) c.loadEflags((c.getEflags() & ~0x8d5) | 0x45);
    return;
  }
  const r = compare(f.get(0), f.get(i), unordered);
  if (res.flags && !f.signal(res.flags)) return;
  const z = r === 0 || r === 2 ? 0x40 : 0;
  const p = r === 2 ? 0x04 : 0;
  const cf = r === -1 || r === 2 ? 0x01 : 0;
  c.loadEflags((c.getEflags() & ~0x8d5) | z | p | cf);
  if (pop) f.pop();
}

function execD9(c: CpuCore, f: Fpu, reg: number, i: number): void {
  switch (reg) {
    case 0: {
      // FLD ST(i)
      if (f.isEmpty(i)) {
        if (!f.underflow()) return;
        f.push(indefinite());
        return;
      }
      f.push(f.get(i));
      return;
    }
    case 1:
      fxch(f, i);
      return;
    case 2:
      if (i !== 0) c.raise(UD);
      return; // FNOP
    case 3: // FSTP1 alias (D9 D8+i)
      if (f.isEmpty(0)) {
        if (!f.underflow()) return;
        f.set(i, indefinite());
      } else f.set(i, f.get(0));
      f.pop();
      return;
    case 4:
      if (i === 0 || i === 1) {
        // FCHS, FABS: sign only; C1 cleared.
        if (stackFault(f, 0)) return;
        const a = f.get(0);
        f.set(0, f80(i === 0 ? a.s ^ 1 : 0, a.e, a.m));
        f.sw &= ~C1F;
        return;
      }
      if (i === 4) {
        // FTST
        if (stackFault(f, 0)) return;
        const r = compare(f.get(0), zero(0), false);
        if (res.flags && !f.signal(res.flags)) return;
        setCC(f, ccOf(r));
        return;
      }
      if (i === 5) {
        f.sw = examine(f);
        return;
      }
      c.raise(UD);
      return;
    case 5:
      if (i === 7) c.raise(UD);
      loadConst(f, i);
      return;
    case 6:
      execD9F0(c, f, i);
      return;
    default:
      execD9F8(c, f, i);
  }
}

/** D9 F0–F7: F2XM1 FYL2X FPTAN FPATAN FXTRACT FPREM1 FDECSTP FINCSTP. */
function execD9F0(_c: CpuCore, f: Fpu, i: number): void {
  switch (i) {
    case 0:
      if (stackFault(f, 0)) return;
      commit(f, 0, f2xm1(f, f.get(0)));
      return;
    case 1:
    case 3: {
      if (stackFault(f, 0) || stackFault(f, 1)) return;
      const v = i === 1 ? fyl2x(f, f.get(0), f.get(1), false) : fpatan(f, f.get(0), f.get(1));
      if (commit(f, 1, v)) f.pop();
      return;
    }
    case 2: {
      // FPTAN: ST0 ← tan, push 1.0; out of range: C2 = 1, nothing else.
      if (stackFault(f, 0)) return;
      const a = f.get(0);
      if (!trigInRange(a) && a.e !== 0x7fff) {
        f.sw |= C2;
        return;
      }
      f.sw &= ~C2;
      if (!f.isEmpty(7)) {
        f.sw |= C1F;
        f.signal(IE | SF_BIT);
        return;
      }
      if (commit(f, 0, trig(f, 'tan', a)) && !isNaN80(f.get(0))) f.push(fromInteger(1n));
      else if (isNaN80(f.get(0))) f.push(f.get(0));
      return;
    }
    case 4: {
      if (stackFault(f, 0)) return;
      const x = fxtract(f.get(0));
      if (x === null) {
        const a = f.get(0);
        res.flags = isSNaN(a) || isUnsupported(a) ? IE : 0;
        const q = isUnsupported(a) ? indefinite() : quiet(a);
        if (res.flags && !f.signal(res.flags)) return;
        f.set(0, q);
        f.push(q);
        return;
      }
      if (res.flags && !f.signal(res.flags)) return;
      f.set(0, x.exp);
      f.push(x.sig);
      return;
    }
    case 5:
      premOp(f, true);
      return;
    case 6:
      f.top = (f.top - 1) & 7;
      f.sw &= ~C1F;
      return;
    default:
      f.top = (f.top + 1) & 7;
      f.sw &= ~C1F;
  }
}

function premOp(f: Fpu, ieee: boolean): void {
  if (stackFault(f, 0) || stackFault(f, 1)) return;
  const a = f.get(0);
  const b = f.get(1);
  res.flags = 0;
  if (
    isNaN80(a) ||
    isNaN80(b) ||
    isUnsupported(a) ||
    isUnsupported(b) ||
    a.e === 0x7fff ||
    (b.e === 0 && b.m === 0n)
  ) {
    let v: F80;
    if (isNaN80(a) || isNaN80(b)) {
      res.flags = isSNaN(a) || isSNaN(b) ? IE : 0;
      v = isNaN80(a) ? quiet(a) : quiet(b);
    } else {
      res.flags = IE;
      v = indefinite();
    }
    commit(f, 0, v);
    return;
  }
  if (b.e === 0x7fff) {
    // x rem ∞ = x.
    f.sw &= ~(C0 | C1F | C2 | C3);
    return;
  }
  const r = prem(a, b, ieee);
  f.sw &= ~(C0 | C1F | C2 | C3);
  if (r.partial) f.sw |= C2;
  else {
    if (r.q & 4) f.sw |= C0;
    if (r.q & 2) f.sw |= C3;
    if (r.q & 1) f.sw |= C1F;
  }
  if ((a.e === 0 && a.m !== 0n) || (b.e === 0 && b.m !== 0n)) res.flags |= DE;
  if (res.flags && !f.signal(res.flags)) return;
  // A denormal remainder raises #U when unmasked (SDM FPREM); masked it is exact.
  const v = r.r;
  if (v.e === 0 && v.m !== 0n && (f.cw & UE) === 0) {
    f.signal(UE);
  }
  f.set(0, v);
}

/** D9 F8–FF: FPREM FYL2XP1 FSQRT FSINCOS FRNDINT FSCALE FSIN FCOS. */
function execD9F8(_c: CpuCore, f: Fpu, i: number): void {
  switch (i) {
    case 0:
      premOp(f, false);
      return;
    case 1: {
      if (stackFault(f, 0) || stackFault(f, 1)) return;
      if (commit(f, 1, fyl2x(f, f.get(0), f.get(1), true))) f.pop();
      return;
    }
    case 2:
      if (stackFault(f, 0)) return;
      commit(f, 0, fsqrt(f, f.get(0)));
      return;
    case 3: {
      if (stackFault(f, 0)) return;
      const a = f.get(0);
      if (!trigInRange(a) && a.e !== 0x7fff) {
        f.sw |= C2;
        return;
      }
      f.sw &= ~C2;
      if (!f.isEmpty(7)) {
        f.sw |= C1F;
        f.signal(IE | SF_BIT);
        return;
      }
      const s = trig(f, 'sin', a);
      const sf = res.flags;
      const co = trig(f, 'cos', a);
      res.flags |= sf;
      if (commit(f, 0, s)) f.push(co);
      return;
    }
    case 4: {
      if (stackFault(f, 0)) return;
      const a = f.get(0);
      res.flags = 0;
      if (isUnsupported(a)) {
        res.flags = IE;
        commit(f, 0, indefinite());
        return;
      }
      if (isNaN80(a)) {
        res.flags = isSNaN(a) ? IE : 0;
        commit(f, 0, quiet(a));
        return;
      }
      if (a.e === 0x7fff) return;
      if (a.e === 0 && a.m !== 0n) res.flags = DE;
      const v = rndint(a, f.rc);
      res.flags |= out.flags & (PE | C1F);
      commit(f, 0, v);
      return;
    }
    case 5:
      if (stackFault(f, 0) || stackFault(f, 1)) return;
      commit(f, 0, fscale(f, f.get(0), f.get(1)));
      return;
    default: {
      if (stackFault(f, 0)) return;
      const a = f.get(0);
      if (!trigInRange(a) && a.e !== 0x7fff) {
        f.sw |= C2;
        return;
      }
      f.sw &= ~C2;
      commit(f, 0, trig(f, i === 6 ? 'sin' : 'cos', a));
    }
  }
}

export { M63 };
