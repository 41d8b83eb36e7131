/**
 * Hardware-assisted virtualization (Intel VT-x, 2005): the guest kernel runs unmodified at real
 * ring 0 in VMX non-root operation, and the CPU itself leaves it (a VM exit) on the events this VMM
 * selected in each VM's VMCS. The VMM — TypeScript code in VMX root operation on the same CPU —
 * reads the exit information with VMREAD, handles the exit against the VM's virtual devices and
 * resumes the guest with VMRESUME. Nothing here executes guest instructions: entries and exits
 * are the CPU's (src/cpu/vmx), driven by the VMCS controls.
 *
 * Paging: `ept` (the CPU walks the guest's page tables and then the VMM's EPT for every guest-
 * physical address) or `shadow` (first-generation VT-x: CR3 load/store, INVLPG and #PF exits keep
 * the shared shadow page tables of vmm/shadow.ts in step; shadow.ts in this folder).
 */

import { CPU_SIGNATURE } from '../../cpu/constants.ts';
import type { Cpu, SilentKind, StopReason, TrapEvent } from '../../cpu/index.ts';
import { CPUID_FEATURES } from '../../cpu/system.ts';
import { F, INTR_HAS_EC, INTR_VALID, PROC, R } from '../../cpu/vmx/fields.ts';
import { TrapAction, TrapFlag, TrapKind } from '../vmm/trap-log.ts';
import type { Vm } from '../vmm/vm.ts';
import type { TechniqueHandler, Vmm } from '../vmm/vmm.ts';
import { type VtxCosts, vtxCosts } from './cost.ts';
import { EptTables } from './ept-build.ts';
import { enterHost, type HostWorld } from './host.ts';
import { shadowCrWrite, shadowExit } from './shadow.ts';
import { captureFields } from './vmcs-info.ts';
import { buildVmcs, type Paging, rd, VmxError, wr } from './vmcs-setup.ts';

const EAX = 0;
const ECX = 1;
const EDX = 2;
const EBX = 3;
const ESP = 4;
const ESI = 6;
const EDI = 7;
const IF = 0x200;

/** A VM's virtual CPU as VT-x leaves it to the VMM: the VMCS plus what the VMCS does not hold. */
export interface VtxVcpu {
  vmcs: number;
  ept: EptTables | null;
  launched: boolean;
  /** General registers (not in the VMCS: the VMM saves them at a world switch), CR2, DR0–3, DR6. */
  regs: Int32Array;
  cr2: number;
  dr: Int32Array;
  exits: number;
  /** The VMCS fields at this VM's latest exit and at the one before (the UI's VMCS panel). */
  atExit: Int32Array | null;
  atPrevExit: Int32Array | null;
}

export class HardwareAssisted implements TechniqueHandler {
  readonly cpu: Cpu;
  readonly host: HostWorld;
  readonly vcpus: VtxVcpu[] = [];
  /** Exits counted so far by the CPU (a new one means run() stopped at an exit). */
  private seen = 0;
  private readonly msrBitmap: number;
  /** Modelled cycles per exit for the VMM's CPU-generation preset (cost.ts). */
  readonly cost: VtxCosts;

  constructor(
    readonly vmm: Vmm,
    readonly paging: Paging,
  ) {
    const cpu = vmm.cpu;
    this.cpu = cpu;
    this.cost = vtxCosts(vmm.cpuModel);
    // VM 0's boot registers are in the CPU already (the VMM loaded them); the others' in `saved`.
    const firstRegs = cpu.getState();
    this.host = enterHost(cpu, vmm.frames, cpu.ram.length);
    const msrBitmap = vmm.frames.alloc();
    this.msrBitmap = msrBitmap;
    for (const vm of vmm.vms) {
      const s = vm.saved ?? firstRegs;
      const ept = paging === 'ept' ? new EptTables(cpu.ram32 as Int32Array, vmm.frames, vm.map) : null;
      const region = vmm.frames.alloc();
      buildVmcs(
        cpu,
        vm,
        region,
        { paging, host: this.host, eptp: ept?.eptp ?? 0, msrBitmap, shadowPd: vm.shadow.pd },
        { eip: s.eip, esp: s.regs[ESP] },
      );
      const regs = new Int32Array(8);
      for (let i = 0; i < 8; i++) regs[i] = s.regs[i];
      this.vcpus.push({
        vmcs: region,
        ept,
        launched: false,
        regs,
        cr2: 0,
        dr: new Int32Array(5),
        exits: 0,
        atExit: null,
        atPrevExit: null,
      });
      vm.saved = null;
      this.syncVirtual(vm);
    }
    this.load(vmm.vms[Math.max(vmm.current, 0)]);
  }

  /**
   * The VM reset itself (keyboard controller / port 0x92; vm.ts has reset its devices and put its
   * boot image and boot registers back): VMCLEAR its VMCS and write the boot protocol's guest state
   * again, so the next entry is a VMLAUNCH of a fresh virtual CPU. Its EPT still maps the same RAM;
   * its VPID's cached translations belong to the old run, so they go (INVVPID single context).
   */
  reboot(vm: Vm): void {
    const cpu = this.cpu;
    const s = vm.saved;
    if (!s) return;
    vm.saved = null;
    const c = this.vcpus[vm.index];
    const cur = this.vmm.currentVm;
    buildVmcs(
      cpu,
      vm,
      c.vmcs,
      {
        paging: this.paging,
        host: this.host,
        eptp: c.ept?.eptp ?? 0,
        msrBitmap: this.msrBitmap,
        shadowPd: vm.shadow.pd,
      },
      { eip: s.eip, esp: s.regs[ESP] },
    );
    if (this.paging === 'ept') cpu.vmx.invvpid(1, vm.index + 1);
    c.launched = false;
    for (let i = 0; i < 8; i++) c.regs[i] = s.regs[i];
    c.cr2 = 0;
    c.dr.fill(0);
    this.syncVirtual(vm);
    if (cur === vm) this.load(vm);
    else if (cur) {
      const st = cpu.vmx.vmptrld(this.vcpus[cur.index].vmcs);
      if (st !== 0) throw new VmxError(`VMPTRLD failed (${st})`);
    }
  }

  private load(vm: Vm): void {
    const c = this.vcpus[vm.index];
    const st = this.cpu.vmx.vmptrld(c.vmcs);
    if (st !== 0) throw new VmxError(`VMPTRLD failed (${st})`);
    for (let i = 0; i < 8; i++) if (i !== ESP) this.cpu.regs[i] = c.regs[i];
    this.cpu.cr2 = c.cr2;
    for (let i = 0; i < 4; i++) this.cpu.dr[i] = c.dr[i];
    this.cpu.dr[6] = c.dr[4];
  }

  private save(vm: Vm): void {
    const c = this.vcpus[vm.index];
    for (let i = 0; i < 8; i++) c.regs[i] = this.cpu.regs[i];
    c.cr2 = this.cpu.cr2;
    for (let i = 0; i < 4; i++) c.dr[i] = this.cpu.dr[i];
    c.dr[4] = this.cpu.dr[6];
  }

  // ---- TechniqueHandler ----

  /** Exceptions reach the VMM only as VM exits; the CPU's monitor hook sees none in non-root. */
  onGuestEvent(vm: Vm, ev: TrapEvent): void {
    this.vmm.vmStop(vm, 'error', `unexpected event ${ev.vector} in VMX root operation`);
  }
  onSilent(_vm: Vm, _kind: SilentKind): void {
    // At real ring 0 in non-root operation nothing is silently lost: the guest owns IF and IOPL.
  }

  switchWorld(from: Vm | null, to: Vm): void {
    if (this.cpu.vmxNonRoot) throw new VmxError('world switch while a guest runs in non-root operation');
    if (from) this.save(from);
    this.load(to);
  }

  /** Enter (VMLAUNCH/VMRESUME) the VM, with the preemption timer set to the VMM's next deadline. */
  beforeRun(vm: Vm): void {
    const cpu = this.cpu;
    if (cpu.vmxNonRoot) return;
    const c = this.vcpus[vm.index];
    const ticks = this.vmm.nextDeadline - this.vmm.pc.clock.now();
    wr(cpu, F.PREEMPTION_TIMER, ticks > 0 && ticks < 0xffffffff ? ticks : ticks <= 0 ? 0 : 0xffffffff);
    const st = c.launched ? cpu.vmx.vmresume() : cpu.vmx.vmlaunch();
    if (st !== 0) {
      this.vmm.vmStop(vm, 'error', `VM entry failed: ${c.launched ? 'VMRESUME' : 'VMLAUNCH'} status ${st}`);
      return;
    }
    c.launched = true;
    if (cpu.vmx.exits !== this.seen) this.afterRun(vm); // the entry itself failed: exit 33
  }

  afterRun(vm: Vm, _stop?: StopReason): void {
    const cpu = this.cpu;
    if (cpu.vmx.exits === this.seen) return;
    this.seen = cpu.vmx.exits;
    const c = this.vcpus[vm.index];
    c.exits++;
    const spare = c.atPrevExit;
    c.atPrevExit = c.atExit;
    if (cpu.vmx.current) c.atExit = captureFields(cpu.vmx.current, spare);
    vm.stats.traps++;
    try {
      this.handleExit(vm);
    } catch (e) {
      this.vmm.vmStop(vm, 'error', `VMM internal error while handling a VM exit: ${(e as Error).message}`);
    }
  }

  /** Inject the VM's pending virtual interrupt at the next entry, or ask for an interrupt window. */
  injectPending(vm: Vm): void {
    const cpu = this.cpu;
    // Only between an exit and the next entry can the VMM touch the VMCS (the guest is running
    // otherwise; its next exit — timer, interrupt, I/O — brings the VMM back here).
    if (cpu.vmxNonRoot || vm.state !== 'runnable') return;
    const proc = rd(cpu, F.PROC_CTLS);
    const pic = vm.devices.pic;
    if (!pic.hasInterrupt()) {
      if (proc & PROC.INT_WINDOW) wr(cpu, F.PROC_CTLS, proc & ~PROC.INT_WINDOW);
      return;
    }
    if (rd(cpu, F.ENTRY_INTR_INFO) & INTR_VALID) return; // an event is already being (re)injected
    const fl = rd(cpu, F.GUEST_RFLAGS);
    if ((fl & IF) === 0 || rd(cpu, F.GUEST_INTERRUPTIBILITY) & 3) {
      // §25.6.1: exit as soon as the guest can take an interrupt.
      if ((proc & PROC.INT_WINDOW) === 0) wr(cpu, F.PROC_CTLS, proc | PROC.INT_WINDOW);
      return;
    }
    if (proc & PROC.INT_WINDOW) wr(cpu, F.PROC_CTLS, proc & ~PROC.INT_WINDOW);
    const irqBase = pic.master.vector(0) & 0xf8;
    const vector = pic.acknowledge();
    const irq = (vector & 0xf8) === irqBase ? vector & 7 : 8 + (vector & 7);
    // §24.8.3: valid, type 0 (external interrupt), vector — delivered by the CPU at VM entry.
    wr(cpu, F.ENTRY_INTR_INFO, INTR_VALID | vector);
    this.withGuestContext(() =>
      this.vmm.record(
        vm,
        TrapKind.Interrupt,
        vector,
        TrapAction.Injected,
        this.cost.inject,
        0,
        irq,
        0,
        0,
        0,
        rd(cpu, F.GUEST_RIP),
      ),
    );
    vm.stats.injected++;
  }

  // ---- exits ----

  /** Guest CR0/CR3/CR4 as the guest sees them, for the VMM's guest-memory walker and the UI. */
  syncVirtual(vm: Vm): void {
    const cpu = this.cpu;
    const cr0 = rd(cpu, F.GUEST_CR0);
    const m0 = rd(cpu, F.CR0_MASK);
    vm.v.cr0 = ((cr0 & ~m0) | (rd(cpu, F.CR0_SHADOW) & m0)) >>> 0;
    const cr4 = rd(cpu, F.GUEST_CR4);
    const m4 = rd(cpu, F.CR4_MASK);
    vm.v.cr4 = ((cr4 & ~m4) | (rd(cpu, F.CR4_SHADOW) & m4)) >>> 0;
    if (this.paging === 'ept') vm.v.cr3 = rd(cpu, F.GUEST_CR3) >>> 0;
    vm.v.if = (rd(cpu, F.GUEST_RFLAGS) & IF) !== 0;
  }

  /** Records are attributed to the guest's CS and CPL (the CPU holds the host's after an exit). */
  withGuestContext(f: () => void): void {
    const cpu = this.cpu;
    this.vmm.eventCs = rd(cpu, F.GUEST_CS_SEL);
    this.vmm.eventCpl = (rd(cpu, F.GUEST_SS_AR) >>> 5) & 3;
    try {
      f();
    } finally {
      this.vmm.eventCs = -1;
    }
  }

  private advance(len: number): void {
    const cpu = this.cpu;
    wr(cpu, F.GUEST_RIP, (rd(cpu, F.GUEST_RIP) + len) >>> 0);
    const intr = rd(cpu, F.GUEST_INTERRUPTIBILITY);
    if (intr & 3) wr(cpu, F.GUEST_INTERRUPTIBILITY, intr & ~3); // blocking by STI/MOV SS ends (§24.4.2)
  }

  /** Queue a hardware exception for the next VM entry (§24.8.3, type 3). */
  injectException(vec: number, code = -1): void {
    const cpu = this.cpu;
    wr(cpu, F.ENTRY_INTR_INFO, INTR_VALID | (3 << 8) | vec | (code >= 0 ? INTR_HAS_EC : 0));
    if (code >= 0) wr(cpu, F.ENTRY_EXC_EC, code);
  }

  /** A guest GPR as it was at the exit (ESP lives in the VMCS). */
  gpr(i: number): number {
    return i === ESP ? rd(this.cpu, F.GUEST_RSP) : this.cpu.regs[i];
  }
  setGpr(i: number, v: number): void {
    if (i === ESP) wr(this.cpu, F.GUEST_RSP, v);
    else this.cpu.regs[i] = v;
  }

  private handleExit(vm: Vm): void {
    const cpu = this.cpu;
    const full = rd(cpu, F.EXIT_REASON);
    const reason = full & 0xffff;
    const qual = rd(cpu, F.EXIT_QUAL);
    const len = rd(cpu, F.EXIT_INSTR_LEN);
    const rip = rd(cpu, F.GUEST_RIP) >>> 0;
    const lin = (rd(cpu, F.GUEST_CS_BASE) + rip) | 0;
    this.syncVirtual(vm);
    // An exit while the CPU delivered an event (IDT-vectoring information, §27.2.4): deliver it again.
    const vec = rd(cpu, F.IDT_VEC_INFO);
    if (vec & INTR_VALID) {
      wr(cpu, F.ENTRY_INTR_INFO, vec & ~0x1000);
      if (vec & INTR_HAS_EC) wr(cpu, F.ENTRY_EXC_EC, rd(cpu, F.IDT_VEC_EC));
      wr(cpu, F.ENTRY_INSTR_LEN, len);
    }
    let action: TrapAction = TrapAction.Emulated;
    let cost: number = this.cost.exit;
    let gpa = 0;
    let value = 0;
    let flags = 0;
    let withBytes = len > 0;
    switch (reason) {
      case R.EXT_INT:
      case R.PREEMPT_TIMER:
        // The VMM's own clock: the physical timer (its scheduler tick) or a virtual device deadline.
        action = TrapAction.None;
        break;
      case R.INT_WINDOW:
        wr(cpu, F.PROC_CTLS, rd(cpu, F.PROC_CTLS) & ~PROC.INT_WINDOW);
        action = TrapAction.Injected;
        break;
      case R.CPUID:
        this.cpuid();
        this.advance(len);
        cost += this.cost.cpuid;
        break;
      case R.HLT: {
        this.advance(len);
        cost += this.cost.halt;
        if ((rd(cpu, F.GUEST_RFLAGS) & IF) === 0) {
          // The guest owns RFLAGS.IF in non-root operation: nothing was lost, so this is the guest's
          // own `cli; hlt` power-off (vm.ts powerOff), exactly as on the native machine.
          vm.powerOff('HLT with interrupts disabled (RFLAGS.IF = 0)');
          action = TrapAction.Stopped;
        } else if (!vm.devices.pic.hasInterrupt()) {
          vm.state = 'blocked';
          action = TrapAction.Blocked;
        }
        break;
      }
      case R.IO:
        value = this.io(vm, qual);
        cost += this.cost.portIo;
        flags = (qual & 8 ? 0 : TrapFlag.Out) | (qual & 16 ? TrapFlag.String : 0);
        this.advance(len);
        break;
      case R.CR_ACCESS: {
        const r = this.crAccess(vm, qual);
        value = r.value;
        action = r.action;
        cost += r.cost;
        break;
      }
      case R.EPT_VIOLATION: {
        gpa = rd(cpu, F.GUEST_PHYS_ADDR) >>> 0;
        const ept = this.vcpus[vm.index].ept;
        if (!ept || vm.map.isRam(gpa)) {
          this.vmm.vmStop(
            vm,
            'error',
            `EPT violation at guest-physical 0x${gpa.toString(16)} (qualification 0x${qual.toString(16)})`,
          );
          action = TrapAction.Stopped;
          break;
        }
        // Unbacked guest-physical memory (the PC hole, beyond RAM): reads see the all-ones page,
        // writes go to this VM's sink page. The instruction restarts (RIP unchanged).
        value = ept.mapUnbacked(gpa, (qual & 2) !== 0);
        cpu.vmx.invept(1, ept.eptp);
        action = TrapAction.ShadowFill;
        cost += this.cost.eptFill;
        withBytes = true;
        break;
      }
      case R.EXCEPTION: {
        const r = shadowExit(this, vm, qual);
        action = r.action;
        cost += r.cost;
        value = rd(cpu, F.EXIT_INTR_INFO);
        gpa = r.gpa;
        withBytes = true;
        break;
      }
      case R.INVLPG: {
        const r = shadowExit(this, vm, qual, true);
        this.advance(len);
        action = r.action;
        cost += r.cost;
        break;
      }
      case R.TRIPLE_FAULT:
        this.vmm.vmShutdown(vm, `triple fault in the guest at 0x${rip.toString(16)} (VM exit 2)`);
        action = TrapAction.Stopped;
        break;
      case R.INVALID_GUEST:
        this.vmm.vmStop(vm, 'error', `VM entry failed, invalid guest state: ${cpu.vmx.entryFailureDetail}`);
        action = TrapAction.Stopped;
        withBytes = false;
        break;
      case R.VMCALL:
      case R.VMCLEAR:
      case R.VMLAUNCH:
      case R.VMPTRLD:
      case R.VMPTRST:
      case R.VMREAD:
      case R.VMRESUME:
      case R.VMWRITE:
      case R.VMXOFF:
      case R.VMXON:
      case R.INVEPT:
        // No nested virtualization and no hypercalls: the guest sees VMX as absent (#UD).
        this.injectException(6);
        action = TrapAction.Reflected;
        break;
      default:
        this.vmm.vmStop(vm, 'unsupported', `VM exit ${reason} is not handled by this VMM`);
        action = TrapAction.Stopped;
    }
    this.withGuestContext(() => {
      this.vmm.record(vm, TrapKind.VmExit, reason, action, cost, flags, qual, gpa, len, value, rip);
      if (withBytes) {
        // The exit information gives the instruction's length (§27.2.5); fault-like exits don't.
        if (len > 0) this.vmm.log.setInstruction(vm.mem.fetch(lin, len), 0, len);
        else this.vmm.recordBytes(vm, lin);
      }
    });
  }

  /** CPUID as the physical CPU answers, minus VMX (no nested virtualization). */
  private cpuid(): void {
    const r = this.cpu.regs;
    if (r[EAX] >>> 0 === 0) {
      r[EAX] = 1;
      r[EBX] = 0x756e6547;
      r[EDX] = 0x49656e69;
      r[ECX] = 0x6c65746e;
    } else {
      r[EAX] = CPU_SIGNATURE;
      r[EBX] = 0;
      r[ECX] = 0;
      r[EDX] = CPUID_FEATURES;
    }
  }

  /** I/O exit (qualification §27.2.1 Table 27-5) → the VM's own devices. Returns the value moved. */
  private io(vm: Vm, q: number): number {
    const cpu = this.cpu;
    const size = (q & 7) + 1;
    const isIn = (q & 8) !== 0;
    const port = q >>> 16;
    const bus = vm.io;
    const inp = (): number => (size === 1 ? bus.in8(port) : size === 2 ? bus.in16(port) : bus.in32(port));
    const outp = (v: number): void => {
      if (size === 1) bus.out8(port, v & 0xff);
      else if (size === 2) bus.out16(port, v & 0xffff);
      else bus.out32(port, v);
    };
    if ((q & 16) === 0) {
      if (isIn) {
        const v = inp();
        const mask = size === 4 ? -1 : (1 << (size * 8)) - 1;
        cpu.regs[EAX] = (cpu.regs[EAX] & ~mask) | (v & mask);
        return v;
      }
      const v = cpu.regs[EAX] & (size === 4 ? -1 : (1 << (size * 8)) - 1);
      outp(v);
      return v;
    }
    // INS/OUTS: the CPU gave the string operand's guest-linear address; the VMM walks the guest's
    // page tables to reach it (vm.mem), element by element, as the instruction would.
    const info = rd(cpu, F.EXIT_INSTR_INFO);
    const a32 = ((info >>> 7) & 7) === 1;
    const rep = (q & 32) !== 0;
    const df = (rd(cpu, F.GUEST_RFLAGS) & 0x400) !== 0;
    let count = rep ? (a32 ? cpu.regs[ECX] >>> 0 : cpu.regs[ECX] & 0xffff) : 1;
    let linAddr = rd(cpu, F.GUEST_LINEAR_ADDR);
    const step = df ? -size : size;
    const idx = isIn ? EDI : ESI;
    let last = 0;
    while (count > 0) {
      if (isIn) {
        last = inp();
        vm.mem.write(linAddr, size, last);
      } else {
        last = vm.mem.read(linAddr, size);
        outp(last);
      }
      linAddr = (linAddr + step) | 0;
      const nv = this.gpr(idx) + step;
      this.setGpr(idx, a32 ? nv : (this.gpr(idx) & ~0xffff) | (nv & 0xffff));
      count--;
      if (rep) cpu.regs[ECX] = a32 ? count : (cpu.regs[ECX] & ~0xffff) | count;
    }
    return last;
  }

  /** Control-register access (§27.2.1 Table 27-3): the VMM's CR0/CR4 bits and, with shadow paging, CR3. */
  private crAccess(vm: Vm, q: number): { value: number; action: TrapAction; cost: number } {
    const cpu = this.cpu;
    const cr = q & 15;
    const type = (q >>> 4) & 3;
    const gpr = (q >>> 8) & 15;
    const len = rd(cpu, F.EXIT_INSTR_LEN);
    let value: number;
    if (type === 0) value = this.gpr(gpr);
    else if (type === 1) {
      // MOV from CR3 (shadow paging): the guest's own CR3.
      value = vm.v.cr3;
      this.setGpr(gpr, value);
      this.advance(len);
      return { value, action: TrapAction.Emulated, cost: this.cost.crRead };
    } else if (type === 2) value = vm.v.cr0 & ~8;
    else value = (vm.v.cr0 & ~0xe) | ((q >>> 16) & 0xf) | (vm.v.cr0 & 1);
    const target = type >= 2 ? 0 : cr;
    const fault = shadowCrWrite(this, vm, target, value);
    if (fault) {
      this.injectException(13, 0);
      return { value, action: TrapAction.Reflected, cost: this.cost.crWrite };
    }
    this.advance(len);
    return { value, action: TrapAction.Emulated, cost: this.cost.crWrite };
  }

  /** Each exit costs the hardware round trip; CPUID etc. add the VMM's work (cost.ts). */
  get exitCount(): number {
    return this.cpu.vmx.exits;
  }
}
