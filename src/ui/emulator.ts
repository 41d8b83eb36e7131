/**
 * The main thread's handle on the emulator worker. Commands go out as typed `ToWorker` messages;
 * frames come back and are split by rate:
 * - serial bytes go straight to the VM's terminal sink (decoded as a UTF-8 stream),
 * - status, stats and register snapshots are coalesced per animation frame into the zustand store,
 * - request/response messages (memory, disassembly, trap slices) resolve promises.
 */
import type { TwoDWalkView } from '../hypervisor/hardware-assisted/ept-walk.ts';
import type { PageWalkInfo } from '../hypervisor/vmm/page-walk.ts';
import type {
  DisasmLine,
  ExportFormat,
  FromWorker,
  GroupRows,
  MemorySpace,
  StatsView,
  StatusView,
  ToWorker,
  TrapDetail,
  TrapFilter,
  TrapRows,
} from '../worker/protocol.ts';
import { hostingFrame, hostingReset } from './hosting/store.ts';
import { uiMessage } from './messages.ts';
import { setUrlPosition } from './scenario.ts';
import { browserFrames, SerialBatcher } from './serial-batch.ts';
import { panicLine } from './status-text.ts';
import { type FrameUpdate, type ScenarioSel, useUi } from './store.ts';

function searchOf(s: ScenarioSel): string {
  const q = new URLSearchParams({ guest: s.guestId, technique: s.technique, vms: String(s.vms) });
  if (s.hosting === 'type2') q.set('hosting', 'type2');
  return `?${q.toString()}`;
}

export interface SerialSink {
  /** `done` runs once the terminal has processed the text (and answered any query in it). */
  write(text: string, done?: () => void): void;
  /** A new guest run starts: forget what was shown. */
  clear(): void;
}

export interface TrapSliceReply {
  start: number;
  total: number;
  rows: TrapRows;
  insn: string[];
  reasons: string[];
  groups?: GroupRows;
}

type Pending = (m: FromWorker) => void;

/** Requests carrying an `id`, without it (the client assigns one). */
type Req<T extends ToWorker['type']> = Omit<Extract<ToWorker, { type: T }>, 'id'>;

const MAX_BACKLOG_CHARS = 256 * 1024;
/** Store updates per second while the guest runs (stops and starts are applied at once). */
const RUNNING_UPDATE_HZ = 4;
/** How often the URL's run position is refreshed while the guest runs. */
const URL_EVERY_MS = 1000;
/** A terminal's cursor position report (the answer to ESC[6n): ESC [ row ; col R. */
const CURSOR_REPORT = new RegExp(`^${String.fromCharCode(27)}\\[\\d+;\\d+R$`);

export class Emulator {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly sinks = new Map<number, SerialSink>();
  private readonly decoders = new Map<number, TextDecoder>();
  /** Text produced before a terminal attached (or while it was being rebuilt). */
  private readonly backlog = new Map<number, string>();
  /** Everything each VM printed since the last load, for tests and copy-out. */
  private readonly transcript = new Map<number, string>();
  private queued: FrameUpdate | null = null;
  /** Register snapshots held for the frame after a running update (see `flush`), and its cancel. */
  private regsLater: Pick<FrameUpdate, 'regs' | 'vms'> | null = null;
  private cancelRegsLater: (() => void) | null = null;
  private rafPending = false;
  private lastFlushAt = -1e9;
  /** Console output while the guest runs: per frame, within a budget (serial-batch.ts). */
  private readonly serialOut = new SerialBatcher<SerialSink>(browserFrames);
  private urlAt = -1e9;
  /** Cancels the URL write waiting for an idle moment (see `whileRunning`). */
  private cancelUrlWrite: (() => void) | null = null;
  private readonly trapListeners = new Set<(rows: TrapRows) => void>();
  /**
   * Replayed output still being processed by a terminal. xterm answers queries in guest output
   * (ESC[6n → ESC[row;colR); during a replay those answers are already in the link's journal, so
   * sending them again would feed the guest input it never had.
   */
  private replayWrites = 0;
  private replaying = false;
  private readonly backlogReplay = new Set<number>();

  constructor() {
    this.worker = new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      useUi.getState().toast(`The emulator worker failed: ${e.message || 'unknown error'}`);
    };
  }

  send(msg: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  private request<
    T extends
      | 'readMemory'
      | 'disassemble'
      | 'trapSlice'
      | 'trapDetail'
      | 'exportTraps'
      | 'compareHosting'
      | 'pageWalk'
      | 'eptWalk',
  >(msg: Req<T>): Promise<FromWorker> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => (m.type === 'error' ? reject(new Error(m.message)) : resolve(m)));
      this.send({ ...msg, id } as unknown as ToWorker);
    });
  }

  async readMemory(space: MemorySpace, addr: number, len: number): Promise<Uint8Array> {
    const m = await this.request<'readMemory'>({ type: 'readMemory', space, addr, len });
    return m.type === 'memory' ? m.bytes : new Uint8Array(0);
  }

  async disassemble(addr: number, count: number): Promise<DisasmLine[]> {
    const m = await this.request<'disassemble'>({ type: 'disassemble', addr, count });
    return m.type === 'disasm' ? m.lines : [];
  }

  /**
   * Frames' newest trap records go to `listener`. The worker sends them only while someone
   * listens: a frame otherwise carries no rows, just whether the log grew. Returns the unsubscribe.
   */
  onTraps(listener: (rows: TrapRows) => void): () => void {
    if (this.trapListeners.size === 0) this.send({ type: 'watchTraps', on: true });
    this.trapListeners.add(listener);
    return () => {
      if (this.trapListeners.delete(listener) && this.trapListeners.size === 0)
        this.send({ type: 'watchTraps', on: false });
    };
  }

  /**
   * `group`: repeats grouped (rows are runs), with the groups holding these log indices expanded.
   * `tail`: the last `tail` rows instead of `start`…`end`, as the log stands when the worker reads it.
   */
  async trapSlice(
    start: number,
    end: number,
    filter: TrapFilter,
    group?: { expand: number[] },
    tail?: number,
  ): Promise<TrapSliceReply> {
    const m = await this.request<'trapSlice'>({
      type: 'trapSlice',
      start,
      end,
      filter,
      ...(group ? { group } : {}),
      ...(tail !== undefined ? { tail } : {}),
    });
    if (m.type !== 'trapSlice') throw new Error(`unexpected reply ${m.type}`);
    return m;
  }

  /** VM `vm`'s page walk of `lin` beside the VMM's shadow walk (null without shadow paging). */
  async pageWalk(vm: number, lin: number): Promise<PageWalkInfo | null> {
    const m = await this.request<'pageWalk'>({ type: 'pageWalk', vm, lin });
    return m.type === 'pageWalk' ? m.walk : null;
  }

  /** The 2-D walk of a guest-linear or guest-physical address of VM `vm` (null without EPT). */
  async eptWalk(vm: number, addr: number, space: 'linear' | 'guest-physical'): Promise<TwoDWalkView | null> {
    const m = await this.request<'eptWalk'>({ type: 'eptWalk', vm, addr, space });
    return m.type === 'eptWalk' ? m.walk : null;
  }

  async trapDetail(index: number): Promise<TrapDetail | null> {
    const m = await this.request<'trapDetail'>({ type: 'trapDetail', index });
    return m.type === 'trapDetail' ? m.detail : null;
  }

  async exportTraps(format: ExportFormat): Promise<{ records: number; bytes: Uint8Array }> {
    const m = await this.request<'exportTraps'>({ type: 'exportTraps', format });
    if (m.type !== 'export') throw new Error(`unexpected reply ${m.type}`);
    return m;
  }

  /** Type 1 vs Type 2 for the loaded guest, run headless in the worker. */
  async compareHosting(): Promise<{ title: string; rows: [string, string, string][] }> {
    const m = await this.request<'compareHosting'>({ type: 'compareHosting' });
    if (m.type !== 'hostingCompare') throw new Error(`unexpected reply ${m.type}`);
    return m;
  }

  /** Type 2: type into the host OS's own console. */
  sendHostSerial(text: string): void {
    this.send({ type: 'hostInput', bytes: new TextEncoder().encode(text) });
  }

  sendSerial(vm: number, text: string): void {
    // While a link replays, its journal already holds the input (the worker drops any more), and a
    // terminal's answer to a replayed query was recorded too.
    if (this.replaying) return;
    if (this.replayWrites > 0 && CURSOR_REPORT.test(text)) return;
    const bytes = new TextEncoder().encode(text);
    this.send({ type: 'serialInput', vm, bytes }, [bytes.buffer]);
  }

  /** Attach a terminal; returns a detach function. Buffered output is replayed first. */
  attachSerial(vm: number, sink: SerialSink): () => void {
    this.sinks.set(vm, sink);
    const b = this.backlog.get(vm);
    if (b) {
      this.backlog.delete(vm);
      this.writeTo(sink, b, this.backlogReplay.delete(vm));
    }
    return () => {
      if (this.sinks.get(vm) === sink) this.sinks.delete(vm);
    };
  }

  transcriptOf(vm: number): string {
    return (this.transcript.get(vm) ?? '').slice(-MAX_BACKLOG_CHARS);
  }

  /** Forget decoders and transcripts (a new guest is starting). */
  clearSerial(): void {
    this.serialOut.clear();
    for (const s of this.sinks.values()) s.clear();
    this.backlogReplay.clear();
    this.decoders.clear();
    this.backlog.clear();
    this.transcript.clear();
  }

  private serial(vm: number, bytes: Uint8Array, replayed: boolean): void {
    let d = this.decoders.get(vm);
    if (!d) {
      d = new TextDecoder('utf-8', { fatal: false });
      this.decoders.set(vm, d);
    }
    // Stream mode: a UTF-8 sequence split across two frames is decoded once both halves arrive.
    const text = d.decode(bytes, { stream: true });
    if (!text) return;
    const prev = this.transcript.get(vm) ?? '';
    const t = prev + text;
    // Trim only when well over the limit: slicing flattens the string, once per frame otherwise.
    this.transcript.set(vm, t.length > 2 * MAX_BACKLOG_CHARS ? t.slice(-MAX_BACKLOG_CHARS) : t);
    // A kernel that panics usually keeps its CPU busy in a loop: say so, or "Running" misleads.
    if (useUi.getState().panic === null && /panic/i.test(text + prev.slice(-40))) {
      const p = panicLine(prev.slice(-200) + text);
      if (p) useUi.getState().set({ panic: vm > 0 || this.sinks.size > 1 ? `VM ${vm}: ${p}` : p });
    }
    const sink = this.sinks.get(vm);
    if (sink) this.writeTo(sink, text, replayed);
    else {
      const b = (this.backlog.get(vm) ?? '') + text;
      this.backlog.set(vm, b.length > MAX_BACKLOG_CHARS ? b.slice(-MAX_BACKLOG_CHARS) : b);
      if (replayed) this.backlogReplay.add(vm);
    }
  }

  private writeTo(sink: SerialSink, text: string, replayed: boolean): void {
    if (!replayed) {
      this.serialOut.add(sink, text);
      return;
    }
    this.flushSerial();
    this.replayWrites++;
    sink.write(text, () => {
      this.replayWrites--;
    });
  }

  /** Hand batched console output to the terminals now (in order, before anything written next). */
  private flushSerial(): void {
    this.serialOut.flushAll();
  }

  private receive(m: FromWorker): void {
    const ui = useUi.getState();
    switch (m.type) {
      case 'ready':
        ui.set({ workerReady: true, techniques: m.techniques });
        return;
      case 'loaded':
        // A new run starts now (a failed load keeps the previous one, so reset only here).
        this.dropRegsLater();
        this.dropUrlWrite();
        this.clearSerial();
        ui.resetRun();
        hostingReset();
        ui.set({
          loaded: m.info,
          loading: false,
          loadError: null,
          loadOpen: false,
          uploadName: ui.pendingUpload,
          activeScenario: ui.pendingUpload ? ui.activeScenario : ui.scenario,
        });
        if (ui.pendingUpload) {
          // The URL must not name the built-in guest that ran before: only the technique and VM
          // count carry over (a guest from disk cannot be linked to).
          const q = new URLSearchParams({ technique: ui.scenario.technique, vms: String(ui.scenario.vms) });
          history.replaceState(null, '', `${location.pathname}?${q.toString()}${location.hash}`);
        }
        return;
      case 'frame': {
        // Output of a replay, including the frame that ends it.
        const replayed = this.replaying || m.status.replay !== undefined;
        this.replaying = m.status.replay !== undefined;
        for (const s of m.serial) this.serial(s.vm, s.bytes, replayed);
        if (m.traps) for (const l of this.trapListeners) l(m.traps);
        if (m.host) hostingFrame(m.host);
        const q = this.queued ?? { status: m.status, stats: m.stats, regs: [], trapsGrew: false };
        q.status = m.status;
        q.stats = m.stats;
        if (m.regs) q.regs.push({ regs: m.regs, stop: !m.status.running });
        if (m.trapsGrew) q.trapsGrew = true;
        if (m.vms) q.vms = m.vms;
        this.queued = q;
        if (!m.status.running) {
          this.flushSerial();
          this.atStop(m.status, m.stats, ui.status?.running ?? false);
        } else this.whileRunning(m.status);
        // A stop (or start) is shown at once; everything else waits for the next animation frame.
        if (m.status.running !== (ui.status?.running ?? false)) this.flush();
        else this.scheduleFlush();
        return;
      }
      case 'memory':
      case 'disasm':
      case 'trapSlice':
      case 'trapDetail':
      case 'pageWalk':
      case 'eptWalk':
      case 'export':
      case 'hostingCompare':
        this.settle(m.id, m);
        return;
      case 'error':
        if (m.id !== undefined && this.pending.has(m.id)) {
          this.settle(m.id, m);
          return;
        }
        if (m.command === 'replay') {
          // The link's position could not be replayed: its selected trap means nothing either.
          ui.set({ pendingSel: null, pendingAfterReplay: false });
          setUrlPosition({ at: '', sel: null });
        }
        if (m.command === 'load') {
          ui.set({ loading: false, loadError: uiMessage(m.message) });
          // The worker kept the previous session: show that scenario again.
          if (ui.activeScenario && !ui.pendingUpload && !ui.uploadName) {
            ui.set({ scenario: ui.activeScenario });
            history.replaceState(
              null,
              '',
              `${location.pathname}${searchOf(ui.activeScenario)}${location.hash}`,
            );
          }
        }
        // The load dialog shows its own error; elsewhere errors are toasted.
        if (!(m.command === 'load' && ui.loadOpen)) ui.toast(uiMessage(m.message));
        return;
      default: {
        const never: never = m;
        console.warn('unknown message from the worker', never);
      }
    }
  }

  /**
   * A stop: record the run position in the URL (so the link reproduces it), select the trap that
   * "step to next trap" reached, and apply a link's selected trap once the replay produced it.
   */
  private atStop(st: StatusView, stats: StatsView, wasRunning: boolean): void {
    this.dropUrlWrite();
    const ui = useUi.getState();
    if (ui.uploadName || ui.pendingUpload) {
      // A guest from disk cannot be linked to: its bytes are not on any server.
      // A stop at a record (Next trap, Until) selects it and, when the table was scrolled away from
      // the tail, brings its row into view.
      if (wasRunning && st.trapStop !== undefined)
        ui.set({ selectedTrap: st.trapStop, revealTrap: st.trapStop });
      return;
    }
    const firstSeq = stats.trapTotal - stats.trapHeld;
    if (!st.replay) setUrlPosition({ at: st.position ?? '' });
    if (ui.pendingSel !== null) {
      // Once the link's run is reproduced (after its replay, or at once without one), select its
      // trap — or forget it, when this run has no such record.
      if (st.replay || (ui.pendingAfterReplay && !wasRunning)) return;
      const index = ui.pendingSel - firstSeq;
      const ok = ui.pendingSel < stats.trapTotal && index >= 0;
      ui.set({
        pendingSel: null,
        pendingAfterReplay: false,
        selectedTrap: ok ? index : null,
        ...(ok ? { revealTrap: index, follow: index >= stats.trapHeld - 1 } : {}),
      });
      if (!ok) setUrlPosition({ sel: null });
      return;
    }
    // A stop at a record (Next trap, Until) selects it and, when the table was scrolled away from
    // the tail, brings its row into view.
    if (wasRunning && st.trapStop !== undefined)
      ui.set({ selectedTrap: st.trapStop, revealTrap: st.trapStop });
  }

  /** While running, the URL follows the run (about once a second), so a copied link is current. */
  private whileRunning(st: StatusView): void {
    const ui = useUi.getState();
    if (ui.uploadName || ui.pendingUpload || st.replay || ui.pendingSel !== null) return;
    const now = performance.now();
    if (now - this.urlAt < URL_EVERY_MS) return;
    this.urlAt = now;
    // history.replaceState takes milliseconds (15 the first time, measured at 1920×1080 with four
    // VMs flat out): while the guests run it waits for a moment the page is idle instead of
    // stretching a frame. A stop writes its own position at once and drops a write still waiting.
    const at = st.position ?? '';
    this.dropUrlWrite();
    this.cancelUrlWrite = whenIdle(() => {
      this.cancelUrlWrite = null;
      setUrlPosition({ at });
    }, URL_EVERY_MS);
  }

  private dropUrlWrite(): void {
    this.cancelUrlWrite?.();
    this.cancelUrlWrite = null;
  }

  private settle(id: number, m: FromWorker): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p(m);
  }

  /**
   * Apply what the worker's frames brought. While the guest runs, the register snapshot (twice a
   * second) goes to the store one animation frame after the counters and the trap log: the
   * registers table, the on-CPU marks and the views that follow registers then render in a frame
   * of their own instead of stretching the counters' frame past a display frame. A stop applies
   * everything at once, in order.
   */
  private flush(): void {
    const q = this.queued;
    this.queued = null;
    if (!q) return;
    this.lastFlushAt = performance.now();
    const held = this.regsLater;
    if (held) {
      // Older snapshots first: the diff's base is the snapshot before the latest.
      this.dropRegsLater();
      q.regs = [...held.regs, ...q.regs];
      if (!q.vms && held.vms) q.vms = held.vms;
    }
    // Keep at most the last few snapshots: the diff only needs the stops and the latest.
    if (q.regs.length > 4) q.regs = q.regs.slice(-4);
    if (q.status.running && q.regs.length > 0 && !q.regs.some((r) => r.stop)) {
      this.regsLater = { regs: q.regs, ...(q.vms ? { vms: q.vms } : {}) };
      const { vms: _vms, ...counters } = q;
      useUi.getState().applyFrames({ ...counters, regs: [] });
      this.cancelRegsLater = nextFrame(() => {
        this.cancelRegsLater = null;
        const later = this.regsLater;
        this.regsLater = null;
        const ui = useUi.getState();
        if (!later || !ui.status || !ui.stats) return;
        // The counters as they are now (the same objects: nothing that shows them re-renders).
        ui.applyFrames({ status: ui.status, stats: ui.stats, trapsGrew: false, ...later });
      });
      return;
    }
    useUi.getState().applyFrames(q);
  }

  private dropRegsLater(): void {
    this.cancelRegsLater?.();
    this.cancelRegsLater = null;
    this.regsLater = null;
  }

  private scheduleFlush(): void {
    if (this.rafPending) return;
    this.rafPending = true;
    // While a guest runs flat out, React re-renders (status bar, trap table, stats) at most
    // RUNNING_UPDATE_HZ: counters that change 60 times a second cannot be read anyway, and the
    // layout and paint they cost are what made the page drop frames. xterm draws on its own.
    const wait = Math.max(0, this.lastFlushAt + 1000 / RUNNING_UPDATE_HZ - performance.now());
    const run = () => {
      this.rafPending = false;
      this.flush();
    };
    // Hidden tabs get no animation frames; fall back so state still settles.
    const hidden = typeof document !== 'undefined' && document.visibilityState === 'hidden';
    const frame = () => (hidden ? queueMicrotask(run) : requestAnimationFrame(run));
    if (wait > 0) setTimeout(frame, wait);
    else frame();
  }
}

/** Run `fn` when the page is idle, within `timeoutMs` at the latest; returns a cancel. */
function whenIdle(fn: () => void, timeoutMs: number): () => void {
  if (typeof requestIdleCallback === 'function') {
    const id = requestIdleCallback(fn, { timeout: timeoutMs });
    return () => cancelIdleCallback(id);
  }
  const id = setTimeout(fn, 0);
  return () => clearTimeout(id);
}

/** Run `fn` on the next animation frame (hidden tabs get none: a microtask then); returns a cancel. */
function nextFrame(fn: () => void): () => void {
  if (typeof document !== 'undefined' && document.visibilityState === 'hidden') {
    let live = true;
    queueMicrotask(() => live && fn());
    return () => {
      live = false;
    };
  }
  const id = requestAnimationFrame(fn);
  return () => cancelAnimationFrame(id);
}

let instance: Emulator | null = null;

export function emulator(): Emulator {
  if (!instance) instance = new Emulator();
  return instance;
}
