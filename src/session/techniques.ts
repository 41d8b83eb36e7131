/**
 * The technique registry. A hypervisor technique (issue 6 and later) adds its factory here; until
 * then the session reports it as not built yet.
 */
import { createTrapAndEmulateRunner } from '../hypervisor/runner.ts';
import { createNativeRunner } from './native.ts';
import type { TechniqueFactory } from './technique.ts';
import type { Technique } from './types.ts';

const factories: Partial<Record<Technique, TechniqueFactory>> = {
  native: createNativeRunner,
  'trap-and-emulate': createTrapAndEmulateRunner,
};

export function techniqueFactory(t: Technique): TechniqueFactory | undefined {
  return factories[t];
}
