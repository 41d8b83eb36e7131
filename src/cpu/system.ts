/**
 * System instructions (0F 00, 0F 01, LAR/LSL, CLTS, INVD/WBINVD, MOV CRn/DRn, MSRs, RDTSC,
 * CPUID, SYSENTER/SYSEXIT). Privilege rules per the SDM instruction pages.
 */

import { SilentKind } from './base.ts';
import {
  AR_CODE,
  AR_DC,
  AR_RW,
  AR_S,
  AR_UNUSABLE,
  CPU_SIGNATURE,
  CR0_ET,
  CR0_PE,
  CR0_PG,
  CR0_TS,
  CR0_WP,
  CR4_DE,
  CR4_PGE,
  CR4_PSE,
  CR4_TSD,
  CS,
  EAX,
  EBX,
  ECX,
  EDX,
  ESP,
  GP,
  IF,
  LDTR,
  NP,
  RF,
  SS,
  TR,
  UD,
  VM,
  ZF,
} from './constants.ts';
import type { CpuCore } from './core.ts';
import { CpuSeg } from './segments.ts';
import { R } from './vmx/fields.ts';
import { vmxGroup7 } from './vmx/instr.ts';
import {
  vmxClts,
  vmxDescTable,
  vmxInvlpg,
  vmxLmsw,
  vmxMovDr,
  vmxMsr,
  vmxRdtsc,
  vmxReadCr,
  vmxUnconditional,
  vmxWriteCr,
} from './vmx/nonroot.ts';

/** CPUID leaf 1 EDX: PSE, TSC, MSR, CX8, SEP, PGE, CMOV; FPU only with the x87 option. No VME, no APIC. */
export const CPUID_FEATURES = 0x8 | 0x10 | 0x20 | 0x100 | 0x800 | 0x2000 | 0x8000;
/** CPUID leaf 1 ECX bit 5: VMX (SDM Vol.3C §23.6). */
export const CPUID_ECX_VMX = 0x20;
/** Added with the x87 machine option: FPU (bit 0) and FXSR (bit 24, FXSAVE/FXRSTOR). */
export const CPUID_FPU = 0x1 | 0x1000000;

/**
 * False where a privileged instruction raises #GP(0): CPL > 0 (real mode counts as CPL 0; V86 is
 * CPL 3). Callers throw at their own frame (`throw c.fault(GP, 0)`): a guest deprivileged by a
 * VMM faults on every one, and a throw from here unwound raise ← gp ← this ← execSystem's big
 * switch, frames V8 never optimized on a path that only faults (PERF.md, "Session 14 — order14").
 */
function privOk(c: CpuCore): boolean {
  return (c.cr0 & CR0_PE) === 0 || (c.cpl === 0 && (c.flags & VM) === 0);
}
function pmOnly(c: CpuCore): void {
  if ((c.cr0 & CR0_PE) === 0 || c.flags & VM) c.raise(UD);
}

/**
 * 0F xx system instructions not in ops-0f.ts's table. The privileged ones there go straight to the
 * small functions below (SYSTEM_OPS), so a #GP(0) at CPL > 0 unwinds one small frame, not this
 * switch; the cases here are for completeness.
 */
export function execSystem(c: CpuCore, b: number): void {
  const r = c.regs;
  switch (b) {
    case 0x00:
      sys0F00(c);
      return;
    case 0x01:
      sys0F01(c);
      return;
    case 0x02:
    case 0x03:
      larLsl(c, b === 0x02);
      if (c.observer !== null && c.cpl > 0)
        c.silent(SilentKind.DescriptorCheck, checkedSel, (c.getEflags() & ZF) !== 0 ? 1 : 0);
      return;
    case 0x06:
      clts(c);
      return;
    case 0x08:
    case 0x09:
      invd(c, b);
      return;
    case 0x20:
    case 0x22:
      movCr(c, b);
      return;
    case 0x21:
    case 0x23:
      movDr(c, b);
      return;
    case 0x30:
    case 0x32:
      msr(c, b);
      return;
    case 0x31: {
      if (c.cr4 & CR4_TSD && c.protectedMode && (c.cpl !== 0 || c.flags & VM)) throw c.fault(GP, 0);
      const t = c.tscNow() + c.tscOffset + (c.vmxNonRoot ? vmxRdtsc(c) : 0);
      r[EAX] = (t % 4294967296) | 0;
      r[EDX] = Math.floor(t / 4294967296) | 0;
      return;
    }
    case 0x34:
      sysenter(c);
      return;
    case 0x35:
      sysexit(c);
      return;
    case 0xa2:
      if (c.vmxNonRoot) vmxUnconditional(c, R.CPUID);
      cpuid(c);
      return;
    default:
      c.raise(UD);
  }
}

/** 0F 00: SLDT, STR, LLDT, LTR, VERR, VERW. */
function sys0F00(c: CpuCore): void {
  group6(c);
  if (c.observer !== null && c.cpl > 0) observeGroup6(c);
}

/** 0F 01: SGDT, SIDT, LGDT, LIDT, SMSW, LMSW, INVLPG and the VMX group. */
function sys0F01(c: CpuCore): void {
  group7(c);
  if (c.observer !== null && c.cpl > 0) observeGroup7(c);
}

/** 0F 06: CLTS. */
function clts(c: CpuCore): void {
  if (!privOk(c)) throw c.fault(GP, 0);
  if (c.vmxNonRoot && !vmxClts(c)) return;
  c.cr0 &= ~CR0_TS;
}

/** 0F 08 / 0F 09: INVD, WBINVD (no caches to flush). */
function invd(c: CpuCore, b: number): void {
  if (!privOk(c)) throw c.fault(GP, 0);
  if (c.vmxNonRoot && b === 0x08) vmxUnconditional(c, R.INVD);
}

/** 0F 20 / 0F 22: MOV r32, CRn and MOV CRn, r32 (the ModR/M byte is fetched first). */
function movCr(c: CpuCore, b: number): void {
  const r = c.regs;
  const m = c.fetch8();
  if (!privOk(c)) throw c.fault(GP, 0);
  const n = (m >> 3) & 7;
  if (n === 1 || n > 4) c.raise(UD);
  if (b === 0x20) r[m & 7] = c.vmxNonRoot ? vmxReadCr(c, n, m & 7, readCr(c, n)) : readCr(c, n);
  else {
    if (c.vmxNonRoot && n !== 2) writeCr(c, n, vmxWriteCr(c, n, m & 7, r[m & 7], readCr(c, n)));
    else writeCr(c, n, r[m & 7]);
    if (c.timing !== null) c.chargedCycles += c.timing.crWrite;
  }
}

/** 0F 21 / 0F 23: MOV r32, DRn and MOV DRn, r32. */
function movDr(c: CpuCore, b: number): void {
  const r = c.regs;
  const m = c.fetch8();
  if (!privOk(c)) throw c.fault(GP, 0);
  let n = (m >> 3) & 7;
  if ((n === 4 || n === 5) && c.cr4 & CR4_DE) c.raise(UD);
  if (n === 4 || n === 5) n += 2;
  if (c.dr[7] & 0x2000) {
    // DR7.GD general detect (SDM §17.2.4): #DB fault with DR6.BD; GD is cleared for the handler.
    c.dr[7] &= ~0x2000;
    c.dr[6] |= 0x2000;
    c.raise(1);
  }
  if (c.vmxNonRoot) vmxMovDr(c, (m >> 3) & 7, b === 0x23, m & 7);
  if (b === 0x21) r[m & 7] = n === 6 ? c.dr[6] | 0xffff0ff0 : n === 7 ? c.dr[7] | 0x400 : c.dr[n];
  else {
    c.dr[n] = r[m & 7];
    if (n !== 6) c.updateWatch();
    c.attention = true;
  }
}

/** 0F 30 / 0F 32: WRMSR, RDMSR. */
function msr(c: CpuCore, b: number): void {
  const r = c.regs;
  if (!privOk(c)) throw c.fault(GP, 0);
  if (c.vmxNonRoot) vmxMsr(c, r[ECX] >>> 0, b === 0x30);
  if (b === 0x30) wrmsr(c, r[ECX] >>> 0, r[EAX], r[EDX]);
  else rdmsr(c, r[ECX] >>> 0);
}

/** The privileged 0F xx instructions by second opcode byte, for ops-0f.ts's table. */
export const SYSTEM_OPS: Array<[number, (c: CpuCore, b: number) => void]> = [
  [0x00, sys0F00],
  [0x01, sys0F01],
  [0x06, clts],
  [0x08, invd],
  [0x09, invd],
  [0x20, movCr],
  [0x21, movDr],
  [0x22, movCr],
  [0x23, movDr],
  [0x30, msr],
  [0x32, msr],
];

function readCr(c: CpuCore, n: number): number {
  switch (n) {
    case 0:
      return c.cr0;
    case 2:
      return c.cr2;
    case 3:
      return c.cr3;
    default:
      return c.cr4;
  }
}

export function writeCr(c: CpuCore, n: number, v: number): void {
  switch (n) {
    case 0: {
      // SDM MOV CR0: PG without PE, or NW without CD, is #GP(0). ET is hardwired to 1.
      if (v & CR0_PG && (v & CR0_PE) === 0) c.gp(0);
      if (v & 0x20000000 && (v & 0x40000000) === 0) c.gp(0);
      const old = c.cr0;
      c.cr0 = (v | CR0_ET) & 0xe005003f;
      if ((old ^ c.cr0) & (CR0_PG | CR0_WP | CR0_PE)) c.flushTlb(false);
      if ((old ^ c.cr0) & CR0_PE && (c.cr0 & CR0_PE) === 0) c.setCpl(0);
      c.refreshAc();
      return;
    }
    case 2:
      c.cr2 = v;
      return;
    case 3:
      c.cr3 = v & ~0xfe7;
      c.flushTlb(true);
      return;
    default: {
      // Only VME/PVI/TSD/DE/PSE/PGE and VMXE are accepted (VME/PVI then refused below: no PAE/MCE),
      // plus OSFXSR (bit 9) when the x87 and so CPUID.FXSR are present; others #GP(0).
      // VMXE cannot be cleared in VMX operation (SDM Vol.3C §23.7).
      if (v & ~(c.fpu !== null ? 0x229f : 0x209f) || v & 0x3) c.gp(0);
      if ((v & 0x2000) === 0 && c.vmx.on) c.gp(0);
      const old = c.cr4;
      c.cr4 = v;
      if ((old ^ v) & (CR4_PSE | CR4_PGE)) c.flushTlb(false);
    }
  }
}

function wrmsr(c: CpuCore, msr: number, lo: number, hi: number): void {
  switch (msr) {
    case 0x10:
      c.tscOffset = (hi >>> 0) * 4294967296 + (lo >>> 0) - c.tscNow();
      return;
    case 0x174:
      c.sysenterCs = lo & 0xffff;
      return;
    case 0x175:
      c.sysenterEsp = lo;
      return;
    case 0x176:
      c.sysenterEip = lo;
      return;
    default:
      if (msr === 0x1b && c.apic !== null) {
        c.apic.msrWrite(lo);
        return;
      }
      if (!c.vmx.writeMsr(msr, lo)) c.gp(0);
  }
}

function rdmsr(c: CpuCore, msr: number): void {
  const r = c.regs;
  let lo: number;
  let hi = 0;
  switch (msr) {
    case 0x10: {
      const t = c.tscNow() + c.tscOffset;
      lo = (t % 4294967296) | 0;
      hi = Math.floor(t / 4294967296) | 0;
      break;
    }
    case 0x174:
      lo = c.sysenterCs;
      break;
    case 0x175:
      lo = c.sysenterEsp;
      break;
    case 0x176:
      lo = c.sysenterEip;
      break;
    default: {
      if (msr === 0x1b && c.apic !== null) {
        lo = c.apic.baseMsr;
        break;
      }
      const x = c.vmx.readMsr(msr);
      if (x === null) c.gp(0);
      [lo, hi] = x as [number, number];
    }
  }
  r[EAX] = lo;
  r[EDX] = hi;
}

function cpuid(c: CpuCore): void {
  const r = c.regs;
  const leaf = r[EAX] >>> 0;
  if (leaf === 0) {
    r[EAX] = 1;
    r[EBX] = 0x756e6547; // "Genu"
    r[EDX] = 0x49656e69; // "ineI"
    r[ECX] = 0x6c65746e; // "ntel"
  } else {
    r[EAX] = CPU_SIGNATURE;
    r[EBX] = 0;
    r[ECX] = CPUID_ECX_VMX;
    // FPU and FXSR only when the machine has an x87; APIC only when it has one.
    r[EDX] = (c.fpu !== null ? CPUID_FEATURES | CPUID_FPU : CPUID_FEATURES) | (c.apic !== null ? 0x200 : 0);
  }
}

function sysenter(c: CpuCore): void {
  // SDM SYSENTER: #GP(0) in real mode or with a null SYSENTER_CS.
  if ((c.cr0 & CR0_PE) === 0 || (c.sysenterCs & 0xfffc) === 0) c.gp(0);
  c.materialize();
  c.flags &= ~(VM | IF | RF);
  c.setCpl(0);
  const cs = c.sysenterCs & 0xfffc;
  c.setSeg(CS, cs, 0, 0xffffffff, CpuSeg.flatAr(true, 0) | 0x1);
  c.setSeg(SS, (cs + 8) & 0xfffc, 0, 0xffffffff, CpuSeg.flatAr(false, 0));
  c.regs[ESP] = c.sysenterEsp;
  c.ip = c.sysenterEip >>> 0;
}

function sysexit(c: CpuCore): void {
  if ((c.cr0 & CR0_PE) === 0 || c.flags & VM || c.cpl !== 0 || (c.sysenterCs & 0xfffc) === 0) c.gp(0);
  const cs = c.sysenterCs & 0xfffc;
  c.setCpl(3);
  c.setSeg(CS, (cs + 16) | 3, 0, 0xffffffff, CpuSeg.flatAr(true, 3) | 0x1);
  c.setSeg(SS, (cs + 24) | 3, 0, 0xffffffff, CpuSeg.flatAr(false, 3));
  c.regs[ESP] = c.regs[ECX];
  c.ip = c.regs[EDX] >>> 0;
}

function group6(c: CpuCore): void {
  pmOnly(c);
  c.decodeModrm();
  const op = c.regField;
  if (c.vmxNonRoot && op < 4) {
    if (op >= 2 && !privOk(c)) throw c.fault(GP, 0);
    vmxDescTable(c, R.LDTR_TR, op);
  }
  switch (op) {
    case 0:
    case 1: {
      const v = c.segSel[op === 0 ? LDTR : TR];
      if (c.modrm >= 0xc0 && c.opsz32) c.regs[c.modrm & 7] = v;
      else c.setE16(v);
      return;
    }
    case 2: {
      if (!privOk(c)) throw c.fault(GP, 0);
      const sel = c.getE16();
      if ((sel & 0xfffc) === 0) {
        c.setSeg(LDTR, sel, 0, 0, AR_UNUSABLE);
        return;
      }
      if (sel & 4) c.gp(sel & 0xfffc);
      c.readDesc(sel, GP);
      if (((c.dHi >>> 8) & 0x1f) !== 0x2) c.gp(sel & 0xfffc);
      if ((c.dHi & 0x8000) === 0) c.raise(NP, sel & 0xfffc);
      // Not setSegFromDesc: a system descriptor has no accessed bit (bit 8 is part of the type, and
      // type 3 is a busy TSS), so the cached type must stay 2 — VM entry checks it (SDM §26.3.1.2).
      c.setSeg(
        LDTR,
        sel,
        CpuSeg.descBase(c.dLo, c.dHi),
        CpuSeg.descLimit(c.dLo, c.dHi),
        CpuSeg.descAr(c.dHi),
      );
      return;
    }
    case 3: {
      if (!privOk(c)) throw c.fault(GP, 0);
      const sel = c.getE16();
      if ((sel & 0xfffc) === 0) c.gp(0);
      if (sel & 4) c.gp(sel & 0xfffc);
      c.readDesc(sel, GP);
      const type = (c.dHi >>> 8) & 0x1f;
      if (type !== 0x1 && type !== 0x9) c.gp(sel & 0xfffc);
      if ((c.dHi & 0x8000) === 0) c.raise(NP, sel & 0xfffc);
      c.dHi |= 0x200;
      c.swr8((c.dAddr + 5) | 0, (c.dHi >>> 8) & 0xff);
      c.setSeg(TR, sel, CpuSeg.descBase(c.dLo, c.dHi), CpuSeg.descLimit(c.dLo, c.dHi), CpuSeg.descAr(c.dHi));
      return;
    }
    case 4:
    case 5: {
      const sel = c.getE16();
      checkedSel = sel;
      c.materialize();
      c.flags &= ~ZF;
      if (!peekDesc(c, sel)) return;
      const ar = CpuSeg.descAr(c.dHi);
      if ((ar & AR_S) === 0) return;
      const code = (ar & AR_CODE) !== 0;
      const conforming = code && (ar & AR_DC) !== 0;
      const dpl = (ar >> 5) & 3;
      if (!conforming && (dpl < c.cpl || dpl < (sel & 3))) return;
      if (op === 4 ? !code || ar & AR_RW : !code && ar & AR_RW) c.flags |= ZF;
      return;
    }
    default:
      c.raise(UD);
  }
}

/** Selector LAR/LSL/VERR/VERW examined last (for the silent-event observer). */
let checkedSel = 0;

/**
 * Robin & Irvine's sensitive reads at CPL > 0 (reference/virtualization.md §2), reported to the
 * observer after they completed: SLDT/STR (selector), VERR/VERW (selector, ZF).
 */
function observeGroup6(c: CpuCore): void {
  const op = c.regField;
  if (op === 0 || op === 1) c.silent(SilentKind.SelectorRead, c.segSel[op === 0 ? LDTR : TR]);
  else if (op === 4 || op === 5)
    c.silent(SilentKind.DescriptorCheck, checkedSel, (c.getEflags() & ZF) !== 0 ? 1 : 0);
}

/** SGDT/SIDT (base, limit) and SMSW (the value stored) at CPL > 0. */
function observeGroup7(c: CpuCore): void {
  const op = c.regField;
  if (op === 0) c.silent(SilentKind.TableRead, c.gdtBase, c.gdtLimit);
  else if (op === 1) c.silent(SilentKind.TableRead, c.idtBase, c.idtLimit);
  else if (op === 4) c.silent(SilentKind.MswRead, c.modrm >= 0xc0 && c.opsz32 ? c.cr0 : c.cr0 & 0xffff);
}

/** Read a descriptor without faulting on the table limit (LAR/LSL/VERR/VERW). */
function peekDesc(c: CpuCore, sel: number): boolean {
  if ((sel & 0xfffc) === 0) return false;
  const ldt = (sel & 4) !== 0;
  if (ldt && c.segAr[LDTR] & AR_UNUSABLE) return false;
  const lim = ldt ? c.segLim[LDTR] : c.gdtLimit;
  if ((sel & 0xfff8) + 7 > lim) return false;
  c.readDesc(sel, GP);
  return true;
}

function larLsl(c: CpuCore, lar: boolean): void {
  pmOnly(c);
  c.decodeModrm();
  const sel = c.getE16();
  checkedSel = sel;
  c.materialize();
  c.flags &= ~ZF;
  if (!peekDesc(c, sel)) return;
  const hi = c.dHi;
  const ar = CpuSeg.descAr(hi);
  const dpl = (ar >> 5) & 3;
  if (ar & AR_S) {
    const conforming = (ar & (AR_CODE | AR_DC)) === (AR_CODE | AR_DC);
    if (!conforming && (dpl < c.cpl || dpl < (sel & 3))) return;
  } else {
    const t = ar & 0xf;
    const ok = lar ? [1, 2, 3, 4, 5, 9, 0xb, 0xc].includes(t) : [1, 2, 3, 9, 0xb].includes(t);
    if (!ok || dpl < c.cpl || dpl < (sel & 3)) return;
  }
  c.flags |= ZF;
  if (lar) c.setG(c.opsz32 ? hi & 0x00f0ff00 : hi & 0xff00);
  else c.setG(CpuSeg.descLimit(c.dLo, hi) | 0);
}

function group7(c: CpuCore): void {
  const m = c.decodeModrm();
  if (m >= 0xc1 && m <= 0xc4) {
    vmxGroup7(c, m);
    return;
  }
  const op = c.regField;
  if (c.vmxNonRoot && op < 4) {
    c.requireMem();
    if (op >= 2 && !privOk(c)) throw c.fault(GP, 0);
    vmxDescTable(c, R.GDTR_IDTR, op);
  }
  switch (op) {
    case 0:
    case 1: {
      c.requireMem();
      const lim = op === 0 ? c.gdtLimit : c.idtLimit;
      const base = op === 0 ? c.gdtBase : c.idtBase;
      c.probeWrite(c.eaSeg, c.eaOff, 6);
      c.wr16(c.eaSeg, c.eaOff, lim);
      c.wr32(c.eaSeg, (c.eaOff + 2) >>> 0, base);
      return;
    }
    case 2:
    case 3: {
      c.requireMem();
      if (!privOk(c)) throw c.fault(GP, 0);
      c.checkWide(6);
      const lim = c.rd16(c.eaSeg, c.eaOff);
      let base = c.rd32(c.eaSeg, c.wideOff(2));
      if (!c.opsz32) base &= 0xffffff;
      if (op === 2) {
        c.gdtBase = base;
        c.gdtLimit = lim;
      } else {
        c.idtBase = base;
        c.idtLimit = lim;
      }
      return;
    }
    case 4: {
      const cr0 = c.vmxNonRoot ? vmxReadCr(c, 0, 0, c.cr0) : c.cr0;
      if (c.modrm >= 0xc0 && c.opsz32) c.regs[c.modrm & 7] = cr0;
      else c.setE16(cr0 & 0xffff);
      return;
    }
    case 6: {
      if (!privOk(c)) throw c.fault(GP, 0);
      let v = c.getE16();
      if (c.vmxNonRoot) v = vmxLmsw(c, v, c.modrm < 0xc0, (c.segBase[c.eaSeg] + c.eaOff) | 0);
      // LMSW loads PE/MP/EM/TS only and cannot clear PE.
      writeCr(c, 0, (c.cr0 & ~0xe) | (v & 0xf) | (c.cr0 & CR0_PE));
      return;
    }
    case 7:
      c.requireMem();
      if (!privOk(c)) throw c.fault(GP, 0);
      if (c.vmxNonRoot) vmxInvlpg(c, (c.segBase[c.eaSeg] + c.eaOff) | 0);
      c.invlpg((c.segBase[c.eaSeg] + c.eaOff) | 0);
      if (c.timing !== null) c.chargedCycles += c.timing.invlpg;
      return;
    default:
      c.raise(UD);
  }
}
