/**
 * The trap log's vocabulary: record kinds, VMM actions, flags and operations, the names of vectors,
 * VT-x exit reasons and Xen hypercalls, and one paragraph per kind for a student. The store itself
 * is trap-log.ts, which re-exports all of this.
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
  /** Binary translation: translated code called out into the VMM for a sensitive instruction. */
  Callout: 12,
  /** Binary translation: a write hit a guest page holding translated code; its units were dropped. */
  TcInvalidate: 13,
  /** Binary translation: the translation cache was emptied (full, or the VMM region moved). */
  TcFlush: 14,
  /** Binary translation: an instruction that kept taking hidden page faults was retranslated. */
  AdaptiveRetranslation: 15,
  /** Paravirtual: the hypervisor upcalled the guest's event callback (timer/console events pending). */
  Upcall: 16,
  /** Type 2 hosting: the physical CPU switched between the host OS's world and the VMM's. */
  HostWorldSwitch: 17,
  /** Type 2 hosting: the VMApp made a host system call on the guest's behalf (reason = number). */
  HostSyscall: 18,
  /** Type 2 hosting: a host interrupt arrived in the VMM world and was forwarded to the host. */
  HostInterrupt: 19,
} as const;
export type TrapKind = (typeof TrapKind)[keyof typeof TrapKind];
export const TRAP_KIND_COUNT = 20;

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
  /** Dropped translations from the translation cache (binary translation). */
  Dropped: 9,
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
  INTERPRET: 43,
} as const;
/** Lower-case operation names by TrapOp value (for reasons and summaries). */
export const opNames: string[] = [];
for (const [name, v] of Object.entries(TrapOp)) opNames[v] = name.toLowerCase().replace(/_/g, ' ');

// biome-ignore format: a compact table
export const kindNames: readonly string[] = [
  'privileged instruction', 'port I/O', 'control register', 'guest exception', 'hidden page fault',
  'interrupt', 'world switch', 'silent event', 'hypercall', 'VM exit', 'translation', 'VM shutdown',
  'callout', 'TC invalidation', 'TC flush', 'adaptive retranslation', 'event upcall',
  'host world switch', 'host system call', 'host interrupt',
];
/** Host world switch reasons: 0 = into the VMM world, else why the VMM handed the CPU back. */
// biome-ignore format: a compact table
export const hostSwitchReasons: readonly string[] = [
  'to the VMM', 'to the host: guest output', 'to the host: host interrupt', 'to the host: guest idle',
  'to the host: VM stopped',
];
/** System calls of the host OS (minikernel's abi.h, built with -DHOST) a VMApp makes. */
export const hostSyscallNames: Record<number, string> = {
  0: 'exit',
  1: 'write',
  2: 'read',
  3: 'yield',
  4: 'sleep',
  5: 'getpid',
  6: 'report',
  11: 'vmrun',
};
// biome-ignore format: a compact table
export const actionNames: readonly string[] = [
  'none', 'emulated', 'reflected to the guest', 'filled a shadow entry', 'injected an interrupt',
  'switched VMs', 'blocked until an interrupt', 'translated', 'stopped the VM', 'dropped translations',
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
  5: 'fpu_taskswitch', 13: 'multicall', 14: 'update_va_mapping', 15: 'set_timer_op', 17: 'xen_version',
  18: 'console_io', 23: 'iret', 26: 'mmuext_op', 29: 'sched_op', 32: 'event_channel_op',
};
/** The name of Xen hypercall `nr`. */
export function hypercallName(nr: number): string {
  return hypercallNames[nr] ?? `hypercall ${nr}`;
}
const errnos: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  22: 'EINVAL',
  38: 'ENOSYS',
};
const virqNames: Record<number, string> = { 0: 'VIRQ_TIMER', 2: 'VIRQ_CONSOLE' };

const hx = (v: number) => `0x${(v >>> 0).toString(16)}`;

/**
 * One line for a hypercall record: its name, the three arguments the hypervisor decoded (which
 * three depends on the call: paravirtual/hypercalls.ts) and the result (−errno named).
 */
export function hypercallSummary(nr: number, a: number, b: number, c: number, result: number): string {
  const r = result | 0;
  const res = r < 0 ? `-${errnos[-r] ?? -r}` : r > 9 ? hx(r) : String(r);
  let args: string;
  switch (nr) {
    case 0:
      args = `table ${hx(a)}, ${b} entries${c === 0x80 ? ', int 0x80 direct' : ''}`;
      break;
    case 1:
      args = `${a} update${a === 1 ? '' : 's'}, first: entry ${hx(b)} := ${hx(c)}`;
      break;
    case 2:
      args = `frame list ${hx(a)}, ${b} entries, frame ${hx(c)}`;
      break;
    case 3:
      args = `ss ${hx(a)}, esp ${hx(b)}`;
      break;
    case 4:
      args = `event ${hx(a)}:${hx(b)}, failsafe ${hx(c)}`;
      break;
    case 5:
      args = a ? 'set CR0.TS' : 'clear CR0.TS';
      break;
    case 13:
      args = `${a} calls, first ${hypercallNames[b] ?? b}`;
      break;
    case 14:
      args = `va ${hx(a)} := ${hx(b)}${(c & 3) === 2 ? ', INVLPG' : (c & 3) === 1 ? ', TLB flush' : ''}`;
      break;
    case 15:
      args = b || a ? `at ${((b * 4294967296 + a) / 1e6).toFixed(3)} ms` : 'cancel';
      break;
    case 18:
      args = `${a === 0 ? 'write' : a === 1 ? 'read' : `cmd ${a}`} ${b} bytes at ${hx(c)}`;
      break;
    case 23:
      args = `to ${hx(b & 0xffff)}:${hx(a)}, IF=${(c >>> 9) & 1}`;
      break;
    case 26:
      args = `${a} op${a === 1 ? '' : 's'}, first: cmd ${b} (${['pin L1', 'pin L2', 'pin L3', 'pin L4', 'unpin', 'new base pointer', 'TLB flush', 'INVLPG'][b] ?? '?'}) ${hx(c)}`;
      break;
    case 29:
      args =
        ['yield', 'block', `shutdown (${['poweroff', 'reboot', 'suspend', 'crash'][b] ?? b})`][a] ??
        `cmd ${a}`;
      break;
    case 32:
      args =
        a === 1
          ? `bind ${virqNames[b] ?? `VIRQ ${b}`} → port ${c}`
          : a === 9
            ? `unmask port ${b}`
            : `cmd ${a}`;
      break;
    default:
      args = `${hx(a)}, ${hx(b)}, ${hx(c)}`;
  }
  return `${hypercallNames[nr] ?? `hypercall ${nr}`}(${args}) = ${res}`;
}

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
    case TrapKind.Upcall:
      return virqNames[reason] ?? 'events';
    case TrapKind.TcFlush:
      return ['', 'cache full', 'VMM region moved', 'VM reset'][reason] ?? `reason ${reason}`;
    case TrapKind.HostWorldSwitch:
      return hostSwitchReasons[reason] ?? `reason ${reason}`;
    case TrapKind.HostSyscall:
      return hostSyscallNames[reason] ?? `system call ${reason}`;
    case TrapKind.HostInterrupt:
      return reason >= 0x20 && reason < 0x30
        ? `IRQ ${reason - 0x20} (vector 0x${reason.toString(16)})`
        : `vector 0x${reason.toString(16)}`;
    case TrapKind.WorldSwitch:
    case TrapKind.Translation:
    case TrapKind.VmShutdown:
    case TrapKind.TcInvalidate:
    case TrapKind.AdaptiveRetranslation:
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
    'disabling interrupts become plain memory writes to a shared page that need no trap at all. The record ' +
    'shows the call, the arguments the hypervisor decoded and its result (0, a value, or −errno when the ' +
    'hypervisor refused a request it validated: a foreign frame, a writable page table, a ring-0 handler).',
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
  [TrapKind.Callout]:
    'Binary translation: the translated kernel code reached an instruction the translator rewrote into a ' +
    'callout — a sensitive instruction (SGDT, PUSH CS, IRET, a POPF or STI that enables a waiting ' +
    'interrupt, …) or a port access. Run directly it would misbehave silently or trap expensively, so the ' +
    'translation cache holds a jump into the hypervisor instead (here a real INT the hypervisor recognises ' +
    'by its address), which applies the instruction to the virtual CPU and returns into the ' +
    'translated code. The guest never sees the detour: every register and stack slot it can read holds ' +
    'what the bare machine would have put there.',
  [TrapKind.TcInvalidate]:
    'Binary translation keeps translations coherent with the code they came from: guest pages holding ' +
    'translated code are write-protected in the shadow page tables. Here the guest wrote to such a page ' +
    '(self-modifying code, a loader, or data sharing a page with code), so the hypervisor dropped every ' +
    'translation made from that page, unhooked the jumps chained into them and let the write through. The ' +
    'code is translated afresh, from its new bytes, the next time it runs.',
  [TrapKind.TcFlush]:
    'The translation cache is a bounded area of hypervisor memory. When a new translation does not fit — or ' +
    'when the hypervisor had to move its own region out of the way of the guest — every translation is ' +
    'thrown away at once and the cache refills on demand. A flush is quick, but the guest then pays for ' +
    'retranslating its hot code.',
  [TrapKind.AdaptiveRetranslation]:
    'Adaptive binary translation (Adams & Agesen, 2006): an instruction kept taking hidden page faults — ' +
    "typically a store into a page the hypervisor write-protects: the guest's page tables, or here a kernel " +
    'page whose code was translated (the protection keeps the translations coherent). ' +
    'Instead of paying a fault (thousands of cycles) every time, the hypervisor retranslated it into a ' +
    'callout that performs the store and keeps the shadow up to date without faulting.',
  [TrapKind.VmShutdown]:
    'The VM cannot go on. Either it hit a fault it could not handle — a triple fault, when delivering a ' +
    'double fault itself fails, which on a real PC shuts the processor down — or it did something this ' +
    'hypervisor does not virtualize (leaving protected mode for real mode, virtual-8086 mode, a task ' +
    'gate); the stop reason says which. The hypervisor stops only this VM; the others and the ' +
    'hypervisor carry on.',
  [TrapKind.Upcall]:
    'A paravirtual guest has no interrupts: its virtual timer and console raise events instead, as bits in ' +
    'the shared info page the guest and hypervisor both see. When an event is pending and the guest has not ' +
    'masked events (its upcall mask — the virtual interrupt flag, which the guest flips with a plain memory ' +
    'write, no trap), the hypervisor "upcalls": it pushes an interrupt-like frame on the guest kernel stack ' +
    'and enters the event callback the guest registered with set_callbacks. This is how Xen delivers ' +
    'interrupts to a paravirtualized kernel, and why its CLI/STI cost nothing.',
  [TrapKind.HostWorldSwitch]:
    'Type 2 (hosted) hypervisor: a host operating system booted first and owns the machine — its IDT, ' +
    'its drivers, the physical timer and serial ports. The VMM is not always on the CPU: the host ' +
    "process VMApp asks the host's hypervisor driver to run the VM, and the driver performs a world " +
    "switch: it saves the whole host CPU state (registers, segments, CR3, GDT, IDT) and loads the VMM's. " +
    'Whenever the host must act — the guest printed something VMApp has to write(), a host interrupt ' +
    'arrived, the guest went idle or stopped — the VMM switches back. VMware Workstation was built this ' +
    'way (Sugerman et al., 2001): every guest I/O pays two world switches that a Type 1 hypervisor, which ' +
    'owns the devices itself, never needs.',
  [TrapKind.HostSyscall]:
    'A hosted hypervisor has no drivers of its own: to reach the hardware for the guest, its user ' +
    'process VMApp asks the host OS with ordinary system calls — write() sends the bytes the guest put ' +
    "in its virtual UART to the host's serial driver, read() fetches what was typed for the guest, " +
    'vmrun() enters the VMM world through the driver, sleep() waits while the guest is idle. Each is a ' +
    "real int 0x80 into the host kernel, observed as it happened; its cost is the host's, added to every " +
    'guest I/O (Sugerman et al., 2001).',
  [TrapKind.HostInterrupt]:
    "A physical interrupt (the host's timer or its serial port) arrived while the VMM world held the CPU. " +
    "The interrupt belongs to the host — the host programmed the PIC, and only the host's IDT knows its " +
    'handler — so the VMM stops the guest, switches the world back to the host, and the driver re-raises ' +
    'the vector with a software INT so the host handles it as if it had arrived there. This is why a ' +
    'hosted VMM loses time to its host: every host tick costs two world switches.',
};

/**
 * A guest instruction binary translation performed on the VMM's interpreter
 * (../binary-translation/interpreter.ts). d0: what brought it there (13 #GP or 12 #SS: an access
 * beyond a segment limit the VMM cut below its hidden slot; 0xBB: a callout for an instruction
 * naming GS, the VMM's own segment, or a `cs:` data override); d1: the guest exception it raised
 * (0xFFFFFFFF: none); d2: the segment register whose cut limit it crossed (-1 when not known).
 */
function interpretSummary(d0: number, d1: number, d2: number): string {
  const segs = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'];
  const why =
    d0 === 0xbb
      ? 'it names GS (the VMM’s own segment while translated code runs) or reads through CS, so the translator made it a callout'
      : `it reached beyond the limit the VMM cut ${d2 >= 0 && d2 < 6 ? `${segs[d2]}’s ` : 'a segment'} to below its hidden slot (a real ${d0 === 12 ? '#SS' : '#GP'} in the translated code)`;
  const outcome =
    d1 >>> 0 === 0xffffffff
      ? 'it completed there, exactly as on the bare machine'
      : `it raised the guest's own ${vectorNames[d1] ?? `vector ${d1}`}, delivered to the guest`;
  return `${why}; the VMM ran this one guest instruction on its own interpreter with the guest's limits, GS and page tables — ${outcome}`;
}

/** The student-facing sentence for a binary-translation record (details d0–d3 per kind). */
export function btSummary(kind: number, d0: number, d1: number, d2: number, d3: number, reason = 0): string {
  const hx = (v: number) => `0x${(v >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
  if (kind === TrapKind.Callout && reason === TrapOp.INTERPRET) return interpretSummary(d0, d1, d2);
  switch (kind) {
    case TrapKind.Translation:
      return `translated ${d0} guest instruction${d0 === 1 ? '' : 's'} into ${d1} bytes at TC ${hx(d3)}: ${d2} copied unchanged (IDENT), ${d0 - d2} rewritten`;
    case TrapKind.Callout:
      return `the VMM emulated it against the virtual CPU (before ${hx(d0)}, after ${hx(d1)}) and resumed the translated code`;
    case TrapKind.TcInvalidate:
      return `write to ${hx(d2)} (guest-physical page ${hx(d0)}): dropped ${d1} translation${d1 === 1 ? '' : 's'} made from that page`;
    case TrapKind.TcFlush:
      return `emptied the translation cache: ${d0} unit${d0 === 1 ? '' : 's'}, ${d1} bytes in use`;
    case TrapKind.AdaptiveRetranslation:
      return `after ${d0} hidden page faults on ${hx(d1)}, the store was retranslated into a callout`;
    default:
      return '';
  }
}

/** The student-facing sentence for a Type 2 hosting record (hosting/hosted.ts fills d0–d2). */
export function hostSummary(kind: number, reason: number, d0: number, d1: number, d2: number): string {
  const hx = (v: number) => `0x${(v >>> 0).toString(16)}`;
  switch (kind) {
    case TrapKind.HostWorldSwitch:
      if (d0 === 0) {
        return `world switch into the VMM: the host's CPU state saved, the VMM world loaded${d1 ? `; ${d1} typed byte${d1 === 1 ? '' : 's'} handed to the guest` : ''}`;
      }
      return `world switch back to the host (${(hostSwitchReasons[reason] ?? '').replace('to the host: ', '')}): the VMM world saved, the host reloaded${d1 ? `; ${d1} byte${d1 === 1 ? '' : 's'} of guest output for VMApp to write()` : ''}${d2 ? `; the driver re-raises vector ${hx(d2)}` : ''}`;
    case TrapKind.HostSyscall: {
      const name = hostSyscallNames[reason] ?? `system call ${reason}`;
      if (reason === 1 || reason === 2)
        return `VMApp: ${name}(fd ${d0}, ${hx(d1)}, ${d2} bytes) into the host kernel`;
      if (reason === 11) return `VMApp: vmrun(${hx(d0)}): into the host's hypervisor driver`;
      return `VMApp: ${name}(${d0}) into the host kernel`;
    }
    case TrapKind.HostInterrupt:
      return `host IRQ ${d0} (vector ${hx(reason)}) arrived while the VMM world ran: forwarded to the host`;
    default:
      return '';
  }
}
