/**
 * CPU time of a process tree from Linux's /proc, for the browser figure (browser.ts): every
 * process below a root (the browser this bench launched — not another one on the machine), and
 * apart from that the threads Chromium names `DedicatedWorker…` (the emulator's Web Worker), so
 * the worker's own CPU compares with a Node process's. Ticks are USER_HZ (100 a second on Linux).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_S = 0.01;

export interface TreeCpu {
  /** User + system seconds of every process in the tree (all their threads). */
  total: number;
  /** User + system seconds of threads whose name starts with DedicatedWorker, by "pid/tid". */
  workers: Map<string, number>;
  /** Every thread's name and seconds, by "pid/tid" (where the rest of the browser's CPU goes). */
  threads: Map<string, { name: string; seconds: number }>;
}

/** utime + stime (fields 14 and 15) of a /proc stat line, in seconds; the name may hold spaces. */
export function statCpu(stat: string): { ppid: number; seconds: number } {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field N is rest[N - 3].
  return { ppid: Number(rest[1]), seconds: (Number(rest[11]) + Number(rest[12])) * TICK_S };
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // gone meanwhile
  }
}

/** Pids below `root` (not `root` itself), from every process's parent. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid)) continue;
    const s = read(`/proc/${pid}/stat`);
    if (!s) continue;
    const { ppid } = statCpu(s);
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const todo = [...(children.get(root) ?? [])];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** CPU of the processes `pids` and of their DedicatedWorker threads, now. */
export function treeCpu(pids: number[]): TreeCpu {
  let total = 0;
  const workers = new Map<string, number>();
  const threads = new Map<string, { name: string; seconds: number }>();
  for (const pid of pids) {
    const s = read(`/proc/${pid}/stat`);
    if (!s) continue;
    total += statCpu(s).seconds;
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const name = read(`/proc/${pid}/task/${tid}/comm`)?.trim() ?? '?';
      const ts = read(`/proc/${pid}/task/${tid}/stat`);
      if (!ts) continue;
      const seconds = statCpu(ts).seconds;
      threads.set(`${pid}/${tid}`, { name, seconds });
      if (name.startsWith('DedicatedWorker')) workers.set(`${pid}/${tid}`, seconds);
    }
  }
  return { total, workers, threads };
}

/**
 * What ran between two readings: the tree's CPU, the worker threads' (new ones from 0), and the
 * seconds per thread name, largest first.
 */
export function cpuBetween(
  a: TreeCpu,
  b: TreeCpu,
): { total: number; worker: number; byName: [string, number][] } {
  let worker = 0;
  for (const [k, v] of b.workers) worker += v - (a.workers.get(k) ?? 0);
  const names = new Map<string, number>();
  for (const [k, t] of b.threads) {
    const d = t.seconds - (a.threads.get(k)?.seconds ?? 0);
    if (d > 0) names.set(t.name, (names.get(t.name) ?? 0) + d);
  }
  const byName = [...names].sort((x, y) => y[1] - x[1]);
  return { total: b.total - a.total, worker, byName };
}
