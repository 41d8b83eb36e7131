/**
 * The deprivileged guest kernel, shared by trap-and-emulate and binary translation (both x86
 * software VMMs of Popek & Goldberg's kind, as x86 VMMs had to attempt it): the guest kernel runs
 * at real ring 1 with real IOPL 0 (ring compression). Every privileged or IOPL-sensitive
 * instruction that reaches the VMM (a #GP under trap-and-emulate, a callout under binary
 * translation) is decoded from the guest's bytes and applied to the VM's virtual CPU and devices
 * (emulate-privileged.ts). Page faults go through the shadow page tables (shadow.ts); exceptions
 * and INT n are reflected through the guest's own IDT; the VM's virtual PIC interrupts are
 * injected when the virtual IF allows; the real IF stays 1 (the VMM's). The VMM's own 4 MiB slot
 * (shadow GDT/LDT) moves away from what the guest maps (address-space compression). What does
 * *not* trap (POPF, PUSHF, PUSH CS, SGDT, …) the VMM never sees: the CPU's observation channel
 * shows it in the log as "invisible" when it made the guest diverge from the bare machine
 * (silent.ts). Pure trap-and-emulate is this class as it is (trap-and-emulate/trap-and-emulate.ts).
 */
import { type Cpu, EventKind, type SilentKind, type TrapEvent } from '../../cpu/index.ts';
import { decode, type Insn, SS } from './decode.ts';
import {
  deliver,
  emulateIret,
  GuestFault,
  guestCpl,
  keepRealIf,
  loadShadowSeg,
  readGuestDescriptor,
  Unvirtualizable,
} from './deliver.ts';
import { AR_CODE, AR_RW, AR_UNUSABLE, buildShadowTable } from './descriptors.ts';
import { emulatePrivileged } from './emulate-privileged.ts';
import { farOperand, farReturn, farTransfer, isFarTransfer, virtualSelector } from './far-transfer.ts';
import { GuestPageFault } from './guest-mem.ts';
import { ioBitmapAllows } from './io-bitmap.ts';
import { judgeSilent } from './silent.ts';
import { SlotGuard } from './slot-guard.ts';
import { regBit, TrapAction, TrapFlag, TrapKind, TrapOp } from './trap-log.ts';
import type { Vm } from './vm.ts';
import type { TechniqueHandler, Vmm } from './vmm.ts';

const GP = 13;
const PF = 14;
const SSF = 12;
const DB = 1;
const TF = 0x100;
const IF = 0x200;
const CS = 1;
const LDTR = 6;

export class DeprivilegedVmm implements TechniqueHandler {
  readonly cpu: Cpu;
  /** Set while handling an STI: its one-instruction interrupt shadow defers injection. */
  protected stiShadow = false;

  /**
   * Segment truncation hiding the VMM's slot from guest reads (slot-guard.ts), when the technique
   * asks for it (trap-and-emulate, binary translation — which sets its TC-specific options).
   */
  protected readonly slotGuard: SlotGuard | null;

  constructor(
    readonly vmm: Vmm,
    guardSlot = false,
  ) {
    this.cpu = vmm.cpu;
    this.slotGuard = guardSlot ? new SlotGuard(vmm.cpu) : null;
  }

  onGuestEvent(vm: Vm, ev: TrapEvent): void {
    const cpu = this.cpu;
    this.stiShadow = false;
    this.vmm.eventCpl = guestCpl(cpu);
    this.vmm.eventCs = (cpu.segSel[CS] & ~3) | this.vmm.eventCpl;
    // Guest user mode always runs with interrupts on (it cannot clear IF at IOPL 0).
    if (cpu.cpl === 3 && !vm.v.if) vm.v.if = true;
    const isDb = ev.kind === EventKind.Exception && ev.vector === DB;
    // A write let through to a protected guest GDT page has completed (its #DB), or something
    // else happened first: either way, resync the shadow GDT and protect the page again.
    const gdtStep = vm.gdtStep;
    if (gdtStep) this.finishGdtWrite(vm);
    // A step with the guest's own limits and mapping of the VMM's slot (slot-guard.ts).
    const slotStep =
      vm.slotStep && this.slotGuard?.onEventInStep(vm, ev.vector, ev.faultAddr, ev.errorCode) === true;
    const ownStep = isDb && (gdtStep || vm.vmmTf || slotStep);
    if (vm.vmmTf && !isDb) {
      // The instruction after STI trapped by itself: the window is open already.
      this.interruptWindow(vm);
    }
    try {
      if (ownStep) {
        if (vm.vmmTf) this.interruptWindow(vm);
      } else if (ev.kind === EventKind.Software || ev.kind === EventKind.Icebp) {
        // INT n/INT3/INTO check the gate's DPL; INT1 (ICEBP) is delivered like an external event.
        this.reflect(vm, ev.vector, -1, ev.eip, ev.kind === EventKind.Software, ev.instrEip, ev.length);
      } else if (ev.vector === PF) {
        this.pageFault(vm, ev);
      } else if (ev.vector === GP) {
        this.generalProtection(vm, ev);
      } else if (ev.vector === SSF && ev.errorCode === 0 && this.slotGuard?.startStep(vm, ev.instrEip)) {
        // A stack access beyond the truncated SS limit: re-run it with the guest's own.
      } else {
        this.reflect(vm, ev.vector, ev.errorCode, ev.eip, false, ev.instrEip, ev.length);
      }
    } catch (e) {
      if (e instanceof Unvirtualizable) this.vmm.vmCannotContinue(vm, e);
      else throw e;
    } finally {
      this.vmm.eventCs = -1;
      this.slotGuard?.eventDone();
    }
    if (vm.state === 'runnable' && !this.stiShadow) this.injectPending(vm);
    this.slotGuard?.enforce(vm);
    if (vm.state !== 'runnable') this.vmm.requestStop();
  }

  /**
   * A sensitive instruction that did not trap (the CPU's observer). Logged, invisible to the VMM,
   * only when it broke equivalence for this guest (silent.ts); the VMM's state is left alone — a
   * real trap-and-emulate VMM never learns of it.
   */
  onSilent(vm: Vm, kind: SilentKind, eip: number, cpl: number, value: number, extra: number): void {
    const cpu = this.cpu;
    const lin = (cpu.segBase[CS] + eip) >>> 0;
    const verdict = judgeSilent(cpu, vm, kind, cpl, value, extra, () => vm.mem.fetch(lin, 15));
    if (verdict === null) return;
    vm.stats.silent++;
    // For the diagnosis if the VM later hangs: the guest's attempt to re-enable interrupts was lost.
    if ((verdict.op === TrapOp.POPF || verdict.op === TrapOp.IRET) && verdict.d0 & IF && verdict.d3 === 0)
      vm.lostIf = { op: verdict.op, eip: eip >>> 0, seq: this.vmm.log.total };
    // d0: what the guest got or attempted; d1: what it would have seen natively / what the VMM
    // keeps; d2: the SilentKind; d3: kind-specific (trap-log.ts silentSummary).
    this.vmm.record(
      vm,
      TrapKind.SilentEvent,
      verdict.op,
      TrapAction.None,
      this.vmm.cost.silent,
      TrapFlag.Invisible,
      verdict.d0,
      verdict.d1,
      kind,
      verdict.d3,
      eip,
    );
    this.vmm.recordBytes(vm, lin);
  }

  /** Deliver the VM's pending virtual interrupt if its virtual CPU accepts it now. */
  injectPending(vm: Vm): void {
    const cpu = this.cpu;
    // Guest user code runs with interrupts on; the kernel's IRET to ring 3 set IF without a trap.
    if (cpu.cpl === 3 && !vm.v.if && this.vmm.current === vm.index) vm.v.if = true;
    // A guest GDT write (or a slot access) is being single-stepped: interrupts wait for the
    // instruction boundary.
    if (vm.gdtStep || vm.slotStep) return;
    if (vm.state !== 'runnable' || !vm.v.if || !vm.devices.pic.hasInterrupt()) return;
    const pic = vm.devices.pic;
    const irqBase = pic.master.vector(0) & 0xf8;
    const vector = pic.acknowledge();
    const irq = (vector & 0xf8) === irqBase ? vector & 7 : 8 + (vector & 7);
    const at = cpu.ip >>> 0;
    this.vmm.record(
      vm,
      TrapKind.Interrupt,
      vector,
      TrapAction.Injected,
      this.vmm.cost.inject,
      0,
      irq,
      0,
      0,
      0,
      at,
    );
    try {
      deliver(cpu, vm, vector, -1, at, false, true);
      vm.stats.injected++;
      this.vmm.log.setRegMask(MASK_FRAME);
    } catch (e) {
      if (e instanceof Unvirtualizable) this.vmm.vmCannotContinue(vm, e);
      else throw e;
    }
  }

  /** The single step the VMM armed after STI has completed: inject now. */
  protected interruptWindow(vm: Vm): void {
    const cpu = this.cpu;
    vm.vmmTf = false;
    cpu.flags &= ~TF;
    cpu.dr[6] &= ~0x4000;
  }

  /** Reflect an exception or INT n through the guest's IDT. */
  reflect(
    vm: Vm,
    vector: number,
    code: number,
    retEip: number,
    soft: boolean,
    instrEip: number,
    len: number,
  ): void {
    const cpu = this.cpu;
    const isPf = vector === PF;
    this.vmm.record(
      vm,
      TrapKind.GuestException,
      vector,
      TrapAction.Reflected,
      isPf ? this.vmm.cost.reflectPageFault : this.vmm.cost.reflect,
      code >= 0 ? TrapFlag.HasErrorCode : 0,
      isPf ? vm.v.cr2 : 0,
      Math.max(code, 0),
      0,
      0,
      instrEip,
    );
    if (len > 0 || !soft) this.vmm.recordBytes(vm, (cpu.segBase[CS] + instrEip) >>> 0);
    vm.stats.reflected++;
    deliver(cpu, vm, vector, code, retEip, soft, !soft, instrEip);
    this.vmm.log.setRegMask(MASK_FRAME | (isPf ? regBit('cr2') : 0));
  }

  // ---- page faults: hidden (shadow fill) or the guest's own ----

  protected pageFault(vm: Vm, ev: TrapEvent): void {
    const cpu = this.cpu;
    const lin = ev.faultAddr >>> 0;
    const write = (ev.errorCode & 2) !== 0;
    const user = (ev.errorCode & 4) !== 0;
    if (vm.shadow.inVmmRegion(lin)) {
      // The 4 MiB where the VMM keeps its tables. The guest's own tables decide first: if they
      // refuse the access, the #PF is the guest's, exactly as on the bare machine.
      const g = vm.mem.walk(lin, write, user, false);
      if (g !== true) {
        vm.v.cr2 = lin;
        this.reflect(vm, PF, g, ev.eip, false, ev.instrEip, ev.length);
        return;
      }
      // The guest maps it: with segment truncation, lend it the slot for this instruction;
      // otherwise move the VMM's region away. Either way the access restarts.
      if (this.slotGuard) this.slotGuard.startStep(vm, ev.instrEip);
      else this.relocateVmm(vm, lin);
      return;
    }
    const r = vm.mem.walk(lin, write, user, true);
    if (r !== true) {
      // The guest's own tables say no: this fault belongs to the guest.
      vm.v.cr2 = lin;
      this.reflect(vm, PF, r, ev.eip, false, ev.instrEip, ev.length);
      return;
    }
    const w = vm.mem.info;
    // Writable in the shadow only once the guest's dirty bit is set (so we see the first write),
    // and never for a page of the guest's live GDT (so we see every write to it).
    const gdtPage = this.onGuestGdt(vm, lin);
    const writable = w.writable && (w.dirty || write) && (!gdtPage || write);
    const userOk = w.user && !(w.wpOverride && writable);
    const host = vm.shadow.fill(lin, w.gpa, writable, userOk, w.large, write);
    cpu.invlpg(lin);
    vm.stats.hiddenFaults++;
    if (gdtPage && write) {
      // Let this one write through and regain control right after it (real TF, as the STI
      // window does); the #DB rebuilds the shadow GDT and protects the page again.
      vm.gdtStep = true;
      cpu.flags |= TF;
      cpu.attention = true;
    }
    this.vmm.record(
      vm,
      TrapKind.HiddenPageFault,
      PF,
      TrapAction.ShadowFill,
      gdtPage && write ? this.vmm.cost.hiddenFault + this.vmm.cost.resync : this.vmm.cost.hiddenFault,
      TrapFlag.HasErrorCode,
      lin,
      ev.errorCode,
      w.gpa,
      host,
      ev.instrEip,
    );
    this.vmm.recordBytes(vm, (cpu.segBase[CS] + ev.instrEip) >>> 0);
  }

  /**
   * Address-space compression: the VMM's region (shadow GDT/LDT) must occupy some 4 MiB of every
   * guest address space. Move it to a slot the guest does not map (a not-present guest PDE, or with
   * paging off a slot above the VM's RAM), so the guest's access can be shadowed normally.
   */
  private relocateVmm(vm: Vm, lin: number): void {
    const sh = vm.shadow;
    // Every slot the VMM has left during this guest instruction is one the instruction touches
    // (an access may span two 4 MiB slots, e.g. a store across 0xFFC00000): never move back into
    // one, or the restarted instruction would chase the region forever. Retired instructions do
    // not change while one instruction restarts.
    const at = this.cpu.instructions;
    let avoid = this.relocAvoid[vm.index];
    if (avoid === undefined || this.relocAt[vm.index] !== at) {
      avoid = [];
      this.relocAvoid[vm.index] = avoid;
      this.relocAt[vm.index] = at;
    }
    avoid.push(sh.vmmPde);
    const slot = this.freeSlot(vm, avoid);
    if (slot < 0) {
      throw new Unvirtualizable(
        `the guest maps all of its address space, leaving no 4 MiB for the VMM (address-space compression at 0x${lin.toString(16)})`,
      );
    }
    this.moveVmm(vm, slot);
  }

  /** Slots left during the current instruction, per VM (see relocateVmm). */
  private readonly relocAvoid: number[][] = [];
  private readonly relocAt: number[] = [];

  /** The highest 4 MiB slot the guest does not map (paging off: above its RAM), or -1. */
  private freeSlot(vm: Vm, avoid: readonly number[]): number {
    const paging = (vm.v.cr0 & 0x80000000) !== 0;
    for (let i = 1023; i >= 1; i--) {
      if (i === vm.shadow.vmmPde || avoid.includes(i)) continue;
      if (paging) {
        const pde = vm.mem.readPhys32(((vm.v.cr3 & 0xfffff000) + i * 4) >>> 0);
        if ((pde & 1) === 0) return i;
      } else if (i * 0x400000 >= vm.map.memBytes) return i;
    }
    return -1;
  }

  /**
   * After the guest loads CR3 or turns paging on: if its new tables map the slot the VMM sits in,
   * move away now, so the guest's reads there see its own memory rather than the shadow GDT/LDT
   * (which are mapped, so a read would not fault). Left in place when no slot is free: the guest
   * may never touch it, and a touch then faults into relocateVmm.
   */
  vmmSlotCheck(vm: Vm): void {
    // Truncated segments cannot reach the slot: the VMM stays at the top (slot-guard.ts).
    if (this.slotGuard || (vm.v.cr0 & 0x80000000) === 0) return;
    const pde = vm.mem.readPhys32(((vm.v.cr3 & 0xfffff000) + vm.shadow.vmmPde * 4) >>> 0);
    if ((pde & 1) === 0) return;
    const slot = this.freeSlot(vm, []);
    if (slot >= 0) this.moveVmm(vm, slot);
  }

  private moveVmm(vm: Vm, slot: number): void {
    const cpu = this.cpu;
    const sh = vm.shadow;
    sh.relocate(slot);
    cpu.gdtBase = sh.gdtLinear | 0;
    if (!(vm.v.ldtr.ar & AR_UNUSABLE) && (vm.v.ldtr.sel & 0xfffc) !== 0)
      cpu.setSeg(LDTR, cpu.segSel[LDTR], sh.ldtLinear, cpu.segLim[LDTR], cpu.segAr[LDTR]);
    cpu.flushTlb(false);
  }

  // ---- #GP: a privileged instruction, a ring-compression artifact, or the guest's own fault ----

  private generalProtection(vm: Vm, ev: TrapEvent): void {
    const cpu = this.cpu;
    const eip = ev.instrEip >>> 0;
    const lin = (cpu.segBase[CS] + eip) >>> 0;
    const bytes = vm.mem.fetch(lin, 15);
    const insn = decode(bytes, cpu.code32, cpu.regs);
    const vcpl = guestCpl(cpu);
    const ioplOk = vcpl <= vm.v.iopl;
    let handled = false;
    // Far JMP/CALL through a call gate at any CPL (the shadow GDT has no gates), far RET at CPL 0.
    const far = insn !== null && isFarTransfer(insn);
    if (insn && (insn.op !== 0 || far)) {
      const op = insn.op;
      const ioplSensitive =
        op === TrapOp.CLI ||
        op === TrapOp.STI ||
        op === TrapOp.IN ||
        op === TrapOp.OUT ||
        op === TrapOp.INS ||
        op === TrapOp.OUTS;
      // At CPL > IOPL the guest's TSS I/O map may still allow the port (the real TSS is the VMM's).
      const ioOk =
        ioplOk ||
        ((op === TrapOp.IN || op === TrapOp.OUT || op === TrapOp.INS || op === TrapOp.OUTS) &&
          ioBitmapAllows(cpu, vm, insn));
      if (vcpl === 0 || (ioplSensitive && ioOk) || far) {
        try {
          handled = this.emulate(vm, insn, eip, bytes);
        } catch (e) {
          if (e instanceof GuestPageFault) {
            vm.v.cr2 = e.lin;
            this.reflect(vm, PF, e.errorCode, eip, false, eip, insn.len);
            return;
          }
          if (e instanceof GuestFault) {
            this.reflect(vm, e.vector, e.errorCode, eip, false, eip, insn.len);
            return;
          }
          throw e;
        }
      }
    }
    if (handled) return;
    // Beyond a truncated limit (#GP(0), not a privileged instruction)? Re-run it with the guest's.
    if (ev.errorCode === 0 && (insn === null || insn.op === 0) && this.slotGuard?.startStep(vm, eip)) return;
    // A stale shadow GDT/LDT (the guest edited its table after LGDT)? Resync once and retry.
    if (ev.errorCode > 0 && this.resyncDescriptors(vm)) {
      this.vmm.record(
        vm,
        TrapKind.PrivilegedInstruction,
        TrapOp.SEG_LOAD,
        TrapAction.Emulated,
        this.vmm.cost.resync,
        TrapFlag.HasErrorCode,
        ev.errorCode,
        0,
        0,
        0,
        eip,
      );
      this.vmm.recordBytes(vm, lin);
      return;
    }
    this.reflect(vm, GP, ev.errorCode, eip, false, eip, insn ? insn.len : 1);
  }

  /** Emulate a decoded privileged instruction. Returns false if it is not ours to emulate. */
  protected emulate(vm: Vm, insn: Insn, eip: number, bytes: Uint8Array): boolean {
    const cpu = this.cpu;
    const op = insn.op;
    if (op === TrapOp.IRET) {
      if (!emulateIret(cpu, vm, insn.opsz32)) return false;
      this.log(
        vm,
        TrapKind.PrivilegedInstruction,
        op,
        this.vmm.cost.iret,
        eip,
        bytes,
        insn,
        0,
        0,
        0,
        0,
        0,
        MASK_IRET,
      );
      return true;
    }
    if (op === TrapOp.SEG_LOAD) return this.emulateSsLoad(vm, insn, eip, bytes);
    if (isFarTransfer(insn)) return this.emulateFar(vm, insn, eip, bytes);
    if (op === TrapOp.STI) this.stiShadow = true;
    return emulatePrivileged(this, vm, insn, eip, bytes);
  }

  /**
   * A far JMP/CALL that faulted (a call gate: the shadow GDT has none) or a far RET to the guest
   * kernel's own RPL-0 code (at real ring 1 the CPU refuses RPL < CPL), on the guest's descriptors.
   */
  private emulateFar(vm: Vm, insn: Insn, eip: number, bytes: Uint8Array): boolean {
    const cpu = this.cpu;
    const o = insn.opcode;
    const was = virtualSelector(cpu, CS);
    let op: number;
    if (o === 0xcb || o === 0xca) {
      if (guestCpl(cpu) !== 0) return false;
      const extra = o === 0xca ? bytes[insn.len] | (bytes[insn.len + 1] << 8) : 0;
      if (!farReturn(cpu, vm, insn.opsz32, extra)) return false;
      insn.len += o === 0xca ? 2 : 0;
      op = TrapOp.FAR_RET;
    } else {
      const f = farOperand(cpu, vm, insn, bytes);
      const call = o === 0x9a || (o === 0xff && insn.reg === 3);
      const next = cpu.code32 ? (eip + f.len) >>> 0 : (eip + f.len) & 0xffff;
      farTransfer(cpu, vm, f.sel, f.off, call, insn.opsz32, next);
      insn.len = f.len;
      op = call ? TrapOp.FAR_CALL : TrapOp.FAR_JMP;
    }
    const mask = regBit('cs') | regBit('eip') | regBit('esp') | regBit('ss');
    this.log(
      vm,
      TrapKind.PrivilegedInstruction,
      op,
      this.vmm.cost.iret,
      eip,
      bytes,
      insn,
      0,
      was,
      virtualSelector(cpu, CS),
      cpu.eip >>> 0,
      0,
      mask,
    );
    return true;
  }

  /** MOV SS / POP SS / LSS with an RPL-0 selector at real ring 1: load the ring-1 shadow. */
  private emulateSsLoad(vm: Vm, insn: Insn, eip: number, bytes: Uint8Array): boolean {
    const cpu = this.cpu;
    if (guestCpl(cpu) !== 0) return false;
    let sel: number;
    let newEsp = -1;
    let popEsp = -1;
    const opBytes = insn.opsz32 ? 4 : 2;
    if (insn.opcode === 0x8e) {
      sel = insn.mod === 3 ? cpu.regs[insn.rm] & 0xffff : vm.mem.read(this.ea(insn), 2);
    } else if (insn.opcode === 0x17) {
      const sp = cpu.ss32 ? cpu.regs[4] >>> 0 : cpu.regs[4] & 0xffff;
      sel = vm.mem.read((cpu.segBase[SS] + sp) >>> 0, 2);
      popEsp = cpu.ss32 ? (sp + opBytes) >>> 0 : (sp + opBytes) & 0xffff;
    } else {
      const a = this.ea(insn);
      newEsp = vm.mem.read(a, opBytes);
      sel = vm.mem.read((a + opBytes) >>> 0, 2);
    }
    if ((sel & 0xfffc) === 0) throw new GuestFault(GP, 0);
    if ((sel & 3) !== 0) throw new GuestFault(GP, sel & 0xfffc); // RPL ≠ CPL (SDM MOV: #GP(selector))
    const d = readGuestDescriptor(vm, sel);
    if (!d?.segment || d.ar & AR_CODE || (d.ar & AR_RW) === 0 || d.dpl !== 0)
      throw new GuestFault(GP, sel & 0xfffc);
    if (!d.present) throw new GuestFault(12, sel & 0xfffc);
    const old = cpu.segSel[SS];
    loadShadowSeg(cpu, SS, sel, d, 1);
    if (popEsp >= 0) {
      if (cpu.ss32) cpu.regs[4] = popEsp;
      else cpu.r16[8] = popEsp;
    }
    if (newEsp >= 0) {
      if (insn.opsz32) cpu.regs[insn.reg] = newEsp;
      else cpu.r16[insn.reg * 2] = newEsp;
    }
    this.advance(insn);
    const mask = regBit('ss') | regBit('eip') | (popEsp >= 0 || insn.reg === 4 ? regBit('esp') : 0);
    this.log(
      vm,
      TrapKind.PrivilegedInstruction,
      TrapOp.SEG_LOAD,
      this.vmm.cost.register,
      eip,
      bytes,
      insn,
      0,
      SS,
      old,
      sel,
      cpu.segSel[SS] & 0xffff,
      mask,
    );
    return true;
  }

  // ---- helpers used by emulate-privileged.ts ----

  /** Linear address of the instruction's memory operand. */
  ea(insn: Insn): number {
    return (this.cpu.segBase[insn.eaSeg] + insn.eaOff) >>> 0;
  }

  /** Step EIP past the emulated instruction. */
  advance(insn: Insn): void {
    const cpu = this.cpu;
    const next = cpu.code32 ? (cpu.eip + insn.len) >>> 0 : (cpu.eip + insn.len) & 0xffff;
    cpu.ip = next;
    cpu.eip = next;
  }

  /** One record for an emulated instruction, with its bytes and the registers it changed. */
  log(
    vm: Vm,
    kind: TrapKind,
    op: number,
    cost: number,
    eip: number,
    bytes: Uint8Array,
    insn: Insn,
    flags: number,
    d0: number,
    d1: number,
    d2: number,
    d3: number,
    regMask: number,
  ): void {
    this.vmm.record(vm, kind, op, TrapAction.Emulated, cost, flags, d0, d1, d2, d3, eip);
    this.vmm.log.setInstruction(bytes, 0, insn.len);
    this.vmm.log.setRegMask(regMask);
  }

  /** Rebuild the shadow GDT (and LDT) from the guest's current tables. Returns true if it changed. */
  resyncDescriptors(vm: Vm): boolean {
    const before = this.readShadow(vm);
    this.rebuildGdt(vm);
    if (!(vm.v.ldtr.ar & AR_UNUSABLE) && (vm.v.ldtr.sel & 0xfffc) !== 0) this.rebuildLdt(vm);
    const after = this.readShadow(vm);
    return before !== after;
  }

  private readShadow(vm: Vm): string {
    const ram = this.vmm.pc.memory.ram;
    let h = 0;
    for (const f of [...vm.shadow.gdtFrames, ...vm.shadow.ldtFrames])
      for (let i = 0; i < 4096; i += 4)
        h =
          (Math.imul(h, 31) +
            ram[f + i] +
            (ram[f + i + 1] << 8) +
            (ram[f + i + 2] << 16) +
            (ram[f + i + 3] << 24)) |
          0;
    return String(h);
  }

  /**
   * Build the shadow GDT from the guest's (virtual GDTR) and point the real GDTR at it. The pages
   * of the guest's GDT lose their shadow entries: refilled read-only, every later guest write to
   * its live GDT faults and resyncs the shadow (as VMware's and Xen's shadow code tracked it).
   */
  rebuildGdt(vm: Vm): { compressed: number; omitted: number } {
    const g = vm.v.gdtr;
    const t = buildShadowTable(g.limit, (off) => this.safeRead32(vm, (g.base + off) >>> 0));
    this.slotGuard?.truncateTable(vm, 'gdt', t.bytes);
    vm.shadow.writeTable('gdt', t.bytes);
    this.cpu.gdtBase = vm.shadow.gdtLinear | 0;
    this.cpu.gdtLimit = Math.min(g.limit, 0xffff);
    vm.gdtProtected = true;
    this.protectPages(vm, g.base, g.limit);
    return t;
  }

  /** Drop the shadow entries of the guest-linear pages of a table: they refill read-only. */
  private protectPages(vm: Vm, base: number, limit: number): void {
    const last = (base + Math.min(limit, 0xffff)) >>> 0;
    for (let p = (base & ~0xfff) >>> 0; ; p = (p + 0x1000) >>> 0) {
      if (!vm.shadow.inVmmRegion(p)) {
        vm.shadow.invalidate(p);
        this.cpu.invlpg(p);
      }
      if (p === (last & ~0xfff) >>> 0 || p === 0xfffff000) break;
    }
  }

  /** The guest has an LDT loaded (its pages are write-protected too). */
  private ldtLive(vm: Vm): boolean {
    const l = vm.v.ldtr;
    return vm.gdtProtected && !(l.ar & AR_UNUSABLE) && (l.sel & 0xfffc) !== 0;
  }

  /** True when the guest-linear page of `lin` holds part of the guest's GDT or LDT. */
  protected onGuestGdt(vm: Vm, lin: number): boolean {
    if (!vm.gdtProtected) return false;
    const page = (lin & ~0xfff) >>> 0;
    const g = vm.v.gdtr;
    const l = vm.v.ldtr;
    return pageWithin(page, g.base, g.limit) || (this.ldtLive(vm) && pageWithin(page, l.base, l.limit));
  }

  /**
   * The guest's write to its GDT/LDT completed (or something interrupted it): resync both shadows,
   * protect the pages again, drop the VMM's TF.
   */
  protected finishGdtWrite(vm: Vm): void {
    const cpu = this.cpu;
    vm.gdtStep = false;
    if (!vm.vmmTf) cpu.flags &= ~TF;
    cpu.dr[6] &= ~0x4000;
    this.rebuildGdt(vm);
    if (this.ldtLive(vm)) this.rebuildLdt(vm);
  }

  /** Build the shadow LDT from the guest's (virtual LDTR); its pages are write-protected as well. */
  rebuildLdt(vm: Vm): { compressed: number; omitted: number } {
    const l = vm.v.ldtr;
    const t = buildShadowTable(l.limit, (off) => this.safeRead32(vm, (l.base + off) >>> 0));
    this.slotGuard?.truncateTable(vm, 'ldt', t.bytes);
    vm.shadow.writeTable('ldt', t.bytes);
    this.cpu.setSeg(LDTR, l.sel, vm.shadow.ldtLinear, Math.min(l.limit, 0xffff), 0x82);
    if (this.ldtLive(vm)) this.protectPages(vm, l.base, l.limit);
    return t;
  }

  private safeRead32(vm: Vm, lin: number): number {
    try {
      return vm.mem.read(lin, 4);
    } catch (e) {
      if (e instanceof GuestPageFault) return 0;
      throw e;
    }
  }

  /** After STI: if an interrupt is pending, single-step one instruction (the STI shadow). */
  openInterruptWindow(vm: Vm): void {
    if (vm.devices.pic.hasInterrupt()) {
      vm.vmmTf = true;
      this.cpu.flags |= TF;
      this.cpu.attention = true;
    }
  }

  /** Virtual IF changed by emulation (the real IF stays the VMM's: 1). */
  setVirtualIf(vm: Vm, on: boolean): void {
    vm.v.if = on;
    if (on) vm.lostIf = null; // the VMM's view caught up with the guest's
    keepRealIf(this.cpu);
  }
}

/** Registers an event delivery changes. */
export const MASK_FRAME = regBit('eip') | regBit('cs') | regBit('esp') | regBit('eflags') | regBit('ss');
const MASK_IRET = regBit('eip') | regBit('cs') | regBit('esp') | regBit('eflags');

export { IF };

/** Guest-linear page `page` holds part of the table at `base`/`limit` (a function, not a closure per page fault). */
function pageWithin(page: number, base: number, limit: number): boolean {
  const first = (base & ~0xfff) >>> 0;
  const last = ((base + Math.min(limit, 0xffff)) & ~0xfff) >>> 0;
  return first <= last ? page >= first && page <= last : page >= first || page <= last;
}
