/** The trap-and-emulate technique as a session runner (the shared VmmRunner + its handler). */

import type { BootImage } from '../../machine/loaders/types.ts';
import { type HvConfig, VmmRunner } from '../vmm/runner.ts';
import { TrapAndEmulate } from './trap-and-emulate.ts';

export class TrapAndEmulateRunner extends VmmRunner<TrapAndEmulate> {
  constructor(config: HvConfig, boot: BootImage) {
    super(config, boot, (vmm) => new TrapAndEmulate(vmm));
  }
}

export function createTrapAndEmulateRunner(config: HvConfig, boot: BootImage): TrapAndEmulateRunner {
  return new TrapAndEmulateRunner(config, boot);
}
