/**
 * VMX operation (Intel SDM Vol.3C ch.23–30): VMXON/VMXOFF, the current-VMCS pointer, VMREAD/
 * VMWRITE with VMsucceed/VMfailInvalid/VMfailValid, VM entry (§26: checks on controls, host
 * state and guest state, loading the guest state, event injection) and VM exit (§27: saving the
 * guest state and the exit information, loading the host state).
 *
 * The CPU reaches this unit through three flags kept on the CPU object so native guests pay one
 * boolean test on slow paths only: `vmxNonRoot` (instruction and event hooks, nonroot.ts),
 * `eptOn` (the page walker, ept.ts) and `vmxTimerAt` (the run loop's preemption-timer bound).
 *
 * A VM exit that happens inside an instruction unwinds it like a fault: the hook stages the exit
 * information and raises VMEXIT_VECTOR; Cpu.deliverFault() calls `exitNow()` with EIP restored to
 * the instruction's first byte. A host written in TypeScript (a VMM) sets `stopOnExit`: run()
 * then returns at the exit (StopReason.Monitor) instead of executing at HOST_RIP.
 */
import { FAULT } from '../constants.ts';
import type { CpuCore } from '../core.ts';
import { capabilityMsr } from './caps.ts';
import { controlsValid, eptpValid, guestInvalid, hostValid } from './entry-checks.ts';
import {
  CR0_FIXED0,
  CR4_FIXED0,
  ERR,
  EXIT,
  EXIT_ENTRY_FAILURE,
  F,
  fieldReadOnly,
  fieldSupported,
  INTR_HAS_EC,
  INTR_TYPE,
  INTR_VALID,
  PIN,
  PROC,
  PROC2,
  R,
  TIMER_RATE,
  VMCS_REVISION,
} from './fields.ts';
import { AR_UNUSABLE, HOST_SEL, SEG_AR, SEG_BASE, SEG_LIMIT, SEG_SEL } from './segs.ts';
import { Vmcs } from './vmcs.ts';

/** Pseudo-vector raised to unwind an instruction that caused a VM exit (never reaches an IDT). */
export const VMEXIT_VECTOR = 0x100;

const CF = 0x1;
const PF = 0x4;
const AF = 0x10;
const ZF = 0x40;
const SF = 0x80;
const OF = 0x800;
const STATUS = CF | PF | AF | ZF | SF | OF;
const IF = 0x200;
const VM = 0x20000;
const CR0_PE = 1;

/** Result of a VMX instruction: 0 VMsucceed, -1 VMfailInvalid, n > 0 VMfailValid with error n. */
export type VmxStatus = number;

export class Vmx {
  /** In VMX operation (after VMXON). */
  on = false;
  vmxonPtr = -1;
  current: Vmcs | null = null;
  /** The processor's VMCS cache: every region it has seen, by physical address. */
  readonly cache = new Map<number, Vmcs>();
  /** IA32_FEATURE_CONTROL (0x3A): the firmware left it locked with VMX outside SMX enabled. */
  featureControl = 0x5;
  /** The host is TypeScript (a VMM): run() returns at each VM exit instead of running HOST_RIP. */
  stopOnExit = false;
  /** VM exits so far (statistics). */
  exits = 0;

  // Controls cached at VM entry (the VMCS cannot change while the guest runs: VMWRITE exits).
  pin = 0;
  proc = 0;
  proc2 = 0;
  excBitmap = 0;
  pfMask = 0;
  pfMatch = 0;
  cr0Mask = 0;
  cr0Shadow = 0;
  cr4Mask = 0;
  cr4Shadow = 0;
  readonly cr3Targets: number[] = [];
  eptRoot = 0;
  eptAd = false;
  exitCtls = 0;
  /** When the VMX-preemption timer reaches zero (instruction count; ∞ when off). */
  timerAt = Number.POSITIVE_INFINITY;
  /**
   * A pending MTF VM exit (§25.5.2): the instruction count at which it is taken; ∞ when none.
   * The CPU's `vmxTimerAt` is the earlier of this and `timerAt`, so the run loop checks one number.
   */
  mtfAt = Number.POSITIVE_INFINITY;

  // The exit being taken (staged by the hooks, written by exitNow()).
  private reason = 0;
  private qual = 0;
  private instrLen = 0;
  private instrInfo = 0;
  private intrInfo = 0;
  private intrEc = 0;
  private gla = 0;
  private gpa = 0;
  /** Interruption information of the event being delivered (for IDT-vectoring info, §27.2.4). */
  delivering = 0;
  deliveringEc = 0;
  deliveringLen = 0;

  constructor(private readonly c: CpuCore) {}

  // ---- capability MSRs (App. A) ----

  /** RDMSR of a VMX MSR: [lo, hi], or null if `msr` is not one (caps.ts). */
  readMsr(msr: number): [number, number] | null {
    return capabilityMsr(msr, this.featureControl);
  }

  /** WRMSR of IA32_FEATURE_CONTROL: #GP once locked (§23.7). Returns false if not a VMX MSR. */
  writeMsr(msr: number, lo: number): boolean {
    if (msr === 0x3a) {
      if (this.featureControl & 1) this.c.gp(0);
      this.featureControl = lo & 0x7;
      return true;
    }
    if (msr >= 0x480 && msr <= 0x490) this.c.gp(0); // read-only
    return false;
  }

  // ---- instruction results (§30.2) ----

  private succeed(): VmxStatus {
    const c = this.c;
    c.materialize();
    c.flags &= ~STATUS;
    return 0;
  }
  private failInvalid(): VmxStatus {
    const c = this.c;
    c.materialize();
    c.flags = (c.flags & ~STATUS) | CF;
    return -1;
  }
  private failValid(err: number): VmxStatus {
    if (this.current === null) return this.failInvalid();
    const c = this.c;
    c.materialize();
    c.flags = (c.flags & ~STATUS) | ZF;
    this.current.set(F.VM_INSTR_ERROR, err);
    return err;
  }

  /** The #UD/#GP checks every VMX instruction makes in root operation (§30.3). */
  private rootChecks(): void {
    const c = this.c;
    if (!this.on || (c.cr0 & CR0_PE) === 0 || c.flags & VM) c.raise(6);
    if (c.cpl !== 0) c.gp(0);
  }

  private badAddr(addr: number): boolean {
    return (addr & 0xfff) !== 0 || addr >>> 0 >= this.c.ram.length;
  }

  // ---- the instructions (root operation; nonroot.ts turns them into exits in non-root) ----

  vmxon(addr: number, addrHi = 0): VmxStatus {
    const c = this.c;
    if ((c.cr4 & CR4_FIXED0) === 0 || (c.cr0 & CR0_PE) === 0 || c.flags & VM) c.raise(6);
    if (this.on) {
      if (c.cpl !== 0) c.gp(0);
      return this.failValid(ERR.VMXON_IN_ROOT);
    }
    if (c.cpl !== 0 || (c.cr0 & CR0_FIXED0) !== CR0_FIXED0 || (this.featureControl & 5) !== 5) c.gp(0);
    if (addrHi !== 0 || this.badAddr(addr) || c.physRead32(addr) !== VMCS_REVISION) return this.failInvalid();
    this.on = true;
    this.vmxonPtr = addr;
    this.current = null;
    return this.succeed();
  }

  vmxoff(): VmxStatus {
    this.rootChecks();
    this.on = false;
    this.vmxonPtr = -1;
    this.current = null;
    return this.succeed();
  }

  vmclear(addr: number, addrHi = 0): VmxStatus {
    this.rootChecks();
    if (addrHi !== 0 || this.badAddr(addr)) return this.failValid(ERR.VMCLEAR_BAD_ADDR);
    if (addr === this.vmxonPtr) return this.failValid(ERR.VMCLEAR_VMXON);
    const v = this.cache.get(addr);
    v?.clear();
    if (this.current !== null && this.current.addr === addr) this.current = null;
    return this.succeed();
  }

  vmptrld(addr: number, addrHi = 0): VmxStatus {
    this.rootChecks();
    if (addrHi !== 0 || this.badAddr(addr)) return this.failValid(ERR.VMPTRLD_BAD_ADDR);
    if (addr === this.vmxonPtr) return this.failValid(ERR.VMPTRLD_VMXON);
    if (this.c.physRead32(addr) !== VMCS_REVISION) return this.failValid(ERR.VMPTRLD_BAD_REVISION);
    let v = this.cache.get(addr);
    if (!v) {
      v = new Vmcs(addr);
      this.cache.set(addr, v);
    }
    this.current = v;
    return this.succeed();
  }

  /** VMPTRST: the current-VMCS pointer (all ones when there is none, §30.3). */
  vmptrst(): number {
    this.rootChecks();
    this.succeed();
    return this.current ? this.current.addr : -1;
  }

  /** VMREAD: the value, or null after a VMfail (flags set). */
  vmread(enc: number): number | null {
    this.rootChecks();
    if (this.current === null) {
      this.failInvalid();
      return null;
    }
    if (!fieldSupported(enc)) {
      this.failValid(ERR.BAD_FIELD);
      return null;
    }
    this.succeed();
    return this.current.get(enc);
  }

  vmwrite(enc: number, value: number): VmxStatus {
    this.rootChecks();
    if (this.current === null) return this.failInvalid();
    if (!fieldSupported(enc)) return this.failValid(ERR.BAD_FIELD);
    if (fieldReadOnly(enc)) return this.failValid(ERR.READ_ONLY_FIELD);
    this.current.set(enc, value);
    return this.succeed();
  }

  /** VMCALL in root operation: VMfailValid(1) (no dual-monitor treatment, §30.3 VMCALL). */
  vmcallRoot(): VmxStatus {
    this.rootChecks();
    return this.failValid(ERR.VMCALL_ROOT);
  }

  /** INVEPT (§30.3): type 1 single-context, 2 all-context. Invalidates EPT-derived translations. */
  invept(type: number, eptpLo: number): VmxStatus {
    this.rootChecks();
    if (type !== 1 && type !== 2) return this.failValid(ERR.INVEPT_BAD_OPERAND);
    if (type === 1 && !eptpValid(eptpLo, 0)) return this.failValid(ERR.INVEPT_BAD_OPERAND);
    // Our TLB holds combined (linear → host-physical) translations only: drop them all.
    this.c.flushTlb(false);
    return this.succeed();
  }

  /**
   * INVVPID (§30.3): type 0 individual address, 1 single context, 2 all contexts, 3 single context
   * retaining globals. Our TLB holds one context at a time; invalidating more than asked is allowed.
   */
  invvpid(type: number, vpid: number): VmxStatus {
    this.rootChecks();
    if (type < 0 || type > 3 || (type !== 2 && (vpid & 0xffff) === 0))
      return this.failValid(ERR.INVEPT_BAD_OPERAND);
    this.c.flushTlb(false);
    this.tlbTag = 0;
    return this.succeed();
  }

  /**
   * The VPID whose linear and combined translations the TLB holds (0: VMX root / no VPID). Entries
   * and exits flush only when it changes (§28.3.3.3). A TypeScript host executes no instructions,
   * so the flush for root operation waits until root code runs (`rootTlb`, from Cpu.run()).
   */
  tlbTag = 0;
  rootTlb(): void {
    this.c.flushTlb(false);
    this.tlbTag = 0;
  }

  vmlaunch(): VmxStatus {
    return this.enter(true);
  }
  vmresume(): VmxStatus {
    return this.enter(false);
  }

  // ---- VM entry (§26) ----

  private get v(): Vmcs {
    return this.current as Vmcs;
  }

  private enter(launch: boolean): VmxStatus {
    const c = this.c;
    this.rootChecks();
    if (this.current === null) return this.failInvalid();
    if (c.shadow) return this.failValid(ERR.ENTRY_MOV_SS);
    if (launch && this.current.launched) return this.failValid(ERR.LAUNCH_NOT_CLEAR);
    if (!launch && !this.current.launched) return this.failValid(ERR.RESUME_NOT_LAUNCHED);
    if (!controlsValid(this.v, this.c.ram.length)) return this.failValid(ERR.BAD_CONTROLS);
    if (!hostValid(this.v)) return this.failValid(ERR.BAD_HOST_STATE);
    // From here a failure is a VM exit with bit 31 set (§26.3, §26.8); the instruction "succeeds".
    this.succeed();
    this.cacheControls();
    const bad = guestInvalid(this.v, this.unrestricted);
    if (bad !== null) {
      this.stage(R.INVALID_GUEST | EXIT_ENTRY_FAILURE, 0, 0);
      this.entryFailureDetail = bad;
      this.exitNow();
      return 0;
    }
    this.loadGuest();
    if (launch) this.v.launched = true;
    const injecting = (this.v.get(F.ENTRY_INTR_INFO) & INTR_VALID) !== 0;
    this.inject();
    // Monitor trap flag (§25.5.2): after an injected event the MTF VM exit is pending before the
    // guest's first instruction (the handler's); otherwise it follows one guest instruction.
    if (this.proc & PROC.MTF && c.vmxNonRoot) this.armMtf(injecting ? 0 : 1);
    return 0;
  }

  /** Make an MTF VM exit pending after `n` more guest instructions (0: on this boundary). */
  armMtf(n: number): void {
    const c = this.c;
    this.mtfAt = c.instructions + n;
    c.vmxTimerAt = Math.min(this.timerAt, this.mtfAt);
  }

  /** The entering instruction is about to count as retired: shift the bounds armed at entry by it. */
  entryRetires(): void {
    this.timerAt += 1;
    this.mtfAt += 1;
    this.c.vmxTimerAt = Math.min(this.timerAt, this.mtfAt);
  }

  /**
   * An event was delivered through the guest's IDT in non-root operation (a fault of the instruction,
   * an external interrupt, INT n): with the monitor trap flag, the MTF VM exit is pending on the
   * boundary after the delivery, before the handler's first instruction (§25.5.2).
   */
  afterGuestDelivery(): void {
    if (this.proc & PROC.MTF) this.armMtf(0);
  }
  /** Which guest-state check failed the last VM entry (shown to students; not architectural). */
  entryFailureDetail = '';

  private cacheControls(): void {
    const v = this.v;
    this.pin = v.get(F.PIN_CTLS);
    this.proc = v.get(F.PROC_CTLS);
    this.proc2 = this.proc & PROC.SECONDARY ? v.get(F.PROC_CTLS2) : 0;
    this.excBitmap = v.get(F.EXC_BITMAP);
    this.pfMask = v.get(F.PF_EC_MASK);
    this.pfMatch = v.get(F.PF_EC_MATCH);
    this.cr0Mask = v.get(F.CR0_MASK);
    this.cr0Shadow = v.get(F.CR0_SHADOW);
    this.cr4Mask = v.get(F.CR4_MASK);
    this.cr4Shadow = v.get(F.CR4_SHADOW);
    this.cr3Targets.length = 0;
    for (let i = 0; i < v.get(F.CR3_TARGET_COUNT); i++) this.cr3Targets.push(v.get(F.CR3_TARGET0 + 2 * i));
    this.eptRoot = v.get(F.EPTP) & ~0xfff;
    this.eptAd = (v.get(F.EPTP) & 0x40) !== 0;
    this.exitCtls = v.get(F.EXIT_CTLS);
  }

  get unrestricted(): boolean {
    return (this.proc2 & PROC2.UNRESTRICTED) !== 0;
  }

  /** §26.3.2: load the guest state into the processor. */
  private loadGuest(): void {
    const c = this.c;
    const v = this.v;
    c.cr0 = v.get(F.GUEST_CR0);
    c.cr3 = v.get(F.GUEST_CR3);
    c.cr4 = v.get(F.GUEST_CR4);
    this.setDr7(v.get(F.GUEST_DR7) | 0x400);
    for (let s = 0; s < 8; s++) {
      const ar = v.get(SEG_AR[s]);
      c.setSeg(s, v.get(SEG_SEL[s]), v.get(SEG_BASE[s]), v.get(SEG_LIMIT[s]) >>> 0, ar);
    }
    c.gdtBase = v.get(F.GUEST_GDTR_BASE);
    c.gdtLimit = v.get(F.GUEST_GDTR_LIMIT) & 0xffff;
    c.idtBase = v.get(F.GUEST_IDTR_BASE);
    c.idtLimit = v.get(F.GUEST_IDTR_LIMIT) & 0xffff;
    c.regs[4] = v.get(F.GUEST_RSP);
    c.ip = v.get(F.GUEST_RIP) >>> 0;
    c.eip = c.ip;
    c.lzMask = 0;
    c.flags = v.get(F.GUEST_RFLAGS) | 2;
    c.sysenterCs = v.get(F.GUEST_SYSENTER_CS) & 0xffff;
    c.sysenterEsp = v.get(F.GUEST_SYSENTER_ESP);
    c.sysenterEip = v.get(F.GUEST_SYSENTER_EIP);
    // CPL = SS.DPL (§26.3.2.2 note); real mode 0, virtual-8086 mode 3.
    const cpl = (c.cr0 & CR0_PE) === 0 ? 0 : c.flags & VM ? 3 : (v.get(F.GUEST_SS_AR) >>> 5) & 3;
    c.cpl = -1;
    c.setCpl(cpl);
    c.shadow = (v.get(F.GUEST_INTERRUPTIBILITY) & 3) !== 0;
    c.halted = v.get(F.GUEST_ACTIVITY) === 1;
    c.vmxNonRoot = true;
    c.eptOn = (this.proc2 & PROC2.EPT) !== 0;
    this.mtfAt = Number.POSITIVE_INFINITY;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.pin & PIN.PREEMPT_TIMER)
      this.timerAt = c.instructions + (v.get(F.PREEMPTION_TIMER) >>> 0) * (1 << TIMER_RATE);
    c.vmxTimerAt = this.timerAt;
    this.delivering = 0;
    // Without VPID, VM entries invalidate every cached linear and combined translation; with it,
    // translations are tagged and survive while the VPID is the one the TLB already holds (§28.3.3.3).
    const tag = this.proc2 & PROC2.VPID ? v.get(F.VPID) & 0xffff : 0;
    if (tag === 0 || tag !== this.tlbTag) c.flushTlb(false);
    this.tlbTag = tag;
    c.refreshAc();
    c.resetPrefixes();
    c.attention = true;
    c.checkIntr = true;
  }

  /** DR7 is loaded at entry and exit: recompute data-breakpoint pages only when they matter. */
  private setDr7(v: number): void {
    const c = this.c;
    const old = c.dr[7];
    c.dr[7] = v;
    if (c.watchOn || ((old ^ v) & 0xffff00ff) !== 0) c.updateWatch();
  }

  /** §26.6: deliver the event in the VM-entry interruption-information field through the guest IDT. */
  private inject(): void {
    const c = this.c;
    const v = this.v;
    const info = v.get(F.ENTRY_INTR_INFO);
    if ((info & INTR_VALID) === 0) return;
    v.set(F.ENTRY_INTR_INFO, info & ~INTR_VALID);
    const type = (info >>> 8) & 7;
    const vec = info & 0xff;
    const code = info & INTR_HAS_EC ? v.get(F.ENTRY_EXC_EC) : -1;
    const soft = type >= 4 && type <= 6;
    const ret = soft ? (c.ip + v.get(F.ENTRY_INSTR_LEN)) >>> 0 : c.ip;
    c.halted = false;
    // Kinds as Cpu.deliver knows them: 0 exception, 1 external, 2 software (DPL-checked).
    const kind =
      type === INTR_TYPE.EXTERNAL || type === INTR_TYPE.NMI
        ? 1
        : type === INTR_TYPE.SW_INTERRUPT || type === INTR_TYPE.SW_EXCEPTION
          ? 2
          : 0;
    this.delivering = info;
    this.deliveringEc = code;
    this.deliveringLen = v.get(F.ENTRY_INSTR_LEN);
    c.eip = c.ip;
    try {
      c.event.instrEip = c.ip;
      c.deliverToGuest(vec, kind, code, ret);
      this.delivering = 0;
    } catch (e) {
      if (e !== FAULT) throw e;
      c.deliverFault();
    }
    c.resetPrefixes();
    c.attention = true;
  }

  // ---- VM exit (§27) ----

  /** Stage an exit's information (reason, qualification, instruction length). */
  stage(reason: number, qual: number, len: number): void {
    this.reason = reason;
    this.qual = qual;
    this.instrLen = len;
    this.instrInfo = 0;
    this.intrInfo = 0;
    this.intrEc = 0;
    this.gla = 0;
    this.gpa = 0;
  }
  stageInfo(instrInfo: number, gla: number, gpa: number): void {
    this.instrInfo = instrInfo;
    this.gla = gla;
    this.gpa = gpa;
  }
  stageIntr(info: number, ec: number): void {
    this.intrInfo = info;
    this.intrEc = ec;
  }

  /** An instruction causes a VM exit: unwind it (EIP = its first byte), then exitNow() runs. */
  instrExit(reason: number, qual: number): never {
    const c = this.c;
    this.stage(reason, qual, (c.ip - c.eip) >>> 0);
    return c.raise(VMEXIT_VECTOR);
  }

  /** Perform the staged VM exit now: save guest state and exit information, load host state. */
  exitNow(): void {
    const c = this.c;
    const v = this.v;
    // Guest-state area (§27.3).
    v.set(F.GUEST_CR0, c.cr0);
    v.set(F.GUEST_CR3, c.cr3);
    v.set(F.GUEST_CR4, c.cr4);
    v.set(F.GUEST_DR7, c.dr[7]);
    for (let s = 0; s < 8; s++) {
      v.set(SEG_SEL[s], c.segSel[s]);
      v.set(SEG_BASE[s], c.segBase[s]);
      v.set(SEG_LIMIT[s], c.segLim[s] >>> 0);
      v.set(SEG_AR[s], c.segAr[s] & (AR_UNUSABLE | 0xf0ff));
    }
    v.set(F.GUEST_GDTR_BASE, c.gdtBase);
    v.set(F.GUEST_GDTR_LIMIT, c.gdtLimit);
    v.set(F.GUEST_IDTR_BASE, c.idtBase);
    v.set(F.GUEST_IDTR_LIMIT, c.idtLimit);
    v.set(F.GUEST_RSP, c.regs[4]);
    v.set(F.GUEST_RIP, c.eip);
    v.set(F.GUEST_RFLAGS, c.getEflags());
    v.set(F.GUEST_SYSENTER_CS, c.sysenterCs);
    v.set(F.GUEST_SYSENTER_ESP, c.sysenterEsp);
    v.set(F.GUEST_SYSENTER_EIP, c.sysenterEip);
    v.set(F.GUEST_INTERRUPTIBILITY, c.shadow && c.vmxNonRoot ? 1 : 0);
    v.set(F.GUEST_ACTIVITY, c.halted ? 1 : 0);
    if (this.exitCtls & EXIT.SAVE_TIMER) {
      const left = this.timerAt - c.instructions;
      v.set(F.PREEMPTION_TIMER, left > 0 ? Math.ceil(left / (1 << TIMER_RATE)) : 0);
    }
    // §27.1: a #PF that causes a VM exit does not update CR2 (the walker saved the old value).
    if (this.reason === R.EXCEPTION && (this.intrInfo & 0xff) === 14) c.cr2 = c.vmxCr2;
    // Exit-information fields (§27.2).
    v.set(F.EXIT_REASON, this.reason);
    v.set(F.EXIT_QUAL, this.qual);
    v.set(F.EXIT_INSTR_LEN, this.instrLen);
    v.set(F.EXIT_INSTR_INFO, this.instrInfo);
    v.set(F.EXIT_INTR_INFO, this.intrInfo);
    v.set(F.EXIT_INTR_EC, this.intrEc);
    v.set(F.GUEST_LINEAR_ADDR, this.gla);
    v.set(F.GUEST_PHYS_ADDR, this.gpa);
    v.set(F.GUEST_PHYS_ADDR + 1, 0);
    const vec = this.delivering;
    v.set(F.IDT_VEC_INFO, vec & INTR_VALID ? vec : 0);
    // An exit while delivering a software interrupt/exception: the length of the INT instruction,
    // so the VMM can re-inject it (§27.2.4, §27.2.5).
    const vtype = (vec >>> 8) & 7;
    if (vec & INTR_VALID && vtype >= 4 && vtype <= 6) v.set(F.EXIT_INSTR_LEN, this.deliveringLen);
    v.set(F.IDT_VEC_EC, vec & INTR_VALID && vec & INTR_HAS_EC ? this.deliveringEc : 0);
    this.delivering = 0;
    v.set(F.ENTRY_INTR_INFO, v.get(F.ENTRY_INTR_INFO) & ~INTR_VALID);
    this.loadHost();
    this.exits++;
    if (this.stopOnExit) {
      c.monitorStop = true;
      c.attention = true;
    }
  }

  /** §27.5: load the host state. */
  private loadHost(): void {
    const c = this.c;
    const v = this.v;
    c.vmxNonRoot = false;
    c.eptOn = false;
    c.vmxTimerAt = Number.POSITIVE_INFINITY;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.mtfAt = Number.POSITIVE_INFINITY;
    c.shadow = false;
    c.halted = false;
    c.cr0 = v.get(F.HOST_CR0);
    c.cr3 = v.get(F.HOST_CR3);
    c.cr4 = v.get(F.HOST_CR4);
    this.setDr7(0x400);
    c.cpl = -1;
    c.setCpl(0);
    // Host CS: 32-bit code, accessed, DPL 0, G = 1 (§27.5.2); data segments read/write, accessed.
    for (let s = 0; s < 6; s++) {
      const sel = v.get(HOST_SEL[s]);
      const base = s === 4 ? v.get(F.HOST_FS_BASE) : s === 5 ? v.get(F.HOST_GS_BASE) : 0;
      if (s === 1) c.setSeg(1, sel, 0, 0xffffffff, 0xc09b);
      else if (sel === 0 && s !== 2) c.setSeg(s, 0, base, 0xffffffff, AR_UNUSABLE);
      else c.setSeg(s, sel, base, 0xffffffff, 0xc093);
    }
    c.setSeg(6, 0, 0, 0, AR_UNUSABLE);
    c.setSeg(7, v.get(F.HOST_TR_SEL), v.get(F.HOST_TR_BASE), 0x67, 0x8b);
    c.gdtBase = v.get(F.HOST_GDTR_BASE);
    c.gdtLimit = 0xffff;
    c.idtBase = v.get(F.HOST_IDTR_BASE);
    c.idtLimit = 0xffff;
    c.sysenterCs = v.get(F.HOST_SYSENTER_CS) & 0xffff;
    c.sysenterEsp = v.get(F.HOST_SYSENTER_ESP);
    c.sysenterEip = v.get(F.HOST_SYSENTER_EIP);
    c.regs[4] = v.get(F.HOST_RSP);
    c.ip = v.get(F.HOST_RIP) >>> 0;
    c.eip = c.ip;
    c.lzMask = 0;
    c.flags = 2;
    // Root operation uses VPID 0: its translations must not be the guest's. A TypeScript host runs no
    // instructions until the next entry, so the flush waits for root code to run (rootTlb).
    if (this.tlbTag === 0 || !this.stopOnExit) this.rootTlb();
    c.refreshAc();
    c.resetPrefixes();
    c.attention = true;
    c.checkIntr = true;
  }

  // ---- events in non-root operation ----

  /**
   * At an instruction boundary in non-root operation (Cpu.boundary): external-interrupt exiting,
   * the interrupt window (§25.2, §25.6). Returns true if a VM exit happened.
   */
  boundaryExit(): boolean {
    const c = this.c;
    if (this.pin & PIN.EXT_INT && c.intr.hasInterrupt()) {
      let info = 0;
      if (this.exitCtls & EXIT.ACK_INT) info = INTR_VALID | (c.intr.acknowledge() & 0xff);
      c.eip = c.ip;
      this.stage(R.EXT_INT, 0, 0);
      this.intrInfo = info;
      this.exitNow();
      return true;
    }
    if (this.proc & PROC.INT_WINDOW && c.flags & IF && !c.shadow) {
      c.eip = c.ip;
      this.stage(R.INT_WINDOW, 0, 0);
      this.exitNow();
      return true;
    }
    return false;
  }

  /**
   * The run loop reached `vmxTimerAt`: a pending MTF VM exit, which takes priority over the
   * VMX-preemption timer (§25.5.2), or the preemption timer counted down to zero (§25.5.1). Either
   * exits before the next instruction; the saved RIP is that instruction's and exit qualification 0.
   */
  timerExit(): void {
    const c = this.c;
    c.eip = c.ip;
    this.stage(c.instructions >= this.mtfAt ? R.MTF : R.PREEMPT_TIMER, 0, 0);
    this.exitNow();
  }

  /** Triple fault in non-root operation: exit reason 2 instead of a shutdown (§25.2). */
  tripleFaultExit(): void {
    const c = this.c;
    c.ip = c.eip;
    this.stage(R.TRIPLE_FAULT, 0, 0);
    this.exitNow();
  }

  /**
   * An exception or software interrupt about to be delivered in non-root operation. Exits when the
   * exception bitmap says so (§25.2; #PF with the error-code mask/match rule). Returns true if it did.
   * kind: 0 exception, 2 software (INT3/INTO are software exceptions, INT n never exits).
   */
  eventExits(vec: number, kind: number, code: number, retEip: number, len: number): boolean {
    const c = this.c;
    if (vec >= 32 || kind === 1) return false;
    if (kind === 2 && vec !== 3 && vec !== 4) return false;
    let exits = (this.excBitmap >>> vec) & 1;
    if (vec === 14) {
      const match = (code & this.pfMask) === this.pfMatch;
      exits = match ? exits : exits ^ 1;
    }
    if (!exits) return false;
    const type = kind === 2 ? INTR_TYPE.SW_EXCEPTION : INTR_TYPE.HW_EXCEPTION;
    // Faults and software exceptions save the EIP of the instruction; traps (#DB) the next one.
    c.eip = kind === 2 ? c.event.instrEip : retEip;
    this.stage(R.EXCEPTION, vec === 14 ? c.faultAddr : 0, kind === 2 ? len : 0);
    this.intrInfo = INTR_VALID | (type << 8) | vec | (code >= 0 ? INTR_HAS_EC : 0);
    this.intrEc = Math.max(code, 0);
    this.exitNow();
    return true;
  }
}
