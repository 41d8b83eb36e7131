/**
 * The worker's window onto the session's trap log: packed rows for the UI table (optionally
 * filtered by VM and kind), the newest records for each frame, counts, and a record's detail.
 *
 * Filters are cached as lists of sequence numbers and extended incrementally as the log grows, so
 * a follow-tail table over a million records does not rescan the log every frame. Indices the UI
 * sees are log indices (0 = oldest record still held); seq = firstSeq + index.
 */
import {
  actionNames,
  explanations,
  kindNames,
  reasonName,
  TRAP_KIND_COUNT,
  type TrapColumns,
  TrapKind,
  type TrapRecord,
} from '../hypervisor/vmm/trap-log.ts';
import type { GroupRows, TrapDetail, TrapFilter, TrapNames, TrapRows } from './protocol.ts';
import { groupedTable, TrapGroups } from './trap-groups.ts';

/** The read side of the session's trap log that the worker uses. */
export interface TrapLogLike {
  readonly count: number;
  readonly dropped: number;
  readonly total: number;
  countByKind(kind: TrapKind): number;
  get(i: number): TrapRecord;
  slice(start: number, end: number): TrapColumns;
  /** Present on the concrete TrapLog: disassembly of record i ('' when unknown). */
  disassemble?(i: number): string;
  writeJsonLines?(write: (chunk: string) => void, start?: number, end?: number): void;
  writeTraceEvents?(write: (chunk: string) => void, start?: number, end?: number): void;
}

const SCAN_CHUNK = 65536;

interface FilterCache {
  /** Sequence numbers of matching records, ascending; valid for seq < scannedTo. */
  seqs: Float64Array;
  n: number;
  scannedTo: number;
  /** Repeats among the matches (ordinal = index into seqs), made on the first grouped request. */
  groups?: TrapGroups;
}

function emptyRows(n: number): TrapRows {
  return {
    index: new Uint32Array(n),
    seq: new Float64Array(n),
    timeNs: new Float64Array(n),
    vm: new Uint8Array(n),
    kind: new Uint8Array(n),
    reason: new Uint16Array(n),
    cs: new Uint16Array(n),
    eip: new Uint32Array(n),
    flags: new Uint8Array(n),
    action: new Uint8Array(n),
    cost: new Uint32Array(n),
  };
}

function copyRow(out: TrapRows, o: number, c: TrapColumns, i: number, index: number): void {
  out.index[o] = index;
  out.seq[o] = c.seq[i];
  out.timeNs[o] = c.timeNs[i];
  out.vm[o] = c.vm[i];
  out.kind[o] = c.kind[i];
  out.reason[o] = c.reason[i];
  out.cs[o] = c.cs[i];
  out.eip[o] = c.eip[i];
  out.flags[o] = c.flags[i];
  out.action[o] = c.action[i];
  out.cost[o] = c.cost[i];
}

/** Kind number of a VM-exit record (its reason is the basic exit reason). */
const VM_EXIT: number = TrapKind.VmExit;

function filterKey(f: TrapFilter): string {
  const reasons = f.exitReasons ? `|x${[...f.exitReasons].sort((a, b) => a - b).join(',')}` : '';
  return `${f.vm ?? '*'}|${f.kinds ? [...f.kinds].sort((a, b) => a - b).join(',') : '*'}${reasons}`;
}

/** Rows `start`…`end` of `total`, clamped; with `tail`, the last `tail` rows instead. */
function rowRange(start: number, end: number, total: number, tail: number | undefined): [number, number] {
  if (tail !== undefined) return [Math.max(0, total - tail), total];
  const a = Math.min(start, total);
  return [a, Math.min(Math.max(a, end), total)];
}

function hex(v: number, digits: number): string {
  return (v >>> 0).toString(16).toUpperCase().padStart(digits, '0');
}

export class TrapView {
  /** Next sequence number not yet sent in a frame. */
  private sentTo: number;
  private readonly byVm: number[] = [];
  private readonly filters = new Map<string, FilterCache>();
  /** Repeats in the whole log (ordinal = sequence number). */
  private allGroups: TrapGroups | null = null;

  constructor(private readonly log: TrapLogLike) {
    this.sentTo = log.total - log.count;
  }

  names(): TrapNames {
    return { kinds: [...kindNames], actions: [...actionNames] };
  }

  kindName(kind: number): string {
    return kindNames[kind] ?? `kind ${kind}`;
  }

  /** "VM exit 30 (I/O instruction)" for the record at log index `i` (its kind's name otherwise). */
  reasonText(i: number): string {
    if (i < 0 || i >= this.log.count) return 'a record no longer held';
    const c = this.log.slice(i, i + 1);
    const kind = c.kind[0];
    if (kind !== VM_EXIT) return this.kindName(kind);
    return `VM exit ${c.reason[0]} (${reasonName(kind, c.reason[0])})`;
  }

  held(): number {
    return this.log.count;
  }

  total(): number {
    return this.log.total;
  }

  private firstSeq(): number {
    return this.log.total - this.log.count;
  }

  lastKind(): number {
    const n = this.log.count;
    return n === 0 ? -1 : this.log.slice(n - 1, n).kind[0];
  }

  /** Kind of the record at log index `i` (-1 when not held). */
  kindAt(i: number): number {
    return i >= 0 && i < this.log.count ? this.log.slice(i, i + 1).kind[0] : -1;
  }

  /** True when a record of `kind` was appended after the log's total was `totalBefore`. */
  anyOfKindSince(totalBefore: number, kind: number): boolean {
    const first = Math.max(totalBefore, this.firstSeq()) - this.firstSeq();
    for (let a = first; a < this.log.count; a += SCAN_CHUNK) {
      const c = this.log.slice(a, Math.min(this.log.count, a + SCAN_CHUNK));
      if (c.kind.includes(kind)) return true;
    }
    return false;
  }

  /**
   * Sequence number of the first record appended after the total was `totalBefore` whose kind
   * (and reason: a VM exit's basic exit reason) `want` accepts, or -1.
   */
  firstSince(totalBefore: number, want: (kind: number, reason: number) => boolean): number {
    const base = this.firstSeq();
    const first = Math.max(totalBefore, base) - base;
    for (let a = first; a < this.log.count; a += SCAN_CHUNK) {
      const c = this.log.slice(a, Math.min(this.log.count, a + SCAN_CHUNK));
      for (let i = 0; i < c.kind.length; i++) if (want(c.kind[i], c.reason[i])) return base + a + i;
    }
    return -1;
  }

  /** Records were appended since the last takeNew(). */
  hasNew(): boolean {
    return this.log.total > this.sentTo;
  }

  /**
   * Count the records appended since the last call per VM; `rows`: the newest `max` of them
   * (null when there are none, or `max` is 0: nobody reads them).
   */
  takeNew(max: number): { grew: boolean; rows: TrapRows | null } {
    const first = this.firstSeq();
    const from = Math.max(this.sentTo, first);
    const to = this.log.total;
    const grew = to > this.sentTo;
    this.sentTo = to;
    if (from >= to) return { grew, rows: null };
    for (let a = from; a < to; a += SCAN_CHUNK) {
      const c = this.log.slice(a - first, Math.min(to, a + SCAN_CHUNK) - first);
      for (let i = 0; i < c.count; i++) this.byVm[c.vm[i]] = (this.byVm[c.vm[i]] ?? 0) + 1;
    }
    if (max <= 0) return { grew, rows: null };
    const start = Math.max(from, to - max) - first;
    const c = this.log.slice(start, to - first);
    const out = emptyRows(c.count);
    for (let i = 0; i < c.count; i++) copyRow(out, i, c, i, start + i);
    return { grew, rows: out };
  }

  counts(): {
    trapTotal: number;
    trapDropped: number;
    trapHeld: number;
    trapsByKind: number[];
    trapsByVm: number[];
  } {
    const byKind: number[] = [];
    for (let k = 0; k < TRAP_KIND_COUNT; k++) byKind.push(this.log.countByKind(k as TrapKind));
    const byVm: number[] = [];
    for (let v = 0; v < this.byVm.length; v++) byVm.push(this.byVm[v] ?? 0);
    return {
      trapTotal: this.log.total,
      trapDropped: this.log.dropped,
      trapHeld: this.log.count,
      trapsByKind: byKind,
      trapsByVm: byVm,
    };
  }

  /** Matching sequence numbers for `f` (cached; extended with records appended since). */
  private matches(f: TrapFilter): { seqs: Float64Array; from: number; n: number } {
    const key = filterKey(f);
    let cache = this.filters.get(key);
    const first = this.firstSeq();
    if (!cache || cache.scannedTo < first) {
      cache = { seqs: new Float64Array(1024), n: 0, scannedTo: first };
      this.filters.set(key, cache);
    }
    const kindSet = f.kinds ? new Set(f.kinds) : null;
    const exitSet = f.exitReasons ? new Set(f.exitReasons) : null;
    const total = this.log.total;
    for (let a = cache.scannedTo; a < total; a += SCAN_CHUNK) {
      const c = this.log.slice(a - first, Math.min(total, a + SCAN_CHUNK) - first);
      for (let i = 0; i < c.count; i++) {
        if (
          (f.vm === undefined || c.vm[i] === f.vm) &&
          (!kindSet || kindSet.has(c.kind[i])) &&
          (!exitSet || (c.kind[i] === VM_EXIT && exitSet.has(c.reason[i])))
        ) {
          if (cache.n === cache.seqs.length) {
            const bigger = new Float64Array(cache.seqs.length * 2);
            bigger.set(cache.seqs);
            cache.seqs = bigger;
          }
          cache.seqs[cache.n++] = c.seq[i];
        }
      }
    }
    cache.scannedTo = total;
    // Skip records the ring has dropped since (binary search for the first held seq).
    let lo = 0;
    let hi = cache.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cache.seqs[mid] < first) lo = mid + 1;
      else hi = mid;
    }
    return { seqs: cache.seqs, from: lo, n: cache.n - lo };
  }

  /**
   * Rows `[start, end)` of the table for `f` (row = position among matching records).
   * Returns the clamped start, the table's total row count, packed rows and per-row text.
   */
  slice(
    start: number,
    end: number,
    f: TrapFilter,
    tail?: number,
  ): { start: number; total: number; rows: TrapRows; insn: string[]; reasons: string[] } {
    const first = this.firstSeq();
    const unfiltered = f.vm === undefined && f.kinds === undefined && f.exitReasons === undefined;
    const total = unfiltered ? this.log.count : this.matches(f).n;
    const [a, b] = rowRange(start, end, total, tail);
    const rows = emptyRows(b - a);
    const insn: string[] = [];
    const reasons: string[] = [];
    if (unfiltered) {
      const c = this.log.slice(a, b);
      for (let i = 0; i < c.count; i++) copyRow(rows, i, c, i, a + i);
    } else {
      const m = this.matches(f);
      for (let r = a; r < b; r++) {
        const idx = m.seqs[m.from + r] - first;
        copyRow(rows, r - a, this.log.slice(idx, idx + 1), 0, idx);
      }
    }
    for (let r = 0; r < rows.index.length; r++) {
      const rec = this.log.get(rows.index[r]);
      reasons.push(rec.reasonName);
      insn.push(this.insnText(rows.index[r], rec));
    }
    return { start: a, total, rows, insn, reasons };
  }

  /** Bring the grouping of `f`'s records up to date; returns it, the oldest live ordinal and the
   *  ordinal → log index map. */
  private groupsFor(f: TrapFilter): {
    g: TrapGroups;
    lo: number;
    index: (o: number) => number;
    ord: (i: number) => number;
  } {
    const first = this.firstSeq();
    const unfiltered = f.vm === undefined && f.kinds === undefined && f.exitReasons === undefined;
    if (unfiltered) {
      if (!this.allGroups || this.allGroups.next < first) this.allGroups = new TrapGroups(first);
      const g = this.allGroups;
      const total = this.log.total;
      for (let a = g.next; a < total; a += SCAN_CHUNK) {
        const c = this.log.slice(a - first, Math.min(total, a + SCAN_CHUNK) - first);
        for (let i = 0; i < c.count; i++) g.add(c, i);
      }
      return { g, lo: first, index: (o) => o - first, ord: (i) => first + i };
    }
    const m = this.matches(f);
    const cache = this.filters.get(filterKey(f))!;
    if (!cache.groups || cache.groups.next < m.from) cache.groups = new TrapGroups(m.from);
    const g = cache.groups;
    for (let o = g.next; o < cache.n; o++) {
      const idx = cache.seqs[o] - first;
      g.add(this.log.slice(idx, idx + 1), 0);
    }
    const seqs = cache.seqs;
    const ord = (i: number) => {
      // Binary search for the match with log index i.
      let a = m.from;
      let b = cache.n;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (seqs[mid] - first < i) a = mid + 1;
        else b = mid;
      }
      return a < cache.n && seqs[a] - first === i ? a : -1;
    };
    return { g, lo: m.from, index: (o) => seqs[o] - first, ord };
  }

  /**
   * Rows `[start, end)` of the table with repeats grouped: a collapsed group is one row (its first
   * record), an expanded one — any holding a log index in `expand` — shows all its records.
   */
  groupedSlice(
    start: number,
    end: number,
    f: TrapFilter,
    expand: readonly number[],
    tail?: number,
  ): { start: number; total: number; rows: TrapRows; insn: string[]; reasons: string[]; groups: GroupRows } {
    const { g, lo, index, ord } = this.groupsFor(f);
    const expSegs = expand.map((i) => g.segmentOf(ord(i), lo)).filter((s) => s >= 0);
    const table = groupedTable(g, lo, expSegs);
    const total = table.total;
    const [a, b] = rowRange(start, end, total, tail);
    const n = b - a;
    const rows = emptyRows(n);
    const groups: GroupRows = {
      len: new Uint32Array(n),
      period: new Uint8Array(n),
      state: new Uint8Array(n),
      cycle: [],
    };
    const insn: string[] = [];
    const reasons: string[] = [];
    const open = new Set(expSegs);
    for (let r = a; r < b; r++) {
      const { seg, off } = table.at(r);
      const s = g.segment(seg, lo);
      const idx = index(s.start + off);
      copyRow(rows, r - a, this.log.slice(idx, idx + 1), 0, idx);
      const j = r - a;
      const grouped = s.period > 0 && s.len > 1;
      groups.len[j] = grouped && off === 0 ? s.len : 0;
      groups.period[j] = grouped ? s.period : 0;
      groups.state[j] = !grouped ? 0 : off > 0 ? 2 : open.has(seg) ? 1 : 0;
      let cycle = '';
      if (grouped && off === 0) {
        const parts: string[] = [];
        for (let k = 0; k < Math.min(s.period, s.len); k++) {
          const rec = this.log.get(index(s.start + k));
          parts.push(`${rec.kindName}${rec.reasonName ? ` ${rec.reasonName}` : ''}`);
        }
        cycle = parts.join(' → ');
      }
      groups.cycle.push(cycle);
      const rec = this.log.get(idx);
      reasons.push(rec.reasonName);
      insn.push(this.insnText(idx, rec));
    }
    return { start: a, total, rows, insn, reasons, groups };
  }

  private insnText(i: number, rec: TrapRecord): string {
    const d = this.log.disassemble?.(i) ?? '';
    if (d) return d;
    return rec.bytes.map((b) => hex(b, 2)).join(' ');
  }

  /** The newest `max` held records as JSON Lines or trace-event JSON, UTF-8 encoded. */
  exportText(format: 'jsonl' | 'trace', max: number): { records: number; bytes: Uint8Array } {
    const end = this.log.count;
    const start = Math.max(0, end - max);
    const writer = format === 'jsonl' ? this.log.writeJsonLines : this.log.writeTraceEvents;
    if (!writer) throw new Error('this trap log cannot be exported');
    const enc = new TextEncoder();
    const parts: Uint8Array[] = [];
    let n = 0;
    writer.call(
      this.log,
      (chunk) => {
        const b = enc.encode(chunk);
        parts.push(b);
        n += b.length;
      },
      start,
      end,
    );
    const bytes = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      bytes.set(p, o);
      o += p.length;
    }
    return { records: end - start, bytes };
  }

  /** Everything about record `index` for the detail pane, or null when it is no longer held. */
  detail(index: number): TrapDetail | null {
    if (index >= this.log.count) return null;
    const r = this.log.get(index);
    const fields: [string, string][] = [
      ['Sequence', String(r.seq)],
      ['Virtual time', `${(r.timeNs / 1000).toFixed(3)} µs`],
      ['VM', String(r.vm)],
      ['Kind', r.kindName],
    ];
    if (r.reasonName) fields.push(['Reason', r.reasonName]);
    fields.push(['CS:EIP', `${hex(r.cs, 4)}:${hex(r.eip, 8)}`]);
    fields.push(['Guest CPL (as the guest believes)', String(r.cpl)]);
    fields.push(['Code size', r.code32 ? '32-bit' : '16-bit']);
    if (r.bytes.length) fields.push(['Instruction bytes', r.bytes.map((b) => hex(b, 2)).join(' ')]);
    const d = this.log.disassemble?.(index) ?? '';
    if (d) fields.push(['Instruction', d]);
    const det = r.details;
    let summary: string | undefined;
    switch (det.type) {
      case 'io':
        fields.push(['Port', `0x${hex(det.port, 4)}`]);
        fields.push(['Direction', det.direction === 'out' ? 'OUT (guest → device)' : 'IN (device → guest)']);
        fields.push(['Size', `${det.size} byte${det.size === 1 ? '' : 's'}`]);
        fields.push(['Value', `0x${hex(det.value, det.size * 2 || 2)}`]);
        if (det.string) fields.push(['String I/O count', String(det.count)]);
        break;
      case 'cr':
        fields.push(['Register', `CR${det.cr}`]);
        fields.push(['Old value', `0x${hex(det.old, 8)}`]);
        fields.push(['New value', `0x${hex(det.new, 8)}`]);
        break;
      case 'fault':
        fields.push(['Vector', String(det.vector)]);
        fields.push(['Fault address', `0x${hex(det.faultAddress, 8)}`]);
        fields.push(['Error code', det.errorCode === null ? 'none' : `0x${hex(det.errorCode, 4)}`]);
        break;
      case 'interrupt':
        fields.push(['Vector', `0x${hex(det.vector, 2)}`]);
        fields.push(['IRQ', String(det.irq)]);
        break;
      case 'switch':
        fields.push(['From VM', String(det.fromVm)]);
        fields.push(['To VM', String(det.toVm)]);
        break;
      case 'hypercall':
        fields.push(['Arguments', det.args.map((v) => `0x${hex(v, 8)}`).join(', ')]);
        break;
      case 'vmexit':
        fields.push(['Exit qualification', `0x${hex(det.qualification, 8)}`]);
        fields.push(['Guest-physical address', `0x${hex(det.guestPhysical, 8)}`]);
        fields.push(['Instruction length', String(det.instructionLength)]);
        break;
      case 'other':
        if (det.summary) summary = det.summary;
        if (det.values.some((v) => v !== 0))
          fields.push(['Details', det.values.map((v) => `0x${hex(v, 8)}`).join(', ')]);
        break;
    }
    fields.push(['VMM action', r.actionName]);
    fields.push(['Cost', `${r.cost} cycles`]);
    if (r.changedRegs.length) fields.push(['Registers the VMM changed', r.changedRegs.join(', ')]);
    return {
      index,
      seq: r.seq,
      kind: r.kind,
      kindName: r.kindName,
      invisible: r.invisible,
      vm: r.vm,
      cs: r.cs,
      eip: r.eip,
      fields,
      explanation: explanations[r.kind],
      changedRegs: [...r.changedRegs],
      ...(summary ? { summary } : {}),
    };
  }
}
