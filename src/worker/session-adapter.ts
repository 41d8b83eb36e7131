/** Binds WorkerCore to src/session/: the worker's sessions are real Sessions. */
import { Session } from '../session/index.ts';
import type { EmuSession, SessionConfigLike } from './contract.ts';

export function createEmuSession(config: SessionConfigLike): EmuSession {
  // Session throws SessionError with a user-facing message for a bad image or configuration.
  return new Session(config);
}
