/**
 * The trap log: one record per trap, hidden fault, world switch or silent event (issue 6, "The trap
 * log"). It is the thing a student reads, so it must hold millions of records without exhausting
 * memory and without slowing the VMM down:
 *
 * - Columnar typed arrays (one array per field) in a bounded ring. When the ring is full the oldest
 *   record is overwritten and `dropped` counts it. Memory is about 70 bytes per record.
 * - Appending writes numbers into preallocated columns: no object is created per record. The
 *   columns grow by doubling up to `maxRecords`; once there (or once `initialCapacity` is reached
 *   for a log that never fills) appends allocate nothing.
 * - Readers turn records into plain objects (`get`), packed column slices for a postMessage
 *   transfer (`slice`), JSON Lines (`writeJsonLines`) and Chrome/Perfetto trace events.
 *
 * Field meanings beyond the common ones depend on the kind; see `TrapRecord.details`.
 */

import {
  actionNames,
  btSummary,
  hostSummary,
  hypercallSummary,
  kindNames,
  opNames,
  reasonName,
  TRAP_FLAG_CPL_SHIFT,
  TRAP_KIND_COUNT,
  type TrapAction,
  TrapFlag,
  TrapKind,
  TrapOp,
} from './trap-kinds.ts';
import { vmExitSummary } from './vmexit-decode.ts';

export * from './trap-kinds.ts';

/** Longest IA-32 instruction (SDM Vol.2 §2.3.11): each record has a 16-byte slot. */
export const MAX_INSN_BYTES = 15;
const SLOT = 16;

export interface TrapLogOptions {
  /** Ring size: oldest records are dropped beyond this. Default 1,048,576. */
  maxRecords?: number;
  /** Capacity allocated up front (columns double up to maxRecords). Default 4096. */
  initialCapacity?: number;
}

/** Named, kind-specific view of the four generic detail columns. */
export type TrapDetails =
  | {
      type: 'io';
      port: number;
      size: number;
      direction: 'in' | 'out';
      value: number;
      count: number;
      string: boolean;
    }
  | { type: 'cr'; cr: number; old: number; new: number }
  | {
      type: 'fault';
      vector: number;
      faultAddress: number;
      errorCode: number | null;
      /** Hidden page faults: the guest-physical page the guest's tables give and the host frame used. */
      guestPhysical?: number;
      hostPhysical?: number;
    }
  | { type: 'interrupt'; vector: number; irq: number }
  | { type: 'switch'; fromVm: number; toVm: number }
  /** Three decoded arguments (which ones depends on the call), the result (−errno), one line. */
  | { type: 'hypercall'; args: [number, number, number]; result: number; summary: string }
  | {
      type: 'vmexit';
      qualification: number;
      guestPhysical: number;
      instructionLength: number;
      /** The qualification in words (vmexit-decode.ts); d3 = the value moved / interruption info. */
      summary?: string;
    }
  /**
   * Everything else. Silent events add `summary`: one sentence saying what the guest got (or tried)
   * against what it would have seen on the bare machine — values[0] = got/attempted, values[1] =
   * native / what the VMM keeps, values[2] = the CPU's SilentKind, values[3] = kind-specific.
   */
  | { type: 'other'; values: [number, number, number, number]; summary?: string };

/** One record as a plain, structured-clone-able object (readers only; never built on append). */
export interface TrapRecord {
  seq: number;
  /** Virtual time in nanoseconds (derived from the instruction count). */
  timeNs: number;
  vm: number;
  kind: TrapKind;
  kindName: string;
  reason: number;
  reasonName: string;
  cs: number;
  eip: number;
  /** Guest CPL as the guest believes it (0–3). */
  cpl: number;
  code32: boolean;
  bytes: number[];
  details: TrapDetails;
  action: TrapAction;
  actionName: string;
  /** Modelled cost in cycles (cost model of the technique). */
  cost: number;
  /** Bit mask of registers the VMM changed (see `REG_MASK_NAMES`). */
  regMask: number;
  changedRegs: string[];
  invisible: boolean;
}

/** Register bits of `regMask` (what the VMM's handling changed in the guest's state). */
// biome-ignore format: a compact table
export const REG_MASK_NAMES = [
  'eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs',
  'cr0', 'cr2', 'cr3', 'cr4', 'gdtr', 'idtr', 'ldtr', 'tr', 'dr', 'msr', 'tsc',
] as const;
export function regBit(name: (typeof REG_MASK_NAMES)[number]): number {
  return 1 << REG_MASK_NAMES.indexOf(name);
}

/** Packed columns for `[start, end)` (copies; every buffer can be transferred). */
export interface TrapColumns {
  start: number;
  count: number;
  seq: Float64Array;
  timeNs: Float64Array;
  vm: Uint8Array;
  kind: Uint8Array;
  reason: Uint16Array;
  cs: Uint16Array;
  eip: Uint32Array;
  flags: Uint8Array;
  insnLen: Uint8Array;
  /** `count * 16` bytes: record i's instruction bytes start at `i * 16`. */
  insn: Uint8Array;
  d0: Uint32Array;
  d1: Uint32Array;
  d2: Uint32Array;
  d3: Uint32Array;
  action: Uint8Array;
  cost: Uint32Array;
  regMask: Uint32Array;
}

export interface TrapFilter {
  vm?: number;
  kind?: TrapKind | readonly TrapKind[];
  action?: TrapAction;
}

/** The read side, which the session exposes as `traps`. */
export interface TrapLogReader {
  /** Records currently held (≤ maxRecords). Index 0 is the oldest held record. */
  readonly count: number;
  /** Records overwritten because the ring was full. */
  readonly dropped: number;
  /** Records ever appended (= the next sequence number). */
  readonly total: number;
  /** Totals by kind over every record ever appended (not affected by dropping). */
  countByKind(kind: TrapKind): number;
  get(i: number): TrapRecord;
  /** Disassembly of record i's instruction bytes ('' without bytes or a disassembler). */
  disassemble(i: number): string;
  slice(start: number, end: number): TrapColumns;
  /** Indices (0 … count-1) of the held records matching `filter`, oldest first. */
  filter(f: TrapFilter): Uint32Array;
  writeJsonLines(write: (chunk: string) => void, start?: number, end?: number): void;
  toTraceEvents(start?: number, end?: number): TraceEventFile;
  writeTraceEvents(write: (chunk: string) => void, start?: number, end?: number): void;
}

/** Chrome trace-event format (also loaded by Perfetto): one instant event per record. */
export interface TraceEvent {
  name: string;
  cat: string;
  ph: 'i' | 'M';
  ts: number;
  pid: number;
  tid: number;
  s?: 't';
  args: Record<string, unknown>;
}
export interface TraceEventFile {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
}

function processName(vm: number): TraceEvent {
  return { name: 'process_name', cat: '', ph: 'M', ts: 0, pid: vm, tid: 0, args: { name: `VM ${vm}` } };
}

/** Optional disassembler injected by the layer that owns one (`bytes`, address, 32-bit?) → text. */
export type Disassembler = (bytes: Uint8Array, eip: number, code32: boolean) => string;

type Col = Float64Array | Uint32Array | Uint16Array | Uint8Array;
type ColumnSet = Omit<TrapColumns, 'start' | 'count'>;
type ColCtor =
  | Float64ArrayConstructor
  | Uint32ArrayConstructor
  | Uint16ArrayConstructor
  | Uint8ArrayConstructor;
/** Every column: name, element type, elements per record. */
const COLUMNS: readonly [keyof ColumnSet, ColCtor, number][] = [
  ['seq', Float64Array, 1],
  ['timeNs', Float64Array, 1],
  ['vm', Uint8Array, 1],
  ['kind', Uint8Array, 1],
  ['reason', Uint16Array, 1],
  ['cs', Uint16Array, 1],
  ['eip', Uint32Array, 1],
  ['flags', Uint8Array, 1],
  ['insnLen', Uint8Array, 1],
  ['insn', Uint8Array, SLOT],
  ['d0', Uint32Array, 1],
  ['d1', Uint32Array, 1],
  ['d2', Uint32Array, 1],
  ['d3', Uint32Array, 1],
  ['action', Uint8Array, 1],
  ['cost', Uint32Array, 1],
  ['regMask', Uint32Array, 1],
];
/** Bytes of storage per record. */
export const TRAP_RECORD_BYTES = COLUMNS.reduce((sum, [, C, w]) => sum + C.BYTES_PER_ELEMENT * w, 0);

function allocateColumns(cap: number): ColumnSet {
  const c: Partial<Record<keyof ColumnSet, Col>> = {};
  for (const [name, C, w] of COLUMNS) c[name] = new C(cap * w);
  return c as ColumnSet;
}

export class TrapLog implements TrapLogReader {
  readonly maxRecords: number;
  private cap: number;
  /** Physical slot of logical record 0. */
  private head = 0;
  private n = 0;
  private seqNext = 0;
  private droppedCount = 0;
  /** Physical slot of the last appended record (the setters write there). */
  private last = -1;
  private readonly byKind = new Float64Array(TRAP_KIND_COUNT);
  private c: ColumnSet;
  /** Set by a layer that can disassemble; adds `disasm` to exported records. */
  disassembler: Disassembler | null = null;

  constructor(opts: TrapLogOptions = {}) {
    const max = opts.maxRecords ?? 1 << 20;
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`maxRecords must be a positive integer, got ${max}`);
    this.maxRecords = max;
    this.cap = Math.min(max, Math.max(1, opts.initialCapacity ?? 4096));
    this.c = allocateColumns(this.cap);
  }

  get count(): number {
    return this.n;
  }
  get dropped(): number {
    return this.droppedCount;
  }
  get total(): number {
    return this.seqNext;
  }
  /** Records the ring can hold right now without growing. */
  get capacity(): number {
    return this.cap;
  }
  countByKind(kind: TrapKind): number {
    return this.byKind[kind] ?? 0;
  }

  /** Forget every held record (sequence numbers and totals by kind continue). */
  clear(): void {
    this.head = 0;
    this.n = 0;
    this.last = -1;
  }

  /**
   * Append a record and make it the target of the `set*` calls that follow. Returns its sequence
   * number. `flags` are `TrapFlag` bits plus the guest CPL at `TRAP_FLAG_CPL_SHIFT`.
   */
  append(
    vm: number,
    kind: TrapKind,
    reason: number,
    timeNs: number,
    cs: number,
    eip: number,
    flags: number,
    action: TrapAction,
    cost: number,
  ): number {
    let slot: number;
    if (this.n < this.cap) {
      slot = this.head + this.n;
      if (slot >= this.cap) slot -= this.cap;
      this.n++;
    } else if (this.cap < this.maxRecords) {
      this.grow();
      slot = this.n++; // grow() linearised the ring: head = 0
    } else {
      slot = this.head;
      this.head = this.head + 1 === this.cap ? 0 : this.head + 1;
      this.droppedCount++;
    }
    const seq = this.seqNext++;
    const c = this.c;
    this.last = slot;
    c.seq[slot] = seq;
    c.timeNs[slot] = timeNs;
    c.vm[slot] = vm;
    c.kind[slot] = kind;
    c.reason[slot] = reason;
    c.cs[slot] = cs;
    c.eip[slot] = eip;
    c.flags[slot] = flags;
    c.insnLen[slot] = 0;
    c.d0[slot] = 0;
    c.d1[slot] = 0;
    c.d2[slot] = 0;
    c.d3[slot] = 0;
    c.action[slot] = action;
    c.cost[slot] = cost;
    c.regMask[slot] = 0;
    this.byKind[kind]++;
    return seq;
  }

  /** Kind-specific details of the last appended record (see `TrapDetails`). */
  setDetails(d0: number, d1 = 0, d2 = 0, d3 = 0): void {
    const s = this.last;
    if (s < 0) return;
    this.c.d0[s] = d0;
    this.c.d1[s] = d1;
    this.c.d2[s] = d2;
    this.c.d3[s] = d3;
  }

  /** Instruction bytes of the last record: `len` bytes (≤ 15) of `src` from `offset`. */
  setInstruction(src: Uint8Array, offset: number, len: number): void {
    const s = this.last;
    if (s < 0) return;
    const n = Math.max(0, Math.min(MAX_INSN_BYTES, len));
    const base = s * SLOT;
    const insn = this.c.insn;
    for (let i = 0; i < n; i++) insn[base + i] = src[offset + i] ?? 0;
    this.c.insnLen[s] = n;
  }

  /** Registers the VMM changed (bits of `REG_MASK_NAMES`) for the last record. */
  setRegMask(mask: number): void {
    if (this.last >= 0) this.c.regMask[this.last] = mask;
  }

  /** The last record's action and cost (cost −1 with no record), without building the whole record. */
  get lastAction(): TrapAction {
    return (this.last < 0 ? 0 : this.c.action[this.last]) as TrapAction;
  }
  get lastCost(): number {
    return this.last < 0 ? -1 : this.c.cost[this.last];
  }

  /** Update the action/cost of the last record once the VMM has decided. */
  setOutcome(action: TrapAction, cost: number): void {
    if (this.last < 0) return;
    this.c.action[this.last] = action;
    this.c.cost[this.last] = cost;
  }

  // ---- readers ----

  private slotOf(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.n)
      throw new RangeError(`trap record ${i} out of range [0, ${this.n})`);
    const s = this.head + i;
    return s >= this.cap ? s - this.cap : s;
  }

  get(i: number): TrapRecord {
    const s = this.slotOf(i);
    const c = this.c;
    const kind = c.kind[s] as TrapKind;
    const reason = c.reason[s];
    const flags = c.flags[s];
    const action = c.action[s] as TrapAction;
    const mask = c.regMask[s];
    const changedRegs: string[] = [];
    for (let b = 0; b < REG_MASK_NAMES.length; b++) if (mask & (1 << b)) changedRegs.push(REG_MASK_NAMES[b]);
    return {
      seq: c.seq[s],
      timeNs: c.timeNs[s],
      vm: c.vm[s],
      kind,
      kindName: kindNames[kind] ?? `kind ${kind}`,
      reason,
      reasonName: reasonName(kind, reason),
      cs: c.cs[s],
      eip: c.eip[s],
      cpl: (flags >>> TRAP_FLAG_CPL_SHIFT) & 3,
      code32: (flags & TrapFlag.Code32) !== 0,
      bytes: Array.from(c.insn.subarray(s * SLOT, s * SLOT + c.insnLen[s])),
      details: decodeDetails(kind, reason, flags, c.d0[s], c.d1[s], c.d2[s], c.d3[s]),
      action,
      actionName: actionNames[action] ?? `action ${action}`,
      cost: c.cost[s],
      regMask: mask,
      changedRegs,
      invisible: (flags & TrapFlag.Invisible) !== 0,
    };
  }

  /** Disassembly of record i's instruction bytes, or '' without a disassembler or bytes. */
  disassemble(i: number): string {
    const s = this.slotOf(i);
    const len = this.c.insnLen[s];
    if (!this.disassembler || len === 0) return '';
    const code32 = (this.c.flags[s] & TrapFlag.Code32) !== 0;
    return this.disassembler(this.c.insn.slice(s * SLOT, s * SLOT + len), this.c.eip[s], code32);
  }

  slice(start: number, end: number): TrapColumns {
    const a = Math.max(0, Math.min(this.n, Math.floor(start)));
    const b = Math.max(a, Math.min(this.n, Math.floor(end)));
    const k = b - a;
    const out = { start: a, count: k, ...allocateColumns(k) };
    // Copy in at most two contiguous runs (the ring may wrap).
    let done = 0;
    while (done < k) {
      const s = this.slotOf(a + done);
      const run = Math.min(k - done, this.cap - s);
      for (const [name, , w] of COLUMNS) out[name].set(this.c[name].subarray(s * w, (s + run) * w), done * w);
      done += run;
    }
    return out;
  }

  filter(f: TrapFilter): Uint32Array {
    let kindMask = -1;
    if (f.kind !== undefined) {
      kindMask = 0;
      const kinds = typeof f.kind === 'number' ? [f.kind] : f.kind;
      for (const k of kinds) kindMask |= 1 << k;
    }
    const { kind, vm, action } = this.c;
    const hits = new Uint32Array(this.n);
    let m = 0;
    let s = this.head;
    for (let i = 0; i < this.n; i++) {
      if (
        (kindMask & (1 << kind[s])) !== 0 &&
        (f.vm === undefined || vm[s] === f.vm) &&
        (f.action === undefined || action[s] === f.action)
      ) {
        hits[m++] = i;
      }
      if (++s === this.cap) s = 0;
    }
    return hits.slice(0, m);
  }

  /** One JSON object per line (`\n`-terminated), handed to `write` in chunks of up to 256 records. */
  writeJsonLines(write: (chunk: string) => void, start = 0, end = this.n): void {
    const a = Math.max(0, start);
    const b = Math.min(this.n, end);
    let chunk = '';
    for (let i = a; i < b; i++) {
      chunk += `${JSON.stringify(this.exportRecord(i))}\n`;
      if ((i - a) % 256 === 255) {
        write(chunk);
        chunk = '';
      }
    }
    if (chunk) write(chunk);
  }

  /** The exported form of record i: `get(i)` plus `disasm` when a disassembler is set. */
  exportRecord(i: number): TrapRecord & { disasm?: string } {
    const r: TrapRecord & { disasm?: string } = this.get(i);
    if (this.disassembler && r.bytes.length > 0) r.disasm = this.disassemble(i);
    return r;
  }

  /**
   * Chrome trace-event JSON ("Trace Event Format", also read by Perfetto's legacy JSON importer):
   * one process per VM, one instant event per record at its virtual time in µs.
   */
  toTraceEvents(start = 0, end = this.n): TraceEventFile {
    const a = Math.max(0, start);
    const b = Math.min(this.n, end);
    const events: TraceEvent[] = this.vmsIn(a, b).map(processName);
    for (let i = a; i < b; i++) events.push(this.traceEvent(i));
    return { traceEvents: events, displayTimeUnit: 'ns' };
  }

  /** The same document as `toTraceEvents`, streamed in chunks (for logs too big for one string). */
  writeTraceEvents(write: (chunk: string) => void, start = 0, end = this.n): void {
    const a = Math.max(0, start);
    const b = Math.min(this.n, end);
    let chunk = '{"traceEvents":[';
    let first = true;
    const add = (e: TraceEvent) => {
      chunk += (first ? '\n' : ',\n') + JSON.stringify(e);
      first = false;
      if (chunk.length >= 65536) {
        write(chunk);
        chunk = '';
      }
    };
    for (const vm of this.vmsIn(a, b)) add(processName(vm));
    for (let i = a; i < b; i++) add(this.traceEvent(i));
    write(`${chunk}\n],"displayTimeUnit":"ns"}\n`);
  }

  private vmsIn(a: number, b: number): number[] {
    const seen = new Uint8Array(256);
    const vms: number[] = [];
    for (let i = a; i < b; i++) {
      const vm = this.c.vm[this.slotOf(i)];
      if (!seen[vm]) {
        seen[vm] = 1;
        vms.push(vm);
      }
    }
    return vms.sort((x, y) => x - y);
  }

  private traceEvent(i: number): TraceEvent {
    const r = this.exportRecord(i);
    return {
      name: r.reasonName ? `${r.kindName}: ${r.reasonName}` : r.kindName,
      cat: r.kindName,
      ph: 'i',
      s: 't',
      ts: r.timeNs / 1000,
      pid: r.vm,
      tid: 0,
      args: {
        seq: r.seq,
        cs_eip: `${hex(r.cs, 4)}:${hex(r.eip, 8)}`,
        action: r.actionName,
        cost: r.cost,
        details: r.details,
        ...(r.disasm ? { disasm: r.disasm } : {}),
        ...(r.invisible ? { invisible: true } : {}),
      },
    };
  }

  /**
   * Double the capacity (up to maxRecords), copying the ring out linearly so head = 0 — straight
   * from the old columns into the new ones: a BT Linux boot grows its log four times, and an
   * intermediate copy doubled what each growth allocated and wrote.
   */
  private grow(): void {
    const old = this.c;
    const oldCap = this.cap;
    const first = Math.min(this.n, oldCap - this.head);
    this.cap = Math.min(this.maxRecords, this.cap * 2);
    this.c = allocateColumns(this.cap);
    for (const [name, , w] of COLUMNS) {
      const from = old[name];
      const to = this.c[name];
      to.set(from.subarray(this.head * w, (this.head + first) * w), 0);
      if (first < this.n) to.set(from.subarray(0, (this.n - first) * w), first * w);
    }
    this.head = 0;
  }
}

function hex(v: number, digits: number): string {
  return (v >>> 0).toString(16).toUpperCase().padStart(digits, '0');
}

function decodeDetails(
  kind: number,
  reason: number,
  flags: number,
  d0: number,
  d1: number,
  d2: number,
  d3: number,
): TrapDetails {
  switch (kind) {
    case TrapKind.PortIo:
      return {
        type: 'io',
        port: d0 & 0xffff,
        size: d1,
        direction: flags & TrapFlag.Out ? 'out' : 'in',
        value: d2,
        count: d3,
        string: (flags & TrapFlag.String) !== 0,
      };
    case TrapKind.ControlRegister:
      return { type: 'cr', cr: d0, old: d1, new: d2 };
    case TrapKind.GuestException:
      return {
        type: 'fault',
        vector: reason,
        faultAddress: d0,
        errorCode: flags & TrapFlag.HasErrorCode ? d1 : null,
      };
    case TrapKind.HiddenPageFault:
      return {
        type: 'fault',
        vector: reason,
        faultAddress: d0,
        errorCode: flags & TrapFlag.HasErrorCode ? d1 : null,
        guestPhysical: d2,
        hostPhysical: d3,
      };
    case TrapKind.Interrupt:
      return { type: 'interrupt', vector: reason, irq: d0 };
    case TrapKind.WorldSwitch:
      return { type: 'switch', fromVm: d0, toVm: d1 };
    case TrapKind.Hypercall:
      return {
        type: 'hypercall',
        args: [d0, d1, d2],
        result: d3 | 0,
        summary: hypercallSummary(reason, d0, d1, d2, d3),
      };
    case TrapKind.Upcall:
      return {
        type: 'other',
        values: [d0, d1, d2, d3],
        summary: `event upcall: pending 0x${(d0 >>> 0).toString(16)}, selector 0x${(d1 >>> 0).toString(16)}, lowest port ${d2}`,
      };
    case TrapKind.VmExit:
      return {
        type: 'vmexit',
        qualification: d0,
        guestPhysical: d1,
        instructionLength: d2,
        summary: vmExitSummary(reason, d0, d1, d3),
      };
    case TrapKind.SilentEvent:
      return { type: 'other', values: [d0, d1, d2, d3], summary: silentSummary(reason, d0, d1, d2, d3) };
    case TrapKind.HostWorldSwitch:
    case TrapKind.HostSyscall:
    case TrapKind.HostInterrupt:
      return { type: 'other', values: [d0, d1, d2, d3], summary: hostSummary(kind, reason, d0, d1, d2) };
    case TrapKind.Translation:
    case TrapKind.Callout:
    case TrapKind.TcInvalidate:
    case TrapKind.TcFlush:
    case TrapKind.AdaptiveRetranslation:
      return { type: 'other', values: [d0, d1, d2, d3], summary: btSummary(kind, d0, d1, d2, d3, reason) };
    default:
      return { type: 'other', values: [d0, d1, d2, d3] };
  }
}

const h = (v: number, digits: number): string => `0x${hex(v, digits)}`;

/**
 * The student-facing sentence for a silent event (details: d0 got/attempted, d1 native or what
 * the VMM keeps, d2 SilentKind, d3 kind-specific; see src/hypervisor/silent.ts).
 */
export function silentSummary(reason: number, d0: number, d1: number, _kind: number, d3: number): string {
  const name = (opNames[reason] ?? 'the instruction').toUpperCase();
  const ifOf = (f: number) => ((f >>> 9) & 1).toString();
  switch (reason) {
    case TrapOp.POPF:
    case TrapOp.IRET:
      if (((d0 ^ d1) & 0x3000) !== 0 && ((d0 ^ d1) & 0x200) === 0)
        return (
          `${name} tried to set IOPL=${(d0 >>> 12) & 3}; outside real ring 0 the CPU ignored it without a trap, ` +
          `so the VMM keeps the guest's IOPL=${d3}.`
        );
      return (
        `${name} loaded IF=${ifOf(d0)}, but the guest kernel really runs at ring 1 with IOPL 0, where the CPU ` +
        `ignores the IF bit without a trap. The VMM still has the virtual IF=${d3}: ` +
        (ifOf(d0) === '1'
          ? 'the guest believes interrupts are back on, but none will be delivered.'
          : 'the guest believes interrupts are off, but the VMM will keep delivering them.')
      );
    case TrapOp.PUSHF:
      return (
        `PUSHF stored EFLAGS ${h(d0, 8)} (IF=${ifOf(d0)}, IOPL=${(d0 >>> 12) & 3}): the real flags, which ` +
        `belong to the VMM. On the bare machine the guest would have read ${h(d1, 8)} (IF=${ifOf(d1)}, ` +
        `IOPL=${(d1 >>> 12) & 3}).`
      );
    case TrapOp.PUSH_SEG:
    case TrapOp.MOV_FROM_SEG:
      return (
        `${name} read selector ${h(d0, 4)}: its RPL (${d0 & 3}) shows the guest kernel that it really runs ` +
        `in ring ${d0 & 3}. On the bare machine it would have read ${h(d1, 4)} (RPL ${d1 & 3}).`
      );
    case TrapOp.SGDT:
    case TrapOp.SIDT:
      return (
        `${name} stored base ${h(d0, 8)} limit ${h(d3 >>> 16, 4)}: the VMM's own table, not the guest's. ` +
        `On the bare machine it would have stored base ${h(d1, 8)} limit ${h(d3 & 0xffff, 4)} (this is how ` +
        `"Red Pill" detects a VMM).`
      );
    case TrapOp.SLDT:
    case TrapOp.STR:
      return (
        `${name} stored selector ${h(d0, 4)} from the real ${reason === TrapOp.STR ? 'task' : 'LDT'} register, ` +
        `which the VMM owns. On the bare machine it would have stored ${h(d1, 4)}, the value the guest loaded.`
      );
    case TrapOp.SMSW:
      return (
        `SMSW stored ${h(d0, 4)}: the real CR0 bits the VMM set. On the bare machine it would have stored ` +
        `${h(d1, 4)}, the guest's own CR0.`
      );
    case TrapOp.LAR:
    case TrapOp.LSL:
    case TrapOp.VERR:
    case TrapOp.VERW: {
      const sel = d3 >>> 16;
      const got = (d3 >>> 1) & 1;
      const nat = d3 & 1;
      const res = reason === TrapOp.LAR || reason === TrapOp.LSL;
      return (
        `${name} on selector ${h(sel, 4)} answered ZF=${got}${res && got ? ` (${h(d0, 8)})` : ''} — checked ` +
        `against the VMM's shadow descriptor at the real CPL. On the bare machine it would have answered ` +
        `ZF=${nat}${res && nat ? ` (${h(d1, 8)})` : ''}.`
      );
    }
    default:
      return `${name} behaved differently than on the bare machine, without a trap.`;
  }
}
