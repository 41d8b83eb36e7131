/**
 * A VMM-based technique as a session runner. Its shape is the session's TechniqueRunner
 * (src/session/technique.ts), restated here with local types so the hypervisor never imports the
 * session layer. Each technique folder subclasses `VmmRunner` with its own TechniqueHandler and
 * the session registers its factory (src/session/techniques.ts).
 */

import type { CpuState } from '../../cpu/index.ts';
import { disassemble } from '../../cpu/index.ts';
import { type CpuSnapshot, snapshotOf } from '../../cpu/snapshot.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import type { CpuModelId } from './cost-model.ts';
import type { GuestMemoryMap, MapRange } from './memory-map.ts';
import { type PageWalkInfo, pageWalk } from './page-walk.ts';
import type { TrapLog } from './trap-log.ts';
import type { Vm } from './vm.ts';
import { type TechniqueHandler, Vmm } from './vmm.ts';

/** The session's snapshot shape lives in the CPU layer (src/cpu/snapshot.ts). */
export type HvCpuSnapshot = CpuSnapshot;

export interface HvRunnerResult {
  state: 'budget' | 'idle' | 'exited' | 'shutdown' | 'reset' | 'hung' | 'unsupported' | 'error';
  exitCode?: number;
  reason?: string;
}

export interface HvVmInfo {
  vm: number;
  state: string;
  reason: string;
  exitCode: number | undefined;
  running: boolean;
  memory: MapRange[];
  shadowTables: number;
  traps: number;
  hiddenFaults: number;
  reflected: number;
  injected: number;
  silent: number;
  switchesIn: number;
  /** Modelled cycles of this VM's trap-log records. */
  cycles: number;
}

/** The part of the session configuration a VMM needs. */
export interface HvConfig {
  vms: number;
  memMiB: number;
  noReboot: boolean;
  /** Hardware assist: EPT or shadow page tables (default ept). */
  paging?: 'ept' | 'shadow';
  /** Type 2 hosting: a host OS owns the physical devices (VmmOptions.hosted; hosting/README.md). */
  hosted?: boolean;
  /** CPU-generation preset of the cost model (cost-model.ts); none = P4 tables, TSC = instructions. */
  cpuModel?: CpuModelId;
}

/** The session-facing runner shared by every VMM technique; `technique` handles the events. */
export class VmmRunner<H extends TechniqueHandler = TechniqueHandler> {
  readonly vmm: Vmm;
  readonly technique: H;

  constructor(
    config: HvConfig,
    boot: BootImage,
    makeHandler: (vmm: Vmm) => H,
    /** VMM frames the technique allocates per VM for itself (VmmOptions.reservedFramesPerVm). */
    reservedFramesPerVm = 0,
  ) {
    this.vmm = new Vmm({
      vms: config.vms,
      memMiB: config.memMiB,
      noReboot: config.noReboot,
      boot,
      reservedFramesPerVm,
      hosted: config.hosted === true,
      cpuModel: config.cpuModel,
    });
    this.technique = makeHandler(this.vmm);
    this.vmm.handler = this.technique;
  }

  get vmCount(): number {
    return this.vmm.vms.length;
  }
  get instructions(): number {
    return this.vmm.cpu.instructions;
  }
  /** Exceptions and interrupts the physical CPU delivered (each one tick of virtual time). */
  get eventsDelivered(): number {
    return this.vmm.cpu.eventSteps;
  }
  get virtualTimeNs(): number {
    return this.vmm.timeNs;
  }
  get traps(): TrapLog {
    return this.vmm.log;
  }
  /** Guest-physical → host-physical map of each VM (shown to the user). */
  memoryMaps(): GuestMemoryMap[] {
    return this.vmm.memoryMaps();
  }

  /** Per-VM state for the UI: what each VM is doing, its memory map and its trap counters. */
  vmInfo(): HvVmInfo[] {
    return this.vmm.vms.map((v) => ({
      vm: v.index,
      state: v.state,
      reason: v.reason,
      exitCode: v.exitCode,
      running: this.vmm.current === v.index,
      memory: v.map.ranges(),
      shadowTables: v.shadow.tableCount,
      ...v.stats,
    }));
  }

  /** Hand the physical machine's large buffers to the next one created (Pc.dispose). */
  dispose(): void {
    this.vmm.pc.dispose();
  }

  run(budget: number, stopOnTrap: boolean): HvRunnerResult {
    const r = this.vmm.run(budget, stopOnTrap);
    // 'host' exists only in a hosted VMM, which HostedRunner drives (hosting/runner.ts).
    return r.state === 'host' ? { state: 'budget' } : { ...r, state: r.state };
  }

  private vm(i: number): Vm | undefined {
    return this.vmm.vms[i];
  }
  takeSerial(vm: number): Uint8Array {
    return this.vm(vm)?.console.take() ?? new Uint8Array(0);
  }
  sendSerial(vm: number, bytes: Uint8Array): void {
    this.vm(vm)?.devices.uarts[0].enqueueInput(bytes);
  }
  /** Bytes sent to the VM's COM1 that its receive FIFO has not taken yet. */
  serialInputPending(vm: number): number {
    return this.vm(vm)?.devices.uarts[0].pendingInput ?? 0;
  }
  takeDebugcon(): Uint8Array {
    const parts = this.vmm.vms.map((v) => v.devices.debugconOut.take());
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
  postCodes(): number[] {
    return this.vmm.vms[0].devices.post.codes.slice();
  }

  /** The VM whose view the debugger shows: the running one (or VM 0). */
  private shown(): Vm {
    return this.vmm.currentVm ?? this.vmm.vms[0];
  }

  snapshot(): HvCpuSnapshot {
    const vm = this.shown();
    const real = vm.saved ?? this.vmm.cpu.getState();
    const snap = snapshotOf(real, vm.index);
    snap.virtual = this.virtualSnapshot(real, vm);
    return snap;
  }

  /** What the guest believes; ring-compressing techniques read real ring 1 as ring 0. */
  protected virtualSnapshot(real: CpuState, vm: Vm): HvCpuSnapshot {
    return ringCompressedSnapshot(real, vm);
  }

  /** Guest-physical memory of the shown VM (its slice; non-RAM reads as 0xFF). */
  readPhysical(addr: number, len: number): Uint8Array {
    const vm = this.shown();
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = vm.mem.readPhys8((addr + i) >>> 0);
    return out;
  }

  /** The guest's walk of `lin` beside the shadow's, for VM `vm` (the page-tables view). */
  pageWalk(vm: number, lin: number): PageWalkInfo | null {
    const v = this.vm(vm);
    return v ? pageWalk(v, lin) : null;
  }

  /** Guest-linear → guest-physical through the guest's own page tables. */
  translateLinear(addr: number): number | null {
    return this.shown().mem.peek(addr);
  }

  disassemble(bytes: Uint8Array, addr: number, code32: boolean): { length: number; text: string } {
    if (bytes.length === 0) return { length: 0, text: '(no bytes)' };
    try {
      const d = disassemble(bytes, 0, code32 ? 32 : 16, addr);
      return { length: d.length, text: d.text };
    } catch {
      return { length: 1, text: `db 0x${bytes[0].toString(16).padStart(2, '0')}` };
    }
  }
}

/** What the guest believes: its CPL, IF/IOPL, control registers, tables, RPL-0 kernel selectors. */
export function ringCompressedSnapshot(real: CpuState, vm: Vm): HvCpuSnapshot {
  const v = vm.v;
  const snap = snapshotOf(real, vm.index);
  const vcpl = real.cpl === 1 ? 0 : real.cpl;
  snap.cpl = vcpl;
  snap.eflags =
    ((real.eflags & ~0x3200) |
      (v.if ? 0x200 : 0) |
      (v.iopl << 12) |
      (vm.vmmOwnsTf ? 0 : real.eflags & 0x100)) >>>
    0;
  snap.cr0 = v.cr0 >>> 0;
  snap.cr2 = v.cr2 >>> 0;
  snap.cr3 = v.cr3 >>> 0;
  snap.cr4 = v.cr4 >>> 0;
  snap.gdtr = { ...v.gdtr };
  snap.idtr = { ...v.idtr };
  snap.ldtr = { selector: v.ldtr.sel, base: v.ldtr.base >>> 0, limit: v.ldtr.limit >>> 0, access: v.ldtr.ar };
  snap.tr = { selector: v.tr.sel, base: v.tr.base >>> 0, limit: v.tr.limit >>> 0, access: v.tr.ar };
  snap.dr = v.dr.map((x) => x >>> 0);
  if (vcpl === 0) {
    snap.cs = { ...snap.cs, selector: snap.cs.selector & ~3 };
    snap.ss = { ...snap.ss, selector: snap.ss.selector & ~3 };
  }
  snap.halted = vm.state === 'blocked';
  return snap;
}
