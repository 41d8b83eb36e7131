/**
 * How the worker client applies the worker's frames to the store while a guest runs: counters and
 * the trap log first, the register snapshot one animation frame later (so the two never stretch one
 * display frame), and a stop at once with every snapshot in order. Runs the real Emulator against
 * a fake Worker and a manual animation-frame queue.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  CpuView,
  FromWorker,
  RegSnapshot,
  StatsView,
  StatusView,
  ToWorker,
  TrapRows,
} from '../worker/protocol.ts';

type Frame = Extract<FromWorker, { type: 'frame' }>;

const rafs = new Map<number, () => void>();
let rafSeq = 0;
let clock = 0;
let fakeWorker: { onmessage: ((e: { data: FromWorker }) => void) | null };
/** What the client sent the worker. */
const posted: ToWorker[] = [];

function runFrames(): void {
  const due = [...rafs.values()];
  rafs.clear();
  for (const f of due) f();
}

beforeAll(() => {
  vi.stubGlobal(
    'Worker',
    class {
      onmessage: ((e: { data: FromWorker }) => void) | null = null;
      onerror: unknown = null;
      constructor() {
        fakeWorker = this;
      }
      postMessage(m: ToWorker) {
        posted.push(m);
      }
    },
  );
  vi.stubGlobal('requestAnimationFrame', (f: () => void) => {
    rafs.set(++rafSeq, f);
    return rafSeq;
  });
  vi.stubGlobal('cancelAnimationFrame', (id: number) => rafs.delete(id));
  vi.stubGlobal('document', { visibilityState: 'visible' });
  vi.stubGlobal('location', { pathname: '/', search: '?guest=trapdemo', hash: '' });
  vi.stubGlobal('history', { replaceState() {} });
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
});
afterAll(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const cpu = (eip: number): CpuView => ({ eip }) as unknown as CpuView;
const snap = (eip: number, vm = 0): RegSnapshot => ({ real: cpu(eip), vm });
const stats = (instructions: number): StatsView => ({
  instructions,
  virtualTimeNs: instructions,
  mips: 1,
  trapTotal: instructions,
  trapDropped: 0,
  trapHeld: instructions,
  trapsByKind: [],
  trapsByVm: [],
});
const status = (running: boolean): StatusView => ({ state: 'running', running, position: null });
const frame = (running: boolean, n: number, regs: RegSnapshot | null): Frame => ({
  type: 'frame',
  status: status(running),
  serial: [],
  trapsGrew: false,
  traps: null,
  regs,
  stats: stats(n),
});

describe('worker frames → store', () => {
  // Imported once the globals are stubbed (the client starts its Worker when first asked for).
  let emulator: typeof import('./emulator.ts').emulator;
  let useUi: typeof import('./store.ts').useUi;
  const send = (m: FromWorker) => fakeWorker.onmessage?.({ data: m });

  beforeAll(async () => {
    ({ emulator } = await import('./emulator.ts'));
    ({ useUi } = await import('./store.ts'));
  });

  beforeEach(() => {
    emulator();
    runFrames();
    useUi.getState().resetRun();
  });

  it('applies a running snapshot a frame after its counters, and a stop at once and in order', () => {
    // Start: applied at once (the status changes).
    send(frame(true, 1, snap(0x100)));
    expect(useUi.getState().status?.running).toBe(true);
    runFrames();
    expect(useUi.getState().regs?.real.eip).toBe(0x100);

    // A running frame with a snapshot: counters on the next frame, registers on the one after.
    clock += 1000;
    send(frame(true, 2, snap(0x200, 1)));
    expect(useUi.getState().stats?.instructions).toBe(1);
    runFrames();
    expect(useUi.getState().stats?.instructions).toBe(2);
    expect(useUi.getState().regs?.real.eip).toBe(0x100);
    const counters = useUi.getState().stats;
    runFrames();
    expect(useUi.getState().regs?.real.eip).toBe(0x200);
    expect(useUi.getState().regs?.vm).toBe(1);
    // The late snapshot keeps the counters' objects (nothing that shows them renders again).
    expect(useUi.getState().stats).toBe(counters);

    // A snapshot still held when the guest stops goes first: the stop's registers are the latest
    // (and the diff's base stays the previous stop's: none in this run).
    clock += 1000;
    send(frame(true, 3, snap(0x300)));
    runFrames();
    expect(useUi.getState().regs?.real.eip).toBe(0x200);
    send(frame(false, 4, snap(0x400)));
    const s = useUi.getState();
    expect(s.status?.running).toBe(false);
    expect(s.stats?.instructions).toBe(4);
    expect(s.regs?.real.eip).toBe(0x400);
    expect(s.baseRegs).toBeNull();
    expect(s.stopRegs?.real.eip).toBe(0x400);
    // Nothing applies later over the stop.
    runFrames();
    expect(useUi.getState().regs?.real.eip).toBe(0x400);
  });

  it('forgets a held snapshot when a new guest loads', () => {
    send(frame(true, 1, null));
    clock += 1000;
    send(frame(true, 2, snap(0x500)));
    runFrames();
    send({ type: 'loaded', info: useUi.getState().loaded } as unknown as FromWorker);
    runFrames();
    expect(useUi.getState().regs).toBeNull();
  });

  it('asks for trap rows in frames only while someone listens; the log grows either way', () => {
    const watch = () => posted.filter((m) => m.type === 'watchTraps');
    const before = watch().length;
    const v0 = useUi.getState().trapVersion;
    // Nobody listens: a frame says the log grew, without rows.
    send({ ...frame(true, 1, null), trapsGrew: true });
    runFrames();
    expect(useUi.getState().trapVersion).toBe(v0 + 1);
    expect(watch()).toHaveLength(before);
    const got: number[] = [];
    const off1 = emulator().onTraps((r) => got.push(...r.eip));
    const off2 = emulator().onTraps(() => {});
    expect(watch().slice(before)).toEqual([{ type: 'watchTraps', on: true }]);
    const rows = { eip: Uint32Array.of(0x10, 0x20) } as unknown as TrapRows;
    clock += 1000;
    send({ ...frame(true, 2, null), trapsGrew: true, traps: rows });
    expect(got).toEqual([0x10, 0x20]);
    off1();
    expect(watch()).toHaveLength(before + 1);
    off2();
    expect(watch().slice(before)).toEqual([
      { type: 'watchTraps', on: true },
      { type: 'watchTraps', on: false },
    ]);
  });

  it('while running, the URL waits for an idle moment; a stop writes its own and drops the wait', () => {
    const idle = new Map<number, () => void>();
    let idleSeq = 0;
    vi.stubGlobal('requestIdleCallback', (f: () => void) => {
      idle.set(++idleSeq, f);
      return idleSeq;
    });
    vi.stubGlobal('cancelIdleCallback', (id: number) => idle.delete(id));
    const runIdle = () => {
      const due = [...idle.values()];
      idle.clear();
      for (const f of due) f();
    };
    const urls: string[] = [];
    const replace = vi.spyOn(history, 'replaceState').mockImplementation((_s, _t, url) => {
      urls.push(String(url));
      location.search = String(url).slice(String(url).indexOf('?'));
    });
    try {
      const at = (running: boolean, position: string): Frame => ({
        ...frame(running, 1, null),
        status: { state: 'running', running, position },
      });
      clock += 5000;
      send(at(true, 'p1'));
      expect(urls).toEqual([]); // not in the frame: when idle
      runIdle();
      expect(urls.at(-1)).toContain('at=p1');
      clock += 5000;
      send(at(true, 'p2'));
      // The guest stops before the page was idle: the stop's position, and nothing after it.
      send(at(false, 'p3'));
      expect(urls.at(-1)).toContain('at=p3');
      runIdle();
      expect(urls.at(-1)).toContain('at=p3');
      expect(urls.some((u) => u.includes('at=p2'))).toBe(false);
    } finally {
      replace.mockRestore();
      vi.stubGlobal('requestIdleCallback', undefined);
    }
  });
});
