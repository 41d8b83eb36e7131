/**
 * The benchmark workloads. Each runs a guest from guests/manifest.json to an end condition on one
 * of two backends:
 * - 'session': the Session the CLI and the Web Worker drive (native technique, one VM) — what users get;
 * - 'pc': the machine directly (src/machine/pc.ts), without the session layer.
 * A workload whose guest has not been built is skipped with a note.
 */
import { resolveGuest } from '../cli/guest-files.ts';
import { readManifest } from '../cli/manifest.ts';
import { loadBios, loadKernel, loadRaw } from '../machine/loaders/index.ts';
import type { BootImage } from '../machine/loaders/types.ts';
import { Pc } from '../machine/pc.ts';
import type { GuestSource, Session, SessionStatus, Technique } from '../session/index.ts';
import type { BenchRun, BenchWorkload } from './measure.ts';

export const MEM_MIB = 64;
export type Backend = 'session' | 'pc';

/** The Session class, imported lazily so the bench still runs on the Pc while the session layer is being written. */
export type SessionClass = new (...args: ConstructorParameters<typeof Session>) => Session;

export interface EndCondition {
  /** Finished when this text has appeared on COM1. */
  untilSerial?: string;
  /** Finished when the guest exits through port 0xF4 with this exit status ((V << 1) | 1). */
  untilExit?: number;
  /** With untilExit: COM1 must have shown this text by then (e.g. the guest's self-check). */
  requireSerial?: string;
}

interface Stepper {
  /** Run up to `budget`; the state afterwards and COM1 bytes produced. */
  step(budget: number): { state: string; exitCode?: number; reason?: string; serial: Uint8Array };
  readonly instructions: number;
}

export function guestAvailable(id: string): string | null {
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

function boot(source: GuestSource, ramBytes: number): BootImage {
  switch (source.kind) {
    case 'kernel':
      return loadKernel(source.kernel, { ramBytes, initrd: source.initrd, cmdline: source.cmdline });
    case 'bios':
      return loadBios(source.image);
    case 'raw':
      return loadRaw(source.image, { ramBytes, addr: source.addr, entry: source.entry });
  }
}

function pcStepper(source: GuestSource): Stepper {
  const pc = new Pc({ memMiB: MEM_MIB, noReboot: true });
  pc.load(boot(source, MEM_MIB * 1024 * 1024));
  return {
    get instructions() {
      return pc.instructions;
    },
    step(budget) {
      const r = pc.runSlice(budget);
      const state = r.state === 'running' && r.stop === 'idle' ? 'idle' : r.state;
      return { state, exitCode: r.exitCode, reason: r.reason, serial: pc.serialOut[0]!.take() };
    },
  };
}

function sessionStepper(SessionCtor: SessionClass, source: GuestSource, technique: Technique): Stepper {
  const s = new SessionCtor({ guest: source, technique, vms: 1, memMiB: MEM_MIB, noReboot: true });
  return {
    get instructions() {
      return s.instructions;
    },
    step(budget) {
      const st: SessionStatus = s.run(budget);
      return { state: st.state, exitCode: st.exitCode, reason: st.reason, serial: s.takeSerial(0) };
    },
  };
}

/** null if `technique` can run on this backend, else why not. */
function techniqueAvailable(
  backend: { kind: Backend; SessionCtor?: SessionClass },
  technique: Technique,
): string | null {
  if (technique === 'native') return null;
  if (backend.kind !== 'session') return `technique '${technique}' needs the session backend`;
  const { source } = resolveGuest({ kind: 'guest', id: 'hello' });
  try {
    new backend.SessionCtor!({ guest: source, technique, vms: 1, memMiB: MEM_MIB, noReboot: true });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return null;
}

/** A fresh run of manifest guest `guestId` until `end`. */
export function guestRun(
  guestId: string,
  end: EndCondition,
  backend: { kind: Backend; SessionCtor?: SessionClass; technique?: Technique },
): BenchRun {
  const { source } = resolveGuest({ kind: 'guest', id: guestId });
  const m =
    backend.kind === 'pc'
      ? pcStepper(source)
      : sessionStepper(backend.SessionCtor!, source, backend.technique ?? 'native');
  const want = end.untilSerial;
  const watch = want !== undefined || end.requireSerial !== undefined;
  let seenRequired = false;
  let tail = '';
  return {
    get instructions() {
      return m.instructions;
    },
    advance(budget: number): boolean {
      const r = m.step(budget);
      if (watch && r.serial.length > 0) {
        tail = (tail + String.fromCharCode(...r.serial)).slice(-4096);
        if (want !== undefined && tail.includes(want)) return true;
        if (end.requireSerial !== undefined && tail.includes(end.requireSerial)) seenRequired = true;
      }
      if (r.state === 'running') return false;
      if (end.untilExit !== undefined && r.state === 'exited') {
        if (r.exitCode === end.untilExit) {
          if (end.requireSerial === undefined || seenRequired) return true;
          throw new Error(
            `exited without printing ${JSON.stringify(end.requireSerial)}; output: ${JSON.stringify(tail.slice(-200))}`,
          );
        }
        throw new Error(`exited with status ${r.exitCode}, expected ${end.untilExit}`);
      }
      const code = r.exitCode !== undefined ? ` (exit status ${r.exitCode})` : '';
      const last = tail ? `; last serial output: ${JSON.stringify(tail.slice(-200))}` : '';
      throw new Error(`the guest stopped: ${r.state}${code}${r.reason ? ` — ${r.reason}` : ''}${last}`);
    },
  };
}

export function workloads(backend: { kind: Backend; SessionCtor?: SessionClass }): BenchWorkload[] {
  return [
    {
      name: 'bench-loop',
      description: 'CPU-bound loop guest with paging on (ALU, loads/stores, calls, branches) until it exits',
      unavailable: () => guestAvailable('bench-loop'),
      // guests/bench-loop/README.md: QEMU prints this checksum; ~248.9 M instructions.
      prepare: () =>
        guestRun('bench-loop', { untilExit: 1, requireSerial: 'bench-loop checksum=D07AE3B9' }, backend),
      maxInstructions: 20e9,
      slice: 2_000_000,
    },
    {
      name: 'hello-boot',
      description: 'load and run the hello guest to its debug-exit (timed from creating the machine)',
      unavailable: () => guestAvailable('hello'),
      prepare: () => guestRun('hello', { untilExit: 1 }, backend),
      timeSetup: true,
      maxInstructions: 10e6,
      slice: 100_000,
    },
    {
      name: 'linux-boot',
      description: "boot Linux (bzImage + initramfs) to the shell prompt 'guest# ' on COM1, no input",
      unavailable: () => guestAvailable('linux'),
      prepare: () => guestRun('linux', { untilSerial: 'guest# ' }, backend),
      maxInstructions: 3e9,
      slice: 1_000_000,
    },
    {
      // The same boot under binary translation; main.ts prints its ratio to linux-boot.
      name: 'linux-boot-bt',
      description: "boot Linux to 'guest# ' under binary translation (the BT/native ratio is printed)",
      unavailable: () => guestAvailable('linux') ?? techniqueAvailable(backend, 'binary-translation'),
      prepare: () =>
        guestRun('linux', { untilSerial: 'guest# ' }, { ...backend, technique: 'binary-translation' }),
      maxInstructions: 3e9,
      slice: 1_000_000,
    },
    // ── Trap-and-emulate vs native ──────────────────────────────────────────────────────────────
    // The same trapdemo run (each privileged operation once, then its debug-exit) natively and under
    // trap-and-emulate: the difference is what trapping costs. The second is skipped until the
    // session builds that technique (the hypervisor issue); add binary-translation etc. likewise.
    ...(['native', 'trap-and-emulate', 'binary-translation'] as const).map(
      (technique): BenchWorkload => ({
        name: `trapdemo-${technique}`,
        description: `the trapdemo guest to its debug-exit under technique '${technique}'`,
        unavailable: () => guestAvailable('trapdemo') ?? techniqueAvailable(backend, technique),
        prepare: () => guestRun('trapdemo', { untilExit: 1 }, { ...backend, technique }),
        maxInstructions: 200e6,
        slice: 1_000_000,
      }),
    ),
  ];
}
