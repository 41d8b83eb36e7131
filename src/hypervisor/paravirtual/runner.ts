/** The paravirtual technique as a session runner (the shared VmmRunner + its handler). */
import type { CpuState } from '../../cpu/index.ts';
import { snapshotOf } from '../../cpu/snapshot.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import { type HvConfig, type HvCpuSnapshot, VmmRunner } from '../vmm/runner.ts';
import type { Vm } from '../vmm/vm.ts';
import { requirePvHeader } from './guest-header.ts';
import { Paravirtual } from './paravirtual.ts';

export class ParavirtualRunner extends VmmRunner<Paravirtual> {
  constructor(config: HvConfig, boot: BootImage) {
    // Refused up front, before any VM exists: an unmodified kernel carries no PV guest header.
    const header = requirePvHeader(boot);
    super(config, boot, (vmm) => new Paravirtual(vmm, boot, header));
  }

  /** The guest knows its ring: real state, with its virtual IF (the upcall mask) and CR2 shown. */
  protected override virtualSnapshot(real: CpuState, vm: Vm): HvCpuSnapshot {
    const d = this.technique.domains[vm.index];
    const snap = snapshotOf(real, vm.index);
    snap.eflags = ((real.eflags & ~0x200) | (d.mask ? 0 : 0x200)) >>> 0;
    snap.cr2 = d.cr2 >>> 0;
    return snap;
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
