/**
 * ESC (D8–DF) execution for the x87 (SDM Vol.2 "FPU instructions", opcode maps Vol.2 App. A.5).
 * Memory operands go through the CPU's segment/paging accessors (stores probe the whole operand
 * first, so a fault leaves the instruction restartable). FIP/FCS/FOP and FDP/FDS are updated by
 * every non-control instruction; waiting instructions first report a pending unmasked exception
 * (#MF with CR0.NE, else FERR# → IRQ 13 and go on, as the PC's DOS-compatible wiring does).
 */
import { CR0_NE, MF, UD } from '../constants.ts';
import type { CpuCore } from '../core.ts';
import { loadEnv, saveRegs, storeEnv } from './env.ts';
import { execReg } from './exec-reg.ts';
import { arithTo, loadChecks, rd80, rdF, stackFault, toInt, wr64, wr80 } from './exec-util.ts';
import {
  C1 as C1F,
  DE,
  type F80,
  f80,
  fromExact,
  fromInteger,
  IE,
  indefinite,
  isSNaN,
  isUnsupported,
  M63,
  OE,
  out,
  PE,
  quiet,
  toBits,
  toInteger,
  UE,
  zero,
} from './f80.ts';
import { ES, type Fpu } from './fpu.ts';
import { rnd } from './ops.ts';

/** Report a pending unmasked exception before a waiting instruction (SDM Vol.1 §8.6, App. D). */
export function checkPending(c: CpuCore, f: Fpu): void {
  if ((f.sw & ES) === 0) return;
  if (c.cr0 & CR0_NE) c.raise(MF);
  f.onFerr?.();
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

// FXSAVE/FXRSTOR (0F AE) live with the other state images; ops-0f.ts imports them from here.
export { fxsaveOp } from './env.ts';
export { M63 };
