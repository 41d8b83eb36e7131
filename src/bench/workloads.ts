/**
 * The benchmark workloads, each driving the same Session the CLI and the Web Worker use (native
 * technique, one VM). A workload whose guest has not been built is skipped with a note.
 */
import { resolveGuest } from '../cli/guest-files.ts';
import { readManifest } from '../cli/manifest.ts';
import { Session, type SessionStatus, type Technique } from '../session/index.ts';
import type { BenchRun, BenchWorkload } from './measure.ts';

const MEM_MIB = 64;

interface SessionRunSpec {
  guestId: string;
  technique?: Technique;
  /** Finished when this text has appeared on COM1. */
  untilSerial?: string;
  /** Finished when the guest exits through port 0xF4 with this exit status ((V << 1) | 1). */
  untilExit?: number;
}

function guestAvailable(id: string): string | null {
  let ids: string[];
  try {
    ids = readManifest().map((g) => g.id);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  if (!ids.includes(id)) return `guest '${id}' is not in guests/manifest.json yet`;
  try {
    resolveGuest({ kind: 'guest', id });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return null;
}

function describeStatus(s: SessionStatus): string {
  const code = s.exitCode !== undefined ? ` (exit status ${s.exitCode})` : '';
  return `the guest stopped: ${s.state}${code}${s.reason ? ` — ${s.reason}` : ''}`;
}

/** A Session on a manifest guest, advanced until its end condition. */
export function sessionRun(spec: SessionRunSpec): BenchRun {
  const { source } = resolveGuest({ kind: 'guest', id: spec.guestId });
  const session = new Session({
    guest: source,
    technique: spec.technique ?? 'native',
    vms: 1,
    memMiB: MEM_MIB,
    noReboot: true,
  });
  const want = spec.untilSerial;
  let tail = '';
  return {
    get instructions() {
      return session.instructions;
    },
    advance(budget: number): boolean {
      const status = session.run(budget);
      if (want !== undefined) {
        const bytes = session.takeSerial(0);
        if (bytes.length > 0) {
          tail = (tail + String.fromCharCode(...bytes)).slice(-4096);
          if (tail.includes(want)) return true;
        }
      }
      if (status.state === 'running') return false;
      if (spec.untilExit !== undefined && status.state === 'exited') {
        if (status.exitCode === spec.untilExit) return true;
        throw new Error(`exited with status ${status.exitCode}, expected ${spec.untilExit}`);
      }
      if (status.state === 'idle' && want !== undefined) {
        throw new Error(
          `the guest went idle before printing ${JSON.stringify(want)}; last output: ${JSON.stringify(tail.slice(-200))}`,
        );
      }
      throw new Error(describeStatus(status));
    },
  };
}

export function workloads(): BenchWorkload[] {
  return [
    {
      name: 'bench-loop',
      description: 'CPU-bound loop guest with paging on (ALU, loads/stores, calls, branches) until it exits',
      unavailable: () => guestAvailable('bench-loop'),
      prepare: () => sessionRun({ guestId: 'bench-loop', untilExit: 1 }),
      maxInstructions: 20e9,
      slice: 2_000_000,
    },
    {
      name: 'hello-boot',
      description: 'load and run the hello guest to its debug-exit (timed from creating the session)',
      unavailable: () => guestAvailable('hello'),
      prepare: () => sessionRun({ guestId: 'hello', untilExit: 1 }),
      timeSetup: true,
      maxInstructions: 10e6,
      slice: 100_000,
    },
    {
      name: 'linux-boot',
      description: "boot Linux from the bzImage to the shell prompt 'guest# ' on COM1 (no input)",
      unavailable: () => guestAvailable('linux'),
      prepare: () => sessionRun({ guestId: 'linux', untilSerial: 'guest# ' }),
      maxInstructions: 3e9,
      slice: 1_000_000,
    },
    // ── Trap-and-emulate vs native (issue: hypervisor) ──────────────────────────────────────────
    // TODO(hypervisor): add 'trapdemo-native' and 'trapdemo-trap-and-emulate' here — the trapdemo
    // guest under technique 'native' and 'trap-and-emulate', same end condition (its debug-exit),
    // so the table shows the cost of trapping. Left out until the Session accepts that technique.
  ];
}
