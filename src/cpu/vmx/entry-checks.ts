/**
 * The checks VM entry makes before it loads anything (SDM Vol. 3C §26.2 on the VMX controls and
 * the host-state area — a failure is VMfailValid — and §26.3.1 on the guest-state area — a failure
 * is VM exit 33 with bit 31 set). Pure functions of the VMCS.
 */
import {
  CR0_FIXED0,
  CR0_FIXED1,
  CR4_FIXED0,
  CR4_FIXED1,
  CTL_CAPS,
  EXIT,
  F,
  INTR_HAS_EC,
  INTR_TYPE,
  INTR_VALID,
  PIN,
  PROC,
  PROC2,
} from './fields.ts';
import { AR_UNUSABLE, HOST_SEL, SEG_AR, SEG_LIMIT } from './segs.ts';
import type { Vmcs } from './vmcs.ts';

const IF = 0x200;
const VM = 0x20000;
const CR0_PE = 1;
const CR0_PG = 0x80000000 | 0;
/** Exceptions that push an error code (§6.13); an injected one must say so (§26.2.1.3). */
const HAS_EC = new Set([8, 10, 11, 12, 13, 14, 17]);

/** An EPTP the CPU accepts (§26.2.1.1): UC or WB, a 4-level walk, reserved bits clear. */
export function eptpValid(lo: number, hi: number): boolean {
  const type = lo & 7;
  return (type === 0 || type === 6) && ((lo >>> 3) & 7) === 3 && (lo & 0xf80) === 0 && hi === 0;
}

function capOk(v: number, cap: { must: number; may: number }): boolean {
  return (v & cap.must) === cap.must && (v & ~cap.may) === 0;
}

/** §26.2.1 checks on VM-execution, VM-exit and VM-entry control fields (`ramBytes`: physical memory). */
export function controlsValid(v: Vmcs, ramBytes: number): boolean {
  const badAddr = (a: number) => (a & 0xfff) !== 0 || a >>> 0 >= ramBytes;
  const pin = v.get(F.PIN_CTLS);
  const proc = v.get(F.PROC_CTLS);
  const proc2 = proc & PROC.SECONDARY ? v.get(F.PROC_CTLS2) : 0;
  if (!capOk(pin, CTL_CAPS.pin) || !capOk(proc, CTL_CAPS.proc)) return false;
  if (proc & PROC.SECONDARY && !capOk(proc2, CTL_CAPS.proc2)) return false;
  if (!capOk(v.get(F.EXIT_CTLS), CTL_CAPS.exit) || !capOk(v.get(F.ENTRY_CTLS), CTL_CAPS.entry)) return false;
  if (v.get(F.CR3_TARGET_COUNT) >>> 0 > 4) return false;
  if (proc & PROC.IO_BITMAPS && (badAddr(v.get(F.IO_BITMAP_A)) || badAddr(v.get(F.IO_BITMAP_B))))
    return false;
  if (proc & PROC.MSR_BITMAPS && badAddr(v.get(F.MSR_BITMAP))) return false;
  if (pin & PIN.VIRTUAL_NMI && (pin & PIN.NMI) === 0) return false;
  if (proc2 & PROC2.UNRESTRICTED && (proc2 & PROC2.EPT) === 0) return false;
  if (proc2 & PROC2.VPID && (v.get(F.VPID) & 0xffff) === 0) return false;
  if (proc2 & PROC2.EPT && !eptpValid(v.get(F.EPTP), v.get(F.EPTP + 1))) return false;
  if (v.get(F.EXIT_CTLS) & EXIT.SAVE_TIMER && (pin & PIN.PREEMPT_TIMER) === 0) return false;
  // Event injection (§26.2.1.3).
  const info = v.get(F.ENTRY_INTR_INFO);
  if (info & INTR_VALID) {
    const type = (info >>> 8) & 7;
    const vec = info & 0xff;
    if (type === 1 || type === 7 || (info & 0x7ffff000) !== 0) return false;
    if (type === INTR_TYPE.NMI && vec !== 2) return false;
    if (type === INTR_TYPE.HW_EXCEPTION && vec > 31) return false;
    const pe = (v.get(F.GUEST_CR0) & CR0_PE) !== 0;
    const needEc = type === INTR_TYPE.HW_EXCEPTION && pe && HAS_EC.has(vec);
    if (((info & INTR_HAS_EC) !== 0) !== needEc) return false;
    if (type >= 4 && type <= 6) {
      const len = v.get(F.ENTRY_INSTR_LEN);
      if (len < 1 || len > 15) return false;
    }
  }
  return true;
}

/** §26.2.2–26.2.3 checks on the host-state area. */
export function hostValid(v: Vmcs): boolean {
  const cr0 = v.get(F.HOST_CR0);
  const cr4 = v.get(F.HOST_CR4);
  if ((cr0 & CR0_FIXED0) !== CR0_FIXED0 || (cr0 & ~CR0_FIXED1) !== 0) return false;
  if ((cr4 & CR4_FIXED0) !== CR4_FIXED0 || (cr4 & ~CR4_FIXED1) !== 0) return false;
  for (const f of [...HOST_SEL, F.HOST_TR_SEL]) if (v.get(f) & 7) return false;
  if (v.get(F.HOST_CS_SEL) === 0 || v.get(F.HOST_TR_SEL) === 0) return false;
  return true;
}

/**
 * §26.3.1 checks on the guest-state area: null if valid, else which check failed. `unrestricted`:
 * the "unrestricted guest" control (real mode and unpaged protected mode allowed).
 */
export function guestInvalid(v: Vmcs, unrestricted: boolean): string | null {
  const cr0 = v.get(F.GUEST_CR0);
  const fixed0 = unrestricted ? CR0_FIXED0 & ~(CR0_PE | CR0_PG) : CR0_FIXED0;
  if ((cr0 & fixed0) !== fixed0 || (cr0 & ~CR0_FIXED1) !== 0)
    return 'guest CR0 violates IA32_VMX_CR0_FIXED0/1';
  if (cr0 & CR0_PG && (cr0 & CR0_PE) === 0) return 'guest CR0.PG = 1 with CR0.PE = 0';
  const cr4 = v.get(F.GUEST_CR4);
  if ((cr4 & CR4_FIXED0) !== CR4_FIXED0 || (cr4 & ~CR4_FIXED1) !== 0)
    return 'guest CR4 violates IA32_VMX_CR4_FIXED0/1';
  const fl = v.get(F.GUEST_RFLAGS);
  if ((fl & 2) === 0 || (fl & 0xffc08028) !== 0) return 'guest RFLAGS reserved bits';
  if (v.get(F.VMCS_LINK_PTR) !== -1 || v.get(F.VMCS_LINK_PTR + 1) !== -1)
    return 'VMCS link pointer is not FFFFFFFF_FFFFFFFFH';
  const act = v.get(F.GUEST_ACTIVITY);
  if (act !== 0 && act !== 1) return 'guest activity state not active or HLT';
  const intr = v.get(F.GUEST_INTERRUPTIBILITY);
  if (intr & ~0xf || (intr & 3) === 3) return 'guest interruptibility state';
  const info = v.get(F.ENTRY_INTR_INFO);
  if (info & INTR_VALID && ((info >>> 8) & 7) === INTR_TYPE.EXTERNAL) {
    if ((fl & IF) === 0) return 'external interrupt injected with RFLAGS.IF = 0';
    if (intr & 3) return 'external interrupt injected while blocked by STI/MOV SS';
  }
  const v86 = (fl & VM) !== 0;
  const pe = (cr0 & CR0_PE) !== 0;
  if (pe && !v86) {
    const cs = v.get(F.GUEST_CS_AR);
    const csType = cs & 0xf;
    if (cs & AR_UNUSABLE || (cs & 0x90) !== 0x90 || (csType < 9 && !(unrestricted && csType === 3)))
      return 'guest CS access rights';
    if (cs & 0xfffe0f00) return 'guest CS access-rights reserved bits';
    const ss = v.get(F.GUEST_SS_AR);
    if ((ss & AR_UNUSABLE) === 0) {
      if ((ss & 0x9f) !== 0x93 && (ss & 0x9f) !== 0x97) return 'guest SS access rights';
      if (!unrestricted && (v.get(F.GUEST_SS_SEL) & 3) !== (v.get(F.GUEST_CS_SEL) & 3))
        return 'guest SS.RPL differs from CS.RPL';
    }
    for (let s = 0; s < 6; s++) {
      const ar = v.get(SEG_AR[s]);
      if (ar & AR_UNUSABLE) continue;
      if ((ar & 0x80) === 0 || (ar & 0x10) === 0)
        return `guest segment ${s} not present or not a code/data segment`;
      const lim = v.get(SEG_LIMIT[s]);
      if ((lim & 0xfff) !== 0xfff && ar & 0x8000) return `guest segment ${s} limit/granularity`;
      if (lim & 0xfff00000 && (ar & 0x8000) === 0) return `guest segment ${s} limit/granularity`;
    }
  }
  const tr = v.get(F.GUEST_TR_AR);
  const trType = tr & 0x1f;
  if (
    tr & AR_UNUSABLE ||
    (trType !== 0xb && trType !== 0x3) ||
    (tr & 0x80) === 0 ||
    v.get(F.GUEST_TR_SEL) & 4
  )
    return 'guest TR (must be a present busy TSS, TI = 0)';
  const ldtr = v.get(F.GUEST_LDTR_AR);
  if (
    (ldtr & AR_UNUSABLE) === 0 &&
    ((ldtr & 0x1f) !== 2 || (ldtr & 0x80) === 0 || v.get(F.GUEST_LDTR_SEL) & 4)
  )
    return 'guest LDTR';
  return null;
}
