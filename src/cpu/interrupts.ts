/**
 * CpuInt: exception and interrupt delivery (SDM Vol.3 ch.6), IRET, the double-fault rules,
 * and the monitor hook through which a hypervisor receives every event instead of the IDT.
 */
import { SilentKind } from './base.ts';
import {
  AC,
  AR_CODE,
  AR_DC,
  AR_P,
  AR_S,
  BP,
  CR0_PE,
  CS,
  DF,
  DF_,
  DS,
  ES,
  ESP,
  FAULT,
  FS,
  GP,
  GS,
  IF,
  IOPL,
  NP,
  NT,
  OFV,
  PFV,
  RF,
  SS,
  TF,
  TR,
  VM,
} from './constants.ts';
import type { CpuCore } from './core.ts';
import { instructionLength } from './insn-length.ts';
import { CpuSeg } from './segments.ts';
import { CpuTask, TASK_INT, TASK_IRET } from './tasks.ts';
import { VMEXIT_VECTOR, Vmx } from './vmx/vmx.ts';

/** How an event entered the CPU. */
export enum EventKind {
  /** A fault or trap raised by an instruction (error code per vector). */
  Exception = 0,
  /** An external interrupt from the INTR line (vector from acknowledge()). */
  External = 1,
  /** INT n / INT3 / INTO (gate DPL checked; no error code). */
  Software = 2,
  /** INT1 (F1, ICEBP): delivered like an external event, no DPL check. */
  Icebp = 3,
}

/** What a monitor wants done with an event. */
export enum MonitorAction {
  /** The monitor handled it (possibly changing state, e.g. emulating and advancing EIP). */
  Resume = 0,
  /** Stop run() with StopReason.Monitor (the event is not delivered). */
  Stop = 1,
  /** Deliver the event through the guest IDT/IVT as if no monitor were installed. */
  Reflect = 2,
}

/** One event handed to a monitor. The object is reused: copy what you keep. */
export interface TrapEvent {
  vector: number;
  kind: EventKind;
  /** Error code, or -1 when the vector has none. */
  errorCode: number;
  /** EIP of the faulting instruction (faults) or of the next instruction (traps, INT n, IRQs). */
  eip: number;
  /** EIP of the instruction that caused the event (start of its first prefix). */
  instrEip: number;
  /** Bytes of the instruction decoded when the event was raised (0 for external interrupts). */
  length: number;
  /** CR2 for #PF, else the last fault address. */
  faultAddr: number;
}

export interface Monitor {
  onEvent(ev: TrapEvent): MonitorAction;
}

/** A silent (non-trapping) architectural event worth showing (see SilentKind). */
export interface SilentEvent {
  kind: SilentKind;
  eip: number;
  cpl: number;
  /** The value the instruction tried to load (EFLAGS image) or revealed (see SilentKind). */
  attempted: number;
  /** A second value for some kinds (see SilentKind), else 0. */
  extra: number;
}
export type SilentObserver = (
  kind: SilentKind,
  eip: number,
  cpl: number,
  attempted: number,
  extra: number,
) => void;

/** Fault-class vectors (SDM Table 6-1), excluding #DB (set by instruction breakpoints only). */
const FAULT_CLASS = new Uint8Array(32);
for (const v of [0, 5, 6, 7, 10, 11, 12, 13, 14, 16, 17, 19]) FAULT_CLASS[v] = 1;
const HAS_ERROR = new Uint8Array(32);
for (const v of [8, 10, 11, 12, 13, 14, 17]) HAS_ERROR[v] = 1;
function isContributory(v: number): boolean {
  return v === 0 || (v >= 10 && v <= 13);
}

/**
 * The block cache's instruction-length decoder (-1 when it cannot tell), installed by cpu.ts: a
 * static import here would close an import cycle (predecode → block-ops → core → interrupts).
 */
let quickLength: ((buf: Uint8Array, n: number, eip: number) => number) | null = null;
export function setQuickLength(f: (buf: Uint8Array, n: number, eip: number) => number): void {
  quickLength = f;
}

export class CpuInt extends CpuTask {
  /** VMX operation (SDM Vol.3C; src/cpu/vmx): VMCS, VM entry/exit, non-root controls. */
  readonly vmx: Vmx = new Vmx(this as unknown as CpuCore);
  monitor: Monitor | null = null;
  /** IRET / task switch loaded RF: keep it past the end of this instruction. */
  keepRf = false;
  /** Called for silent events; null costs one compare on the (rare) paths that drop IF. */
  observer: SilentObserver | null = null;
  readonly event: TrapEvent = {
    vector: 0,
    kind: EventKind.Exception,
    errorCode: -1,
    eip: 0,
    instrEip: 0,
    length: 0,
    faultAddr: 0,
  };
  /** Delivering a fault-class exception: the pushed EFLAGS image gets RF = 1. */
  pushRf = false;
  /** Set whenever an event is delivered (for Cpu.breakOnEvent). */
  eventDelivered = false;
  /** Set when a monitor asked to stop. */
  monitorStop = false;
  /** Set on triple fault. */
  shutdown = false;
  /** Interrupt shadow: no external interrupt (or single-step trap) before the next instruction. */
  shadow = false;
  setShadow(): void {
    this.shadow = true;
    this.attention = true;
  }

  /** Report a silent event. */
  silent(kind: SilentKind, attempted: number, extra = 0): void {
    if (this.observer !== null) this.observer(kind, this.eip, this.cpl, attempted, extra);
  }

  /**
   * Deliver the exception left by raise() (excVector/excCode) for the instruction at this.eip,
   * applying the double-fault rules of SDM Vol.3 §6.15 Table 6-5. Returns false on shutdown.
   */
  deliverFault(): void {
    if (this.excVector === VMEXIT_VECTOR) {
      // An instruction (or an access it made) caused a VM exit: it did not happen (SDM §27.1).
      this.ip = this.eip;
      this.vmx.exitNow();
      return;
    }
    let vec = this.excVector;
    let code = this.excHasCode && HAS_ERROR[vec] ? this.excCode : -1;
    const instrEip = this.eip;
    let length = (this.ip - this.eip) >>> 0;
    if (this.monitor !== null) length = this.exactLength(length);
    this.ip = this.eip;
    for (let guard = 0; guard < 4; guard++) {
      try {
        this.event.instrEip = instrEip;
        this.event.length = length;
        // SDM §17.3.1.1: the EFLAGS image of any fault-class exception has RF = 1 (so the IRET back
        // does not re-trigger an instruction breakpoint), except #DB from an instruction breakpoint.
        this.pushRf = FAULT_CLASS[vec] === 1;
        this.deliver(vec, EventKind.Exception, code, this.eip);
        this.pushRf = false;
        this.resetPrefixes();
        return;
      } catch (e) {
        if (e !== FAULT) throw e;
        this.pushRf = false;
        const second = this.excVector;
        if (second === VMEXIT_VECTOR) {
          // A VM exit while delivering the event (EPT violation): IDT-vectoring info names it.
          this.ip = this.eip;
          this.vmx.exitNow();
          return;
        }
        if (vec === DF_) {
          this.tripleFault(`triple fault: exception ${second} while delivering #DF`);
          return;
        }
        if (
          (isContributory(vec) && isContributory(second)) ||
          (vec === PFV && (second === PFV || isContributory(second)))
        ) {
          vec = DF_;
          code = 0;
        } else {
          vec = second;
          code = this.excHasCode && HAS_ERROR[vec] ? this.excCode : -1;
        }
      }
    }
    this.tripleFault('triple fault: unresolvable nested exceptions');
  }

  private readonly peekBuf = new Uint8Array(15);
  /**
   * Full length of the faulting instruction (a fault may come before its last bytes were
   * fetched). Reads code only through existing direct-RAM TLB entries: no page walk, no A bits,
   * no device reads, no new faults. Falls back to the bytes decoded so far.
   */
  private exactLength(decoded: number): number {
    const buf = this.peekBuf;
    let n = 0;
    for (; n < 15; n++) {
      const off = (this.eip + n) >>> 0;
      if (off > this.csLim) break;
      const lin = (this.csBase + off) | 0;
      const e = ~this.tlbR[lin >>> 12];
      if (e === -1 || (e & 0xfff) !== 0) break;
      buf[n] = this.ram[e ^ lin];
    }
    if (n === 0) return decoded;
    // The pre-decoder first: it knows most 32-bit lengths without building text.
    if (this.code32 && quickLength !== null) {
      const len = quickLength(buf, n, this.eip);
      if (len > 0) return len;
    }
    // The text-free length decoder: '(bad)' and '(truncated)' are the non-positive answers.
    const len = instructionLength(buf.subarray(0, n), 0, this.code32 ? 32 : 16);
    return len > 0 ? len : decoded;
  }

  tripleFault(reason: string): void {
    if (this.vmxNonRoot) {
      this.vmx.tripleFaultExit(); // exit reason 2 instead of a shutdown (SDM Vol.3C §25.2)
      return;
    }
    this.shutdown = true;
    this.shutdownReason = `${reason} at ${this.segSel[CS].toString(16).padStart(4, '0')}:${(this.eip >>> 0).toString(16).padStart(8, '0')}`;
  }

  /**
   * Deliver an event: through the monitor when one is installed, else through the IVT/IDT.
   * `retEip` is the EIP to push. `code` is -1 when there is no error code.
   */
  deliver(vec: number, kind: EventKind, code: number, retEip: number): void {
    this.eventDelivered = true;
    this.attention = true;
    if (this.vmxNonRoot) {
      // VMX non-root: the exception bitmap decides (SDM Vol.3C §25.2); otherwise the guest's IDT.
      if (this.vmx.eventExits(vec, kind, code, retEip, this.event.length)) return;
      const vmx = this.vmx;
      const type =
        kind === EventKind.External ? 0 : kind === EventKind.Software ? (vec === 3 || vec === 4 ? 6 : 4) : 3;
      vmx.delivering = 0x80000000 | (type << 8) | vec | (code >= 0 ? 0x800 : 0);
      vmx.deliveringEc = code;
      vmx.deliveringLen = this.event.length;
      this.deliverToGuest(vec, kind, code, retEip);
      vmx.delivering = 0;
      vmx.afterGuestDelivery();
      this.resetPrefixes();
      return;
    }
    if (this.monitor !== null) {
      const ev = this.event;
      ev.vector = vec;
      ev.kind = kind;
      ev.errorCode = code;
      ev.eip = retEip >>> 0;
      ev.faultAddr = this.faultAddr;
      if (kind === EventKind.External) {
        ev.instrEip = retEip >>> 0;
        ev.length = 0;
      }
      const act = this.monitor.onEvent(ev);
      if (act === MonitorAction.Resume) return;
      if (act === MonitorAction.Stop) {
        this.monitorStop = true;
        this.attention = true;
        return;
      }
    }
    this.deliverToGuest(vec, kind, code, retEip);
    this.resetPrefixes();
  }

  /** The architectural delivery (no monitor). */
  deliverToGuest(vec: number, kind: EventKind, code: number, retEip: number): void {
    if (this.timing !== null) this.chargedCycles += this.timing.event;
    if ((this.cr0 & CR0_PE) === 0) {
      this.deliverReal(vec, retEip);
      return;
    }
    this.deliverProtected(vec, kind, code, retEip);
  }

  private deliverReal(vec: number, retEip: number): void {
    // SDM §20.1.4: IVT entry at IDTR.base + 4n; push FLAGS, CS, IP; clear IF, TF, AC.
    if (vec * 4 + 3 > this.idtLimit) this.gp(vec * 8 + 2);
    const flags = this.getEflags();
    const ip = this.lrd16((this.idtBase + vec * 4) | 0);
    const cs = this.lrd16((this.idtBase + vec * 4 + 2) | 0);
    this.opsz32 = false;
    this.push16(flags);
    this.push16(this.segSel[CS]);
    this.push16(retEip);
    this.flags &= ~(IF | TF | AC | RF);
    this.loadSegReal(CS, cs);
    this.ip = ip;
    this.eip = ip;
  }

  private deliverProtected(vec: number, kind: EventKind, code: number, retEip: number): void {
    const ext =
      kind === EventKind.Exception || kind === EventKind.External || kind === EventKind.Icebp ? 1 : 0;
    const soft = kind === EventKind.Software;
    // Software INT n in V86 with IOPL < 3 → #GP(0) (SDM INT n, no VME).
    if (soft && this.flags & VM && (this.flags & IOPL) !== IOPL) this.gp(0);
    if (vec * 8 + 7 > this.idtLimit) this.gp(vec * 8 + 2 + ext);
    const ga = (this.idtBase + vec * 8) | 0;
    const lo = this.srd32(ga);
    const hi = this.srd32((ga + 4) | 0);
    const type = (hi >>> 8) & 0x1f;
    const gdpl = (hi >>> 13) & 3;
    if (type !== 5 && type !== 6 && type !== 7 && type !== 0xe && type !== 0xf) this.gp(vec * 8 + 2 + ext);
    if (soft && gdpl < this.cpl) this.gp(vec * 8 + 2);
    if ((hi & 0x8000) === 0) this.raise(NP, vec * 8 + 2 + ext);
    if (type === 5) {
      this.taskSwitch(lo >>> 16, TASK_INT, retEip, ext);
      if (code >= 0) {
        this.opsz32 = (this.segAr[TR] & 8) !== 0;
        this.push(code);
      }
      return;
    }
    const gate32 = (type & 8) !== 0;
    const sel = lo >>> 16;
    const off = gate32 ? ((hi & 0xffff0000) | (lo & 0xffff)) >>> 0 : lo & 0xffff;
    if ((sel & 0xfffc) === 0) this.gp(ext);
    this.readDesc(sel, GP);
    const ar = CpuSeg.descAr(this.dHi);
    const dpl = (ar >> 5) & 3;
    if ((ar & (AR_S | AR_CODE)) !== (AR_S | AR_CODE) || dpl > this.cpl) this.gp((sel & 0xfffc) | ext);
    if ((ar & AR_P) === 0) this.raise(NP, (sel & 0xfffc) | ext);
    const csLo = this.dLo;
    const csHi = this.dHi;
    const csAddr = this.dAddr;
    const lim = CpuSeg.descLimit(csLo, csHi);
    const flags = this.getEflags() | (this.pushRf ? RF : 0);
    const v86 = (flags & VM) !== 0;
    const size = gate32 ? 4 : 2;
    if ((ar & AR_DC) === 0 && dpl < this.cpl) {
      // Inter-privilege: new stack from the TSS (SDM §6.12.1).
      if (v86 && dpl !== 0) this.gp((sel & 0xfffc) | ext);
      this.tssStack(dpl, ext);
      const nss = this.tssSs;
      const nesp = this.tssEsp;
      this.checkInnerSs(nss, dpl, ext);
      const ssLo = this.dLo;
      const ssHi = this.dHi;
      const ssAddr = this.dAddr;
      const ssBase = CpuSeg.descBase(ssLo, ssHi);
      const ssLim = CpuSeg.descLimit(ssLo, ssHi);
      const ssBig = (ssHi & 0x400000) !== 0;
      const expDown = (CpuSeg.descAr(ssHi) & (AR_DC | AR_CODE)) === AR_DC;
      if (off > lim) this.gp(ext);
      const vals = this.frameVals;
      let k = 0;
      if (v86) {
        vals[k++] = this.segSel[GS];
        vals[k++] = this.segSel[FS];
        vals[k++] = this.segSel[DS];
        vals[k++] = this.segSel[ES];
      }
      vals[k++] = this.segSel[SS];
      vals[k++] = this.regs[ESP];
      vals[k++] = flags;
      vals[k++] = this.segSel[CS];
      vals[k++] = retEip;
      if (code >= 0) vals[k++] = code;
      // Check the whole frame against the new SS limit before writing (#SS(new SS), §6.12.1).
      let sp = ssBig ? nesp >>> 0 : nesp & 0xffff;
      for (let i = 0, o = sp; i < k; i++) {
        o = ssBig ? (o - size) >>> 0 : (o - size) & 0xffff;
        const bad = expDown
          ? o <= ssLim || o + size - 1 > (ssBig ? 0xffffffff : 0xffff)
          : o + size - 1 > ssLim;
        if (bad) this.raise(0x0c, (nss & 0xfffc) | ext);
      }
      for (let i = 0; i < k; i++) {
        sp = ssBig ? (sp - size) >>> 0 : (sp - size) & 0xffff;
        const a = (ssBase + sp) | 0;
        if (size === 4) this.swr32(a, vals[i]);
        else this.swr16(a, vals[i] & 0xffff);
      }
      // Commit.
      this.dLo = ssLo;
      this.dHi = ssHi;
      this.dAddr = ssAddr;
      this.markAccessed();
      if (v86) {
        this.flags &= ~VM;
        for (const s of [ES, DS, FS, GS]) this.setSeg(s, 0, 0, 0, 0x10000);
      }
      this.setCpl(dpl);
      this.setSegFromDesc(SS, nss);
      if (ssBig) this.regs[ESP] = sp;
      else this.r16[ESP * 2] = sp;
    } else {
      if (v86) this.gp((sel & 0xfffc) | ext);
      // Same privilege (or conforming).
      this.opsz32 = gate32;
      const n = 3 + (code >= 0 ? 1 : 0);
      const sp0 = this.spAdd(-n * size);
      this.probeWrite(SS, sp0, n * size);
      if (off > lim) this.gp(ext);
      if (gate32) {
        this.push32(flags);
        this.push32(this.segSel[CS]);
        this.push32(retEip);
        if (code >= 0) this.push32(code);
      } else {
        this.push16(flags);
        this.push16(this.segSel[CS]);
        this.push16(retEip);
        if (code >= 0) this.push16(code);
      }
    }
    this.dLo = csLo;
    this.dHi = csHi;
    this.dAddr = csAddr;
    this.markAccessed();
    this.setSegFromDesc(CS, (sel & 0xfffc) | this.cpl);
    // Gate type: interrupt gates clear IF; both clear TF, NT, RF, VM (SDM §6.12.1.2).
    let f = this.flags & ~(TF | NT | RF | VM);
    if ((type & 1) === 0) f &= ~IF;
    this.flags = f;
    this.ip = off;
    this.eip = off;
  }
  readonly frameVals = new Int32Array(12);

  /** Software interrupt INT n / INT3 / INTO / INT1: a trap, pushes the next EIP. */
  softInt(vec: number, kind: EventKind): void {
    // V86 with IOPL < 3: INT n/INT3/INTO are #GP(0) before any IDT is consulted (SDM INT n,
    // no VME) — so a monitor sees the #GP, exactly as a VMM owning the IDT would.
    if (kind === EventKind.Software && this.flags & VM && (this.flags & IOPL) !== IOPL && this.protectedMode)
      this.gp(0);
    const length = (this.ip - this.eip) >>> 0;
    this.event.instrEip = this.eip;
    this.event.length = length;
    this.deliver(vec, kind, -1, this.ip);
  }

  /** IRET / IRETD (SDM IRET pseudocode). */
  iret(): void {
    if (this.timing !== null) this.chargedCycles += this.timing.iret;
    this.iretInner();
    this.refreshAc();
  }

  private iretInner(): void {
    const op32 = this.opsz32;
    this.keepRf = true;
    if ((this.cr0 & CR0_PE) === 0) {
      const ip = op32 ? this.rd32(SS, this.spAdd(0)) : this.rd16(SS, this.spAdd(0));
      const cs = op32 ? this.rd32(SS, this.spAdd(4)) : this.rd16(SS, this.spAdd(2));
      const fl = op32 ? this.rd32(SS, this.spAdd(8)) : this.rd16(SS, this.spAdd(4));
      if (op32 && ip >>> 0 > 0xffff && ip >>> 0 > this.segLim[CS]) this.gp(0);
      this.setSp(this.spAdd(op32 ? 12 : 6));
      this.loadSegReal(CS, cs & 0xffff);
      this.ip = op32 ? ip >>> 0 : ip & 0xffff;
      this.materialize();
      const mask = op32 ? 0x257fd5 : 0x7fd5;
      this.flags = (this.flags & ~mask) | (fl & mask) | 2;
      if (op32) this.flags = (this.flags & ~VM) | 0; // VM, VIF, VIP unchanged in real mode (stay 0)
      return;
    }
    if (this.flags & VM) {
      // V86: IRET is IOPL-sensitive (SDM §20.2.7); IOPL stays unchanged.
      if ((this.flags & IOPL) !== IOPL) this.gp(0);
      const ip = op32 ? this.rd32(SS, this.spAdd(0)) : this.rd16(SS, this.spAdd(0));
      const cs = op32 ? this.rd32(SS, this.spAdd(4)) : this.rd16(SS, this.spAdd(2));
      const fl = op32 ? this.rd32(SS, this.spAdd(8)) : this.rd16(SS, this.spAdd(4));
      this.setSp(this.spAdd(op32 ? 12 : 6));
      this.loadSegReal(CS, cs & 0xffff);
      this.ip = op32 ? ip >>> 0 : ip & 0xffff;
      this.materialize();
      const mask = op32 ? 0x244fd5 : 0x4fd5;
      this.flags = (this.flags & ~mask) | (fl & mask) | 2;
      return;
    }
    if (this.flags & NT) {
      // Task return through the back link (SDM §7.3).
      const link = this.srd16(this.segBase[TR]);
      this.taskSwitch(link, TASK_IRET, this.ip, 0);
      return;
    }
    const s = op32 ? 4 : 2;
    const eip = op32 ? this.rd32(SS, this.spAdd(0)) >>> 0 : this.rd16(SS, this.spAdd(0));
    const csSel = (op32 ? this.rd32(SS, this.spAdd(s)) : this.rd16(SS, this.spAdd(s))) & 0xffff;
    const fl = op32 ? this.rd32(SS, this.spAdd(2 * s)) : this.rd16(SS, this.spAdd(2 * s));
    if (op32 && fl & VM && this.cpl === 0) {
      this.iretToV86(eip, csSel, fl);
      return;
    }
    const rpl = csSel & 3;
    this.checkReturnCs(csSel);
    const csLo = this.dLo;
    const csHi = this.dHi;
    const csAddr = this.dAddr;
    const lim = CpuSeg.descLimit(csLo, csHi);
    if (rpl === this.cpl) {
      if (eip > lim) this.gp(0);
      this.setSp(this.spAdd(3 * s));
      this.dLo = csLo;
      this.dHi = csHi;
      this.dAddr = csAddr;
      this.markAccessed();
      this.setSegFromDesc(CS, csSel);
      this.ip = eip;
      this.iretFlags(fl, op32);
      return;
    }
    // Return to an outer level: pop ESP and SS too.
    const nesp = op32 ? this.rd32(SS, this.spAdd(3 * s)) : this.rd16(SS, this.spAdd(3 * s));
    const nss = (op32 ? this.rd32(SS, this.spAdd(4 * s)) : this.rd16(SS, this.spAdd(4 * s))) & 0xffff;
    if ((nss & 0xfffc) === 0) this.gp(0);
    this.readDesc(nss, GP);
    const sar = CpuSeg.descAr(this.dHi);
    if ((nss & 3) !== rpl || ((sar >> 5) & 3) !== rpl || (sar & (AR_S | AR_CODE | 2)) !== (AR_S | 2))
      this.gp(nss & 0xfffc);
    if ((sar & AR_P) === 0) this.raise(0x0c, nss & 0xfffc);
    if (eip > lim) this.gp(0);
    const ssLo = this.dLo;
    const ssHi = this.dHi;
    const ssAddr = this.dAddr;
    // Flags are evaluated with the old CPL (SDM: "IF CPL ≤ IOPL" uses CPL before the return).
    this.iretFlags(fl, op32, rpl);
    this.dLo = csLo;
    this.dHi = csHi;
    this.dAddr = csAddr;
    this.markAccessed();
    this.setSegFromDesc(CS, csSel);
    this.dLo = ssLo;
    this.dHi = ssHi;
    this.dAddr = ssAddr;
    this.markAccessed();
    this.setSegFromDesc(SS, nss);
    this.setCpl(rpl);
    if (this.ss32) this.regs[ESP] = nesp;
    else this.r16[ESP * 2] = nesp;
    this.ip = eip;
    this.nullInvalidSegs();
  }

  /** Load EFLAGS from an IRET image at the current CPL; IF/IOPL dropped silently per SDM. */
  private iretFlags(fl: number, op32: boolean, toRpl = this.cpl): void {
    this.materialize();
    const cur = this.flags;
    let mask = op32 ? 0x257fd5 : 0x7fd5; // CF..OF, NT, IOPL, IF, RF, AC, ID (VM handled above)
    const iopl = (cur >> 12) & 3;
    if (this.cpl > 0) {
      mask &= ~IOPL;
      if (((fl ^ cur) & IOPL) !== 0) this.silent(SilentKind.IoplDropped, fl);
    }
    if (this.cpl > iopl) {
      mask &= ~IF;
      // Every ignored IF bit is reported (SilentKind.IretIfDropped): the observer judges it.
      if (this.observer !== null) this.silent(SilentKind.IretIfDropped, fl, toRpl);
    }
    this.flags = (cur & ~mask) | (fl & mask) | 2;
  }

  private iretToV86(eip: number, csSel: number, fl: number): void {
    // SDM IRET "RETURN-TO-VIRTUAL-8086-MODE": pops EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS.
    const v = this.frameVals;
    for (let i = 0; i < 6; i++) v[i] = this.rd32(SS, this.spAdd(12 + i * 4));
    this.lzMask = 0;
    this.flags = (fl & 0x3f7fd5) | 2;
    this.setCpl(3);
    this.loadSegReal(CS, csSel);
    this.loadSegReal(SS, v[1] & 0xffff);
    this.loadSegReal(ES, v[2] & 0xffff);
    this.loadSegReal(DS, v[3] & 0xffff);
    this.loadSegReal(FS, v[4] & 0xffff);
    this.loadSegReal(GS, v[5] & 0xffff);
    this.regs[ESP] = v[0];
    this.ip = eip & 0xffff;
  }

  static hasErrorCode(v: number): boolean {
    return v < 32 && HAS_ERROR[v] === 1;
  }
}

export { BP, DF, OFV };
