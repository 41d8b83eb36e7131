/** Binary translation as a session runner (the shared VmmRunner + its handler). */

import type { CpuState } from '../../cpu/index.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import {
  type HvConfig,
  type HvCpuSnapshot,
  type HvVmInfo,
  ringCompressedSnapshot,
  VmmRunner,
} from '../vmm/runner.ts';
import type { Vm } from '../vmm/vm.ts';
import { BinaryTranslation } from './binary-translation.ts';
import { type TranslationInfo, translationInfo } from './info.ts';

export class BinaryTranslationRunner extends VmmRunner<BinaryTranslation> {
  constructor(config: HvConfig, boot: BootImage) {
    super(config, boot, (vmm) => new BinaryTranslation(vmm), BinaryTranslation.FRAMES_PER_VM);
  }

  /** The shared VMM counters plus each VM's translation cache (for the UI's Translation view). */
  override vmInfo(): (HvVmInfo & { translation: TranslationInfo })[] {
    return super.vmInfo().map((v) => ({ ...v, translation: this.translationInfo(v.vm) }));
  }

  translationInfo(i: number): TranslationInfo {
    const vm = this.vmm.vms[i];
    const b = this.technique.bt[i];
    const real = vm.saved ?? this.vmm.cpu.getState();
    const eip = this.technique.guestEip(vm, real.eip, real.cpl);
    const fetch = (lin: number, len: number) => Array.from(b.src.fetch(lin, len));
    return translationInfo(b.tc, this.technique.tcLinear(vm), eip, fetch);
  }

  /**
   * What the guest believes: as under trap-and-emulate, and its EIP is the guest address the TC
   * code stands for — the real EIP (shown beside it) is in the translation cache.
   */
  protected override virtualSnapshot(real: CpuState, vm: Vm): HvCpuSnapshot {
    const snap = ringCompressedSnapshot(real, vm);
    if (real.cpl === 1) {
      snap.eip = this.technique.guestEip(vm, real.eip, real.cpl);
      snap.eflags = ((snap.eflags & ~0x200) | (this.technique.areaVif(vm) ? 0x200 : 0)) >>> 0;
    }
    // The guest's own segments: limits before the VMM's cut, and its GS (the real one is the
    // VMM's while the TC runs).
    const segs = this.technique.guestSegments(vm, real);
    for (const [name, seg] of Object.entries(segs)) {
      const k = name as 'es' | 'ss' | 'ds' | 'fs' | 'gs';
      snap[k] = { ...snap[k], ...seg };
    }
    return snap;
  }
}

export function createBinaryTranslationRunner(config: HvConfig, boot: BootImage): BinaryTranslationRunner {
  return new BinaryTranslationRunner(config, boot);
}
