export { MAX_MEM_MIB, MAX_VMS, Session } from './session.ts';
export type { RunnerResult, TechniqueFactory, TechniqueRunner } from './technique.ts';
export * from './types.ts';
