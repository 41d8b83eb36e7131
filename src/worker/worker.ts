/// <reference lib="webworker" />
/**
 * The emulator Web Worker: a thin adapter over WorkerCore. Runs slices of a few milliseconds and
 * yields between them with a MessageChannel (a macrotask with no 4 ms clamp, unlike setTimeout),
 * so commands such as Pause are handled between slices, within ~SLICE_MS.
 *
 * In slow motion, or while the guest idles, the next instruction may be due milliseconds later;
 * the worker then sleeps in a setTimeout (its event loop free, so Pause lands at once), and for
 * sleeps too short for a timer in short Atomics.wait steps when cross-origin isolated (otherwise
 * it keeps yielding through the channel).
 */

import { NS_PER_TICK } from '../machine/clock.ts';
import { comparisonRows, hostingRow } from '../session/hosting-stats.ts';
import { Session } from '../session/session.ts';
import { techniqueFactory } from '../session/techniques.ts';
import type { SessionConfig } from '../session/types.ts';
import type { CoreHost, ResolvedGuest, SessionConfigLike } from './contract.ts';
import { WorkerCore } from './core.ts';
import { findGuest, guestFileUrl } from './guests.ts';
import { type FromWorker, TECHNIQUES, transferablesOf } from './protocol.ts';
import { createEmuSession } from './session-adapter.ts';
import { toRegSnapshot } from './snapshot.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;

async function fetchBytes(path: string): Promise<Uint8Array> {
  const url = guestFileUrl(path);
  if (!url) throw new Error(`the guest image ${path} is not part of this build (run \`npm run guests\`)`);
  const r = await fetch(url);
  if (!r.ok) throw new Error(`could not fetch ${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** Type 1 vs Type 2 for one configuration, each run headless up to `ticks` or its end. */
function compareHosting(config: SessionConfigLike, ticks: number) {
  const rows = (['type1', 'type2'] as const).map((hosting) => {
    const s = new Session({ ...config, hosting } as SessionConfig);
    let io = 0;
    let left = ticks;
    while (left > 0) {
      const t0 = s.virtualTimeNs;
      const st = s.run(Math.min(left, 1_000_000));
      io += s.takeSerial(0).length;
      left -= Math.max(1, Math.round((s.virtualTimeNs - t0) / NS_PER_TICK));
      if (st.state !== 'running') break;
    }
    return hostingRow(s, io);
  });
  return {
    title: `${config.technique}: Type 1 vs Type 2, the same guest${ticks < 200_000_000 ? ` (first ${((ticks * NS_PER_TICK) / 1e6).toFixed(0)} ms)` : ''}`,
    rows: comparisonRows(rows[0], rows[1]),
  };
}

async function resolveGuest(id: string): Promise<ResolvedGuest> {
  const g = findGuest(id);
  if (!g) throw new Error(`there is no built-in guest called '${id}'`);
  const f = g.files;
  const memMiB = g.memMiB ?? (f.initrd ? 128 : 32);
  if (f.kernel) {
    const kernel = await fetchBytes(f.kernel);
    const initrd = f.initrd ? await fetchBytes(f.initrd) : undefined;
    return {
      label: g.title,
      memMiB,
      source: {
        kind: 'kernel',
        kernel,
        ...(initrd ? { initrd } : {}),
        ...(g.cmdline ? { cmdline: g.cmdline } : {}),
      },
    };
  }
  if (f.bios) return { label: g.title, memMiB, source: { kind: 'bios', image: await fetchBytes(f.bios) } };
  if (f.raw) {
    return {
      label: g.title,
      memMiB,
      source: {
        kind: 'raw',
        image: await fetchBytes(f.raw),
        addr: g.load ?? 0x7c00,
        entry: g.entry ?? g.load ?? 0x7c00,
      },
    };
  }
  throw new Error(`guest '${id}' names no kernel, bios or raw image in guests/manifest.json`);
}

const sleeper =
  typeof SharedArrayBuffer !== 'undefined' && self.crossOriginIsolated
    ? new Int32Array(new SharedArrayBuffer(4))
    : null;

const channel = new MessageChannel();
let scheduled = false;
let wakeAt = 0;
let timer: ReturnType<typeof setTimeout> | null = null;
/**
 * Sleeps at least this long go through setTimeout: the worker's event loop stays free, so Pause
 * and other commands are handled at once, and nothing wakes before the guest is due. Shorter ones
 * block in Atomics.wait (setTimeout's granularity would stretch them).
 */
const TIMER_SLEEP_MS = 4;

const host: CoreHost = {
  createSession: createEmuSession,
  resolveGuest,
  hostKernel: () => fetchBytes('minikernel/minikernel-host.elf'),
  compareHosting,
  toRegSnapshot,
  post(msg: FromWorker) {
    scope.postMessage(msg, transferablesOf(msg));
  },
  now: () => performance.now(),
  wake() {
    wakeAt = 0;
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
      scheduled = false;
    }
    schedule();
  },
};

const core = new WorkerCore(host);

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  const wait = wakeAt - performance.now();
  if (wait >= TIMER_SLEEP_MS) {
    timer = setTimeout(() => {
      timer = null;
      tick();
    }, wait);
  } else channel.port2.postMessage(null);
}

channel.port1.onmessage = () => tick();

function tick(): void {
  scheduled = false;
  if (!core.isRunning) return;
  const wait = wakeAt - performance.now();
  if (wait > 0) {
    if (sleeper) Atomics.wait(sleeper, 0, 0, Math.min(wait, 8));
    schedule();
    return;
  }
  const r = core.runSlice();
  if (r.more) {
    wakeAt = r.waitMs > 0 ? performance.now() + r.waitMs : 0;
    schedule();
  }
}

// Commands are handled strictly in order (a load awaits its fetch before the next command).
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (e: MessageEvent) => {
  queue = queue.then(() => core.handle(e.data));
};
scope.onmessageerror = () => {
  host.post({ type: 'error', message: 'a message could not be deserialised by the worker' });
};

host.post({ type: 'ready', techniques: TECHNIQUES.filter((t) => techniqueFactory(t) !== undefined) });
