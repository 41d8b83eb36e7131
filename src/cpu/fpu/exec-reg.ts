/**
 * ESC instructions with a register operand (ModR/M ≥ C0): arithmetic on ST(i), FXCH, FCMOVcc,
 * FCOMI, the D9 group (FLD constants, FCHS/FABS/FTST/FXAM, control), and the D9 F0–FF
 * transcendental and remainder group in exec-trans.ts.
 */
import { EAX, UD } from '../constants.ts';
import type { CpuCore } from '../core.ts';
import { execD9F0, execD9F8 } from './exec-trans.ts';
import { arithTo, SF_BIT, setCC, stackFault } from './exec-util.ts';
import { C1 as C1F, f80, indefinite, round, zero } from './f80.ts';
import { B, ES, type Fpu } from './fpu.ts';
import { ccOf, compare, examine, res } from './ops.ts';

/** Constants as 128-bit significands (rounded per RC when loaded; SDM Vol.1 §8.3.7). */
const CONSTS: Array<[bigint, number]> = [
  [1n << 127n, 0], // 1.0
  [0xd49a784bcd1b8afe492bf6ff4dafdb4dn, 1], // log2(10)
  [0xb8aa3b295c17f0bbbe87fed0691d3e88n, 0], // log2(e)
  [0xc90fdaa22168c234c4c6628b80dc1cd1n, 1], // π
  [0x9a209a84fbcff7988f8959ac0b7c9178n, -2], // log10(2)
  [0xb17217f7d1cf79abc9e3b39803f2f6afn, -1], // ln(2)
];

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

export function execReg(c: CpuCore, f: Fpu, op: number, reg: number, i: number): void {
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
        comparePop2(f, false);
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
        comparePop2(f, true);
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
        fstpReg(f, i);
        return;
      }
      c.raise(UD);
  }
}

/** FCOMPP (DE D9) and FUCOMPP (DA E9): compare ST(0) with ST(1), set C0/C2/C3, pop both. */
function comparePop2(f: Fpu, unordered: boolean): void {
  if (stackFault(f, 0) || stackFault(f, 1)) return;
  const r = compare(f.get(0), f.get(1), unordered);
  if (res.flags && !f.signal(res.flags)) return;
  setCC(f, ccOf(r));
  f.pop();
  f.pop();
}

/** FSTP ST(i) and its aliases: ST(i) ← ST(0), pop; an empty ST(0) stores the indefinite if #IS is masked. */
function fstpReg(f: Fpu, i: number): void {
  if (f.isEmpty(0)) {
    if (!f.underflow()) return;
    f.set(i, indefinite());
  } else f.set(i, f.get(0));
  f.pop();
}

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
      fstpReg(f, i);
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
