import { describe, expect, it } from 'vitest';
import { Session } from '../src/session/index.ts';
import { runOnce } from './measure.ts';
import { guestAvailable, guestRun, workloads } from './workloads.ts';

const backends = [{ kind: 'session' as const, SessionCtor: Session }, { kind: 'pc' as const }];

function drive(run: { advance(b: number): boolean }, maxSlices = 1000): boolean {
  for (let i = 0; i < maxSlices; i++) if (run.advance(100_000)) return true;
  return false;
}

describe.each(backends)('bench workloads on the $kind backend', (backend) => {
  it('runs hello to its debug-exit, checking its greeting', () => {
    const run = guestRun('hello', { untilExit: 1, requireSerial: 'Hello from TrapLab!' }, backend);
    expect(drive(run)).toBe(true);
    expect(run.instructions).toBeGreaterThan(100);
  });

  it('stops at a serial marker', () => {
    const run = guestRun('hello', { untilSerial: 'protected mode' }, backend);
    expect(drive(run)).toBe(true);
  });

  it('reports a wrong exit status, a missing self-check line and an early stop clearly', () => {
    expect(() => drive(guestRun('hello', { untilExit: 3 }, backend))).toThrow(
      /exited with status 1, expected 3/,
    );
    expect(() => drive(guestRun('hello', { untilExit: 1, requireSerial: 'checksum=' }, backend))).toThrow(
      /exited without printing "checksum="; output: ".*Hello from TrapLab/,
    );
    expect(() => drive(guestRun('hello', { untilSerial: 'guest# ' }, backend))).toThrow(
      /the guest stopped: exited \(exit status 1\).*; last serial output: ".*Hello/,
    );
  });

  it('the hello-boot workload measures through the harness', () => {
    const w = workloads(backend).find((x) => x.name === 'hello-boot')!;
    expect(w.unavailable()).toBeNull();
    const r = runOnce(w, () => performance.now() / 1000);
    expect(r.instructions).toBeGreaterThan(100);
    expect(r.seconds).toBeGreaterThan(0);
  });
});

describe('bench workload availability', () => {
  it('names a guest missing from the manifest', () => {
    expect(guestAvailable('no-such-guest')).toMatch(/guest 'no-such-guest' is not in guests\/manifest\.json/);
    expect(guestAvailable('hello')).toBeNull();
  });
  it('trap-and-emulate needs the session backend', () => {
    const w = workloads({ kind: 'pc' }).find((x) => x.name === 'trapdemo-trap-and-emulate')!;
    expect(w.unavailable()).toMatch(/needs the session backend/);
  });
});
