/**
 * Type 2 hosting: a host OS (minikernel built with -DHOST) boots first on the physical PC and owns
 * it; the VMM (any technique's VmmRunner) runs only when the host's hypervisor driver enters its
 * world through the world-switch gate. See README.md in this folder for the whole path.
 *
 * The two worlds share the one physical CPU. In the host world the CPU runs the host natively
 * (the physical Pc's own run loop, the host's IDT, no VMM monitor except a passive observer of the
 * VMApp's system calls); in the VMM world it runs the technique exactly as under Type 1. A world
 * switch is a full getState/setState of the CPU plus the swap of the monitor hooks.
 */
import {
  type CpuState,
  EventKind,
  type Monitor,
  MonitorAction,
  type SilentObserver,
} from '../../cpu/index.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import type { VmmRunner } from '../vmm/runner.ts';
import { TrapAction, TrapKind } from '../vmm/trap-log.ts';
import { HostExit, type Vmm, type VmmResult } from '../vmm/vmm.ts';
import { HOST_COST } from './costs.ts';

/** The world-switch gate: `out dx, eax` (ring 0) with EAX = the cross page's physical address. */
export const HOST_SWITCH_PORT = 0x0700;
/** The cross page (guests/minikernel/host.h): offsets of its fields. */
const XP_MAGIC = 0x31475058;
const XP = { magic: 0, op: 4, reason: 8, vector: 12, status: 16, inLen: 20, outLen: 24, in: 32 } as const;
const XP_IN = 256;
const XP_OUT = 1024;
const XP_OUT_AT = XP.in + XP_IN;
const OP_RUN = 1;
const OP_CLOSE = 2;
/** minikernel's system-call vector and the COM2 file descriptor VMApp uses for the guest's line. */
const SYSCALL_VECTOR = 0x80;

/** The hosted path's counters (all from events that really happened in this run). */
export interface HostingCounters {
  /** World switches host → VMM and VMM → host. */
  toVmm: number;
  toHost: number;
  /** System calls the VMApp made (write, read, vmrun, sleep…). */
  hostSyscalls: number;
  /** Host interrupts that arrived in the VMM world and were forwarded. */
  hostInterrupts: number;
  /** World switches back to the host because the guest produced console output / went idle. */
  outputExits: number;
  idleExits: number;
  /** Guest console bytes carried VMM → host and host → VMM. */
  bytesOut: number;
  bytesIn: number;
  /** Physical instructions retired in each world. */
  hostInstructions: number;
  vmmInstructions: number;
}

export class HostedMachine {
  world: 'host' | 'vmm' = 'host';
  /** The VMApp closed the VM after it stopped: the run is over. */
  closed = false;
  readonly counters: HostingCounters = {
    toVmm: 0,
    toHost: 0,
    hostSyscalls: 0,
    hostInterrupts: 0,
    outputExits: 0,
    idleExits: 0,
    bytesOut: 0,
    bytesIn: 0,
    hostInstructions: 0,
    vmmInstructions: 0,
  };
  /** The host kernel's cross page (physical), learnt at the first gate crossing. */
  crossPage = -1;
  /** The VMApp's address space (CR3 when its driver call crossed the gate). */
  vmappCr3 = -1;
  private readonly vmm: Vmm;
  private vmmState: CpuState;
  private hostState: CpuState | null = null;
  private readonly vmmMonitor: Monitor | null;
  private readonly vmmObserver: SilentObserver | null;
  private readonly hostMonitor: Monitor;
  private gate = -1;
  private pendingOut: number[] = [];
  private stopOnTrap = false;
  private worldStart = 0;

  constructor(
    readonly inner: VmmRunner,
    hostBoot: BootImage,
  ) {
    const vmm = inner.vmm;
    this.vmm = vmm;
    const cpu = vmm.cpu;
    // The VMM world as its constructor left it (VM 0 loaded, or the VMX root state).
    this.vmmMonitor = cpu.monitor;
    this.vmmObserver = cpu.observer;
    this.vmmState = cpu.getState();
    this.hostMonitor = { onEvent: (ev) => this.hostEvent(ev.kind, ev.vector, ev.instrEip) };
    vmm.pc.io.register(
      HOST_SWITCH_PORT,
      4,
      {
        write32: (_p, v) => this.gateCrossed(v),
        read32: () => 0xffffffff,
        read8: () => 0xff,
      },
      'world-switch gate (Type 2 VMM)',
    );
    // The host OS boots first, natively, on the physical PC.
    cpu.monitor = this.hostMonitor;
    cpu.observer = null;
    vmm.pc.load(hostBoot);
    this.worldStart = cpu.instructions;
  }

  /** The host kernel's driver executed OUT to the gate: stop the CPU after it; switch worlds. */
  private gateCrossed(addr: number): void {
    if (this.world !== 'host' || this.vmm.cpu.cpl !== 0) return;
    this.gate = addr >>> 0;
    this.vmm.requestStop();
  }

  /** Passive host-world monitor: every event goes through the host's IDT; VMApp's syscalls are logged. */
  private hostEvent(kind: EventKind, vector: number, eip: number): MonitorAction {
    const cpu = this.vmm.cpu;
    if (kind === EventKind.Software && vector === SYSCALL_VECTOR && cpu.cr3 === this.vmappCr3) {
      const r = cpu.regs;
      this.counters.hostSyscalls++;
      this.vmm.record(
        this.vmm.vms[0],
        TrapKind.HostSyscall,
        r[0] >>> 0,
        TrapAction.None,
        HOST_COST.hostSyscall,
        0,
        r[3],
        r[1],
        r[2],
        0,
        eip,
      );
      if (this.stopOnTrap) this.vmm.requestStop();
    }
    return MonitorAction.Reflect;
  }

  private ram32(addr: number): number {
    const m = this.vmm.pc.memory.ram;
    return (m[addr] | (m[addr + 1] << 8) | (m[addr + 2] << 16) | (m[addr + 3] << 24)) >>> 0;
  }
  private wr32(addr: number, v: number): void {
    const m = this.vmm.pc.memory.ram;
    m[addr] = v & 0xff;
    m[addr + 1] = (v >>> 8) & 0xff;
    m[addr + 2] = (v >>> 16) & 0xff;
    m[addr + 3] = (v >>> 24) & 0xff;
  }

  private crossPageOk(xp: number): boolean {
    const ram = this.vmm.pc.memory.ram;
    return xp > 0 && xp + 4096 <= ram.length && (xp & 0xfff) === 0 && this.ram32(xp + XP.magic) === XP_MAGIC;
  }

  /** Host → VMM: save the whole host CPU state, load the VMM world's. */
  private enterVmm(): void {
    const xp = this.gate;
    this.gate = -1;
    const vmm = this.vmm;
    const cpu = vmm.cpu;
    if (!this.crossPageOk(xp)) return; // not a cross page: the OUT did nothing
    this.crossPage = xp;
    this.vmappCr3 = cpu.cr3 >>> 0;
    const op = this.ram32(xp + XP.op);
    if (op === OP_CLOSE) {
      this.closed = true;
      return;
    }
    if (op !== OP_RUN) return;
    const inLen = Math.min(this.ram32(xp + XP.inLen), XP_IN);
    if (inLen > 0) {
      this.inner.sendSerial(0, vmm.pc.memory.ram.slice(xp + XP.in, xp + XP.in + inLen));
      this.counters.bytesIn += inLen;
    }
    this.counters.hostInstructions += cpu.instructions - this.worldStart;
    this.worldStart = cpu.instructions;
    this.hostState = cpu.getState();
    cpu.monitor = this.vmmMonitor;
    cpu.observer = this.vmmObserver;
    const s = this.vmmState;
    // Time and the TSC are physical: they run on across the switch.
    s.instructions = cpu.instructions;
    s.msr.tscOffset = cpu.tscOffset;
    cpu.setState(s);
    this.world = 'vmm';
    vmm.hostExit = null;
    this.counters.toVmm++;
    vmm.record(
      vmm.vms[0],
      TrapKind.HostWorldSwitch,
      0,
      TrapAction.Switched,
      HOST_COST.worldSwitch,
      0,
      0,
      inLen,
      0,
      0,
    );
    // Output the host has not taken yet (more than one cross page's worth): straight back.
    if (this.pendingOut.length > 0) vmm.exitToHost(HostExit.Output);
  }

  /** VMM → host: hand back what the host must do, save the VMM world, reload the host. */
  private leaveVmm(): void {
    const vmm = this.vmm;
    const cpu = vmm.cpu;
    const why = vmm.hostExit ?? { reason: HostExit.Output, vector: 0 };
    vmm.hostExit = null;
    const vm0 = vmm.vms[0];
    for (const v of vmm.vms) for (const b of v.console.take()) this.pendingOut.push(b);
    const n = Math.min(this.pendingOut.length, XP_OUT);
    const xp = this.crossPage;
    const ram = vmm.pc.memory.ram;
    for (let i = 0; i < n; i++) ram[xp + XP_OUT_AT + i] = this.pendingOut[i];
    this.pendingOut.splice(0, n);
    this.counters.bytesOut += n;
    if (why.reason === HostExit.Interrupt) {
      this.counters.hostInterrupts++;
      vmm.record(
        vm0,
        TrapKind.HostInterrupt,
        why.vector,
        TrapAction.None,
        HOST_COST.hostInterrupt,
        0,
        why.vector - 0x20,
        0,
        0,
        0,
      );
    } else if (why.reason === HostExit.Output) this.counters.outputExits++;
    else if (why.reason === HostExit.Idle) this.counters.idleExits++;
    this.counters.toHost++;
    vmm.record(
      vm0,
      TrapKind.HostWorldSwitch,
      why.reason,
      TrapAction.Switched,
      HOST_COST.worldSwitch,
      0,
      1,
      n,
      why.vector,
      0,
    );
    this.counters.vmmInstructions += cpu.instructions - this.worldStart;
    this.worldStart = cpu.instructions;
    this.vmmState = cpu.getState();
    this.wr32(xp + XP.reason, why.reason);
    this.wr32(xp + XP.vector, why.reason === HostExit.Interrupt ? why.vector : 0);
    this.wr32(xp + XP.status, vm0.exitCode ?? 0);
    this.wr32(xp + XP.outLen, n);
    cpu.codeWritten(xp, 4096);
    cpu.monitor = this.hostMonitor;
    cpu.observer = null;
    const h = this.hostState as CpuState;
    h.instructions = cpu.instructions;
    h.msr.tscOffset = cpu.tscOffset;
    cpu.setState(h);
    this.hostState = null;
    this.world = 'host';
  }

  /** Run both worlds for up to `budget` ticks of virtual time. */
  run(budget: number, stopOnTrap: boolean): VmmResult {
    const vmm = this.vmm;
    const pc = vmm.pc;
    const clock = pc.clock;
    const end = clock.now() + budget;
    const start = vmm.log.total;
    this.stopOnTrap = stopOnTrap;
    for (;;) {
      if (this.closed) return vmm.finalResult() ?? { state: 'hung', reason: 'the VMApp closed a running VM' };
      if (stopOnTrap && vmm.log.total > start) return { state: 'budget' };
      const now = clock.now();
      if (now >= end) return { state: 'budget' };
      if (this.world === 'host') {
        const r = pc.runSlice(end - now);
        if (pc.state !== 'running') {
          if (pc.state === 'exited') {
            return {
              state: 'exited',
              exitCode: pc.exitCode ?? 1,
              reason: `the host OS powered off (${r.reason ?? 'debug-exit'}) before the VM finished`,
            };
          }
          return { state: 'error', reason: `the host OS stopped: ${r.reason ?? pc.state}` };
        }
        if (this.gate >= 0) this.enterVmm();
        else if (r.stop === 'idle') return { state: 'idle', reason: 'the host is idle, waiting for input' };
      } else {
        const r = vmm.run(end - now, stopOnTrap);
        if (r.state === 'host') this.leaveVmm();
        else if (r.state !== 'budget') return r;
      }
    }
  }

  /** Bytes of the host's console (COM1) and of the guest's line (COM2), from the physical UARTs. */
  takeHostSerial(): Uint8Array {
    return this.vmm.pc.serialOut[0].take();
  }
  sendHostSerial(bytes: Uint8Array): void {
    this.vmm.pc.sendSerial(0, bytes);
  }
  takeGuestLine(): Uint8Array {
    return this.vmm.pc.serialOut[1].take();
  }
  sendGuestLine(bytes: Uint8Array): void {
    this.vmm.pc.sendSerial(1, bytes);
  }
  guestLinePending(): number {
    return this.vmm.pc.uarts[1].pendingInput;
  }
}
