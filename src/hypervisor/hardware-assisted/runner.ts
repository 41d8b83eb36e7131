/** The hardware-assisted (VT-x) technique as a session runner (the shared VmmRunner + its handler). */

import type { CpuState } from '../../cpu/index.ts';
import { snapshotOf } from '../../cpu/snapshot.ts';
import { F } from '../../cpu/vmx/fields.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import { type HvConfig, type HvCpuSnapshot, type HvVmInfo, VmmRunner } from '../vmm/runner.ts';
import type { Vm } from '../vmm/vm.ts';
import { type TwoDWalkView, twoDWalk, twoDWalkAt } from './ept-walk.ts';
import { HardwareAssisted } from './hardware-assisted.ts';
import { type VmcsInfo, vmcsInfo } from './vmcs-info.ts';
import { type Paging, rd } from './vmcs-setup.ts';

const SEGS = [
  [F.GUEST_ES_SEL, F.GUEST_ES_BASE, F.GUEST_ES_LIMIT, F.GUEST_ES_AR],
  [F.GUEST_CS_SEL, F.GUEST_CS_BASE, F.GUEST_CS_LIMIT, F.GUEST_CS_AR],
  [F.GUEST_SS_SEL, F.GUEST_SS_BASE, F.GUEST_SS_LIMIT, F.GUEST_SS_AR],
  [F.GUEST_DS_SEL, F.GUEST_DS_BASE, F.GUEST_DS_LIMIT, F.GUEST_DS_AR],
  [F.GUEST_FS_SEL, F.GUEST_FS_BASE, F.GUEST_FS_LIMIT, F.GUEST_FS_AR],
  [F.GUEST_GS_SEL, F.GUEST_GS_BASE, F.GUEST_GS_LIMIT, F.GUEST_GS_AR],
  [F.GUEST_LDTR_SEL, F.GUEST_LDTR_BASE, F.GUEST_LDTR_LIMIT, F.GUEST_LDTR_AR],
  [F.GUEST_TR_SEL, F.GUEST_TR_BASE, F.GUEST_TR_LIMIT, F.GUEST_TR_AR],
] as const;

export class HardwareAssistedRunner extends VmmRunner<HardwareAssisted> {
  constructor(config: HvConfig, boot: BootImage) {
    super(config, boot, (vmm) => new HardwareAssisted(vmm, config.paging ?? 'ept'));
  }

  /**
   * The guest's real state: the CPU's own while it runs in non-root operation, else the VMCS
   * guest-state area of the current VM (the CPU then holds the VMM's host state).
   */
  guestState(): CpuState {
    const cpu = this.vmm.cpu;
    const s = cpu.getState();
    if (cpu.vmxNonRoot || cpu.vmx.current === null) return s;
    const r = (f: number) => rd(cpu, f) >>> 0;
    s.segs = SEGS.map(([sel, base, limit, ar]) => ({
      sel: r(sel),
      base: r(base),
      limit: r(limit),
      ar: r(ar),
    }));
    s.regs[4] = r(F.GUEST_RSP);
    s.eip = r(F.GUEST_RIP);
    s.eflags = r(F.GUEST_RFLAGS);
    s.cr0 = r(F.GUEST_CR0);
    s.cr3 = r(F.GUEST_CR3);
    s.cr4 = r(F.GUEST_CR4);
    s.gdtr = { base: r(F.GUEST_GDTR_BASE), limit: r(F.GUEST_GDTR_LIMIT) };
    s.idtr = { base: r(F.GUEST_IDTR_BASE), limit: r(F.GUEST_IDTR_LIMIT) };
    s.cpl = (s.cr0 & 1) === 0 ? 0 : (s.segs[2].ar >>> 5) & 3;
    s.halted = false;
    return s;
  }

  /** The shared VMM counters plus each VM's VMCS, read live from the CPU's VMCS cache. */
  override vmInfo(): (HvVmInfo & { vmcs?: VmcsInfo })[] {
    return super.vmInfo().map((v) => {
      const info = this.vmcsInfo(v.vm);
      return info ? { ...v, vmcs: info } : v;
    });
  }

  vmcsInfo(i: number): VmcsInfo | null {
    const c = this.technique.vcpus[i];
    const vmx = this.vmm.cpu.vmx;
    const v = c ? vmx.cache.get(c.vmcs) : undefined;
    if (!c || !v) return null;
    const info = vmcsInfo(v, vmx.current === v, c.exits, c.atPrevExit);
    if (c.ept) info.walk = twoDWalk(this.vmm.cpu.ram32 as Int32Array, v);
    return info;
  }

  /**
   * The 2-D walk of any address the user asks about in VM `vm` (the EPT view's address box): null
   * when the VM has no VMCS yet or runs without EPT (shadow paging).
   */
  eptWalk(vm: number, addr: number, space: 'linear' | 'guest-physical'): TwoDWalkView | null {
    const c = this.technique.vcpus[vm];
    const v = c ? this.vmm.cpu.vmx.cache.get(c.vmcs) : undefined;
    if (!c || !v || !c.ept) return null;
    const what = space === 'linear' ? 'guest-linear' : 'guest-physical';
    return twoDWalkAt(this.vmm.cpu.ram32 as Int32Array, v, addr, space, `your ${what} address`);
  }

  override snapshot(): HvCpuSnapshot {
    const vm = this.vmm.currentVm ?? this.vmm.vms[0];
    const real = this.guestState();
    const snap = snapshotOf(real, vm.index);
    snap.virtual = this.virtualSnapshot(real, vm);
    return snap;
  }

  /** What the guest believes: the real state with CR0/CR4 through the read shadows (§25.3). */
  protected override virtualSnapshot(real: CpuState, vm: Vm): HvCpuSnapshot {
    const snap = snapshotOf(real, vm.index);
    snap.cr0 = vm.v.cr0 >>> 0;
    snap.cr4 = vm.v.cr4 >>> 0;
    snap.cr3 = vm.v.cr3 >>> 0;
    snap.halted = vm.state === 'blocked';
    return snap;
  }
}

export function createHardwareAssistedRunner(config: HvConfig, boot: BootImage): HardwareAssistedRunner {
  return new HardwareAssistedRunner(config, boot);
}

export type { Paging };
