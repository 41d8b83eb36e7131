/** Binary translation as a session runner (the shared VmmRunner + its handler). */

import type { CpuState } from '../../cpu/index.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import { type HvConfig, type HvCpuSnapshot, ringCompressedSnapshot, VmmRunner } from '../vmm/runner.ts';
import type { Vm } from '../vmm/vm.ts';
import { BinaryTranslation } from './binary-translation.ts';

export class BinaryTranslationRunner extends VmmRunner<BinaryTranslation> {
  constructor(config: HvConfig, boot: BootImage) {
    super(config, boot, (vmm) => new BinaryTranslation(vmm), BinaryTranslation.FRAMES_PER_VM);
  }

  /**
   * What the guest believes: as under trap-and-emulate, and its EIP is the guest address the TC
   * code stands for — the real EIP (shown beside it) is in the translation cache.
   */
  protected override virtualSnapshot(real: CpuState, vm: Vm): HvCpuSnapshot {
    const snap = ringCompressedSnapshot(real, vm);
    const area = this.vmm.pc.memory.ram[this.technique.bt[vm.index].area];
    if (real.cpl === 1) {
      snap.eip = this.technique.guestEip(vm, real.eip, real.cpl);
      snap.eflags = ((snap.eflags & ~0x200) | (area ? 0x200 : 0)) >>> 0;
    }
    return snap;
  }
}

export function createBinaryTranslationRunner(config: HvConfig, boot: BootImage): BinaryTranslationRunner {
  return new BinaryTranslationRunner(config, boot);
}
