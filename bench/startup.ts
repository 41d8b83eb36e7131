/**
 * Start-up figures (issue 15): what a user waits for before the first guest instruction.
 * - `session-create`: `new Session(...)` for each technique on the hello and Linux guests (and the
 *   PV kernel), loading the guest included: the first creation in this process (cold) and the
 *   median of the later ones (warm), CPU and wall milliseconds. Goal: ≤ 10 ms warm.
 * - `cli-hello`: a fresh `node bin/traplab.mjs run --guest hello`, start to exit, as a user runs
 *   it (wall seconds, median of the runs after one unmeasured run that warms the file cache).
 *   Goal: ≤ 0.3 s on an idle machine.
 * Both are wall-clock sensitive: on a loaded machine quote CPU figures or paired runs.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveGuest } from '../src/cli/guest-files.ts';
import type { Technique } from '../src/session/index.ts';
import { cpuClock, defaultClock } from './measure.ts';
import { MEM_MIB, type SessionClass } from './workloads.ts';

export const STARTUP_FIGURES = ['session-create', 'cli-hello'] as const;
export type StartupFigure = (typeof STARTUP_FIGURES)[number];

/** The goals, for the report's verdict column. */
export const SESSION_CREATE_GOAL_MS = 10;
export const CLI_HELLO_GOAL_S = 0.3;

/** Guest × technique pairs measured by session-create (each guest under the techniques it runs). */
export const SESSION_CASES: ReadonlyArray<readonly [string, Technique]> = [
  ['hello', 'native'],
  ['hello', 'trap-and-emulate'],
  ['hello', 'binary-translation'],
  ['hello', 'hardware-assisted'],
  ['linux', 'native'],
  ['linux', 'binary-translation'],
  ['linux', 'hardware-assisted'],
  ['minikernel-pv', 'paravirtual'],
];

export interface CreationFigure {
  guest: string;
  technique: Technique;
  /** The first creation of this case in the process (after earlier cases warmed the shared code). */
  cold: { cpuMs: number; wallMs: number };
  /** Median of the later creations. */
  warm: { cpuMs: number; wallMs: number };
  runs: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Create a Session `runs` times per case (the guest file is read once, as a CLI call reads it once)
 * and run its first instruction, so a lazily built part would be counted too. Each Session is
 * disposed of before the next, as a worker does when the user presses Run again.
 */
export function measureSessionCreation(
  SessionCtor: SessionClass,
  opts: { runs: number; cases?: ReadonlyArray<readonly [string, Technique]> },
): { figures: CreationFigure[]; skipped: string[] } {
  const figures: CreationFigure[] = [];
  const skipped: string[] = [];
  for (const [guest, technique] of opts.cases ?? SESSION_CASES) {
    let source: ReturnType<typeof resolveGuest>['source'];
    try {
      source = resolveGuest({ kind: 'guest', id: guest }).source;
    } catch (e) {
      skipped.push(`${guest}/${technique}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const cpu: number[] = [];
    const wall: number[] = [];
    try {
      for (let i = 0; i < Math.max(2, opts.runs + 1); i++) {
        const c0 = cpuClock();
        const w0 = defaultClock();
        const s = new SessionCtor({ guest: source, technique, vms: 1, memMiB: MEM_MIB, noReboot: true });
        const st = s.run(1);
        wall.push((defaultClock() - w0) * 1000);
        cpu.push((cpuClock() - c0) * 1000);
        if (st.state === 'shutdown') throw new Error(`the new session stopped: ${st.reason ?? st.state}`);
        // As the worker does on the next Run: the next session reuses this one's buffers.
        s.dispose();
      }
    } catch (e) {
      skipped.push(`${guest}/${technique}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    figures.push({
      guest,
      technique,
      cold: { cpuMs: cpu[0]!, wallMs: wall[0]! },
      warm: { cpuMs: median(cpu.slice(1)), wallMs: median(wall.slice(1)) },
      runs: cpu.length - 1,
    });
  }
  return { figures, skipped };
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface CliFigure {
  /** Wall seconds of each measured run. */
  runs: number[];
  median: number;
  min: number;
  /** The exit status every run gave (hello exits through port 0xF4 with 0: status 1). */
  status: number | null;
}

/** `node bin/traplab.mjs run --guest hello` in fresh processes: one unmeasured run, then `runs`. */
export function measureCliHello(runs: number): CliFigure {
  const bin = join(ROOT, 'bin', 'traplab.mjs');
  const once = (): { wall: number; status: number | null; out: string } => {
    const t0 = defaultClock();
    const r = spawnSync(process.execPath, [bin, 'run', '--guest', 'hello'], { encoding: 'utf8' });
    const wall = defaultClock() - t0;
    return { wall, status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const first = once();
  if (!first.out.includes('Hello from TrapLab!'))
    throw new Error(`traplab run --guest hello printed no greeting: ${first.out.trim().slice(-300)}`);
  const walls: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = once();
    if (r.status !== first.status)
      throw new Error(`exit status ${r.status}, the first run gave ${first.status}`);
    walls.push(r.wall);
  }
  return { runs: walls, median: median(walls), min: Math.min(...walls), status: first.status };
}

const ms = (x: number): string => x.toFixed(1).padStart(7);

export function creationTable(figs: CreationFigure[]): string {
  const lines = [
    `Session creation (${MEM_MIB} MiB, guest loaded, first instruction run; goal ≤ ${SESSION_CREATE_GOAL_MS} ms warm)`,
    'guest          technique            cold cpu  cold wall  warm cpu  warm wall   (ms)',
  ];
  for (const f of figs)
    lines.push(
      `${f.guest.padEnd(14)} ${f.technique.padEnd(20)} ${ms(f.cold.cpuMs)}   ${ms(f.cold.wallMs)}  ${ms(f.warm.cpuMs)}   ${ms(f.warm.wallMs)}${f.warm.cpuMs <= SESSION_CREATE_GOAL_MS ? '' : '   over goal'}`,
    );
  return lines.join('\n');
}

export function cliLine(f: CliFigure): string {
  return `cli-hello: node bin/traplab.mjs run --guest hello, ${f.runs.length} fresh processes: median ${f.median.toFixed(3)} s wall, min ${f.min.toFixed(3)} s (goal ≤ ${CLI_HELLO_GOAL_S} s on an idle machine; exit status ${f.status})`;
}
