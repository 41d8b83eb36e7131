/**
 * The typed message protocol between the UI (main thread) and the emulator Web Worker.
 *
 * `ToWorker` are commands, `FromWorker` are replies and pushed frames. Both are discriminated
 * unions on `type`, handled by exhaustive switches. Everything crossing the boundary is plain
 * structured-clone data; byte buffers are transferred, never copied.
 *
 * The worker never trusts what arrives: `parseToWorker` validates every incoming message and
 * returns a clear error for anything malformed, so a bad message gets an `error` reply and the
 * worker keeps running.
 */

import type { TranslationInfo } from '../hypervisor/binary-translation/info.ts';
import type { TwoDWalkView } from '../hypervisor/hardware-assisted/ept-walk.ts';
import type { VmcsInfo } from '../hypervisor/hardware-assisted/vmcs-info.ts';
import type { ParavirtualInfo } from '../hypervisor/paravirtual/info.ts';
import { CPU_MODELS, type CpuModelId } from '../hypervisor/vmm/cost-model.ts';
import type { PageWalkInfo } from '../hypervisor/vmm/page-walk.ts';

export const TECHNIQUES = [
  'native',
  'trap-and-emulate',
  'binary-translation',
  'paravirtual',
  'hardware-assisted',
] as const;
export type TechniqueId = (typeof TECHNIQUES)[number];

/** The PC model (the CLI's `--machine`): the i486-class PC, with an x87 and/or a local APIC. */
export const MACHINES = ['pc', 'pc-fpu', 'pc-apic', 'pc-fpu-apic'] as const;
export type MachineId = (typeof MACHINES)[number];

export const MAX_VMS = 4;
export const MAX_READ_BYTES = 64 * 1024;
export const MAX_DISASM_LINES = 256;
export const MAX_TRAP_SLICE = 4096;
/** A frame carries at most this many of the newest records (only while the page asked: `watchTraps`). */
export const FRAME_TRAP_TAIL = 512;
/** Export at most this many (newest) records: JSON text grows ~300 bytes per record. */
export const MAX_EXPORT_RECORDS = 200_000;

export type ExportFormat = 'jsonl' | 'trace';

/** A guest image the user brought from disk. `kernel` = multiboot ELF or bzImage, auto-detected. */
export type UploadedGuest =
  | { kind: 'kernel'; name: string; kernel: Uint8Array; initrd?: Uint8Array; cmdline?: string }
  | { kind: 'bios'; name: string; image: Uint8Array }
  | { kind: 'raw'; name: string; image: Uint8Array; addr: number; entry: number };

export type GuestChoice = { kind: 'builtin'; id: string } | { kind: 'upload'; guest: UploadedGuest };

export interface Scenario {
  guest: GuestChoice;
  technique: TechniqueId;
  vms: number;
  memMiB?: number;
  /** hardware-assisted only: EPT (default) or first-generation shadow paging. */
  paging?: 'ept' | 'shadow';
  /** Who owns the PC (src/hypervisor/hosting/README.md); default type1. */
  hosting?: HostingId;
  /** The PC model (default 'pc'); the x87 and the APIC exist on the native machine only. */
  machine?: MachineId;
  /** The CPU generation the cost model and the guest's TSC follow (session config `cpuModel`,
   *  the CLI's `--cpu-model`); absent: the default tables, the TSC counts instructions. */
  cpuModel?: CpuModelId;
}

export type HostingId = 'type1' | 'type2';

/** Type 2: the hosted path's counters (src/hypervisor/hosting/hosted.ts HostingCounters). */
export interface HostingView {
  toVmm: number;
  toHost: number;
  hostSyscalls: number;
  hostInterrupts: number;
  outputExits: number;
  idleExits: number;
  bytesOut: number;
  bytesIn: number;
  hostInstructions: number;
  vmmInstructions: number;
  /** The physical CPU is in the VMM world (else the host's). */
  inVmm: boolean;
}

export type MemorySpace = 'linear' | 'physical';

export interface TrapFilter {
  /** Only records of this VM (0-based), or all VMs. */
  vm?: number;
  /** Only records whose kind (a `TrapNames.kinds` index) is one of these, or all kinds. */
  kinds?: number[];
  /** Only VM-exit records whose basic exit reason (SDM App. C) is one of these (the VMCS panel). */
  exitReasons?: number[];
}

export type ToWorker =
  /** `position`: a run position to replay after loading (see position.ts). */
  | { type: 'load'; scenario: Scenario; position?: string }
  | { type: 'run' }
  | { type: 'pause' }
  | { type: 'step' }
  /** `skip`: kinds (TrapNames.kinds indices) to run past without stopping; they are still logged. */
  | { type: 'stepToTrap'; skip?: number[] }
  /** `exitReason`: only a record with this reason (a VM exit's basic exit reason, SDM App. C). */
  | { type: 'runUntilTrapKind'; kind: number; exitReason?: number }
  | { type: 'reset' }
  /** Instructions per second; `null` = as fast as possible. */
  | { type: 'setSpeed'; ips: number | null }
  | { type: 'serialInput'; vm: number; bytes: Uint8Array }
  | { type: 'readMemory'; id: number; space: MemorySpace; addr: number; len: number }
  | { type: 'disassemble'; id: number; addr: number; count: number }
  /** `group`: rows are runs of repeats (trap-groups.ts); `expand` lists log indices whose group
   *  shows every record (the UI adds the selected record, so a stop is never hidden in a group). */
  | {
      type: 'trapSlice';
      id: number;
      start: number;
      end: number;
      filter: TrapFilter;
      group?: { expand: number[] };
      /** The last `tail` matching rows instead of `start`…`end` (a table following the log's end
       *  gets them in one round trip, whatever the log has grown to since its last reply). */
      tail?: number;
    }
  | { type: 'trapDetail'; id: number; index: number }
  /** The guest's page walk of a linear address beside the VMM's shadow walk (shadow paging). */
  | { type: 'pageWalk'; id: number; vm: number; lin: number }
  /** The EPT view's 2-D walk of a guest-linear or guest-physical address (VT-x with EPT). */
  | { type: 'eptWalk'; id: number; vm: number; addr: number; space: 'linear' | 'guest-physical' }
  /** The trap log as JSON Lines or Chrome/Perfetto trace-event JSON (newest MAX_EXPORT_RECORDS). */
  | { type: 'exportTraps'; id: number; format: ExportFormat }
  /** Type 2: bytes typed into the host OS's own console (physical COM1). */
  | { type: 'hostInput'; bytes: Uint8Array }
  /** Run the loaded guest under Type 1 and Type 2, headless, and answer with the table. */
  | { type: 'compareHosting'; id: number }
  /** Whether frames carry the newest trap records (`frame.traps`): only while the page reads them. */
  | { type: 'watchTraps'; on: boolean };

export type ToWorkerType = ToWorker['type'];

// ---------------------------------------------------------------------------------------------
// Outgoing data

export type RunState = 'running' | 'idle' | 'exited' | 'shutdown' | 'reset' | 'stopped';

export interface StatusView {
  /** The session's state after the last slice. */
  state: RunState;
  /** True while the worker keeps running slices (Run, Run until…, slow motion). */
  running: boolean;
  exitCode?: number;
  reason?: string;
  /** Why the worker stopped running, for the status bar ("Trap: io-out", "Paused", …). */
  stopNote?: string;
  /**
   * Everything done since the guest started, as a replayable journal (position.ts), or null when
   * it grew too long for a link.
   */
  position: string | null;
  /** Log index of the first record of the trap the last "step to next trap" stopped at. */
  trapStop?: number;
  /** While a shared position is being replayed: virtual-clock ticks reached of the link's target. */
  replay?: { done: number; total: number };
}

export interface SegmentView {
  name: string;
  selector: number;
  base: number;
  limit: number;
  /** Descriptor access byte (P, DPL, S, type) in bits 0–7; AVL, L, D/B, G in bits 12–15. */
  attrs: number;
  /** False when the register holds no usable descriptor (null selector in protected mode). */
  valid: boolean;
}

export interface CpuView {
  /** "Real CPU" or "VM 0 virtual CPU". */
  label: string;
  gpr: {
    eax: number;
    ebx: number;
    ecx: number;
    edx: number;
    esi: number;
    edi: number;
    ebp: number;
    esp: number;
  };
  eip: number;
  eflags: number;
  cpl: number;
  mode: 'real' | 'protected' | 'v86';
  segs: SegmentView[];
  cr: { cr0: number; cr2: number; cr3: number; cr4: number };
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  ldtr: number;
  tr: number;
  halted: boolean;
}

export interface RegSnapshot {
  real: CpuView;
  /** The current VM's virtual CPU, present when a VMM runs the guest. */
  virtual?: CpuView;
  /** VM whose context the real CPU is in. */
  vm: number;
}

/**
 * Trap records as packed columns; row i is record `index[i]` of the worker's log (0 = oldest record
 * still held). Kinds, reasons and actions are numbers; their names travel in `TrapNames`.
 */
export interface TrapRows {
  index: Uint32Array;
  seq: Float64Array;
  /** Virtual time of the trap in nanoseconds. */
  timeNs: Float64Array;
  vm: Uint8Array;
  kind: Uint8Array;
  reason: Uint16Array;
  cs: Uint16Array;
  eip: Uint32Array;
  /** Bit 0: invisible to the VMM (a silent event). Guest CPL in bits 6–7. */
  flags: Uint8Array;
  action: Uint8Array;
  /** Modelled cost in cycles. */
  cost: Uint32Array;
}

/** Per row of a grouped trap slice. */
export interface GroupRows {
  /** Records in the row's group when the row is its first (0: a single record or a later member). */
  len: Uint32Array;
  /** Records in the repeating cycle (1–4). */
  period: Uint8Array;
  /** 1: the group is expanded (its records follow as rows); 2: the row is a member of one. */
  state: Uint8Array;
  /** For a group's first row: its cycle ("port I/O in → port I/O out"); '' otherwise. */
  cycle: string[];
}

/** Bit of `TrapRows.flags`: the VMM never saw this event (shown as "invisible to the VMM"). */
export const TRAP_INVISIBLE = 1;

export interface TrapNames {
  kinds: string[];
  actions: string[];
}

export interface TrapDetail {
  index: number;
  seq: number;
  kind: number;
  kindName: string;
  invisible: boolean;
  vm: number;
  cs: number;
  eip: number;
  /** Field name → display value, in record order. */
  fields: [string, string][];
  /** Teaching paragraph for this kind of trap, if the VMM supplied one. */
  explanation?: string;
  /** This record in one sentence for a student (silent events: what the guest got vs. bare metal). */
  summary?: string;
  /** Registers the VMM changed while handling it (from the record), e.g. ["EAX", "EIP"]. */
  changedRegs: string[];
  /**
   * Real register snapshots around this trap: present only for a trap the worker stepped to.
   * `exact`: `before` is the state right before the trapping instruction; otherwise it is the state
   * at the previous stop, `instructions` earlier.
   */
  regs?: { before: RegSnapshot; after: RegSnapshot; exact: boolean; instructions: number };
}

/** One VM's state, memory map and counters (the session's VmInfo). */
export interface VmInfoView {
  vm: number;
  state: string;
  reason: string;
  running: boolean;
  memory: { guestPhys: number; hostPhys: number; bytes: number; kind: string }[];
  shadowTables: number;
  traps: number;
  hiddenFaults: number;
  reflected: number;
  injected: number;
  silent: number;
  switchesIn: number;
  cycles: number;
  /** Paravirtual only: the shared info page, event channels, hypercall histogram. */
  paravirtual?: ParavirtualInfo;
  /** Binary translation only: the translation cache, its statistics and recent units. */
  translation?: TranslationInfo;
  /** Hardware-assisted only: its VMCS, every field read live from the CPU (the VMCS panel). */
  vmcs?: VmcsInfo;
}

export interface StatsView {
  instructions: number;
  virtualTimeNs: number;
  /** Million instructions per second of wall time, over the last ~0.5 s of running. */
  mips: number;
  /** Records ever logged, and records dropped from the bounded log. */
  trapTotal: number;
  trapDropped: number;
  /** Records held now (the table's row count without a filter). */
  trapHeld: number;
  /** Totals per kind number. */
  trapsByKind: number[];
  trapsByVm: number[];
}

export interface DisasmLine {
  addr: number;
  bytes: number[];
  text: string;
}

export interface LoadedInfo {
  guestLabel: string;
  technique: TechniqueId;
  vms: number;
  memMiB: number;
  /** The PC model the session was built with. */
  machine: MachineId;
  /** What the loader did ("multiboot ELF: 2 segments, entry 0x100010"). */
  summary: string;
  names: TrapNames;
}

export type FromWorker =
  /** The worker is up; `techniques` are the ones this build can run. */
  | { type: 'ready'; techniques: TechniqueId[] }
  | { type: 'loaded'; info: LoadedInfo }
  | {
      type: 'frame';
      status: StatusView;
      serial: { vm: number; bytes: Uint8Array }[];
      /** The trap log grew since the previous frame. */
      trapsGrew: boolean;
      /** Newest records since the previous frame (at most `FRAME_TRAP_TAIL`), only while the page
       *  asked for them (`watchTraps`); null otherwise. */
      traps: TrapRows | null;
      regs: RegSnapshot | null;
      stats: StatsView;
      /** Per-VM info, sent with register snapshots when the session provides it. */
      vms?: VmInfoView[];
      /** Type 2: the host console's new bytes and the hosted path's counters. */
      host?: { serial: Uint8Array; counters: HostingView };
    }
  | { type: 'memory'; id: number; space: MemorySpace; addr: number; bytes: Uint8Array }
  | { type: 'disasm'; id: number; addr: number; lines: DisasmLine[] }
  | {
      type: 'trapSlice';
      id: number;
      start: number;
      /** Number of records matching the filter (the table's row count). */
      total: number;
      rows: TrapRows;
      /** Disassembly of each row's instruction bytes ('' when unknown). */
      insn: string[];
      /** Each row's reason as text ("port 0x3F8", "#GP", …). */
      reasons: string[];
      /** With `group`: which rows stand for a run of repeats. */
      groups?: GroupRows;
    }
  | { type: 'trapDetail'; id: number; detail: TrapDetail | null }
  /** Type 1 vs Type 2 for the loaded guest: [label, Type 1, Type 2] rows. */
  | { type: 'hostingCompare'; id: number; title: string; rows: [string, string, string][] }
  | { type: 'pageWalk'; id: number; walk: PageWalkInfo | null }
  | { type: 'eptWalk'; id: number; walk: TwoDWalkView | null }
  | { type: 'export'; id: number; format: ExportFormat; records: number; bytes: Uint8Array }
  | {
      type: 'error';
      message: string /** The command that failed, when known. */;
      command?: string;
      id?: number;
    };

export type FromWorkerType = FromWorker['type'];

// ---------------------------------------------------------------------------------------------
// Validation of incoming messages

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

class Invalid extends Error {}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function u32(o: Record<string, unknown>, key: string, max = 0xffffffff): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new Invalid(`'${key}' must be an integer from 0 to ${max}, got ${show(v)}`);
  }
  return v;
}

function str(o: Record<string, unknown>, key: string, maxLen = 4096): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > maxLen) {
    throw new Invalid(`'${key}' must be a string of at most ${maxLen} characters, got ${show(v)}`);
  }
  return v;
}

function bytes(o: Record<string, unknown>, key: string): Uint8Array {
  const v = o[key];
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new Invalid(`'${key}' must be a Uint8Array, got ${show(v)}`);
}

function show(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function parseUpload(g: unknown): UploadedGuest {
  if (!isObj(g)) throw new Invalid(`'guest' must be an object, got ${show(g)}`);
  const name = str(g, 'name', 256);
  switch (g.kind) {
    case 'kernel': {
      const kernel = bytes(g, 'kernel');
      const out: UploadedGuest = { kind: 'kernel', name, kernel };
      if (g.initrd !== undefined) out.initrd = bytes(g, 'initrd');
      if (g.cmdline !== undefined) out.cmdline = str(g, 'cmdline', 2048);
      return out;
    }
    case 'bios':
      return { kind: 'bios', name, image: bytes(g, 'image') };
    case 'raw':
      return { kind: 'raw', name, image: bytes(g, 'image'), addr: u32(g, 'addr'), entry: u32(g, 'entry') };
    default:
      throw new Invalid(`uploaded guest kind must be 'kernel', 'bios' or 'raw', got ${show(g.kind)}`);
  }
}

function parseScenario(s: unknown): Scenario {
  if (!isObj(s)) throw new Invalid(`'scenario' must be an object, got ${show(s)}`);
  const g = s.guest;
  if (!isObj(g)) throw new Invalid(`'scenario.guest' must be an object, got ${show(g)}`);
  let guest: GuestChoice;
  if (g.kind === 'builtin') guest = { kind: 'builtin', id: str(g, 'id', 64) };
  else if (g.kind === 'upload') guest = { kind: 'upload', guest: parseUpload(g.guest) };
  else throw new Invalid(`'scenario.guest.kind' must be 'builtin' or 'upload', got ${show(g.kind)}`);
  const technique = s.technique;
  if (typeof technique !== 'string' || !(TECHNIQUES as readonly string[]).includes(technique)) {
    throw new Invalid(`unknown technique ${show(technique)}; expected one of ${TECHNIQUES.join(', ')}`);
  }
  const vms = u32(s, 'vms', MAX_VMS);
  if (vms < 1) throw new Invalid(`'vms' must be at least 1`);
  const out: Scenario = { guest, technique: technique as TechniqueId, vms };
  if (s.paging !== undefined) {
    if (s.paging !== 'ept' && s.paging !== 'shadow')
      throw new Invalid(`'paging' must be 'ept' or 'shadow', got ${show(s.paging)}`);
    if (technique !== 'hardware-assisted') throw new Invalid(`'paging' applies to hardware-assisted only`);
    out.paging = s.paging;
  }
  if (s.hosting !== undefined) {
    if (s.hosting !== 'type1' && s.hosting !== 'type2') {
      throw new Invalid(`'hosting' must be 'type1' or 'type2', got ${show(s.hosting)}`);
    }
    out.hosting = s.hosting;
  }
  if (s.memMiB !== undefined) {
    const mem = u32(s, 'memMiB', 1024);
    if (mem < 1) throw new Invalid(`'memMiB' must be at least 1`);
    out.memMiB = mem;
  }
  if (s.machine !== undefined) {
    if (typeof s.machine !== 'string' || !(MACHINES as readonly string[]).includes(s.machine)) {
      throw new Invalid(`unknown machine ${show(s.machine)}; expected one of ${MACHINES.join(', ')}`);
    }
    out.machine = s.machine as MachineId;
  }
  if (s.cpuModel !== undefined) {
    if (typeof s.cpuModel !== 'string' || !(CPU_MODELS as readonly string[]).includes(s.cpuModel)) {
      throw new Invalid(`unknown CPU model ${show(s.cpuModel)}; expected one of ${CPU_MODELS.join(', ')}`);
    }
    out.cpuModel = s.cpuModel as CpuModelId;
  }
  return out;
}

function parseFilter(f: unknown): TrapFilter {
  if (f === undefined) return {};
  if (!isObj(f)) throw new Invalid(`'filter' must be an object, got ${show(f)}`);
  const out: TrapFilter = {};
  if (f.vm !== undefined) out.vm = u32(f, 'vm', 255);
  if (f.kinds !== undefined) {
    if (!Array.isArray(f.kinds) || f.kinds.some((k) => !Number.isInteger(k) || k < 0 || k > 255)) {
      throw new Invalid(`'filter.kinds' must be an array of kind numbers (0–255)`);
    }
    out.kinds = f.kinds as number[];
  }
  if (f.exitReasons !== undefined) {
    const r = f.exitReasons;
    if (!Array.isArray(r) || r.some((k) => !Number.isInteger(k) || k < 0 || k > 0xffff)) {
      throw new Invalid(`'filter.exitReasons' must be an array of exit reasons (0–65535)`);
    }
    out.exitReasons = r as number[];
  }
  return out;
}

/** Validate a message arriving at the worker. Never throws. */
export function parseToWorker(data: unknown): Parsed<ToWorker> {
  try {
    return { ok: true, value: parseOrThrow(data) };
  } catch (e) {
    if (e instanceof Invalid) {
      const t = isObj(data) && typeof data.type === 'string' ? `'${data.type}': ` : '';
      return { ok: false, error: `malformed message ${t}${e.message}` };
    }
    return { ok: false, error: `malformed message: ${String(e)}` };
  }
}

function parseOrThrow(m: unknown): ToWorker {
  if (!isObj(m)) throw new Invalid(`expected an object with a 'type', got ${show(m)}`);
  const type = m.type as ToWorkerType;
  switch (type) {
    case 'load': {
      const out: Extract<ToWorker, { type: 'load' }> = { type, scenario: parseScenario(m.scenario) };
      if (m.position !== undefined) out.position = str(m, 'position', 16384);
      return out;
    }
    case 'run':
    case 'pause':
    case 'step':
    case 'reset':
      return { type };
    case 'stepToTrap': {
      if (m.skip === undefined) return { type };
      if (!Array.isArray(m.skip) || m.skip.some((k) => !Number.isInteger(k) || k < 0 || k > 255)) {
        throw new Invalid(`'skip' must be an array of kind numbers (0–255)`);
      }
      return { type, skip: m.skip as number[] };
    }
    case 'runUntilTrapKind': {
      const kind = u32(m, 'kind', 255);
      if (m.exitReason === undefined) return { type, kind };
      return { type, kind, exitReason: u32(m, 'exitReason', 65535) };
    }
    case 'setSpeed': {
      if (m.ips === null) return { type, ips: null };
      const ips = m.ips;
      if (typeof ips !== 'number' || !Number.isFinite(ips) || ips <= 0) {
        throw new Invalid(`'ips' must be a positive number or null, got ${show(ips)}`);
      }
      return { type, ips };
    }
    case 'serialInput': {
      const vm = u32(m, 'vm', MAX_VMS - 1);
      const b = bytes(m, 'bytes');
      if (b.length > 65536) throw new Invalid(`'bytes' is too long (${b.length} > 65536)`);
      return { type, vm, bytes: b };
    }
    case 'readMemory': {
      const space = m.space;
      if (space !== 'linear' && space !== 'physical') {
        throw new Invalid(`'space' must be 'linear' or 'physical', got ${show(space)}`);
      }
      return { type, id: u32(m, 'id'), space, addr: u32(m, 'addr'), len: u32(m, 'len', MAX_READ_BYTES) };
    }
    case 'disassemble':
      return { type, id: u32(m, 'id'), addr: u32(m, 'addr'), count: u32(m, 'count', MAX_DISASM_LINES) };
    case 'trapSlice': {
      const start = u32(m, 'start');
      const end = u32(m, 'end');
      if (end < start) throw new Invalid(`'end' (${end}) is before 'start' (${start})`);
      const out: Extract<ToWorker, { type: 'trapSlice' }> = {
        type,
        id: u32(m, 'id'),
        start,
        end: Math.min(end, start + MAX_TRAP_SLICE),
        filter: parseFilter(m.filter),
      };
      if (m.tail !== undefined) out.tail = Math.min(u32(m, 'tail'), MAX_TRAP_SLICE);
      if (m.group !== undefined) {
        if (!isObj(m.group) || !Array.isArray(m.group.expand) || m.group.expand.length > 1024) {
          throw new Invalid(`'group' must be { expand: number[] } (at most 1024), got ${show(m.group)}`);
        }
        out.group = { expand: m.group.expand.map((v) => u32({ 'group.expand[]': v }, 'group.expand[]')) };
      }
      return out;
    }
    case 'pageWalk':
      return { type, id: u32(m, 'id'), vm: u32(m, 'vm', MAX_VMS - 1), lin: u32(m, 'lin') };
    case 'eptWalk': {
      const space = m.space;
      if (space !== 'linear' && space !== 'guest-physical')
        throw new Invalid(`'space' must be 'linear' or 'guest-physical', got ${show(space)}`);
      return { type, id: u32(m, 'id'), vm: u32(m, 'vm', MAX_VMS - 1), addr: u32(m, 'addr'), space };
    }
    case 'trapDetail':
      return { type, id: u32(m, 'id'), index: u32(m, 'index') };
    case 'exportTraps': {
      const format = m.format;
      if (format !== 'jsonl' && format !== 'trace') {
        throw new Invalid(`'format' must be 'jsonl' or 'trace', got ${show(format)}`);
      }
      return { type, id: u32(m, 'id'), format };
    }
    case 'hostInput': {
      const b = bytes(m, 'bytes');
      if (b.length > 65536) throw new Invalid(`'bytes' is too long (${b.length} > 65536)`);
      return { type, bytes: b };
    }
    case 'compareHosting':
      return { type, id: u32(m, 'id') };
    case 'watchTraps':
      if (typeof m.on !== 'boolean') throw new Invalid(`'on' must be true or false, got ${show(m.on)}`);
      return { type, on: m.on };
    default: {
      const never: never = type;
      throw new Invalid(`unknown message type ${show(never)}`);
    }
  }
}

/** Buffers in an outgoing message that can be transferred rather than copied. */
export function transferablesOf(msg: FromWorker): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  // Only buffers a view owns entirely: transferring a view into a bigger buffer would detach
  // memory the sender still uses.
  const add = (a: ArrayBufferView) => {
    const b = a.buffer;
    if (b instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === b.byteLength && !out.includes(b)) {
      out.push(b);
    }
  };
  const cols = (c: TrapRows) => {
    for (const a of [
      c.index,
      c.seq,
      c.timeNs,
      c.vm,
      c.kind,
      c.reason,
      c.cs,
      c.eip,
      c.flags,
      c.action,
      c.cost,
    ]) {
      add(a);
    }
  };
  switch (msg.type) {
    case 'frame':
      for (const s of msg.serial) add(s.bytes);
      if (msg.host) add(msg.host.serial);
      if (msg.traps) cols(msg.traps);
      break;
    case 'memory':
    case 'export':
      add(msg.bytes);
      break;
    case 'trapSlice':
      cols(msg.rows);
      if (msg.groups) for (const a of [msg.groups.len, msg.groups.period, msg.groups.state]) add(a);
      break;
    case 'ready':
    case 'loaded':
    case 'disasm':
    case 'trapDetail':
    case 'hostingCompare':
    case 'pageWalk':
    case 'eptWalk':
    case 'error':
      break;
    default: {
      const never: never = msg;
      throw new Error(`unhandled message ${String(never)}`);
    }
  }
  return out;
}
