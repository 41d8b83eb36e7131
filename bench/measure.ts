/**
 * The benchmark harness: run a workload once to warm up the JIT, then up to N measured runs, and
 * keep the fastest. Pure apart from the clock, which tests replace.
 */

/** One prepared run of a workload (a fresh machine with the guest loaded). */
export interface BenchRun {
  /** Run up to `budget` more instructions; true once the workload's end condition is met.
   *  Throws (any Error) when the guest fails: its message is reported. */
  advance(budget: number): boolean;
  /** Instructions retired so far. */
  readonly instructions: number;
  /** When present, only the part of the run after this turns true is timed and counted (e.g. a
   *  shell loop typed once the guest has booted): runOnce starts its clocks after the advance() in
   *  which it became true. */
  readonly measuring?: boolean;
  /** Done with the machine (untimed): it hands its buffers to the next run's, as a worker does. */
  dispose?(): void;
}

export interface BenchWorkload {
  name: string;
  description: string;
  /** null when runnable, else why the workload is skipped (e.g. "guests/linux/bzImage not built"). */
  unavailable(): string | null;
  /** A fresh run. Not timed unless `timeSetup` is set (a "boot" workload counts loading too). */
  prepare(): BenchRun;
  timeSetup?: boolean;
  /** Give up (as a failure) after this many instructions: a guest that never ends must not hang the bench. */
  maxInstructions: number;
  /** Instructions per advance() call (how often the end condition is checked). */
  slice?: number;
  /** Report this workload's time as a ratio to that workload's (when both ran). */
  ratioTo?: string;
}

export interface BenchResult {
  name: string;
  instructions: number;
  seconds: number;
  mips: number;
  /** The same best run on the other clock (CPU seconds when `seconds` is wall time, and back). */
  otherSeconds?: number;
  /** The first run in a fresh process (what a CLI call or a new browser tab gets). */
  cold?: { instructions: number; cpu: number; wall: number };
}

export interface MeasureDetail extends BenchResult {
  /** Seconds of every measured run, in order (with minSampleSeconds: each sample's per-run mean). */
  runs: number[];
  /** Instruction counts differed between runs (a determinism bug worth reporting). */
  nondeterministic: boolean;
  /** The warm-up run was slow enough to count as a measured run (runs[0]). */
  warmupCounted: boolean;
}

export interface MeasureOptions {
  /** Measured runs (best of these is reported). */
  runs: number;
  warmup: boolean;
  /** Stop repeating once this much wall time has gone into the workload (after ≥ 1 measured run).
   *  A warm-up run longer than a quarter of this counts as the measured run. */
  timeLimitSeconds: number;
  /** Seconds, monotonic: what is measured (default wall time). */
  clock?: () => number;
  /** Seconds, monotonic: what the time limit applies to (default wall time). */
  limitClock?: () => number;
  /** Seconds: also read around each run, reported as `otherSeconds` of the best run. */
  otherClock?: () => number;
  /**
   * A measured run shorter than this (on `clock`) is repeated until the repeats together reach it,
   * and counts as their mean (runSample): a run of a few ms is otherwise one CPU-accounting tick
   * or one V8 compile away from ±30 %. Default 0: each measured run is one run.
   */
  minSampleSeconds?: number;
}

export class BenchFailure extends Error {
  override name = 'BenchFailure';
}

export const defaultClock = (): number => performance.now() / 1000;
/** Process CPU time (user + system, all threads): robust when other processes share the machine. */
export const cpuClock = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export function mipsOf(instructions: number, seconds: number): number {
  return seconds > 0 ? instructions / seconds / 1e6 : 0;
}

/** One complete run: returns the instructions and seconds measured (and seconds on `other`). */
export function runOnce(
  w: BenchWorkload,
  clock: () => number,
  other: () => number = clock,
): { instructions: number; seconds: number; otherSeconds: number } {
  const slice = w.slice ?? 1_000_000;
  let t0 = clock();
  let o0 = other();
  const run = w.prepare();
  if (!w.timeSetup) {
    t0 = clock();
    o0 = other();
  }
  let started = run.measuring !== false;
  let i0 = 0;
  try {
    for (;;) {
      let done: boolean;
      try {
        done = run.advance(slice);
      } catch (e) {
        throw new BenchFailure(`${w.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!started && run.measuring) {
        started = true;
        i0 = run.instructions;
        t0 = clock();
        o0 = other();
      }
      if (done) break;
      if (run.instructions >= w.maxInstructions) {
        throw new BenchFailure(
          `${w.name}: did not finish within ${w.maxInstructions.toLocaleString('en-US')} instructions`,
        );
      }
    }
    const seconds = clock() - t0;
    const otherSeconds = other() - o0;
    if (!started) throw new BenchFailure(`${w.name}: finished before its measured part began`);
    return { instructions: run.instructions - i0, seconds, otherSeconds };
  } finally {
    run.dispose?.();
  }
}

/**
 * One measured sample: `runOnce` repeated (each a fresh machine, as in measure) until the runs
 * together took `minSeconds` on `clock`, at least once. The figures are per run (the repeats'
 * mean); `repeats` says how many ran. Instruction counts must agree between the repeats (the
 * machine is deterministic): `nondeterministic` says they did not.
 */
export function runSample(
  w: BenchWorkload,
  clock: () => number,
  other: () => number,
  minSeconds: number,
): {
  instructions: number;
  seconds: number;
  otherSeconds: number;
  repeats: number;
  nondeterministic: boolean;
} {
  let seconds = 0;
  let otherSeconds = 0;
  let repeats = 0;
  let instructions = -1;
  let nondeterministic = false;
  do {
    const r = runOnce(w, clock, other);
    if (instructions >= 0 && r.instructions !== instructions) nondeterministic = true;
    instructions = r.instructions;
    seconds += r.seconds;
    otherSeconds += r.otherSeconds;
    repeats++;
  } while (seconds < minSeconds);
  return {
    instructions,
    seconds: seconds / repeats,
    otherSeconds: otherSeconds / repeats,
    repeats,
    nondeterministic,
  };
}

export function measure(w: BenchWorkload, opts: MeasureOptions): MeasureDetail {
  const clock = opts.clock ?? defaultClock;
  const limitClock = opts.limitClock ?? opts.clock ?? defaultClock;
  const start = limitClock();
  const other = opts.otherClock ?? clock;
  const runs: number[] = [];
  const others: number[] = [];
  const counts: number[] = [];
  let warmupCounted = false;
  if (opts.warmup) {
    const r = runOnce(w, clock, other);
    // A slow workload is warm long before its end: count the warm-up run rather than double the wait.
    if (r.seconds >= opts.timeLimitSeconds / 4) {
      runs.push(r.seconds);
      others.push(r.otherSeconds);
      counts.push(r.instructions);
      warmupCounted = true;
    }
  }
  let repeatsDiffer = false;
  for (let i = runs.length; i < Math.max(1, opts.runs); i++) {
    if (i > 0 && limitClock() - start >= opts.timeLimitSeconds) break;
    const r = runSample(w, clock, other, opts.minSampleSeconds ?? 0);
    runs.push(r.seconds);
    others.push(r.otherSeconds);
    counts.push(r.instructions);
    if (r.nondeterministic) repeatsDiffer = true;
  }
  let best = 0;
  for (let i = 1; i < runs.length; i++) if (runs[i]! < runs[best]!) best = i;
  const instructions = counts[best]!;
  const seconds = runs[best]!;
  return {
    name: w.name,
    instructions,
    seconds,
    mips: mipsOf(instructions, seconds),
    otherSeconds: others[best]!,
    runs,
    nondeterministic: repeatsDiffer || counts.some((c) => c !== counts[0]),
    warmupCounted,
  };
}
