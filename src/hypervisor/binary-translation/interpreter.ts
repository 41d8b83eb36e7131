/**
 * The VMM's own interpreter: one guest kernel instruction performed with the guest's *own* view
 * of the machine, for the accesses translated code must not make itself (VMware's VMM kept an
 * interpreter beside its translator for the same kind of cases: Bugnion et al., TOCS 30(4), 2012,
 * §6; Adams & Agesen, ASPLOS 2006, §3).
 *
 * Under binary translation the guest's data segments stop below the VMM's slot
 * (../vmm/slot-guard.ts) and GS is the VMM's (vmm-gs.ts). A guest instruction that reaches beyond
 * its cut limit, or that uses GS or a `cs:` data override, therefore cannot run from the TC. The
 * VMM runs it here instead: on a second instance of our own CPU (`src/cpu`, the same emulator),
 * whose physical memory is the VM's guest-physical memory (vm.mem: every store goes through the
 * VMM's coherence — the host CPU's code cache and the TC's write-protected pages), with the guest's
 * CR0/CR3/CR4, GDTR/IDTR/LDTR, its segments with their own limits, CPL 0 and the guest's EFLAGS.
 * Its MMU walks the guest's page tables (setting their accessed/dirty bits as the hardware would);
 * the VMM's slot does not exist there, so an address in it is the guest's own memory or the guest's
 * own #PF. A fault it raises is the guest's (vector, error code, CR2), captured by a monitor rather
 * than delivered, and handed back for the VMM to reflect.
 */
import {
  Cpu,
  type CpuState,
  type InterruptLine,
  type MemoryBus,
  type Monitor,
  MonitorAction,
  type SegState,
  type TrapEvent,
} from '../../cpu/index.ts';
import { readGuestDescriptor, Unvirtualizable, virtualEflags } from '../vmm/deliver.ts';
import { AR_UNUSABLE, compressAr } from '../vmm/descriptors.ts';
import type { Vm } from '../vmm/vm.ts';

/** Steps allowed for one instruction (a REP string instruction retires one iteration per step). */
const MAX_STEPS = 1 << 20;
/** Instructions one interpreter run may perform (see `run`). */
const MAX_RUN = 256;

export interface Interpreted {
  /** The guest's exception vector, or -1 when the instruction completed. */
  vector: number;
  errorCode: number;
  /** CR2 of a #PF. */
  faultAddr: number;
  /** The interpreter's state afterwards (the guest's view; the caller copies what changed). */
  state: GuestResult;
  /** Instructions completed. */
  done: number;
}

/**
 * What an interpreter run can change and the VMM takes back (applyResult): read straight from the
 * interpreter's CPU, not through a full `getState` (no VMX, MSR or debug state copies: ~1,900 runs
 * per Linux boot).
 */
export interface GuestResult {
  regs: number[];
  eip: number;
  eflags: number;
  cpl: number;
  /** ES CS SS DS FS GS. */
  segs: SegState[];
  fpu?: number[];
}

const NO_INTR: InterruptLine = { hasInterrupt: () => false, acknowledge: () => 0 };

export class GuestInterpreter implements Monitor {
  private cpu: Cpu | null = null;
  private vm: Vm | null = null;
  private vector = -1;
  private errorCode = -1;
  private faultAddr = 0;
  /** Instructions interpreted (all VMs). */
  count = 0;

  private readonly bus: MemoryBus = {
    // Nothing is direct: every access goes through vm.mem (holes read as ones, stores are seen).
    ram: new Uint8Array(0),
    isDirect: () => false,
    read8: (a: number) => (this.vm as Vm).mem.readPhys8(a >>> 0),
    write8: (a: number, v: number) => (this.vm as Vm).mem.writePhys8(a >>> 0, v & 0xff),
  };

  onEvent(ev: TrapEvent): MonitorAction {
    this.vector = ev.vector;
    this.errorCode = ev.errorCode;
    this.faultAddr = ev.faultAddr >>> 0;
    return MonitorAction.Stop;
  }

  /**
   * Perform the instruction at `guest.eip` (a REP one to its end or fault), then, while `more`
   * says so after a completed instruction, the ones after it (at most MAX_RUN): a guest whose
   * stack lies beyond the cut (Linux's entry stack in its cpu_entry_area, at the top of the
   * linear space) runs its whole sequence here instead of faulting once per push and pop.
   */
  run(vm: Vm, guest: CpuState, more: ((c: Cpu) => boolean) | null = null): Interpreted {
    this.vm = vm;
    let c = this.cpu;
    if (c === null) {
      c = new Cpu(this.bus, vm.io, NO_INTR);
      c.setFpu(true);
      c.monitor = this;
      this.cpu = c;
    }
    c.setState(guest);
    c.cr2 = guest.cr2 | 0;
    this.vector = -1;
    this.errorCode = -1;
    this.faultAddr = 0;
    let done = 0;
    for (;;) {
      const start = c.ip >>> 0;
      // A breakpoint address the instruction never starts at keeps the CPU on its slow path: it
      // decodes the guest's bytes afresh every time (no block cache survives between uses).
      c.breakLinear = (c.segBase[1] + start - 1) | 0;
      for (let i = 0; i < MAX_STEPS; i++) {
        c.run(1);
        if (this.vector >= 0 || c.shutdown || c.halted || c.ip >>> 0 !== start) break;
      }
      if (this.vector >= 0 || c.shutdown || c.halted) break;
      done++;
      if (more === null || done >= MAX_RUN || !more(c)) break;
    }
    this.count += done;
    const segs: SegState[] = [];
    for (let i = ES; i <= GS; i++)
      segs.push({ sel: c.segSel[i], base: c.segBase[i] >>> 0, limit: c.segLim[i] >>> 0, ar: c.segAr[i] });
    const state: GuestResult = {
      regs: Array.from(c.regs),
      eip: c.ip >>> 0,
      eflags: c.getEflags() >>> 0,
      cpl: c.cpl,
      segs,
      fpu: c.fpu !== null ? c.fpu.save() : undefined,
    };
    this.vm = null;
    return { vector: this.vector, errorCode: this.errorCode, faultAddr: this.faultAddr, state, done };
  }
}

// ---- the guest's view in, the result out ----

const ES = 0;
const CS = 1;
const SS = 2;
const GS = 5;
const TF = 0x100;
const IF = 0x200;
/** CF PF AF ZF SF DF OF: what a data instruction may change. */
const ARITH = 0xcd5;
const NT = 0x4000;
const AC = 0x40000;

/**
 * The guest's own CPU state at guest EIP `eip` (guest CPL 0): its registers as they are, virtual
 * EFLAGS/CRs/descriptor tables, each segment with the limit of its own descriptor (not the cut
 * one), RPL/DPL 0 where ring compression made them 1, and its own GS (held while the TC runs).
 */
export function guestView(
  cpu: Cpu,
  vm: Vm,
  eip: number,
  guestLimit: (s: number) => number,
  gs: { sel: number; base: number; limit: number; ar: number },
): CpuState {
  // Built from the CPU's fields (not getState: no VMX, MSR-history or debug copies).
  const segs: SegState[] = [];
  for (let i = ES; i < GS; i++) {
    let sel = cpu.segSel[i];
    let ar = cpu.segAr[i];
    if ((sel & 3) === 1 && (i === CS || i === SS)) {
      sel &= ~3;
      ar &= ~0x60;
    }
    segs.push({ sel, base: cpu.segBase[i] >>> 0, limit: guestLimit(i), ar });
  }
  let gl = gs.limit >>> 0;
  if ((gs.ar & AR_UNUSABLE) === 0 && (gs.sel & 0xfffc) !== 0) {
    const d = readGuestDescriptor(vm, gs.sel);
    if (d !== null && d.base >>> 0 === gs.base >>> 0 && d.limit >>> 0 > gl) gl = d.limit >>> 0;
  }
  segs.push({ sel: gs.sel, base: gs.base >>> 0, limit: gl, ar: gs.ar });
  const l = vm.v.ldtr;
  segs.push({ sel: l.sel, base: l.base >>> 0, limit: l.limit, ar: l.ar });
  const t = vm.v.tr;
  segs.push({ sel: t.sel, base: t.base >>> 0, limit: t.limit, ar: t.ar });
  return {
    regs: Array.from(cpu.regs, (v) => v >>> 0),
    eip: eip >>> 0,
    eflags: virtualEflags(cpu, vm) & ~TF,
    segs,
    cpl: 0,
    cr0: vm.v.cr0 >>> 0,
    cr2: vm.v.cr2 >>> 0,
    cr3: vm.v.cr3 >>> 0,
    cr4: vm.v.cr4 >>> 0,
    dr: [0, 0, 0, 0, 0, 0, 0xffff0ff0, 0x400],
    gdtr: { base: vm.v.gdtr.base >>> 0, limit: vm.v.gdtr.limit },
    idtr: { base: vm.v.idtr.base >>> 0, limit: vm.v.idtr.limit },
    msr: {
      sysenterCs: cpu.sysenterCs,
      sysenterEsp: cpu.sysenterEsp >>> 0,
      sysenterEip: cpu.sysenterEip >>> 0,
      tscOffset: cpu.tscOffset,
    },
    halted: false,
    a20: true,
    instructions: cpu.instructions,
    shadow: false,
    ...(cpu.fpu !== null ? { fpu: cpu.fpu.save() } : {}),
  };
}

/**
 * Take the interpreter's result into the real CPU and the virtual one: registers, arithmetic
 * flags, x87 state, EIP, the virtual IF/IOPL, and each data segment it reloaded as its shadow
 * (DPL 0 → 1; SS at real ring 1). A GS it reloaded goes to `setGs` (held while the TC runs).
 * Faults leave EIP for the caller. Throws Unvirtualizable for a change of CS.
 */
export function applyResult(
  cpu: Cpu,
  vm: Vm,
  from: CpuState,
  to: GuestResult,
  setGs: (sel: number, base: number, limit: number, ar: number) => void,
): void {
  for (let i = 0; i < 8; i++) cpu.regs[i] = to.regs[i];
  cpu.setFlagBits(to.eflags & ARITH, ARITH);
  vm.v.if = (to.eflags & IF) !== 0;
  vm.v.iopl = (to.eflags >>> 12) & 3;
  if (to.fpu !== undefined && cpu.fpu !== null) cpu.fpu.restore(to.fpu);
  const a = from.segs[CS];
  const b = to.segs[CS];
  const toUser = to.cpl === 3 && from.cpl === 0;
  if (!toUser && (a.sel !== b.sel || a.base !== b.base || to.cpl !== from.cpl))
    throw new Unvirtualizable(
      `a guest instruction the VMM interpreted changed CS (to 0x${b.sel.toString(16)}) without returning to user mode: not supported under binary translation`,
    );
  if (toUser) {
    // An IRET (or RETF) to guest ring 3 from a stack beyond the cut: user mode runs directly,
    // with the real IF/IOPL the VMM's and the guest's TF (SDM Vol.3 §6.12.1, IRET).
    cpu.setSeg(CS, b.sel, b.base >>> 0, b.limit >>> 0, b.ar);
    const ss = to.segs[SS];
    cpu.setSeg(SS, ss.sel, ss.base >>> 0, ss.limit >>> 0, ss.ar);
    cpu.setCpl(3);
    cpu.setFlagBits(to.eflags & (TF | NT | AC), TF | NT | AC);
  }
  for (let i = ES; i <= GS; i++) {
    if (i === CS || (i === SS && toUser)) continue;
    const was = from.segs[i];
    const now = to.segs[i];
    if (was.sel === now.sel && was.base === now.base && was.limit === now.limit && was.ar === now.ar)
      continue;
    const unusable = (now.ar & AR_UNUSABLE) !== 0;
    const sel = i === SS && (now.sel & 3) === 0 ? now.sel | 1 : now.sel;
    const ar = unusable ? now.ar : compressAr(now.ar);
    if (i === GS) setGs(sel, now.base >>> 0, now.limit >>> 0, ar);
    else cpu.setSeg(i, sel, now.base >>> 0, now.limit >>> 0, ar);
  }
}
