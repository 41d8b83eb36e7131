import { reasonName, TrapKind } from '../hypervisor/vmm/trap-kinds.ts';
import { NS_PER_TICK, TICKS_PER_SECOND } from '../machine/clock.ts';
import type {
  CoreHost,
  EmuSession,
  GuestSourceLike,
  ResolvedGuest,
  SessionConfigLike,
  SessionStatusLike,
} from './contract.ts';
import { Executor, type TrapTarget } from './exec.ts';
import { decodePosition } from './position.ts';
import {
  FRAME_TRAP_TAIL,
  type FromWorker,
  type GuestChoice,
  type LoadedInfo,
  MAX_EXPORT_RECORDS,
  parseToWorker,
  type RegSnapshot,
  type RunState,
  type Scenario,
  type StatsView,
  type StatusView,
  type ToWorker,
} from './protocol.ts';
import { TrapView } from './traps.ts';

type Mode = 'paused' | 'run' | 'toTrap' | 'untilKind' | 'replay';

export interface SliceResult {
  /** The caller should call runSlice() again. */
  more: boolean;
  /** …but not before this many milliseconds (slow motion, idle guest). */
  waitMs: number;
}

/** Wall-clock length of one slice: short enough that Pause lands within 50 ms. */
export const SLICE_MS = 6;
/** Register snapshots while free running: at most this often. */
const REGS_EVERY_MS = 500;
/**
 * Register snapshots in slow motion: at most this often. The page shows running state at 4 Hz
 * (ui/emulator.ts RUNNING_UPDATE_HZ), so a snapshot (and four VMs' counters) in every frame was
 * cloned and handled for nothing.
 */
const SLOW_REGS_EVERY_MS = 100;
/**
 * Frames while running: at most this often. Consoles are handed to xterm every 50 ms and the rest
 * of the page updates at 4 Hz, so 30 frames a second lose nothing (a stop is posted at once).
 */
const FRAME_EVERY_MS = 33;
/** Below this speed every frame carries registers (slow motion). */
const SLOW_IPS = 2000;
/**
 * A halted guest's virtual clock skips ahead to its next timer; left alone, an idle guest would
 * race through timer ticks as fast as the host can (burning a core and flooding the page with
 * frames). While the guest mostly halts, its virtual time is held to the wall clock: it may run at
 * most IDLE_LEAD_MS ahead of it. A busy guest is never held back (it lags the clock anyway).
 * Where slices end is invisible to the guest, so this changes nothing it can observe.
 */
const IDLE_LEAD_MS = 20;
/**
 * Frames while running with nothing new to show (no console output, no new trap records, no
 * register snapshot due): at most this often. The page shows counters at 4 Hz, so an idle guest's
 * 30 frames a second only kept both threads busy.
 */
const QUIET_FRAME_MS = 250;
/** Shortest sleep in slow motion (ms). */
const THROTTLE_SLEEP_MS = 4;
const TICKS_PER_MS = TICKS_PER_SECOND / 1000;
/** Longest a single advance may take (ms): the chunk shrinks when one runs longer. */
const CHUNK_MS = 2;
/** Largest chunk halted time alone can grow (instructions; a few ms if the guest turns busy). */
const IDLE_CHUNK_MAX = 200_000;

const DEFAULT_MEM_MIB = 32;

export class WorkerCore {
  private session: EmuSession | null = null;
  private config: SessionConfigLike | null = null;
  private info: LoadedInfo | null = null;
  private traps: TrapView | null = null;
  private exec: Executor | null = null;
  private mode: Mode = 'paused';
  private trapStop: number | undefined;
  private ips: number | null = null;
  /** Throttle bookkeeping: instructions allowed since `throttleT0`. */
  private throttleT0 = 0;
  private throttleDone = 0;
  /** Instructions per chunk while free running, adapted to ~1 ms. */
  private chunk = 20_000;
  private lastRegsAt = -1e9;
  private lastFrameAt = -1e9;
  private stopNote: string | undefined;
  private mipsT0 = 0;
  private mipsI0 = 0;
  /** Idle pacing (see IDLE_LEAD_MS): wall time and virtual time (ns) when pacing last synced. */
  private paceT0 = 0;
  private paceV0 = 0;
  /** The last advance was mostly halted time: hold the virtual clock to the wall clock. */
  private idling = false;
  private mips = 0;
  private loadSeq = 0;
  /** Console output taken by hasNews() for the next frame, in order. */
  private heldSerial: { vm: number; bytes: Uint8Array }[] = [];
  /** Frames carry the newest trap rows (the page asked: `watchTraps`); nobody reads them otherwise. */
  private watchTraps = false;

  constructor(private readonly host: CoreHost) {}

  get isRunning(): boolean {
    return this.mode !== 'paused';
  }

  /** Validate and execute one incoming message. Never throws. */
  async handle(data: unknown): Promise<void> {
    const parsed = parseToWorker(data);
    if (!parsed.ok) {
      this.host.post({ type: 'error', message: parsed.error });
      return;
    }
    const msg = parsed.value;
    try {
      await this.execute(msg);
    } catch (e) {
      // A bug below us must not kill the worker: report it and stop running.
      this.exec?.interrupt();
      this.mode = 'paused';
      this.host.post({
        type: 'error',
        command: msg.type,
        message: `${msg.type} failed: ${e instanceof Error ? e.message : String(e)}`,
        ...('id' in msg ? { id: msg.id } : {}),
      });
      if (this.session) this.postFrame(true);
    }
  }

  private async execute(msg: ToWorker): Promise<void> {
    switch (msg.type) {
      case 'load':
        await this.load(msg.scenario, msg.position);
        return;
      case 'reset':
        this.requireSession(msg.type);
        if (this.config && this.info) this.start(this.config, this.info);
        return;
      case 'run':
        this.go('run', 'Running');
        return;
      case 'pause':
        if (this.session && this.mode !== 'paused') this.stop('Paused');
        return;
      case 'step': {
        const s = this.requireSession(msg.type);
        if (this.mode !== 'paused') this.exec!.interrupt();
        this.mode = 'paused';
        this.trapStop = undefined;
        if (this.canRun(s.status.state)) {
          this.exec!.stepOnce();
          this.stopNote = 'Stepped one instruction';
        }
        this.postFrame(true);
        return;
      }
      case 'stepToTrap': {
        const skip = msg.skip ?? [];
        const names = skip.map((k) => this.traps?.kindName(k) ?? `kind ${k}`);
        this.go(
          'toTrap',
          skip.length
            ? `Running to the next trap (skipping ${names.join(', ')})…`
            : 'Running to the next trap…',
          { skip },
        );
        return;
      }
      case 'runUntilTrapKind': {
        const name = this.traps?.kindName(msg.kind) ?? `kind ${msg.kind}`;
        if (msg.exitReason === undefined) {
          this.go('untilKind', `Running until ${name}…`, { until: msg.kind });
          return;
        }
        const what =
          msg.kind === TrapKind.VmExit
            ? `VM exit ${msg.exitReason} (${reasonName(msg.kind, msg.exitReason)})`
            : `${name} with reason ${msg.exitReason}`;
        this.go('untilKind', `Running until ${what}…`, { until: msg.kind, reason: msg.exitReason });
        return;
      }
      case 'setSpeed':
        this.ips = msg.ips;
        this.throttleT0 = this.host.now();
        this.throttleDone = 0;
        return;
      case 'hostInput': {
        const s = this.requireSession(msg.type);
        if (!s.sendHostSerial || !s.hostingCounters?.())
          throw new Error('there is no host OS: load with Type 2 hosting');
        s.sendHostSerial(msg.bytes);
        return;
      }
      case 'compareHosting': {
        const s = this.requireSession(msg.type);
        if (!this.config || !this.host.compareHosting) throw new Error('this build cannot compare hostings');
        if (this.config.technique === 'native')
          throw new Error('Type 1 and Type 2 need a hypervisor technique');
        let config = this.config;
        if (!config.hostKernel) {
          if (!this.host.hostKernel) throw new Error('this build has no host OS image');
          config = { ...config, hostKernel: await this.host.hostKernel() };
        }
        // A guest that finished is compared to the end; one still running, as far as it got.
        const running = s.status.state === 'running' || s.status.state === 'idle';
        const ticks = running ? Math.max(1_000_000, Math.round(s.virtualTimeNs / NS_PER_TICK)) : 200_000_000;
        const t = this.host.compareHosting({ ...config, vms: 1 }, ticks);
        this.host.post({ type: 'hostingCompare', id: msg.id, ...t });
        return;
      }
      case 'serialInput': {
        const s = this.requireSession(msg.type);
        if (msg.vm >= s.vmCount) throw new Error(`there is no VM ${msg.vm} (this scenario has ${s.vmCount})`);
        // A replay feeds the link's recorded input; anything else now would change the run.
        if (this.mode === 'replay') return;
        this.exec!.input(msg.vm, msg.bytes);
        if (this.mode !== 'paused') {
          // A keystroke ends the idle sleep: the guest takes its UART interrupt now, not when
          // the wall clock would have caught up with it (up to IDLE_LEAD_MS later).
          this.idling = false;
          this.host.wake();
        }
        return;
      }
      case 'readMemory': {
        const s = this.requireSession(msg.type);
        const raw =
          msg.space === 'linear' ? s.readLinear(msg.addr, msg.len) : s.readPhysical(msg.addr, msg.len);
        // Copy: the session may hand out a view of guest memory, which must never be transferred.
        this.host.post({ type: 'memory', id: msg.id, space: msg.space, addr: msg.addr, bytes: raw.slice() });
        return;
      }
      case 'disassemble': {
        const s = this.requireSession(msg.type);
        this.host.post({
          type: 'disasm',
          id: msg.id,
          addr: msg.addr,
          lines: s.disassembleAt(msg.addr, msg.count),
        });
        return;
      }
      case 'trapSlice': {
        const t = this.requireTraps(msg.type);
        if (msg.group) {
          const r = t.groupedSlice(msg.start, msg.end, msg.filter, msg.group.expand, msg.tail);
          this.host.post({ type: 'trapSlice', id: msg.id, ...r });
          return;
        }
        const r = t.slice(msg.start, msg.end, msg.filter, msg.tail);
        this.host.post({
          type: 'trapSlice',
          id: msg.id,
          start: r.start,
          total: r.total,
          rows: r.rows,
          insn: r.insn,
          reasons: r.reasons,
        });
        return;
      }
      case 'pageWalk': {
        const s = this.requireSession(msg.type);
        this.host.post({ type: 'pageWalk', id: msg.id, walk: s.pageWalk?.(msg.vm, msg.lin) ?? null });
        return;
      }
      case 'eptWalk': {
        const s = this.requireSession(msg.type);
        const walk = s.eptWalk?.(msg.vm, msg.addr, msg.space) ?? null;
        this.host.post({ type: 'eptWalk', id: msg.id, walk });
        return;
      }
      case 'trapDetail': {
        const t = this.requireTraps(msg.type);
        const detail = t.detail(msg.index);
        const pair = detail ? this.exec!.pairFor(detail.seq) : undefined;
        if (detail && pair) {
          const before = this.host.toRegSnapshot(pair.before);
          const after = this.host.toRegSnapshot(pair.after);
          if (before && after)
            detail.regs = { before, after, exact: pair.exact, instructions: pair.instructions };
        }
        this.host.post({ type: 'trapDetail', id: msg.id, detail });
        return;
      }
      case 'watchTraps':
        this.watchTraps = msg.on;
        return;
      case 'exportTraps': {
        const t = this.requireTraps(msg.type);
        const r = t.exportText(msg.format, MAX_EXPORT_RECORDS);
        this.host.post({
          type: 'export',
          id: msg.id,
          format: msg.format,
          records: r.records,
          bytes: r.bytes,
        });
        return;
      }
      default: {
        const never: never = msg;
        throw new Error(`unhandled command ${JSON.stringify(never)}`);
      }
    }
  }

  private requireSession(cmd: string): EmuSession {
    if (!this.session) throw new Error(`no guest is loaded yet (choose a guest before '${cmd}')`);
    return this.session;
  }

  private requireTraps(cmd: string): TrapView {
    this.requireSession(cmd);
    return this.traps!;
  }

  private async load(scenario: Scenario, position?: string): Promise<void> {
    const seq = ++this.loadSeq;
    this.mode = 'paused';
    let resolved: ResolvedGuest;
    try {
      resolved = await this.resolve(scenario.guest);
    } catch (e) {
      this.host.post({ type: 'error', command: 'load', message: e instanceof Error ? e.message : String(e) });
      return;
    }
    if (seq !== this.loadSeq) return; // a newer load overtook this one
    const config: SessionConfigLike = {
      guest: resolved.source,
      technique: scenario.technique,
      vms: scenario.vms,
      memMiB: scenario.memMiB ?? resolved.memMiB,
      noReboot: true,
      ...(scenario.paging ? { paging: scenario.paging } : {}),
      ...(scenario.cpuModel ? { cpuModel: scenario.cpuModel } : {}),
    };
    if (scenario.hosting === 'type2') {
      config.hosting = 'type2';
      try {
        if (!this.host.hostKernel) throw new Error('this build has no host OS image');
        config.hostKernel = await this.host.hostKernel();
      } catch (e) {
        this.host.post({
          type: 'error',
          command: 'load',
          message: e instanceof Error ? e.message : String(e),
        });
        return;
      }
      if (seq !== this.loadSeq) return;
    }
    const machine = scenario.machine ?? 'pc';
    if (machine.includes('fpu')) config.fpu = true;
    if (machine.includes('apic')) config.apic = true;
    const info: LoadedInfo = {
      guestLabel: resolved.label,
      technique: scenario.technique,
      vms: scenario.vms,
      memMiB: config.memMiB,
      machine,
      summary: '',
      names: { kinds: [], actions: [] },
    };
    this.start(config, info);
    if (position && this.config === config) this.replay(position);
  }

  /** Replay a shared position on the fresh session (see position.ts). */
  private replay(position: string): void {
    let ops: ReturnType<typeof decodePosition>;
    try {
      ops = decodePosition(position, (this.config?.vms ?? 1) - 1);
    } catch (e) {
      this.host.post({
        type: 'error',
        command: 'replay',
        message: `The link's run position is damaged (${e instanceof Error ? e.message : String(e)}); the guest starts from the beginning instead.`,
      });
      return;
    }
    if (ops.length === 0) return;
    this.exec!.startReplay(ops);
    this.mode = 'replay';
    this.stopNote = 'Replaying the linked run position…';
    this.throttleT0 = this.host.now();
    this.throttleDone = 0;
    this.postFrame(false);
    this.host.wake();
  }

  private async resolve(g: GuestChoice): Promise<ResolvedGuest> {
    if (g.kind === 'builtin') return this.host.resolveGuest(g.id);
    const u = g.guest;
    const source: GuestSourceLike =
      u.kind === 'kernel'
        ? { kind: 'kernel', kernel: u.kernel, initrd: u.initrd, cmdline: u.cmdline }
        : u.kind === 'bios'
          ? { kind: 'bios', image: u.image }
          : { kind: 'raw', image: u.image, addr: u.addr, entry: u.entry };
    if (source.kind === 'kernel' && source.initrd === undefined) delete source.initrd;
    if (source.kind === 'kernel' && source.cmdline === undefined) delete source.cmdline;
    const big = (u.kind === 'kernel' ? u.kernel.length + (u.initrd?.length ?? 0) : u.image.length) > 1 << 20;
    return { source, label: u.name, memMiB: big ? 128 : DEFAULT_MEM_MIB };
  }

  /** (Re)create the session; on failure keep the previous one and report why. */
  private start(config: SessionConfigLike, info: LoadedInfo): void {
    let s: EmuSession;
    try {
      s = this.host.createSession(config);
    } catch (e) {
      this.mode = 'paused';
      this.host.post({
        type: 'error',
        command: 'load',
        message: `Could not start ${info.guestLabel}: ${e instanceof Error ? e.message : String(e)}`,
      });
      return;
    }
    // The previous session is done: its buffers, zeroed, serve the next Run's machine.
    const old = this.session;
    this.session = s;
    this.heldSerial = [];
    if (old !== s) old?.dispose?.();
    this.config = config;
    this.traps = new TrapView(s.traps);
    this.exec = new Executor(s, this.traps);
    this.trapStop = undefined;
    this.info = { ...info, summary: s.bootSummary ?? info.summary, names: this.traps.names() };
    this.mode = 'paused';
    this.stopNote = 'Loaded — press Run';
    this.mips = 0;
    this.host.post({ type: 'loaded', info: this.info });
    this.postFrame(true);
  }

  private canRun(state: RunState): boolean {
    return state === 'running' || state === 'idle';
  }

  private go(mode: 'run' | 'toTrap' | 'untilKind', note: string, target?: TrapTarget): void {
    const s = this.session;
    if (!s) throw new Error(`no guest is loaded yet (choose a guest before running)`);
    if (this.mode !== 'paused') this.exec!.interrupt();
    if (!this.canRun(s.status.state)) {
      this.stopNote = `The guest has ${describeEnd(s.status)} — press Reset to start it again`;
      this.postFrame(true);
      return;
    }
    if (mode !== 'run' && this.config?.technique === 'native') {
      // No VMM, so no record will ever come: running "to the next trap" would never stop.
      this.mode = 'paused';
      this.stopNote = 'Native execution has no VMM, so there are no traps to stop at — use Run or Step';
      this.postFrame(true);
      return;
    }
    this.mode = mode;
    this.idling = false;
    this.paceT0 = this.host.now();
    this.paceV0 = s.virtualTimeNs;
    this.exec!.start(mode === 'run' ? 'run' : 't', target);
    this.trapStop = undefined;
    this.stopNote = note;
    this.throttleT0 = this.host.now();
    this.throttleDone = 0;
    this.mipsT0 = this.host.now();
    this.mipsI0 = s.instructions;
    this.postFrame(false);
    this.host.wake();
  }

  private stop(note: string): void {
    this.exec?.interrupt();
    this.mode = 'paused';
    this.stopNote = note;
    this.postFrame(true);
  }

  /** Run for one slice. Call again while `more` (after `waitMs`). */
  runSlice(): SliceResult {
    try {
      return this.slice();
    } catch (e) {
      // An emulator bug must not leave the UI showing "Running" forever: stop and say why.
      this.exec?.interrupt();
      this.mode = 'paused';
      this.stopNote = 'Stopped by an internal error';
      this.host.post({
        type: 'error',
        command: 'run',
        message: `The emulator stopped with an internal error: ${e instanceof Error ? e.message : String(e)}`,
      });
      try {
        this.postFrame(true);
      } catch {
        /* the session cannot even report its state; the error above says enough */
      }
      return { more: false, waitMs: 0 };
    }
  }

  private slice(): SliceResult {
    const s = this.session;
    const ex = this.exec;
    if (!s || !ex || this.mode === 'paused') return { more: false, waitMs: 0 };
    const t0 = this.host.now();
    let waitMs = 0;
    let stopped: string | null = null;
    // A replay runs flat out: slow motion is for watching, not for getting to the linked point.
    const throttled = this.ips !== null && this.mode !== 'replay';
    const paced = this.mode === 'run' && !throttled;
    for (;;) {
      let budget = this.chunk;
      // Paced, every advance is bounded (a busy guest may go idle within it); only an idle one waits.
      if (paced) {
        const lead = (s.virtualTimeNs - this.paceV0) / 1e6 - (this.host.now() - this.paceT0);
        const allowed = Math.floor((IDLE_LEAD_MS - lead) * TICKS_PER_MS);
        if (allowed <= 0 && this.idling) {
          // Sleep until the wall clock catches up with the virtual one, so an idle guest wakes
          // the worker about once per IDLE_LEAD_MS (and per guest timer), not every millisecond.
          waitMs = Math.min(IDLE_LEAD_MS, Math.max(1, lead));
          break;
        }
        budget = Math.min(budget, Math.max(allowed, 1000));
      }
      if (throttled) {
        const allowed =
          Math.floor(((this.host.now() - this.throttleT0) * this.ips!) / 1000) - this.throttleDone;
        if (allowed <= 0) {
          // At least THROTTLE_SLEEP_MS: at 1 k instructions a second, waking for every single
          // instruction cost the worker more than running them (a few per wake look the same).
          const due = 1000 / this.ips! - (this.host.now() - this.throttleT0);
          waitMs = Math.min(16, Math.max(THROTTLE_SLEEP_MS, due));
          break;
        }
        budget = Math.min(budget, allowed);
      }
      const wasReplay = ex.replaying;
      const v0 = s.virtualTimeNs;
      const tA = this.host.now();
      const r = ex.advance(budget);
      const ran = r.ran;
      const advancedNs = s.virtualTimeNs - v0;
      if (paced) this.pace(advancedNs, ran);
      this.throttleDone += throttled ? Math.max(ran, 1) : 0;
      if (!this.canRun(r.st.state)) {
        stopped = `The guest has ${describeEnd(r.st)}${wasReplay ? ' (replayed from the link)' : ''}`;
        break;
      }
      if (r.done) {
        if (r.trapStop !== undefined) this.trapStop = r.trapStop;
        if (wasReplay || this.mode === 'replay')
          stopped = r.note ? `${r.note} (replayed from the link)` : 'At the linked run position';
        else stopped = r.note ?? 'Stopped';
        break;
      }
      const took = this.host.now() - tA;
      const elapsed = this.host.now() - t0;
      // Keep each advance about a millisecond long, so a slice (and Pause) is never held up by one
      // long chunk: a chunk sized in a fast stretch may take far longer in a slow one.
      // A chunk is used up by instructions or, for a halting guest, by the virtual time it
      // skipped: counting instructions alone, an idle guest never grew the chunk back after a slow
      // stretch and paced its 20 ms lead in thousands of tiny advances. Halted time grows it only
      // to IDLE_CHUNK_MAX, so a guest that wakes up busy is not handed a chunk too long for Pause.
      if (!throttled && took < CHUNK_MS / 2) {
        if (ran === budget) this.chunk = Math.min(this.chunk * 2, 2_000_000);
        else if (advancedNs / NS_PER_TICK >= budget && this.chunk < IDLE_CHUNK_MAX)
          this.chunk = Math.min(this.chunk * 2, IDLE_CHUNK_MAX);
      } else if (!throttled && took > CHUNK_MS && this.chunk > 1000) {
        this.chunk = Math.max(1000, Math.floor((this.chunk * CHUNK_MS) / took));
      }
      if (r.st.state === 'idle' && ran === 0) {
        waitMs = 4; // halted, waiting for input: don't spin
        break;
      }
      if (elapsed >= SLICE_MS) break;
    }
    const now = this.host.now();
    // Every 0.5 s while running; at a stop, over the last stretch if it is long enough to mean much.
    if (now - this.mipsT0 >= 500 || (stopped !== null && now - this.mipsT0 >= 20)) {
      this.mips = (s.instructions - this.mipsI0) / ((now - this.mipsT0) * 1000);
      this.mipsT0 = now;
      this.mipsI0 = s.instructions;
    }
    if (stopped !== null) {
      this.stop(stopped);
      return { more: false, waitMs: 0 };
    }
    const slow = throttled && this.ips! < SLOW_IPS;
    // Slow motion shows every frame's registers, but still at most one frame per display frame:
    // posting one per slice (hundreds a second) kept the page busy cloning and handling them.
    if (now - this.lastFrameAt >= FRAME_EVERY_MS) {
      const regsDue = now - this.lastRegsAt >= (slow ? SLOW_REGS_EVERY_MS : REGS_EVERY_MS);
      if (regsDue || now - this.lastFrameAt >= QUIET_FRAME_MS || this.hasNews()) this.postFrame(regsDue);
    }
    return { more: true, waitMs };
  }

  /**
   * Idle pacing bookkeeping after an advance of `advancedNs` virtual ns that retired `ran`. The
   * lead (virtual minus wall time since the anchor) never falls below −IDLE_LEAD_MS, so a guest
   * that was busy (lagging the clock) gets no burst of catch-up when it goes idle; while busy it
   * never exceeds +IDLE_LEAD_MS either (a guest faster than its nominal clock is not held back,
   * and owes nothing when it halts).
   */
  private pace(advancedNs: number, ran: number): void {
    const halted = advancedNs / NS_PER_TICK - ran;
    this.idling = halted > ran;
    const now = this.host.now();
    const v = this.session!.virtualTimeNs;
    const lead = (v - this.paceV0) / 1e6 - (now - this.paceT0);
    const kept = Math.max(-IDLE_LEAD_MS, this.idling ? lead : Math.min(lead, IDLE_LEAD_MS));
    if (kept !== lead) {
      this.paceT0 = now;
      this.paceV0 = v - kept * 1e6;
    }
  }

  private status(): StatusView {
    const st = this.session!.status;
    const ex = this.exec!;
    const v: StatusView = { state: st.state, running: this.mode !== 'paused', position: ex.position() };
    if (this.trapStop !== undefined && this.mode === 'paused') v.trapStop = this.trapStop;
    const rp = ex.replayProgress();
    if (rp) v.replay = rp;
    if (st.exitCode !== undefined) v.exitCode = st.exitCode;
    if (st.reason !== undefined) v.reason = st.reason;
    if (this.stopNote !== undefined) v.stopNote = this.stopNote;
    return v;
  }

  /**
   * Whether a frame would show something new besides the counters: console output (taken now and
   * held for the frame), new trap records, or a Type 2 host (whose counters are its picture).
   */
  private hasNews(): boolean {
    const s = this.session!;
    for (let vm = 0; vm < s.vmCount; vm++) {
      const b = s.takeSerial(vm);
      if (b.length > 0) this.heldSerial.push({ vm, bytes: b });
    }
    return this.heldSerial.length > 0 || this.traps!.hasNew() || this.config?.hosting === 'type2';
  }

  private postFrame(withRegs: boolean): void {
    const s = this.session!;
    this.lastFrameAt = this.host.now();
    const t = this.traps!;
    const serial = this.heldSerial;
    this.heldSerial = [];
    for (let vm = 0; vm < s.vmCount; vm++) {
      const b = s.takeSerial(vm);
      if (b.length > 0) serial.push({ vm, bytes: b });
    }
    let regs: RegSnapshot | null = null;
    if (withRegs) {
      regs = this.host.toRegSnapshot(s.snapshot());
      this.lastRegsAt = this.host.now();
    }
    const traps = t.takeNew(this.watchTraps ? FRAME_TRAP_TAIL : 0);
    const stats: StatsView = {
      instructions: s.instructions,
      virtualTimeNs: s.virtualTimeNs,
      mips: this.mips,
      ...t.counts(),
    };
    const frame: Extract<FromWorker, { type: 'frame' }> = {
      type: 'frame',
      status: this.status(),
      serial,
      trapsGrew: traps.grew,
      traps: traps.rows,
      regs,
      stats,
    };
    if (withRegs && s.vmInfo) frame.vms = s.vmInfo();
    const hosting = s.hostingCounters?.();
    if (hosting && s.takeHostSerial) frame.host = { serial: s.takeHostSerial(), counters: hosting };
    this.host.post(frame);
  }
}

function describeEnd(st: SessionStatusLike): string {
  switch (st.state) {
    case 'exited':
      return `exited${st.exitCode !== undefined ? ` with code ${st.exitCode}` : ''}`;
    case 'shutdown':
      return `shut down${st.reason ? ` (${st.reason})` : ''}`;
    case 'reset':
      return 'asked for a reboot';
    case 'stopped':
      return `stopped${st.reason ? ` (${st.reason})` : ''}`;
    default:
      return st.state;
  }
}
