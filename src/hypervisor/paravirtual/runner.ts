/** The paravirtual technique as a session runner (the shared VmmRunner + its handler). */
import type { CpuState } from '../../cpu/index.ts';
import { snapshotOf } from '../../cpu/snapshot.ts';
import { NS_PER_TICK } from '../../machine/clock.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import type { PageWalkInfo } from '../vmm/page-walk.ts';
import { type HvConfig, type HvCpuSnapshot, type HvVmInfo, VmmRunner } from '../vmm/runner.ts';
import { hypercallName } from '../vmm/trap-kinds.ts';
import type { Vm } from '../vmm/vm.ts';
import { SH } from './abi.ts';
import { requirePvHeader } from './guest-header.ts';
import type { ParavirtualInfo } from './info.ts';
import { directPageWalk } from './page-walk.ts';
import { Paravirtual } from './paravirtual.ts';

export class ParavirtualRunner extends VmmRunner<Paravirtual> {
  constructor(config: HvConfig, boot: BootImage) {
    // Refused up front, before any VM exists: an unmodified kernel carries no PV guest header.
    const header = requirePvHeader(boot);
    super(config, boot, (vmm) => new Paravirtual(vmm, boot, header));
  }

  /** The shared VMM counters plus each domain's shared info page, events and hypercall histogram. */
  override vmInfo(): (HvVmInfo & { paravirtual: ParavirtualInfo })[] {
    return super.vmInfo().map((v) => ({ ...v, paravirtual: this.paravirtualInfo(v.vm) }));
  }

  paravirtualInfo(i: number): ParavirtualInfo {
    const hv = this.technique;
    const d = hv.domains[i];
    const s = d.sharedInfo;
    const ports: ParavirtualInfo['ports'] = [];
    const pendingPorts: number[] = [];
    for (let p = 1; p < d.portVirq.length; p++) {
      const bit = 1 << (p & 31);
      const pending = (d.r32(s + SH.evtchn_pending + (p >>> 5) * 4) & bit) !== 0;
      if (pending) pendingPorts.push(p);
      if (d.portVirq[p] < 0) continue;
      const masked = (d.r32(s + SH.evtchn_mask + (p >>> 5) * 4) & bit) !== 0;
      ports.push({
        port: p,
        virq: ['VIRQ_TIMER', 'VIRQ_DEBUG', 'VIRQ_CONSOLE'][d.portVirq[p]] ?? `VIRQ ${d.portVirq[p]}`,
        pending,
        masked,
      });
    }
    const t = hv.timers[i];
    const lo = d.r32(s + SH.system_time);
    const hi = d.r32(s + SH.system_time + 4);
    const hypercalls: ParavirtualInfo['hypercalls'] = [];
    d.hypercalls.forEach((count, nr) => {
      if (count > 0) hypercalls.push({ nr, name: hypercallName(nr), count });
    });
    return {
      upcallMask: d.mask,
      upcallPending: d.pending,
      pendingPorts,
      ports,
      cr2: d.cr2 >>> 0,
      systemTimeNs: hi * 4294967296 + lo,
      timerNs: t.armed ? t.deadline * NS_PER_TICK : null,
      hypercalls,
      upcalls: d.upcalls,
      pageTables: hv.paging[i].counts(),
      directSyscalls: hv.direct[i],
      lastRefusal: hv.calls.lastRefusal,
    };
  }

  /** The guest knows its ring: real state, with its virtual IF (the upcall mask) and CR2 shown. */
  protected override virtualSnapshot(real: CpuState, vm: Vm): HvCpuSnapshot {
    const d = this.technique.domains[vm.index];
    const snap = snapshotOf(real, vm.index);
    snap.eflags = ((real.eflags & ~0x200) | (d.mask ? 0 : 0x200)) >>> 0;
    snap.cr2 = d.cr2 >>> 0;
    return snap;
  }

  /** No shadow tables here: the guest's own walk, with the hypervisor's facts about each table. */
  override pageWalk(vm: number, lin: number): PageWalkInfo | null {
    const d = this.technique.domains[vm];
    return d ? directPageWalk(vm, d, this.technique.paging[vm], lin) : null;
  }

  /** Guest-linear → pseudo-physical through the guest's own (real) page tables. */
  override translateLinear(addr: number): number | null {
    const vm = this.vmm.currentVm ?? this.vmm.vms[0];
    if (this.vmm.current !== vm.index) return null;
    const d = this.technique.domains[vm.index];
    const h = d.peek(addr);
    return h < 0 || h < d.sliceBase ? null : h - d.sliceBase;
  }
}

export function createParavirtualRunner(config: HvConfig, boot: BootImage): ParavirtualRunner {
  return new ParavirtualRunner(config, boot);
}
