/**
 * The benchmark workloads. Each runs a guest from guests/manifest.json to an end condition on one
 * of two backends:
 * - 'session': the Session the CLI and the Web Worker drive (native technique, one VM) — what users get;
 * - 'pc': the machine directly (src/machine/pc.ts), without the session layer.
 * A workload whose guest has not been built is skipped with a note.
 */
import { resolveGuest } from '../src/cli/guest-files.ts';
import { readManifest } from '../src/cli/manifest.ts';
import { loadBios, loadKernel, loadRaw } from '../src/machine/loaders/index.ts';
import type { BootImage } from '../src/machine/loaders/types.ts';
import { Pc } from '../src/machine/pc.ts';
import type { GuestSource, Session, SessionStatus, Technique } from '../src/session/index.ts';
import type { BenchRun, BenchWorkload } from './measure.ts';

export const MEM_MIB = 64;
/** Guest RAM of the workloads' machines: MEM_MIB unless `--mem` says otherwise (the browser
 *  figure's Node run uses the playground's 128 MiB, so both boot the same instructions). */
let memMiB = MEM_MIB;
export function setBenchMemMiB(n: number): void {
  memMiB = n;
}
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
  /** Typed on COM1 once `inputAfter` has appeared (a shell script, e.g. "bench\rexit\r"). */
  input?: string;
  inputAfter?: string;
  /** Time and count only from the moment `input` is typed (the boot before it is not measured). */
  timeFromInput?: boolean;
}

interface Stepper {
  /** Run up to `budget`; the state afterwards and COM1 bytes produced. */
  step(budget: number): { state: string; exitCode?: number; reason?: string; serial: Uint8Array };
  readonly instructions: number;
  send(text: string): void;
  dispose(): void;
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
  const pc = new Pc({ memMiB, noReboot: true, recycleRam: true });
  pc.load(boot(source, memMiB * 1024 * 1024));
  return {
    get instructions() {
      return pc.instructions;
    },
    send(text) {
      pc.sendSerial(0, text);
    },
    dispose() {
      pc.dispose();
    },
    step(budget) {
      const r = pc.runSlice(budget);
      const state = r.state === 'running' && r.stop === 'idle' ? 'idle' : r.state;
      return { state, exitCode: r.exitCode, reason: r.reason, serial: pc.serialOut[0]!.take() };
    },
  };
}

function sessionStepper(
  SessionCtor: SessionClass,
  source: GuestSource,
  technique: Technique,
  paging?: 'ept' | 'shadow',
): Stepper {
  const s = new SessionCtor({
    guest: source,
    technique,
    vms: 1,
    memMiB,
    noReboot: true,
    ...(paging ? { paging } : {}),
  });
  return {
    get instructions() {
      return s.instructions;
    },
    send(text) {
      s.sendSerial(0, new TextEncoder().encode(text));
    },
    dispose() {
      s.dispose();
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
  guest = 'hello',
): string | null {
  if (technique === 'native') return null;
  if (backend.kind !== 'session') return `technique '${technique}' needs the session backend`;
  const { source } = resolveGuest({ kind: 'guest', id: guest });
  try {
    new backend.SessionCtor!({ guest: source, technique, vms: 1, memMiB: MEM_MIB, noReboot: true });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return null;
}

/** Instructions the cold-code workload runs (its RAM holds ~31 M of them). */
const COLD_INSTRUCTIONS = 10_000_000;

/**
 * Code that runs once (issue 16): `mov eax, 0x400000; jmp 0x200000`, then zeroed RAM, each `00 00`
 * an `add [eax], al` never executed again. Blocks must not make it slower than the interpreter.
 */
function coldRun(backend: { kind: Backend; SessionCtor?: SessionClass }): BenchRun {
  const image = new Uint8Array([0xb8, 0x00, 0x00, 0x40, 0x00, 0xe9, 0, 0, 0, 0]);
  new DataView(image.buffer).setInt32(6, 0x200000 - (0x100000 + image.length), true);
  const source: GuestSource = { kind: 'raw', image, addr: 0x100000, entry: 0x100000 };
  const m =
    backend.kind === 'pc' ? pcStepper(source) : sessionStepper(backend.SessionCtor!, source, 'native');
  return {
    get instructions() {
      return m.instructions;
    },
    advance(budget: number): boolean {
      const r = m.step(Math.min(budget, COLD_INSTRUCTIONS - m.instructions));
      if (r.state !== 'running') throw new Error(`the guest stopped: ${r.state}`);
      return m.instructions >= COLD_INSTRUCTIONS;
    },
    dispose: () => m.dispose(),
  };
}

/** A fresh run of manifest guest `guestId` until `end`. */
export function guestRun(
  guestId: string,
  end: EndCondition,
  backend: { kind: Backend; SessionCtor?: SessionClass; technique?: Technique; paging?: 'ept' | 'shadow' },
): BenchRun {
  const { source } = resolveGuest({ kind: 'guest', id: guestId });
  const m =
    backend.kind === 'pc'
      ? pcStepper(source)
      : sessionStepper(backend.SessionCtor!, source, backend.technique ?? 'native', backend.paging);
  let input = end.input;
  if (input !== undefined && end.inputAfter === undefined) {
    m.send(input);
    input = undefined;
  }
  const want = end.untilSerial;
  const watch = want !== undefined || end.requireSerial !== undefined || input !== undefined;
  let seenRequired = false;
  let tail = '';
  return {
    get instructions() {
      return m.instructions;
    },
    get measuring() {
      return end.timeFromInput ? input === undefined : undefined;
    },
    advance(budget: number): boolean {
      const r = m.step(budget);
      if (watch && r.serial.length > 0) {
        tail = (tail + String.fromCharCode(...r.serial)).slice(-4096);
        if (want !== undefined && tail.includes(want)) return true;
        if (end.requireSerial !== undefined && tail.includes(end.requireSerial)) seenRequired = true;
        if (input !== undefined && end.inputAfter !== undefined && tail.includes(end.inputAfter)) {
          m.send(input);
          input = undefined;
          // What follows is the input's own output: the end marker must come after it.
          if (end.timeFromInput) tail = '';
        }
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
    dispose: () => m.dispose(),
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
    // ── The BusyBox shell loop of issue 15 (the same command the v86 anchor harness types) ───────
    ...[20_000, 100_000].map(
      (n): BenchWorkload => ({
        name: `linux-loop-${n / 1000}k`,
        description: `in the Linux guest's shell: while [ $i -lt ${n} ] (timed from typing it to its end)`,
        unavailable: () => guestAvailable('linux'),
        prepare: () =>
          guestRun(
            'linux',
            {
              // The command line echoes "echo LOOPDONE"; only the command's own output starts a line.
              untilSerial: '\nLOOPDONE',
              input: `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); done; echo LOOPDONE\n`,
              inputAfter: 'guest# ',
              timeFromInput: true,
            },
            backend,
          ),
        maxInstructions: 20e9,
        slice: 1_000_000,
      }),
    ),
    // ── Hardware assist vs native: the same Linux boot under VT-x (EPT, and shadow paging) ──
    ...(['ept', 'shadow'] as const).map(
      (paging): BenchWorkload => ({
        name: `linux-boot-vtx-${paging}`,
        description: `boot Linux to 'guest# ' under hardware-assisted virtualization with ${paging === 'ept' ? 'EPT' : 'shadow paging'}`,
        unavailable: () => guestAvailable('linux') ?? techniqueAvailable(backend, 'hardware-assisted'),
        prepare: () =>
          guestRun(
            'linux',
            { untilSerial: 'guest# ' },
            { ...backend, technique: 'hardware-assisted', paging },
          ),
        maxInstructions: 3e9,
        slice: 1_000_000,
        ratioTo: 'linux-boot',
      }),
    ),
    {
      name: 'cold-code',
      description: 'code that never repeats: 10 M instructions sliding through zeroed RAM (add [eax], al)',
      unavailable: () => null,
      prepare: () => coldRun(backend),
      maxInstructions: 20e6,
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
    // ── Paravirtualization vs native ────────────────────────────────────────────────────────────
    // The same kernel source booted, its shell's `bench` (Adams & Agesen's nanobenchmarks) run and
    // the shell exited: natively (minikernel) and paravirtualized under 'paravirtual' (minikernel-pv,
    // whose page-table and CR0 benchmarks are hypercalls and whose syscalls are direct traps).
    ...(
      [
        ['minikernel', 'native'],
        ['minikernel-pv', 'paravirtual'],
      ] as const
    ).map(
      ([guest, technique]): BenchWorkload => ({
        name: `${guest}-bench`,
        description: `${guest} under '${technique}': boot, the shell's bench command, exit`,
        unavailable: () => guestAvailable(guest) ?? techniqueAvailable(backend, technique, guest),
        prepare: () =>
          guestRun(
            guest,
            { untilExit: 1, input: 'bench\rexit\r', inputAfter: 'mini$ ', requireSerial: 'ptemod' },
            { ...backend, technique },
          ),
        maxInstructions: 500e6,
        slice: 1_000_000,
      }),
    ),
  ];
}
