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

/** What happened. Values are stored in a Uint8Array column and appear in exported logs. */
export const TrapKind = {
  /** A privileged instruction the deprivileged guest issued trapped (#GP) and the VMM emulated it. */
  PrivilegedInstruction: 0,
  /** IN/OUT/INS/OUTS trapped (CPL > IOPL) and went to the VM's virtual devices. */
  PortIo: 1,
  /** MOV to/from CR0–CR4, LMSW or CLTS. */
  ControlRegister: 2,
  /** A guest exception the VMM intercepted and reflected through the guest's own IDT. */
  GuestException: 3,
  /** A page fault caused only by the shadow page tables; the VMM filled a shadow entry. */
  HiddenPageFault: 4,
  /** The VMM delivered a virtual interrupt from the VM's virtual PIC through the guest's IDT. */
  Interrupt: 5,
  /** The VMM switched the physical CPU from one VM to another (save/restore all state). */
  WorldSwitch: 6,
  /** Something sensitive happened with no trap: the VMM never saw it (e.g. POPF dropping IF). */
  SilentEvent: 7,
  /** A paravirtual guest called the hypervisor (int 0x82, Xen numbering). */
  Hypercall: 8,
  /** A hardware-assisted (VT-x style) VM exit; reason = the exit-reason number. */
  VmExit: 9,
  /** Binary translation: a block of guest code was translated. */
  Translation: 10,
  /** The VM triple-faulted or otherwise died; the VMM stopped it. */
  VmShutdown: 11,
} as const;
export type TrapKind = (typeof TrapKind)[keyof typeof TrapKind];
export const TRAP_KIND_COUNT = 12;

/** What the VMM did about it. */
export const TrapAction = {
  /** Nothing: the VMM did not see the event (silent events) or only observed it. */
  None: 0,
  /** Emulated the instruction against the VM's virtual CPU/devices and resumed after it. */
  Emulated: 1,
  /** Reflected it to the guest: built the frame the guest expects and entered its handler. */
  Reflected: 2,
  /** Filled (or fixed up) a shadow page-table entry and restarted the instruction. */
  ShadowFill: 3,
  /** Injected a virtual interrupt. */
  Injected: 4,
  /** Switched to another VM. */
  Switched: 5,
  /** Blocked the VM (HLT) until its next virtual interrupt. */
  Blocked: 6,
  /** Translated guest code (binary translation). */
  Translated: 7,
  /** Stopped the VM. */
  Stopped: 8,
} as const;
export type TrapAction = (typeof TrapAction)[keyof typeof TrapAction];

/** Bits of the `flags` column. */
export const TrapFlag = {
  /** The VMM could not see this event (a silent event): shown as "invisible to the VMM". */
  Invisible: 1,
  /** The guest was executing 32-bit code (disassemble as 32-bit). */
  Code32: 2,
  /** `d1` holds a valid error code (exceptions, page faults). */
  HasErrorCode: 4,
  /** Port I/O: the access was a write (OUT/OUTS); otherwise a read. */
  Out: 8,
  /** Port I/O: string instruction (INS/OUTS), possibly REP. */
  String: 16,
} as const;
/** Guest (virtual) CPL lives in bits 6–7 of `flags`. */
export const TRAP_FLAG_CPL_SHIFT = 6;

/**
 * The instruction or event behind a PrivilegedInstruction, PortIo, ControlRegister or SilentEvent
 * record (its `reason`). GuestException/HiddenPageFault/Interrupt use the vector as the reason,
 * VmExit the VT-x exit-reason number (SDM Vol.3 App. C), Hypercall the Xen hypercall number.
 */
// biome-ignore format: a compact table
export const TrapOp = {
  CLI: 1, STI: 2, HLT: 3, IN: 4, OUT: 5, INS: 6, OUTS: 7,
  MOV_TO_CR: 8, MOV_FROM_CR: 9, MOV_DR: 10, LGDT: 11, LIDT: 12, LLDT: 13, LTR: 14,
  LMSW: 15, CLTS: 16, INVLPG: 17, INVD: 18, WBINVD: 19, RDMSR: 20, WRMSR: 21,
  CPUID: 22, RDTSC: 23, IRET: 24, SEG_LOAD: 25, POPF: 26, PUSHF: 27, INT: 28,
  SGDT: 29, SIDT: 30, SLDT: 31, SMSW: 32, STR: 33, PUSH_SEG: 34, MOV_FROM_SEG: 35,
  LAR: 36, LSL: 37, VERR: 38, VERW: 39, FAR_CALL: 40, FAR_JMP: 41, FAR_RET: 42,
} as const;
const opNames: string[] = [];
for (const [name, v] of Object.entries(TrapOp)) opNames[v] = name.toLowerCase().replace(/_/g, ' ');

// biome-ignore format: a compact table
export const kindNames: readonly string[] = [
  'privileged instruction', 'port I/O', 'control register', 'guest exception', 'hidden page fault',
  'interrupt', 'world switch', 'silent event', 'hypercall', 'VM exit', 'translation', 'VM shutdown',
];
// biome-ignore format: a compact table
export const actionNames: readonly string[] = [
  'none', 'emulated', 'reflected to the guest', 'filled a shadow entry', 'injected an interrupt',
  'switched VMs', 'blocked until an interrupt', 'translated', 'stopped the VM',
];
/** SDM Vol.3 §6.3.1 Table 6-1. */
// biome-ignore format: a compact table
const vectorNames = [
  '#DE divide error', '#DB debug', 'NMI', '#BP breakpoint', '#OF overflow', '#BR bound range',
  '#UD invalid opcode', '#NM device not available', '#DF double fault', 'coprocessor segment overrun',
  '#TS invalid TSS', '#NP segment not present', '#SS stack fault', '#GP general protection',
  '#PF page fault', 'reserved 15', '#MF x87 error', '#AC alignment check', '#MC machine check',
  '#XM SIMD exception',
];
/** SDM Vol.3 Appendix C (the subset a 32-bit VT-x model produces). */
// biome-ignore format: a compact table
const exitReasonNames: Record<number, string> = {
  0: 'exception or NMI', 1: 'external interrupt', 2: 'triple fault', 7: 'interrupt window',
  10: 'CPUID', 12: 'HLT', 14: 'INVLPG', 16: 'RDTSC', 18: 'VMCALL', 19: 'VMCLEAR', 20: 'VMLAUNCH',
  21: 'VMPTRLD', 22: 'VMPTRST', 23: 'VMREAD', 24: 'VMRESUME', 25: 'VMWRITE', 26: 'VMXOFF',
  27: 'VMXON', 28: 'control-register access', 29: 'MOV DR', 30: 'I/O instruction', 31: 'RDMSR',
  32: 'WRMSR', 33: 'invalid guest state', 37: 'monitor trap flag', 46: 'GDTR/IDTR access',
  47: 'LDTR/TR access', 48: 'EPT violation', 49: 'EPT misconfiguration', 52: 'preemption timer',
};
/** Xen's public hypercall numbers (xen/include/public/xen.h). */
// biome-ignore format: a compact table
const hypercallNames: Record<number, string> = {
  0: 'set_trap_table', 1: 'mmu_update', 2: 'set_gdt', 3: 'stack_switch', 4: 'set_callbacks',
  13: 'multicall', 14: 'update_va_mapping', 15: 'set_timer_op', 18: 'console_io', 23: 'iret',
  26: 'mmuext_op', 29: 'sched_op', 32: 'event_channel_op',
};

/** Human name of a record's reason, given its kind. */
export function reasonName(kind: number, reason: number): string {
  switch (kind) {
    case TrapKind.GuestException:
    case TrapKind.HiddenPageFault:
      return vectorNames[reason] ?? `vector ${reason}`;
    case TrapKind.Interrupt:
      return reason < 32 ? (vectorNames[reason] ?? `vector ${reason}`) : `vector 0x${reason.toString(16)}`;
    case TrapKind.VmExit:
      return exitReasonNames[reason] ?? `exit reason ${reason}`;
    case TrapKind.Hypercall:
      return hypercallNames[reason] ?? `hypercall ${reason}`;
    case TrapKind.WorldSwitch:
    case TrapKind.Translation:
    case TrapKind.VmShutdown:
      return reason === 0 ? '' : (opNames[reason] ?? `reason ${reason}`);
    default:
      return opNames[reason] ?? `reason ${reason}`;
  }
}

/** One paragraph per record kind, for a student reading the log. */
export const explanations: Readonly<Record<TrapKind, string>> = {
  [TrapKind.PrivilegedInstruction]:
    'The guest kernel believes it runs in ring 0, but the hypervisor deprivileged it to ring 1. When it ' +
    'executed a privileged instruction (CLI, LGDT, HLT, …), the real CPU refused and raised a general-' +
    'protection fault that the hypervisor catches first. The hypervisor decodes the instruction, applies ' +
    "its effect to the VM's virtual CPU (for example clearing the virtual interrupt flag) and resumes the " +
    'guest after it — the guest cannot tell, apart from the time it took. This is trap-and-emulate as IBM ' +
    'did it on CP-67 in 1967.',
  [TrapKind.PortIo]:
    'The guest touched an I/O port (IN, OUT, INS or OUTS). The hypervisor keeps the real EFLAGS.IOPL at 0, ' +
    "so from a deprivileged ring this faults. The hypervisor sends the access to the VM's own virtual device " +
    '(its UART, PIC, PIT…) — the same device model the physical machine uses — and, for IN, places the ' +
    "device's answer in the guest's register. Device I/O is one of the most frequent and most expensive " +
    'traps, which is why later hardware and paravirtual drivers work hard to avoid it.',
  [TrapKind.ControlRegister]:
    'The guest read or wrote a control register (MOV CRn, LMSW, CLTS). Control registers decide paging ' +
    '(CR0.PG, CR3, CR4) and protection, so the guest may only change its virtual copies: the hypervisor ' +
    'records the old and new values and, on a CR3 write, switches to (or builds) the shadow page tables ' +
    "that really translate the guest's addresses. The real control registers stay under the hypervisor's control.",
  [TrapKind.GuestException]:
    'The guest itself caused an exception — a page fault on one of its own unmapped pages, a divide by zero, ' +
    'a protection fault its own code deserves. Every exception reaches the hypervisor first because the real ' +
    "IDT is the hypervisor's. It checks the fault is the guest's business, builds the exact stack frame the " +
    "guest's handler expects (with the guest-visible CR2 for page faults) and enters the guest's handler " +
    'through the guest\'s own IDT: the exception is "reflected".',
  [TrapKind.HiddenPageFault]:
    "A page fault the guest never sees. The real CPU walks the hypervisor's shadow page tables, which are " +
    "filled lazily from the guest's own tables. When a shadow entry is missing (or must be upgraded to set " +
    "the guest's accessed/dirty bits), the CPU faults; the hypervisor walks the guest's tables, finds the " +
    'mapping is valid, fills the shadow entry with the host-physical page and restarts the instruction. ' +
    'These hidden faults are the main hidden cost of shadow paging.',
  [TrapKind.Interrupt]:
    "A virtual device of this VM (for example its timer) raised an interrupt on the VM's virtual PIC and the " +
    "guest's virtual interrupt flag allowed it. The hypervisor delivers it the way the hardware would: it " +
    "acknowledges the virtual PIC, pushes an interrupt frame on the guest's stack and jumps to the handler " +
    "the guest installed in its own IDT. The guest's later IRET returns through the hypervisor, which then " +
    'restores the virtual interrupt flag.',
  [TrapKind.WorldSwitch]:
    "Several VMs share one physical CPU. When a VM's time slice ends (the physical timer fired) or it " +
    'blocked in HLT, the hypervisor saves the whole CPU state of the running VM — general registers, ' +
    "segments, control registers, descriptor tables — and loads the next VM's. Each VM only ever sees its " +
    'own memory slice and devices. The switch is costed because real hypervisors pay heavily for it.',
  [TrapKind.SilentEvent]:
    'Invisible to the hypervisor: the guest executed a sensitive instruction that did NOT trap, and it ' +
    'behaved differently than on the bare machine. On x86, POPF and IRET at a deprivileged ring silently ' +
    "ignore the interrupt flag — the guest's attempt to re-enable interrupts is lost and the hypervisor " +
    'never learns of it; PUSHF shows the real flags; PUSH CS or MOV from CS/SS reveals that the kernel ' +
    "really runs in ring 1; SGDT/SIDT/SLDT/STR and SMSW show the hypervisor's tables and CR0; LAR/LSL/" +
    "VERR/VERW answer for the hypervisor's shadow descriptors. The emulator can see it, so the log shows " +
    'it (what the guest got, and what it would have seen natively), but a real trap-and-emulate ' +
    'hypervisor never would. These are the instructions Robin & Irvine (2000) listed: they break Popek & ' +
    "Goldberg's condition, which is why pure trap-and-emulate cannot virtualize x86.",
  [TrapKind.Hypercall]:
    'A paravirtualized guest knows it runs on a hypervisor and asks it for a service directly (Xen-style ' +
    '`int 0x82`), instead of executing a privileged instruction and being trapped. One hypercall can ' +
    'replace many traps — for example batching several page-table updates — and operations such as ' +
    'disabling interrupts become plain memory writes to a shared page that need no trap at all.',
  [TrapKind.VmExit]:
    'With hardware assistance (Intel VT-x), the guest kernel really runs in ring 0 of a "non-root" mode, ' +
    'and the CPU itself leaves the guest on the events the hypervisor asked for in its VMCS controls — ' +
    'an I/O instruction, a CR3 write, HLT, an external interrupt. The CPU saves the guest state and records ' +
    'an exit reason and qualification; the hypervisor handles it and resumes with VMRESUME. Early VT-x ' +
    'exits cost thousands of cycles each (Adams & Agesen, 2006).',
  [TrapKind.Translation]:
    'Binary translation: before guest kernel code runs, the hypervisor reads a block of it and writes an ' +
    'equivalent block into its translation cache, copying harmless instructions unchanged and replacing ' +
    'sensitive ones (POPF, CLI, PUSH CS…) with code that acts on the virtual CPU. This is how VMware ' +
    'virtualized x86 before hardware support, catching even the instructions that never trap.',
  [TrapKind.VmShutdown]:
    'The VM cannot go on. Either it hit a fault it could not handle — a triple fault, when delivering a ' +
    'double fault itself fails, which on a real PC shuts the processor down — or it did something this ' +
    'hypervisor does not virtualize (leaving protected mode for real mode, virtual-8086 mode, a task ' +
    'gate); the stop reason says which. The hypervisor stops only this VM; the others and the ' +
    'hypervisor carry on.',
};

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
  | { type: 'hypercall'; args: [number, number, number, number] }
  | { type: 'vmexit'; qualification: number; guestPhysical: number; instructionLength: number }
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

  /** Double the capacity (up to maxRecords), copying the ring out linearly so head = 0. */
  private grow(): void {
    const old = this.slice(0, this.n);
    this.cap = Math.min(this.maxRecords, this.cap * 2);
    this.c = allocateColumns(this.cap);
    this.head = 0;
    for (const [name] of COLUMNS) this.c[name].set(old[name]);
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
      return { type: 'hypercall', args: [d0, d1, d2, d3] };
    case TrapKind.VmExit:
      return { type: 'vmexit', qualification: d0, guestPhysical: d1, instructionLength: d2 };
    case TrapKind.SilentEvent:
      return { type: 'other', values: [d0, d1, d2, d3], summary: silentSummary(reason, d0, d1, d2, d3) };
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
