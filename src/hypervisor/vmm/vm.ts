/**
 * A virtual machine: a slice of host memory, a virtual CPU (what the guest believes it has), its
 * own virtual devices (new instances of the machine's device classes on the VM's own I/O bus and
 * clock) and its own console. Nothing here is shared between VMs.
 */
import type { CpuState } from '../../cpu/index.ts';
import type { ByteSink } from '../../machine/byte-sink.ts';
import { VirtualClock } from '../../machine/clock.ts';
import { IoPortBus } from '../../machine/io-bus.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import { PcPlatform } from '../../machine/platform.ts';
import { AR_CODE, AR_DB, AR_P, AR_RW, AR_S, AR_UNUSABLE, compressAr } from './descriptors.ts';
import { GuestMemory } from './guest-mem.ts';
import { GuestMemoryMap, type VmmFrames } from './memory-map.ts';
import { ShadowPaging, VMM_LIN_GDT } from './shadow.ts';

/** A segment or system-table register as the guest believes it to be. */
export interface VirtualSeg {
  sel: number;
  base: number;
  limit: number;
  ar: number;
}

/** The virtual CPU: privileged state the guest believes it owns (the real CPU has the VMM's). */
export interface VirtualCpu {
  /** Virtual EFLAGS.IF and IOPL (the real ones belong to the VMM). */
  if: boolean;
  iopl: number;
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  dr: number[];
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  ldtr: VirtualSeg;
  tr: VirtualSeg;
  msr: { sysenterCs: number; sysenterEsp: number; sysenterEip: number };
}

/**
 * hung: HLT with the virtual IF = 0 (nothing can wake it); shutdown: triple fault; unsupported: the
 * guest did something the VMM does not virtualize; error: a VMM bug stopped this VM.
 */
export type VmState =
  | 'runnable'
  | 'blocked'
  | 'hung'
  | 'exited'
  | 'shutdown'
  | 'reset'
  | 'unsupported'
  | 'error';

/** Real CR0 while a guest runs: PE, PG, WP (for A/D tracking through read-only shadows), ET, NE. */
export const REAL_CR0 = (0x80000000 | 0x10000 | 0x20 | 0x10 | 0x1) >>> 0;
const FLAT_LIMIT = 0xffffffff;
const CR0_MIRRORED = 0x2 | 0x4 | 0x8; // MP, EM, TS affect the guest's own FPU/ESC behaviour

export class VmmConfigError extends Error {
  override name = 'VmmConfigError';
}

export interface VmOptions {
  index: number;
  memBytes: number;
  hostRam: Uint8Array;
  hostRam32: Int32Array;
  frames: VmmFrames;
  emptyPage: number;
  /** The host's time base: every VM's devices run on physical time. */
  now: () => number;
  boot: BootImage;
  noReboot: boolean;
  onDeadline: (deadline: number) => void;
  onStop: () => void;
  /** Most shadow page tables this VM may hold. */
  maxTables: number;
  /**
   * Host RAM the VMM wrote on the guest's behalf (emulated stores, image placement): the CPU drops
   * pre-decoded code there (Cpu.codeWritten — the self-modifying-code rule holds for VMM writes too).
   */
  onRamWrite?: (hostAddr: number, len: number) => void;
}

export class Vm {
  readonly index: number;
  readonly map: GuestMemoryMap;
  readonly mem: GuestMemory;
  readonly shadow: ShadowPaging;
  readonly io = new IoPortBus();
  readonly clock: VirtualClock;
  readonly devices: PcPlatform;
  readonly v: VirtualCpu;
  /** The real CPU state of this VM while another VM runs (null while it runs). */
  saved: CpuState | null = null;
  state: VmState = 'runnable';
  exitCode: number | undefined;
  reason = '';
  /** The VMM set the real TF to open an interrupt window after STI. */
  vmmTf = false;
  /**
   * The VMM let one guest write into its write-protected GDT page through and set the real TF to
   * regain control after it (deprivileged.ts): the shadow GDT is rebuilt at the #DB.
   */
  gdtStep = false;
  /**
   * The VMM is running one guest instruction with the guest's own segment limits and its own
   * mapping of the VMM's slot, under the real TF (slot-guard.ts); the #DB after it ends the step.
   */
  slotStep = false;
  /** The guest has a GDT of its own (LGDT): its pages are write-protected in the shadow. */
  gdtProtected = false;
  /** The real TF is the VMM's (single-stepping for itself), not the guest's. */
  get vmmOwnsTf(): boolean {
    return this.vmmTf || this.gdtStep || this.slotStep;
  }
  /** Counters for --stats. */
  readonly stats = {
    traps: 0,
    hiddenFaults: 0,
    reflected: 0,
    injected: 0,
    silent: 0,
    switchesIn: 0,
    /** Modelled cycles of this VM's trap-log records (cost-model.ts). */
    cycles: 0,
  };
  /** The last POPF/IRET whose attempt to re-enable interrupts was silently lost (diagnosis only). */
  lostIf: { op: number; eip: number; seq: number } | null = null;
  /** Times the VMM moved its region out of this guest's way. */
  get vmmRelocations(): number {
    return this.shadow.relocations;
  }
  private readonly boot: BootImage;
  private readonly hostRam: Uint8Array;
  private readonly noReboot: boolean;
  private readonly onStop: () => void;

  constructor(o: VmOptions) {
    this.index = o.index;
    this.boot = o.boot;
    this.hostRam = o.hostRam;
    this.noReboot = o.noReboot;
    this.onStop = o.onStop;
    this.map = new GuestMemoryMap(o.index, o.memBytes, o.emptyPage, o.frames.alloc());
    this.v = initialVirtualCpu();
    this.mem = new GuestMemory(o.hostRam, this.map, this.v);
    this.mem.onWrite = o.onRamWrite ?? null;
    this.shadow = new ShadowPaging(o.hostRam, o.hostRam32, o.frames, this.map, o.maxTables);
    this.clock = new VirtualClock(o.now);
    this.clock.onDeadline = o.onDeadline;
    this.devices = new PcPlatform({
      clock: this.clock,
      io: this.io,
      ramBytes: o.memBytes,
      onExit: (status) => {
        this.stop('exited', `guest wrote ${(status >>> 1) & 0xff} to isa-debug-exit (exit status ${status})`);
        this.exitCode = status;
      },
      onReset: (why) => this.guestReset(why),
      getA20: () => true,
      setA20: () => {},
    });
    this.placeImage();
  }

  get console(): ByteSink {
    return this.devices.serialOut[0];
  }

  get terminal(): boolean {
    return this.state !== 'runnable' && this.state !== 'blocked';
  }

  /**
   * The guest halted with its interrupts off and nothing hidden from the VMM: how a kernel without
   * ACPI powers off (Linux's `poweroff -f` ends in `cli; hlt`). Natively the session reports that
   * as a power-off (status 0), so a VM doing it under a VMM is powered off the same way. Only when
   * the guest *believes* its interrupts are on (a silent POPF/IRET lost IF, `lostIf`) is the same
   * HLT the predicted trap-and-emulate failure, `hung`.
   */
  powerOff(how: string): void {
    if (this.terminal) return;
    this.stop('exited', `powered off: ${how}`);
    this.exitCode = 0;
  }

  stop(state: VmState, reason: string): void {
    if (this.terminal) return;
    this.state = state;
    this.reason = reason;
    this.onStop();
  }

  /** Guest reset line (keyboard controller, port 0x92): reboot the VM, or stop with noReboot. */
  private guestReset(why: string): void {
    if (this.noReboot) {
      this.stop('reset', `${why}; not rebooting`);
      return;
    }
    this.devices.reset();
    Object.assign(this.v, initialVirtualCpu());
    this.gdtProtected = false;
    this.gdtStep = false;
    if (this.slotStep) {
      this.slotStep = false;
      this.shadow.reoccupy();
    }
    this.shadow.dropAll();
    this.placeImage();
    this.pendingReboot = true;
    this.onStop();
  }
  /** Set by a guest reset: the VMM reloads the real CPU state from `saved` at the next boundary. */
  pendingReboot = false;

  /** Copy the boot image into the slice and prepare the initial real CPU state. */
  private placeImage(): void {
    const e = this.boot.entry;
    if (e.mode !== 'protected-flat') {
      throw new VmmConfigError(
        'trap-and-emulate runs guests that start in 32-bit protected mode (multiboot or the Linux 32-bit ' +
          'boot protocol); a BIOS or real-mode entry would need virtual-8086 emulation, which is not built',
      );
    }
    for (const c of this.boot.chunks) {
      if (c.rom) throw new VmmConfigError('trap-and-emulate cannot map a ROM image into a VM');
      for (let off = 0; off < c.bytes.length; off += 4096) {
        const gpa = c.addr + off;
        const n = Math.min(4096, c.bytes.length - off);
        if (!this.map.isRam(gpa) || !this.map.isRam(gpa + n - 1)) {
          throw new VmmConfigError(
            `the guest image does not fit the VM's ${this.map.memBytes >>> 20} MiB of RAM (chunk at 0x${c.addr.toString(16)})`,
          );
        }
        this.hostRam.set(c.bytes.subarray(off, off + n), this.map.sliceBase + gpa);
        this.mem.onWrite?.(this.map.sliceBase + gpa, n);
      }
    }
    const r = e.regs;
    const code = compressAr(AR_P | AR_S | AR_CODE | AR_RW | AR_DB | 0x8000);
    const data = compressAr(AR_P | AR_S | AR_RW | AR_DB | 0x8000);
    const seg = (sel: number, ar: number) => ({ sel, base: 0, limit: FLAT_LIMIT, ar });
    this.saved = {
      regs: [
        r.eax ?? 0,
        r.ecx ?? 0,
        r.edx ?? 0,
        r.ebx ?? 0,
        r.esp ?? 0,
        r.ebp ?? 0,
        r.esi ?? 0,
        r.edi ?? 0,
      ].map((x) => x >>> 0),
      eip: e.eip >>> 0,
      // Real IF = 1 (the VMM's); the guest starts with its virtual IF = 0, as the loader leaves it.
      eflags: 0x202,
      // The loader's flat selectors (code 0x10, data 0x18), kernel code and stack at RPL 1.
      segs: [
        seg(0x18, data),
        seg(0x11, code),
        seg(0x19, data),
        seg(0x18, data),
        seg(0x18, data),
        seg(0x18, data),
        { sel: 0, base: 0, limit: 0, ar: AR_UNUSABLE },
        { sel: 0, base: 0, limit: 0, ar: AR_UNUSABLE },
      ],
      cpl: 1,
      cr0: REAL_CR0,
      cr2: 0,
      cr3: this.shadow.pd,
      cr4: 0,
      dr: [0, 0, 0, 0, 0, 0, 0xffff0ff0, 0x400],
      gdtr: { base: VMM_LIN_GDT, limit: 0 },
      idtr: { base: 0, limit: 0 },
      msr: { sysenterCs: 0, sysenterEsp: 0, sysenterEip: 0, tscOffset: 0 },
      halted: false,
      a20: true,
      instructions: 0,
      shadow: false,
    };
    this.state = 'runnable';
  }

  /** Real CR0 for the current virtual CR0 (the guest's MP/EM/TS are mirrored). */
  realCr0(): number {
    return (REAL_CR0 | (this.v.cr0 & CR0_MIRRORED)) >>> 0;
  }
}

export function initialVirtualCpu(): VirtualCpu {
  return {
    if: false,
    iopl: 0,
    cr0: 0x60000011, // CD, NW (reset values), ET, PE: as the loader leaves the native CPU
    cr2: 0,
    cr3: 0,
    cr4: 0,
    dr: [0, 0, 0, 0, 0, 0, 0xffff0ff0, 0x400],
    gdtr: { base: 0, limit: 0xffff },
    idtr: { base: 0, limit: 0xffff },
    ldtr: { sel: 0, base: 0, limit: 0xffff, ar: 0x82 },
    tr: { sel: 0, base: 0, limit: 0xffff, ar: 0x8b },
    msr: { sysenterCs: 0, sysenterEsp: 0, sysenterEip: 0 },
  };
}
