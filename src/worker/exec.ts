/**
 * How the worker advances a session, one budget at a time, for every run command — and the
 * journal of what it did (position.ts), so a link can replay the run to exactly the same point.
 *
 * Live commands and a replayed journal go through the same code: "step to the next trap" executed
 * live and the `t` token replayed are the same algorithm, so the same guest reaches the same state.
 *
 * Step to the next trap single-steps for the first EXACT_STEPS ticks, keeping the register
 * snapshot from before each step: when the trap comes within that window, the trap detail shows
 * the real registers right before the trapping instruction and right after the VMM handled it.
 * Beyond the window it runs at full speed, and "before" is the state at the previous stop.
 */
import { NS_PER_TICK } from '../machine/clock.ts';
import type { EmuSession, SessionStatusLike } from './contract.ts';
import { appendOp, encodePosition, MAX_POSITION_CHARS, type PosOp } from './position.ts';
import type { TrapView } from './traps.ts';

/** Instructions "step to the next trap" single-steps (with snapshots) before running freely. */
export const EXACT_STEPS = 5000;
/** Register pairs kept for the trap detail (the newest traps stepped to). */
const MAX_PAIRS = 256;

export interface RegPair {
  before: unknown;
  after: unknown;
  exact: boolean;
  instructions: number;
}

/**
 * Which records a "step to the next trap" stops at: every record, every record except some kinds
 * (a teacher skipping noise such as polling port I/O), or only one kind ("run until <kind>"),
 * optionally only with one reason (a VM exit's basic exit reason: "run until exit reason 30").
 */
export type TrapTarget = { skip: readonly number[] } | { until: number; reason?: number };

type Active =
  | { k: 'run' }
  | { k: 'c'; clock: number; traps: number }
  | {
      k: 't';
      target: TrapTarget;
      left: number;
      startTotal: number;
      steps: number;
      startSnap: unknown;
      startInstr: number;
    }
  | { k: 's'; left: number };

const EVERY: TrapTarget = { skip: [] };

export interface Advance {
  /** Instructions retired by this call. */
  ran: number;
  /** The session's status afterwards. */
  st: SessionStatusLike;
  /** The command (or the whole replay) has finished. */
  done: boolean;
  /** Set when a "step to next trap" / "run until" stopped at a trap: what to tell the user. */
  note?: string;
  /** Log index of the first record of the trap a `t` op stopped at. */
  trapStop?: number;
}

function runnable(st: SessionStatusLike): boolean {
  return st.state === 'running' || st.state === 'idle';
}

export class Executor {
  private readonly journal: PosOp[] = [];
  private encoded: string | null = '';
  private queue: PosOp[] = [];
  private replayTotal = 0;
  private cur: Active | null = null;
  private readonly pairs = new Map<number, RegPair>();
  /** True while the ops being executed come from a link. */
  replaying = false;

  constructor(
    private readonly s: EmuSession,
    private readonly t: TrapView,
  ) {}

  clock(): number {
    return Math.round(this.s.virtualTimeNs / NS_PER_TICK);
  }

  /**
   * The journal as a link token, or null when it is too long for a link. While a command runs, the
   * point reached so far is added (as a clock), so a link copied mid-run replays to about here.
   */
  position(): string | null {
    const c = this.cur;
    if (this.encoded === null || !c || c.k === 's' || this.replaying) return this.encoded;
    const j = this.journal.map((o) => ({ ...o }));
    appendOp(j, { op: 'c', clock: this.clock(), traps: this.t.total() });
    const e = encodePosition(j);
    return e.length <= MAX_POSITION_CHARS ? e : null;
  }

  private record(o: PosOp): void {
    // Too long for a link already: stop journalling (it stays so until the guest restarts).
    if (this.encoded === null) return;
    appendOp(this.journal, o);
    const e = encodePosition(this.journal);
    this.encoded = e.length <= MAX_POSITION_CHARS ? e : null;
  }

  /** Replay progress in virtual-clock ticks (total: the journal's last run target, 0 if none). */
  replayProgress(): { done: number; total: number } | undefined {
    if (!this.replaying) return undefined;
    return { done: Math.min(this.clock(), this.replayTotal), total: this.replayTotal };
  }

  get busy(): boolean {
    return this.cur !== null || this.queue.length > 0;
  }

  /** A live command: free running, or to the next trap record `target` accepts. */
  start(cmd: 'run' | 't', target: TrapTarget = EVERY): void {
    this.cur = cmd === 'run' ? { k: 'run' } : this.newT(1, target);
  }

  /** Replay a journal from the current state (a fresh session). */
  startReplay(ops: PosOp[]): void {
    this.queue = ops.map((o) => (o.op === 'i' ? { ...o, bytes: o.bytes.slice() } : { ...o }));
    this.replayTotal = ops.reduce((m, o) => (o.op === 'c' ? Math.max(m, o.clock) : m), 0);
    this.replaying = ops.length > 0;
    this.cur = null;
  }

  /** Stop whatever runs (Pause, an error): the progress made so far is journalled as a clock. */
  interrupt(): void {
    if (this.cur && this.cur.k !== 's') this.record({ op: 'c', clock: this.clock(), traps: this.t.total() });
    this.cur = null;
    this.queue = [];
    this.replaying = false;
  }

  /** One instruction, now. */
  stepOnce(): SessionStatusLike {
    const st = this.s.step();
    this.record({ op: 's', n: 1 });
    return st;
  }

  /**
   * Serial input. Mid-command, the progress so far is journalled first and the command goes on
   * afresh from here, so a replay sends the bytes at the same virtual time.
   */
  input(vm: number, bytes: Uint8Array): void {
    if (this.cur && this.cur.k !== 's') {
      this.record({ op: 'c', clock: this.clock(), traps: this.t.total() });
      const c = this.cur;
      if (c.k === 't') this.cur = this.newT(c.left, c.target);
    }
    this.s.sendSerial(vm, bytes);
    this.record({ op: 'i', vm, bytes });
  }

  /** Registers around trap `seq`, when the worker stepped to it. */
  pairFor(seq: number): RegPair | undefined {
    return this.pairs.get(seq);
  }

  private newT(left: number, target: TrapTarget): Active {
    return {
      k: 't',
      target,
      left,
      startTotal: this.t.total(),
      steps: 0,
      startSnap: this.s.snapshot(),
      startInstr: this.s.instructions,
    };
  }

  /** Take the next replayed op (executing input at once); null when the replay is over. */
  private nextQueued(): Active | null {
    while (this.queue.length) {
      const o = this.queue.shift()!;
      switch (o.op) {
        case 'i':
          this.s.sendSerial(o.vm, o.bytes);
          this.record(o);
          continue;
        case 'c':
          return { k: 'c', clock: o.clock, traps: o.traps };
        case 't':
          return this.newT(o.n, EVERY);
        case 'u':
          return this.newT(o.n, { until: o.kind });
        case 's':
          return { k: 's', left: o.n };
      }
    }
    return null;
  }

  /** Execute up to `budget` instructions of the current command. */
  advance(budget: number): Advance {
    const s = this.s;
    const before = s.instructions;
    if (!this.cur && this.replaying) this.cur = this.nextQueued();
    const c = this.cur;
    if (!c) {
      this.replaying = false;
      return { ran: 0, st: s.status, done: true };
    }
    let st = s.status;
    let note: string | undefined;
    let trapStop: number | undefined;
    let opDone = false;
    switch (c.k) {
      case 'run':
        st = s.run(budget);
        break;
      case 'c': {
        const left = c.clock - this.clock();
        if (left > 0) st = s.run(Math.min(budget, left));
        else if (this.t.total() < c.traps) {
          // At the clock, short of records: the next instruction traps and takes no tick.
          const had = this.t.total();
          st = s.runToNextTrap(1);
          if (this.t.total() === had) c.traps = 0; // no trap came: the run diverged, stop here
        }
        // Reached, or the guest waits for input it never got: nothing more to replay here.
        if (
          (this.clock() >= c.clock && this.t.total() >= c.traps) ||
          (st.state === 'idle' && s.instructions === before && left > 0)
        ) {
          this.record({ op: 'c', clock: this.clock(), traps: this.t.total() });
          opDone = true;
        }
        break;
      }
      case 's': {
        for (let i = 0; i < budget && c.left > 0 && runnable(st); i++, c.left--) st = this.stepOnce();
        opDone = c.left === 0;
        break;
      }
      case 't': {
        const r = this.trapChunk(c, budget);
        st = r.st;
        if (r.hit) {
          // c.startTotal is now the sequence number of the record it stopped at.
          trapStop = c.startTotal - (this.t.total() - this.t.held());
          const kind = this.t.kindName(this.t.kindAt(Math.max(0, trapStop)));
          const t = c.target;
          if ('until' in t && t.reason !== undefined) {
            note = `Stopped at ${this.t.reasonText(Math.max(0, trapStop))} (record ${c.startTotal})`;
            // Journalled as where it ended (a link's `u` token carries no reason).
            this.record({ op: 'c', clock: this.clock(), traps: this.t.total() });
          } else if ('until' in t) {
            note = `Stopped at ${kind} (record ${c.startTotal})`;
            this.record({ op: 'u', kind: t.until, n: 1 });
          } else {
            const skipped = t.skip.length ? ', skipping the kinds you chose' : '';
            note = `Stopped at trap: ${kind} (record ${c.startTotal}${skipped})`;
            // A skipping step is journalled as where it ended: replay needs no skip list.
            if (t.skip.length) this.record({ op: 'c', clock: this.clock(), traps: this.t.total() });
            else this.record({ op: 't', n: 1 });
          }
          c.left--;
          if (c.left > 0) this.cur = this.newT(c.left, c.target);
          else opDone = true;
        }
        break;
      }
    }
    const ran = s.instructions - before;
    if (!runnable(st)) {
      // The guest ended: that is where this command (and any replay) stops.
      if (!opDone && c.k !== 's') this.record({ op: 'c', clock: this.clock(), traps: this.t.total() });
      this.cur = null;
      this.queue = [];
      this.replaying = false;
      return { ran, st, done: true, note, trapStop };
    }
    if (opDone) {
      this.cur = this.replaying ? this.nextQueued() : null;
      if (!this.cur) this.replaying = false;
      return { ran, st, done: !this.cur, note, trapStop };
    }
    // A `t` or `u` op with more to go stops only at the end of the whole command.
    return { ran, st, done: false, note: undefined, trapStop: undefined };
  }

  /**
   * Whether records appended since `c.startTotal` include one the target accepts. If so,
   * `c.startTotal` becomes its sequence number; if not, it moves past the skipped ones.
   */
  private reached(c: Extract<Active, { k: 't' }>): boolean {
    const total = this.t.total();
    if (total === c.startTotal) return false;
    const t = c.target;
    const seq =
      'until' in t
        ? this.t.firstSince(
            c.startTotal,
            (k, r) => k === t.until && (t.reason === undefined || r === t.reason),
          )
        : t.skip.length
          ? this.t.firstSince(c.startTotal, (k) => !t.skip.includes(k))
          : c.startTotal;
    if (seq < 0) {
      c.startTotal = total;
      return false;
    }
    c.startTotal = seq;
    return true;
  }

  private trapChunk(c: Extract<Active, { k: 't' }>, budget: number): { st: SessionStatusLike; hit: boolean } {
    const s = this.s;
    let st = s.status;
    for (let i = 0; i < budget && c.steps < EXACT_STEPS; i++) {
      const pre = s.snapshot();
      // One tick, stopping as soon as a record is appended: right after the VMM handled the trap
      // (session.step() would also run the next guest instruction after an emulated one).
      st = s.runToNextTrap(1);
      c.steps++;
      if (this.reached(c)) {
        this.keepPair(c.startTotal, { before: pre, after: s.snapshot(), exact: true, instructions: 1 });
        return { st, hit: true };
      }
      if (!runnable(st)) return { st, hit: false };
    }
    if (c.steps < EXACT_STEPS) return { st, hit: false };
    st = s.runToNextTrap(budget);
    if (this.reached(c)) {
      this.keepPair(c.startTotal, {
        before: c.startSnap,
        after: s.snapshot(),
        exact: false,
        instructions: s.instructions - c.startInstr,
      });
      return { st, hit: true };
    }
    return { st, hit: false };
  }

  private keepPair(fromSeq: number, p: RegPair): void {
    for (let seq = fromSeq; seq < this.t.total(); seq++) this.pairs.set(seq, p);
    while (this.pairs.size > MAX_PAIRS) this.pairs.delete(this.pairs.keys().next().value!);
  }
}
