// The start-up figures measure real Session creations; a case that cannot be built is reported,
// not hidden, and the table marks what misses the goal.
import { describe, expect, it } from 'vitest';
import { Session } from '../src/session/index.ts';
import { creationTable, measureSessionCreation, SESSION_CREATE_GOAL_MS } from './startup.ts';

describe('session-create figures', () => {
  it('times real creations per case and reports the cases that cannot run', () => {
    const { figures, skipped } = measureSessionCreation(Session, {
      runs: 2,
      cases: [
        ['hello', 'native'],
        ['hello', 'paravirtual'], // hello has no PV header: the session refuses it
        ['no-such-guest', 'native'],
      ],
    });
    expect(figures.map((f) => `${f.guest}/${f.technique}`)).toEqual(['hello/native']);
    const f = figures[0]!;
    expect(f.runs).toBe(2);
    for (const x of [f.cold.cpuMs, f.cold.wallMs, f.warm.cpuMs, f.warm.wallMs]) expect(x).toBeGreaterThan(0);
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toMatch(/^hello\/paravirtual: paravirtual runs only kernels ported/);
    expect(skipped[1]).toMatch(/^no-such-guest\/native: unknown guest 'no-such-guest'/);
    const table = creationTable([
      { ...f, warm: { cpuMs: SESSION_CREATE_GOAL_MS + 1, wallMs: 1 } },
      { ...f, warm: { cpuMs: SESSION_CREATE_GOAL_MS, wallMs: 1 } },
    ]).split('\n');
    expect(table[2]).toMatch(/over goal$/);
    expect(table[3]).not.toMatch(/over goal/);
  });
});
