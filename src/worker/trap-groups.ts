/**
 * Repeats in the trap log, grouped: a guest polling its UART logs "in 0x3FD, out 0x3F8" thousands
 * of times, burying the traps a lesson is about. A group is a stretch of records that repeats a
 * cycle of 1–4 records (same VM, kind, reason and instruction site) at least MIN_REPEATS times; a
 * table row is a group or a single record. Grouping only changes the table: every record stays in
 * the log, and stepping still stops on individual records.
 *
 * Groups are found incrementally as records arrive (each record is looked at once), over
 * "ordinals": positions in the sequence grouped (the whole log, or a filter's matching records),
 * numbered from the start so they never shift when the ring drops its oldest records.
 */
import type { TrapColumns } from '../hypervisor/vmm/trap-log.ts';

export const MAX_PERIOD = 4;
export const MIN_REPEATS = 3;
const HIST = 16; // ≥ MIN_REPEATS × MAX_PERIOD
const INVISIBLE_FLAG = 1;

/** One table row: `len` records from ordinal `start`, repeating a cycle of `period` (0: a single). */
export interface Segment {
  start: number;
  len: number;
  period: number;
}

export class TrapGroups {
  /** Ordinal of the next record to be added. */
  next: number;
  private starts = new Float64Array(1024);
  private lens = new Uint32Array(1024);
  private periods = new Uint8Array(1024);
  private n = 0;
  /** The last segment is a group still growing. */
  private open = false;
  /** Single-record segments at the end (candidates to become a group). */
  private trailingSingles = 0;
  // Keys of the last HIST records, by ordinal % HIST.
  private readonly hVm = new Int32Array(HIST);
  private readonly hKind = new Int32Array(HIST);
  private readonly hReason = new Int32Array(HIST);
  private readonly hCs = new Int32Array(HIST);
  private readonly hEip = new Float64Array(HIST);
  private readonly hInv = new Int32Array(HIST);

  constructor(firstOrdinal: number) {
    this.next = firstOrdinal;
  }

  private same(a: number, b: number): boolean {
    const i = a % HIST;
    const j = b % HIST;
    return (
      this.hVm[i] === this.hVm[j] &&
      this.hKind[i] === this.hKind[j] &&
      this.hReason[i] === this.hReason[j] &&
      this.hCs[i] === this.hCs[j] &&
      this.hEip[i] === this.hEip[j] &&
      this.hInv[i] === this.hInv[j]
    );
  }

  private push(start: number, len: number, period: number): void {
    if (this.n === this.starts.length) {
      const grow = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, b: T): T => {
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts, new Float64Array(this.n * 2));
      this.lens = grow(this.lens, new Uint32Array(this.n * 2));
      this.periods = grow(this.periods, new Uint8Array(this.n * 2));
    }
    this.starts[this.n] = start;
    this.lens[this.n] = len;
    this.periods[this.n] = period;
    this.n++;
  }

  /** Add record `i` of `c` as the next ordinal. */
  add(c: TrapColumns, i: number): void {
    const o = this.next++;
    const h = o % HIST;
    this.hVm[h] = c.vm[i];
    this.hKind[h] = c.kind[i];
    this.hReason[h] = c.reason[i];
    this.hCs[h] = c.cs[i];
    this.hEip[h] = c.eip[i];
    this.hInv[h] = c.flags[i] & INVISIBLE_FLAG;
    if (this.open) {
      const p = this.periods[this.n - 1];
      if (this.same(o, o - p)) {
        this.lens[this.n - 1]++;
        return;
      }
      this.open = false;
    }
    this.push(o, 1, 0);
    this.trailingSingles++;
    for (let p = 1; p <= MAX_PERIOD; p++) {
      const len = MIN_REPEATS * p;
      if (this.trailingSingles < len) break;
      let periodic = true;
      for (let m = o - len + 1 + p; m <= o && periodic; m++) periodic = this.same(m, m - p);
      if (!periodic) continue;
      this.n -= len;
      this.push(o - len + 1, len, p);
      this.open = true;
      this.trailingSingles = 0;
      return;
    }
  }

  /** Index of the first segment with a record at or after ordinal `lo` (the oldest held). */
  private firstLive(lo: number): number {
    let a = 0;
    let b = this.n;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.starts[mid] + this.lens[mid] <= lo) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  /** Live segment `k` (0 = the oldest with a held record), clipped to ordinals ≥ lo. */
  segment(k: number, lo: number): Segment {
    const s = this.firstLive(lo) + k;
    const start = Math.max(this.starts[s], lo);
    return { start, len: this.starts[s] + this.lens[s] - start, period: this.periods[s] };
  }

  /** Live segments (table rows with every group collapsed). */
  count(lo: number): number {
    return this.n - this.firstLive(lo);
  }

  /** Live segment index holding ordinal `o`, or -1. */
  segmentOf(o: number, lo: number): number {
    if (o < lo || o >= this.next) return -1;
    let a = this.firstLive(lo);
    let b = this.n;
    while (b - a > 1) {
      const mid = (a + b) >>> 1;
      if (this.starts[mid] <= o) a = mid;
      else b = mid;
    }
    return a - this.firstLive(lo);
  }
}

/** A table of segments in which the segments listed in `expanded` show every record. */
export interface GroupedTable {
  total: number;
  /** Row → segment index and offset in it. */
  at(row: number): { seg: number; off: number };
}

export function groupedTable(g: TrapGroups, lo: number, expanded: readonly number[]): GroupedTable {
  const exp = [...new Set(expanded)].filter((e) => e >= 0).sort((a, b) => a - b);
  const lens = exp.map((e) => g.segment(e, lo).len);
  const total = g.count(lo) + lens.reduce((a, l) => a + l - 1, 0);
  return {
    total,
    at(row: number) {
      let shift = 0;
      for (let i = 0; i < exp.length; i++) {
        const head = exp[i] + shift;
        if (row < head) break;
        if (row < head + lens[i]) return { seg: exp[i], off: row - head };
        shift += lens[i] - 1;
      }
      return { seg: row - shift, off: 0 };
    },
  };
}
