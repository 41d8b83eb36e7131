/**
 * The technique registry. A hypervisor technique (issue 6 and later) adds its factory here; until
 * then the session reports it as not built yet.
 */

import { createBinaryTranslationRunner } from '../hypervisor/binary-translation/runner.ts';
import { createHardwareAssistedRunner } from '../hypervisor/hardware-assisted/runner.ts';
import { createParavirtualRunner } from '../hypervisor/paravirtual/runner.ts';
import { createTrapAndEmulateRunner } from '../hypervisor/trap-and-emulate/runner.ts';
import { VmmConfigError } from '../hypervisor/vmm/vm.ts';
import { createNativeRunner } from './native.ts';
import type { TechniqueFactory } from './technique.ts';
import { SessionError, type Technique } from './types.ts';

const factories: Partial<Record<Technique, TechniqueFactory>> = {
  native: createNativeRunner,
  // The hypervisor reports configurations it cannot run as VmmConfigError (it may not import us).
  'trap-and-emulate': (config, boot) => {
    try {
      return createTrapAndEmulateRunner(config, boot);
    } catch (e) {
      throw e instanceof VmmConfigError ? new SessionError(e.message) : e;
    }
  },
  paravirtual: (config, boot) => {
    try {
      return createParavirtualRunner(config, boot);
    } catch (e) {
      throw e instanceof VmmConfigError ? new SessionError(e.message) : e;
    }
  },
  'hardware-assisted': (config, boot) => {
    try {
      return createHardwareAssistedRunner(config, boot);
    } catch (e) {
      throw e instanceof VmmConfigError ? new SessionError(e.message) : e;
    }
  },
  'binary-translation': (config, boot) => {
    try {
      return createBinaryTranslationRunner(config, boot);
    } catch (e) {
      throw e instanceof VmmConfigError ? new SessionError(e.message) : e;
    }
  },
};

export function techniqueFactory(t: Technique): TechniqueFactory | undefined {
  return factories[t];
}
