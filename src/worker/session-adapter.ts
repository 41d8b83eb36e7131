/** Binds WorkerCore to src/session/: builds a Session. */
import type { EmuSession, SessionConfigLike } from './core.ts';

type SessionCtor = new (config: SessionConfigLike) => EmuSession;

// A glob rather than a static import: the build and the tests keep working while src/session/
// is being written, and the worker reports clearly that it is missing.
const sessionModules = import.meta.glob<{ Session?: SessionCtor }>(
  ['../session/index.ts', '../session/session.ts'],
  {
    eager: true,
  },
);

export function createEmuSession(config: SessionConfigLike): EmuSession {
  const mod = sessionModules['../session/index.ts'] ?? sessionModules['../session/session.ts'];
  if (!mod?.Session) {
    throw new Error('the emulator session (src/session/) is not part of this build yet');
  }
  return new mod.Session(config);
}
