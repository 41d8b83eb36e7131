/**
 * Deterministic virtual time.
 *
 * One *tick* is the time of one retired instruction at the nominal clock of `TICKS_PER_SECOND`
 * (100 MHz ⇒ 1 instruction = 10 ns). Virtual time = instructions retired + events delivered (one
 * tick each, so a guest that only takes exceptions still moves time) + ticks skipped while the
 * CPU was halted (HLT skips straight to the next device deadline). Nothing here reads a wall clock,
 * so the same guest with the same input sees the same time at every instruction on every run.
 *
 * Devices never read globals: each receives the clock it lives on through its constructor (the
 * physical PC has one; every VM of the hypervisor has its own), asks it for `now()` and schedules
 * its next event with a `Timer`. The run loop asks `nextDeadline()` to bound each CPU run.
 */

import { settleFields } from '../cpu/field-reps.ts';

/** Nominal clock: 100 MHz, i.e. one retired instruction = one tick = 10 ns. */
export const TICKS_PER_SECOND = 100_000_000;
/** Nanoseconds per tick (exact: TICKS_PER_SECOND divides 1e9). */
export const NS_PER_TICK = 1_000_000_000 / TICKS_PER_SECOND;

/**
 * Whole cycles of a `hz` clock elapsed after `ticks` ticks: floor(ticks * hz / TICKS_PER_SECOND),
 * computed exactly for any tick count below 2^53 (the product itself would not fit a float64).
 */
export function ticksToCycles(ticks: number, hz: number): number {
  const q = Math.floor(ticks / TICKS_PER_SECOND);
  const r = ticks - q * TICKS_PER_SECOND;
  return q * hz + Math.floor((r * hz) / TICKS_PER_SECOND);
}

/** The first tick at which `cycles` whole cycles of a `hz` clock have elapsed (inverse of the above). */
export function cyclesToTicks(cycles: number, hz: number): number {
  const q = Math.floor(cycles / hz);
  const r = cycles - q * hz;
  return q * TICKS_PER_SECOND + Math.ceil((r * TICKS_PER_SECOND) / hz);
}

/** What devices need from a clock (the PC's `VirtualClock`, or a VM's). */
export interface Clock {
  /** Current virtual time in ticks. */
  now(): number;
  /** A timer that calls `callback(now)` once virtual time reaches its deadline. */
  createTimer(name: string, callback: (now: number) => void): Timer;
}

export class Timer {
  /** Absolute deadline in ticks, or Infinity when disarmed. */
  deadline = Number.POSITIVE_INFINITY;
  constructor(
    readonly name: string,
    readonly callback: (now: number) => void,
    private readonly owner: VirtualClock,
  ) {
    settleFields(this);
  }
  /** Arm (or re-arm) for absolute tick `deadline`. */
  set(deadline: number): void {
    this.deadline = deadline;
    this.owner.deadlineChanged(deadline);
  }
  clear(): void {
    this.deadline = Number.POSITIVE_INFINITY;
  }
  get armed(): boolean {
    return this.deadline !== Number.POSITIVE_INFINITY;
  }
}

export class VirtualClock implements Clock {
  /** Ticks skipped while halted, added to the instruction count. */
  private skipped = 0;
  private readonly timers: Timer[] = [];
  /** Called when a timer is armed (the run loop may want to end the current CPU run early). */
  onDeadline: ((deadline: number) => void) | null = null;

  /** `instructions` returns the CPU's retired-instruction count (exact during bus callbacks). */
  constructor(private readonly instructions: () => number) {
    // `skipped` passes 2^30 ticks in a long idle session (field-reps.ts).
    settleFields(this, ['skipped']);
  }

  now(): number {
    return this.instructions() + this.skipped;
  }

  nowNs(): number {
    return this.now() * NS_PER_TICK;
  }

  /** Ticks skipped while halted so far (virtual time minus instructions). */
  get idleTicks(): number {
    return this.skipped;
  }

  /** Move time forward to `t` without executing (HLT). Never moves backwards. */
  skipTo(t: number): void {
    const now = this.now();
    if (t > now) this.skipped += t - now;
  }

  createTimer(name: string, callback: (now: number) => void): Timer {
    const t = new Timer(name, callback, this);
    this.timers.push(t);
    return t;
  }

  /** @internal */
  deadlineChanged(deadline: number): void {
    this.onDeadline?.(deadline);
  }

  /** Earliest armed deadline, or Infinity. */
  nextDeadline(): number {
    let d = Number.POSITIVE_INFINITY;
    for (const t of this.timers) if (t.deadline < d) d = t.deadline;
    return d;
  }

  /**
   * Fire every timer whose deadline lies in [`from`, `upTo`] (default: everything due now),
   * earliest first; a callback may re-arm its timer. Returns how many fired.
   */
  runDue(upTo = this.now(), from = Number.NEGATIVE_INFINITY): number {
    let fired = 0;
    for (let guard = 0; guard < 10_000; guard++) {
      let best: Timer | null = null;
      for (const t of this.timers) {
        if (t.deadline <= upTo && t.deadline >= from && (!best || t.deadline < best.deadline)) best = t;
      }
      if (!best) break;
      best.deadline = Number.POSITIVE_INFINITY;
      best.callback(upTo);
      fired++;
    }
    return fired;
  }

  /** Timers (for inspection and tests). */
  get allTimers(): readonly Timer[] {
    return this.timers;
  }
}
