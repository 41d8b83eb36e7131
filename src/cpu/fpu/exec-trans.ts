/**
 * D9 F0–FF: the x87's transcendental, remainder and stack-pointer instructions (SDM Vol.2 F2XM1 …
 * FCOS). Operands out of the trigonometric range (|x| ≥ 2^63) set C2 and leave the stack alone.
 */
import type { CpuCore } from '../core.ts';
import { rndint } from './arith.ts';
import { commit, SF_BIT, stackFault } from './exec-util.ts';
import {
  C1 as C1F,
  DE,
  type F80,
  fromInteger,
  IE,
  indefinite,
  isNaN80,
  isSNaN,
  isUnsupported,
  out,
  PE,
  quiet,
  UE,
} from './f80.ts';
import { C0, C2, C3, type Fpu } from './fpu.ts';
import { f2xm1, fpatan, fscale, fsqrt, fxtract, fyl2x, prem, res, trig, trigInRange } from './ops.ts';

/**
 * FPTAN/FSINCOS/FSIN/FCOS: an operand beyond ±2^63 is out of range: C2 = 1 and nothing else
 * changes (SDM Vol.2 FSIN); otherwise C2 is cleared. Infinities go on to raise #IA.
 */
function outOfRange(f: Fpu, a: F80): boolean {
  if (!trigInRange(a) && a.e !== 0x7fff) {
    f.sw |= C2;
    return true;
  }
  f.sw &= ~C2;
  return false;
}

/** FPTAN/FSINCOS push a second result: a full stack (ST(7) in use) is a stack overflow (#IS, C1 = 1). */
function pushOverflow(f: Fpu): boolean {
  if (f.isEmpty(7)) return false;
  f.sw |= C1F;
  f.signal(IE | SF_BIT);
  return true;
}

/** D9 F0–F7: F2XM1 FYL2X FPTAN FPATAN FXTRACT FPREM1 FDECSTP FINCSTP. */
export function execD9F0(_c: CpuCore, f: Fpu, i: number): void {
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
      if (outOfRange(f, a) || pushOverflow(f)) return;
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
export function execD9F8(_c: CpuCore, f: Fpu, i: number): void {
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
      if (outOfRange(f, a) || pushOverflow(f)) return;
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
      if (outOfRange(f, a)) return;
      commit(f, 0, trig(f, i === 6 ? 'sin' : 'cos', a));
    }
  }
}
