/**
 * Paravirtualization, Xen-style (Barham et al., SOSP 2003): the guest kernel knows it runs on a
 * hypervisor. It runs in ring 1 on purpose, its processes in ring 3, and instead of privileged
 * instructions it makes hypercalls (INT 0x82, Xen's x86_32 numbers: hypercalls.ts). Its page
 * tables are the real ones, validated and read-only to it (direct paging: pagetables.ts). Its
 * interrupts are events: the virtual timer and console set bits in the shared info page and the
 * hypervisor upcalls into the guest's event callback when the guest's upcall mask (its virtual
 * IF, a plain memory byte) allows. Exceptions are "bounced" to the guest's virtual IDT (its trap
 * table); INT 0x80 from ring 3 goes through the real IDT straight to the guest kernel — system
 * calls never enter the hypervisor. A privileged instruction the guest still executes faults
 * (#GP) and is reflected to it like any other exception: nothing is emulated.
 */
import { type Cpu, EventKind, instructionLength, type SilentKind, type TrapEvent } from '../../cpu/index.ts';
import { NS_PER_TICK, type Timer } from '../../machine/clock.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import { AR_CODE, AR_RW } from '../vmm/descriptors.ts';
import { regBit, TrapAction, TrapFlag, TrapKind } from '../vmm/trap-log.ts';
import type { Vm } from '../vmm/vm.ts';
import type { TechniqueHandler, Vmm } from '../vmm/vmm.ts';
import { HYPERCALL_VECTOR, SH, TI_MASK_EVENTS, VIRQ } from './abi.ts';
import { buildDomain } from './build.ts';
import { type PvCosts, pvCosts } from './costs.ts';
import { DomainCrash, PvDomain } from './domain.ts';
import type { PvGuestHeader } from './guest-header.ts';
import { Hypercalls } from './hypercalls.ts';
import { DirectPaging } from './pagetables.ts';

const CS = 1;
const SS = 2;
const ESP = 4;
const EAX = 0;
const IF = 0x200;
const IOPL = 0x3000;
const TF = 0x100;
const NT = 0x4000;
const RF = 0x10000;
const VM_FLAG = 0x20000;
/** The upcall record's reason when no event port is named. */
const UPCALL_VECTOR = -1;

/** The length the disassembler would give (a cut-short instruction: the bytes there are). */
function insnLength(bytes: Uint8Array): number {
  const n = instructionLength(bytes, 0, 32);
  return n === 0 ? Math.max(1, bytes.length) : Math.abs(n);
}

export const MASK_FRAME = regBit('eip') | regBit('cs') | regBit('esp') | regBit('eflags') | regBit('ss');

export class Paravirtual implements TechniqueHandler {
  readonly cpu: Cpu;
  readonly domains: PvDomain[] = [];
  readonly paging: DirectPaging[] = [];
  readonly timers: Timer[] = [];
  /** INT 0x80 is installed in the real IDT (a direct trap) for this VM. */
  readonly direct: boolean[] = [];
  readonly calls: Hypercalls;
  /** Modelled cycles for the VMM's CPU-generation preset (costs.ts). */
  readonly cost: PvCosts;

  constructor(
    readonly vmm: Vmm,
    boot: BootImage,
    readonly header: PvGuestHeader,
  ) {
    this.cpu = vmm.cpu;
    this.cost = pvCosts(vmm.cpuModel);
    this.calls = new Hypercalls(this);
    const ram = vmm.pc.memory.ram;
    const zero = vmm.frames.alloc();
    for (const vm of vmm.vms) {
      const d = new PvDomain(vm, this.cpu, ram, vmm.frames, zero);
      const pt = new DirectPaging(d);
      const b = buildDomain(d, pt, boot, header);
      this.domains.push(d);
      this.paging.push(pt);
      this.direct.push(false);
      if (vmm.current === vm.index) {
        b.state.instructions = this.cpu.instructions;
        b.state.msr.tscOffset = this.cpu.tscOffset;
        this.cpu.setState(b.state);
        vm.saved = null;
      } else vm.saved = b.state;
      this.timers.push(
        vm.clock.createTimer('pv timer', () => {
          this.raiseVirq(d, VIRQ.timer);
          if (vm.state === 'blocked') vm.state = 'runnable';
        }),
      );
      // The console backend: the VM's own 16550 receives the user's input and raises IRQ 4 on its
      // own 8259A, which wakes the VM; the hypervisor turns it into a console event (injectPending).
      const io = vm.io;
      for (const [port, v] of [
        [0x20, 0x11],
        [0x21, 0x20],
        [0x21, 0x04],
        [0x21, 0x01],
        [0x21, 0xef],
        [0xa0, 0x11],
        [0xa1, 0x28],
        [0xa1, 0x02],
        [0xa1, 0x01],
        [0xa1, 0xff],
        [0x3fb, 0x03],
        [0x3fa, 0x07],
        [0x3f9, 0x01],
        [0x3fc, 0x08],
      ])
        io.out8(port, v);
    }
  }

  /** INT 0x80 from the guest goes through the real IDT when the guest installed it as a direct trap. */
  passThrough(vm: Vm, ev: TrapEvent): boolean {
    return ev.kind === EventKind.Software && ev.vector === 0x80 && this.direct[vm.index];
  }

  onGuestEvent(vm: Vm, ev: TrapEvent): void {
    const cpu = this.cpu;
    const d = this.domains[vm.index];
    this.vmm.eventCpl = cpu.cpl;
    this.vmm.eventCs = cpu.segSel[CS];
    try {
      if (ev.kind === EventKind.Software && ev.vector === HYPERCALL_VECTOR && cpu.cpl === 1) {
        this.hypercall(vm, d, ev);
      } else if (ev.kind === EventKind.Software) {
        const t = d.traps[ev.vector];
        // INT n checks the virtual gate's DPL as the hardware would (#GP with the IDT bit set).
        if (!t || (t.flags & 3) < cpu.cpl)
          this.reflect(vm, d, 13, (ev.vector << 3) | 2, ev.instrEip, ev.instrEip);
        else this.reflect(vm, d, ev.vector, -1, ev.eip, ev.instrEip);
      } else {
        if (ev.vector === 14) d.cr2 = ev.faultAddr;
        this.reflect(vm, d, ev.vector, ev.errorCode, ev.eip, ev.instrEip);
      }
    } catch (e) {
      if (e instanceof DomainCrash) this.crash(vm, e.message);
      else throw e;
    } finally {
      this.vmm.eventCs = -1;
    }
    if (vm.state === 'runnable') this.injectPending(vm);
    if (vm.state !== 'runnable') this.vmm.requestStop();
  }

  /** Silent events are trap-and-emulate's problem: a PV kernel does not rely on what they hide. */
  onSilent(_vm: Vm, _kind: SilentKind, _eip: number, _cpl: number, _value: number, _extra: number): void {}

  private hypercall(vm: Vm, d: PvDomain, ev: TrapEvent): void {
    const cpu = this.cpu;
    const r = cpu.regs;
    const nr = r[EAX] >>> 0;
    const args = [r[3] >>> 0, r[1] >>> 0, r[2] >>> 0, r[6] >>> 0, r[7] >>> 0]; // EBX ECX EDX ESI EDI
    cpu.ip = ev.eip >>> 0;
    cpu.eip = cpu.ip;
    d.updateTime(this.vmm.timeNs, 0);
    this.calls.call(vm, d, nr, args, false, ev.instrEip);
  }

  /** Log one hypercall (kind 8): number, three decoded arguments, the result, its cost. */
  logHypercall(
    vm: Vm,
    nr: number,
    decoded: readonly number[],
    result: number,
    cost: number,
    eip: number,
    action: number = TrapAction.Emulated,
  ): void {
    this.vmm.record(
      vm,
      TrapKind.Hypercall,
      nr,
      action as (typeof TrapAction)[keyof typeof TrapAction],
      cost,
      0,
      decoded[0] ?? 0,
      decoded[1] ?? 0,
      decoded[2] ?? 0,
      result,
      eip,
    );
  }

  /** Reflect an exception or INT n to the guest's handler in its trap table (a bounce frame). */
  reflect(vm: Vm, d: PvDomain, vector: number, code: number, retEip: number, instrEip: number): void {
    const t = d.traps[vector];
    this.vmm.record(
      vm,
      TrapKind.GuestException,
      vector,
      TrapAction.Reflected,
      this.cost.reflect,
      code >= 0 ? TrapFlag.HasErrorCode : 0,
      vector === 14 ? d.cr2 : 0,
      Math.max(code, 0),
      0,
      0,
      instrEip,
    );
    const bytes = d.readBytes((this.cpu.segBase[CS] + instrEip) >>> 0, 15);
    if (bytes) this.vmm.log.setInstruction(bytes, 0, insnLength(bytes));
    vm.stats.reflected++;
    if (!t) throw new DomainCrash(`vector ${vector} has no handler in the guest's trap table`);
    this.bounce(d, t.cs, t.address, (t.flags & TI_MASK_EVENTS) !== 0, code, retEip);
    this.vmm.log.setRegMask(MASK_FRAME | (vector === 14 ? regBit('cr2') : 0));
  }

  /**
   * Xen's create_bounce_frame: push an exception frame on the guest kernel stack (switching to the
   * stack_switch stack when the guest was in ring 3) and enter the handler in ring 1. The frame's
   * EFLAGS.IF is the *virtual* IF (!upcall mask) and the saved mask rides in CS bits 16–23.
   */
  bounce(d: PvDomain, cs: number, eip: number, maskEvents: boolean, code: number, retEip: number): void {
    const cpu = this.cpu;
    const fromUser = cpu.cpl === 3;
    const ss = fromUser ? d.kernelSs : cpu.segSel[SS];
    const sp0 = fromUser ? d.kernelSp : cpu.regs[ESP] >>> 0;
    if (fromUser && !ss)
      throw new DomainCrash('an event from ring 3 but no kernel stack (stack_switch was never called)');
    const csD = d.descriptor(cs);
    if (!csD || (csD.ar & AR_CODE) === 0 || csD.dpl !== 1)
      throw new DomainCrash(`handler selector 0x${cs.toString(16)} is not a ring-1 code segment`);
    const ssD = d.descriptor(ss);
    if (!ssD || ssD.ar & AR_CODE || (ssD.ar & AR_RW) === 0 || ssD.dpl !== 1)
      throw new DomainCrash(`kernel stack selector 0x${ss.toString(16)} is not a ring-1 data segment`);
    const savedMask = d.mask ? 1 : 0;
    const flags = ((cpu.getEflags() & ~(IF | IOPL)) | (savedMask ? 0 : IF)) >>> 0;
    const words: number[] = [];
    if (fromUser) words.push(cpu.segSel[SS], cpu.regs[ESP] >>> 0);
    words.push(flags, (cpu.segSel[CS] | (savedMask << 16)) >>> 0, retEip >>> 0);
    if (code >= 0) words.push(code >>> 0);
    let sp = (ssD.base + sp0) >>> 0;
    for (let i = 0; i < words.length; i++) {
      sp = (sp - 4) >>> 0;
      if (!d.write(sp, words[i]))
        throw new DomainCrash(
          `cannot push an exception frame: kernel stack 0x${sp.toString(16)} is not mapped writable`,
        );
    }
    if (fromUser) cpu.setCpl(1);
    cpu.setSeg(SS, ss, ssD.base, ssD.limit, ssD.ar | 1);
    cpu.regs[ESP] = (sp - ssD.base) >>> 0;
    cpu.setSeg(CS, cs, csD.base, csD.limit, csD.ar | 1);
    cpu.ip = eip >>> 0;
    cpu.eip = cpu.ip;
    cpu.materialize();
    cpu.flags = (cpu.flags & ~(TF | NT | RF | VM_FLAG)) | IF;
    if (maskEvents) d.mask = true;
  }

  /** Stop a domain the way Xen's domain_crash would (the others carry on). */
  crash(vm: Vm, why: string): void {
    this.vmm.vmStop(vm, 'shutdown', `the paravirtual guest crashed: ${why}`);
  }

  // ---- events ----

  /** Set an event channel pending (xen/common/event_channel.c evtchn_set_pending). */
  raiseVirq(d: PvDomain, virq: number): void {
    const port = d.virqPort[virq];
    if (!port) return;
    const s = d.sharedInfo;
    const w = port >>> 5;
    const bit = 1 << (port & 31);
    const pend = d.r32(s + SH.evtchn_pending + w * 4);
    if (pend & bit) return;
    d.w32(s + SH.evtchn_pending + w * 4, pend | bit);
    if (d.r32(s + SH.evtchn_mask + w * 4) & bit) return;
    const sel = d.r32(s + SH.pending_sel);
    d.w32(s + SH.pending_sel, sel | (1 << w));
    d.w8(s + SH.upcall_pending, 1);
  }

  /** At a boundary or after an event: console input becomes an event; a pending event an upcall. */
  injectPending(vm: Vm): void {
    const d = this.domains[vm.index];
    const pic = vm.devices.pic;
    if (pic.hasInterrupt()) {
      pic.acknowledge();
      vm.io.out8(0x20, 0x20);
      let got = false;
      for (let guard = 0; guard < 4096 && vm.io.in8(0x3fd) & 1; guard++) {
        d.rx.push(vm.io.in8(0x3f8));
        got = true;
      }
      if (got) this.raiseVirq(d, VIRQ.console);
    }
    if (vm.state !== 'runnable' || this.vmm.current !== vm.index) return;
    if (!d.pending || d.mask || !d.eventCallback.cs) return;
    this.upcall(vm, d);
  }

  private upcall(vm: Vm, d: PvDomain): void {
    const cpu = this.cpu;
    const s = d.sharedInfo;
    d.updateTime(this.vmm.timeNs, 0);
    const pend = d.r32(s + SH.evtchn_pending) & ~d.r32(s + SH.evtchn_mask);
    const port = pend ? 31 - Math.clz32(pend & -pend) : 0;
    const virq = port ? d.portVirq[port] : UPCALL_VECTOR;
    const wasCs = this.vmm.eventCs;
    this.vmm.eventCs = cpu.segSel[CS];
    this.vmm.eventCpl = cpu.cpl;
    // reason: the lowest pending port's VIRQ; details: pending bits, selector, port.
    this.vmm.record(
      vm,
      TrapKind.Upcall,
      virq < 0 ? 255 : virq,
      TrapAction.Injected,
      this.cost.upcall,
      0,
      d.r32(s + SH.evtchn_pending),
      d.r32(s + SH.pending_sel),
      port,
      0,
      cpu.ip >>> 0,
    );
    this.vmm.eventCs = wasCs;
    try {
      // At a boundary `ip` is the next instruction (`eip` may still name the last one).
      this.bounce(d, d.eventCallback.cs, d.eventCallback.eip, true, -1, cpu.ip >>> 0);
      d.upcalls++;
      vm.stats.injected++;
      this.vmm.log.setRegMask(MASK_FRAME);
    } catch (e) {
      if (e instanceof DomainCrash) this.crash(vm, e.message);
      else throw e;
    }
  }

  /** set_timer_op: a one-shot virtual timer at absolute system time `ns` (0 cancels). */
  setTimer(vm: Vm, ns: number): void {
    const t = this.timers[vm.index];
    if (ns === 0) t.clear();
    else t.set(Math.max(Math.ceil(ns / NS_PER_TICK), 0));
  }
}
