/**
 * A Type 2 (hosted) arrangement as a session runner: the host OS and the chosen technique's VMM
 * share the physical PC (hosted.ts). Console 0 is the guest's serial line — COM2 of the physical
 * PC, which VMApp drives with write()/read() — so a guest's output reaches the user only after it
 * went VMM → host → VMApp → the host's serial driver. The host's own console is COM1.
 */
import { snapshotOf } from '../../cpu/snapshot.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import type { TwoDWalkView } from '../hardware-assisted/ept-walk.ts';
import type { GuestMemoryMap } from '../vmm/memory-map.ts';
import type { PageWalkInfo } from '../vmm/page-walk.ts';
import type { HvCpuSnapshot, HvRunnerResult, HvVmInfo, VmmRunner } from '../vmm/runner.ts';
import type { TrapLog } from '../vmm/trap-log.ts';
import { HostedMachine, type HostingCounters } from './hosted.ts';

export class HostedRunner {
  readonly machine: HostedMachine;

  constructor(
    readonly inner: VmmRunner,
    hostBoot: BootImage,
  ) {
    this.machine = new HostedMachine(inner, hostBoot);
  }

  get vmCount(): number {
    return this.inner.vmCount;
  }
  dispose(): void {
    this.inner.dispose();
  }
  get instructions(): number {
    return this.inner.instructions;
  }
  get eventsDelivered(): number {
    return this.inner.eventsDelivered;
  }
  get virtualTimeNs(): number {
    return this.inner.virtualTimeNs;
  }
  get traps(): TrapLog {
    return this.inner.traps;
  }
  get counters(): HostingCounters {
    return this.machine.counters;
  }
  memoryMaps(): GuestMemoryMap[] {
    return this.inner.memoryMaps();
  }
  vmInfo(): HvVmInfo[] {
    const vmm = this.machine.world === 'vmm';
    return this.inner.vmInfo().map((v) => ({ ...v, running: v.running && vmm }));
  }

  run(budget: number, stopOnTrap: boolean): HvRunnerResult {
    const r = this.machine.run(budget, stopOnTrap);
    return r.state === 'host' ? { state: 'budget' } : { ...r, state: r.state };
  }

  /** VM 0's console is the guest line (physical COM2); other VMs are not hosted. */
  takeSerial(vm: number): Uint8Array {
    return vm === 0 ? this.machine.takeGuestLine() : new Uint8Array(0);
  }
  sendSerial(vm: number, bytes: Uint8Array): void {
    if (vm === 0) this.machine.sendGuestLine(bytes);
  }
  serialInputPending(vm: number): number {
    return vm === 0 ? this.machine.guestLinePending() : 0;
  }
  takeHostSerial(): Uint8Array {
    return this.machine.takeHostSerial();
  }
  sendHostSerial(bytes: Uint8Array): void {
    this.machine.sendHostSerial(bytes);
  }
  takeDebugcon(): Uint8Array {
    return this.inner.takeDebugcon();
  }
  postCodes(): number[] {
    return this.inner.postCodes();
  }

  /** In the host world the physical CPU holds the host OS: show it as it is (no virtual view). */
  snapshot(): HvCpuSnapshot {
    if (this.machine.world === 'vmm') return this.inner.snapshot();
    return snapshotOf(this.inner.vmm.cpu.getState(), 0);
  }
  readPhysical(addr: number, len: number): Uint8Array {
    return this.inner.readPhysical(addr, len);
  }
  translateLinear(addr: number): number | null {
    return this.inner.translateLinear(addr);
  }
  disassemble(bytes: Uint8Array, addr: number, code32: boolean): { length: number; text: string } {
    return this.inner.disassemble(bytes, addr, code32);
  }
  /** The VMs' page tables are the VMM's business whoever owns the PC: the Paging tab's walk. */
  pageWalk(vm: number, lin: number): PageWalkInfo | null {
    return this.inner.pageWalk(vm, lin);
  }
  /** The EPT view's address box under VT-x (other techniques have no EPT). */
  eptWalk(vm: number, addr: number, space: 'linear' | 'guest-physical'): TwoDWalkView | null {
    const r = this.inner as VmmRunner & { eptWalk?: HostedRunner['eptWalk'] };
    return r.eptWalk?.(vm, addr, space) ?? null;
  }
}
