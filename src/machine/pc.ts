/**
 * The physical PC: memory, port I/O, the legacy devices and one CPU, driven by a deterministic run
 * loop. See README.md in this folder for the public API.
 *
 * Run loop (`runSlice`): virtual time advances only with retired instructions and HLT skips
 * (clock.ts). Timers fire only at *guest-determined* boundaries: a deadline the loop knew when it
 * started the run, the next multiple of `chunkTicks` in absolute virtual time, or a point where the
 * CPU stopped by itself (HLT, triple fault, monitor). A deadline a device arms during a run (the
 * guest programs the PIT) becomes known at the next such boundary. Host slice ends are invisible:
 * nothing fires there and no new deadline is learned, so the same guest produces the same
 * instruction-by-instruction history whatever slice sizes the host uses. (If the CPU offers
 * `requestStop()`, a newly armed earlier deadline stops the run at once — also guest-determined.)
 */
import type { InterruptLine, IoBus, MemoryBus } from '../cpu/bus.ts';
import { Cpu, StopReason } from '../cpu/index.ts';
import type { ByteSink } from './byte-sink.ts';
import { NS_PER_TICK, VirtualClock } from './clock.ts';
import type { CmosRtc } from './devices/cmos-rtc.ts';
import type { DebugExit } from './devices/debug-exit.ts';
import type { DebugConsole } from './devices/debugcon.ts';
import type { DualPic } from './devices/dual-pic.ts';
import type { I8042 } from './devices/i8042.ts';
import { IOAPIC_BASE, IoApic } from './devices/ioapic.ts';
import { APIC_BASE, LocalApic } from './devices/lapic.ts';
import type { Pit8254 } from './devices/pit8254.ts';
import type { SystemControlPortB } from './devices/port61.ts';
import type { Port92 } from './devices/port92.ts';
import type { PostCodePort } from './devices/post-codes.ts';
import type { Uart16550 } from './devices/uart16550.ts';
import { IoPortBus } from './io-bus.ts';
import type { BootImage, EntryRegs } from './loaders/types.ts';
import { PhysicalMemory } from './memory.ts';
import { PcPlatform } from './platform.ts';

/** What the machine needs from a CPU (the contract in notes/cpu-contract.md). */
export interface MachineCpu {
  reset(): void;
  run(budget: number): number;
  instructions: number;
  /**
   * Optional: exceptions and interrupts delivered so far. Each takes one tick of virtual time, so a
   * guest that only takes events (a handler that faults on its first instruction) still advances
   * time, budgets and timers — it can never stall the machine.
   */
  eventSteps?: number;
  halted: boolean;
  setA20(enabled: boolean): void;
  shutdownReason: string;
  interruptCheck(): void;
  enterProtectedFlat(eip: number, regs?: EntryRegs): void;
  enterReal(cs: number, ip: number, regs?: EntryRegs): void;
  /** Architectural EFLAGS (optional: used to tell an idle HLT from a dead one). */
  getEflags?(): number;
  /** TSC = instructions + tscOffset (optional): HLT skips are added so RDTSC tracks virtual time. */
  tscOffset?: number;
  /** Optional: end the current run() at the next instruction boundary. */
  requestStop?(): void;
  /** Optional: RAM at physical `addr` was written behind the CPU's back (drop cached code there). */
  codeWritten?(addr: number, len: number): void;
  /** Optional: give the CPU's large buffers to the next CPU created; it is not used afterwards. */
  dispose?(): void;
}

export type CpuFactory = (mem: MemoryBus, io: IoBus, intr: InterruptLine) => MachineCpu;

export interface PcOptions {
  /** RAM in MiB (default 64). */
  memMiB?: number;
  /** Add COM2 at 0x2F8 / IRQ 3. */
  com2?: boolean;
  /** A guest reset (keyboard controller, port 0x92) ends the run with state 'reset' instead. */
  noReboot?: boolean;
  /** RTC date at virtual time 0 (ms since the epoch, UTC). Default 2026-01-01T00:00:00Z. */
  rtcStart?: number;
  /** Alignment of CPU run boundaries in ticks (default 16384 ≈ 164 µs virtual). */
  chunkTicks?: number;
  /**
   * Every RAM write is marked in `memory.written` — the CPU's own, the memory bus's, `loadRam`'s,
   * and a host-side writer's reported through `cpu.codeWritten` (a VMM also marks its frames) —
   * so `dispose()` may zero what was written and recycle the RAM buffer too.
   */
  recycleRam?: boolean;
  /** For tests and the hypervisor: build a different CPU. Default: `new Cpu(mem, io, pic)`. */
  cpuFactory?: CpuFactory;
  /**
   * An x87 FPU (default false: the i486SX-class PC, on which Linux runs its math emulator via
   * #NM). With it CPUID reports FPU, FERR# raises IRQ 13 and a write to port F0h lowers it (the
   * PC/AT's DOS-compatible x87 error wiring, used when CR0.NE = 0).
   */
  fpu?: boolean;
  /**
   * A local APIC (xAPIC at FEE00000h, timer in virtual time) between the 8259s and the CPU, and an
   * I/O APIC at FEC00000h that sees the ISA IRQs too.
   */
  apic?: boolean;
}

/** running: can run; exited: debug-exit; shutdown: triple fault; reset: guest reset with
 *  noReboot; hung: HLT with interrupts disabled, nothing can wake it. */
export type MachineState = 'running' | 'exited' | 'shutdown' | 'reset' | 'hung';

export interface RunResult {
  state: MachineState;
  /**
   * Why runSlice returned: 'budget' (slice used up), 'idle' (halted with interrupts enabled and no
   * timer armed: waiting for host input; virtual time does not advance), 'monitor' / 'breakpoint'
   * (the CPU's monitor hook stopped it), 'stopped' (the machine left the running state).
   */
  stop: 'budget' | 'idle' | 'monitor' | 'breakpoint' | 'stopped';
  /** Instructions retired during this slice. */
  instructions: number;
  /** Virtual ticks elapsed during this slice (instructions + HLT skips). */
  ticks: number;
  exitCode?: number;
  reason?: string;
}

const IF_FLAG = 0x200;

/**
 * Most RAM the PC can have, in MiB: physical addresses of RAM must stay below 2 GiB. The CPU's TLB
 * keeps `phys ^ linear` in Int32 entries and indexes RAM with it, so RAM at 2 GiB and above would
 * be addressed with negative indices (its stores lost, its code unfetchable). Refused up front
 * with a clear message instead (issue 16).
 */
export const MAX_RAM_MIB = 2048;

export class Pc {
  readonly memory: PhysicalMemory;
  readonly io: IoPortBus;
  readonly clock: VirtualClock;
  readonly cpu: MachineCpu;
  /** All legacy devices (also exposed one by one below). */
  readonly platform: PcPlatform;
  readonly pic: DualPic;
  readonly pit: Pit8254;
  readonly port61: SystemControlPortB;
  /** COM1 (index 0) and, if enabled, COM2. */
  readonly uarts: Uart16550[];
  /** Transmitted bytes per UART, until taken. */
  readonly serialOut: ByteSink[];
  readonly cmos: CmosRtc;
  readonly kbc: I8042;
  readonly port92: Port92;
  readonly post: PostCodePort;
  readonly debugcon: DebugConsole;
  readonly debugconOut: ByteSink;
  readonly debugExit: DebugExit;
  /** The local APIC (machine option) or null; `intr` is what the CPU takes interrupts from. */
  readonly apic: LocalApic | null;
  /** The I/O APIC (with the `apic` option): ISA IRQs reach it beside the 8259s. */
  ioapic: IoApic | null = null;
  private readonly intr: InterruptLine;

  state: MachineState = 'running';
  exitCode: number | undefined;
  /** One line saying why the machine stopped (or what the last reset was). */
  reason = '';
  /** Guest-initiated resets performed (not counting noReboot stops). */
  resets = 0;
  noReboot: boolean;

  private a20 = true;
  private readonly chunk: number;
  private boot: BootImage | null = null;
  private pendingExit: number | null = null;
  private pendingReset: string | null = null;
  /** The last runSlice ended on a host-chosen boundary (see the file comment). */
  private endedAtSliceEdge = false;
  private inRun = false;
  private disposed = false;
  private readonly recycleRam: boolean;
  /** Earliest deadline as of the last guest-determined boundary (see the file comment). */
  private knownDeadline = Number.POSITIVE_INFINITY;

  constructor(options: PcOptions = {}) {
    const memMiB = options.memMiB ?? 64;
    if (!Number.isInteger(memMiB) || memMiB < 1 || memMiB > MAX_RAM_MIB) {
      throw new Error(`pc: memory size ${memMiB} MiB is invalid (1 … ${MAX_RAM_MIB})`);
    }
    this.chunk = options.chunkTicks ?? 16384;
    if (!Number.isInteger(this.chunk) || this.chunk < 1)
      throw new Error('pc: chunkTicks must be a positive integer');
    this.noReboot = options.noReboot ?? false;
    this.recycleRam = options.recycleRam === true;
    this.memory = new PhysicalMemory({ ramBytes: memMiB * 1024 * 1024 });
    this.io = new IoPortBus();
    // The clock reads the CPU's instructions and event deliveries; the CPU is created below.
    this.clock = new VirtualClock(() => (this.cpu ? this.cpu.instructions + (this.cpu.eventSteps ?? 0) : 0));
    // A deadline armed during a run that falls before the earliest deadline known at the last
    // guest-determined boundary: stop the CPU at once so the event is not late. Comparing with
    // that deadline (not with the host's run limit) keeps the stop point independent of slicing.
    this.clock.onDeadline = (d) => {
      if (this.inRun && d < this.knownDeadline) this.cpu.requestStop?.();
    };
    this.platform = new PcPlatform({
      clock: this.clock,
      io: this.io,
      ramBytes: this.memory.ramBytes,
      com2: options.com2,
      rtcStart: options.rtcStart,
      onExit: (status) => this.requestExit(status),
      onReset: (why) => this.requestReset(why),
      getA20: () => this.a20,
      setA20: (on) => this.setA20(on),
    });
    const p = this.platform;
    this.pic = p.pic;
    this.pit = p.pit;
    this.port61 = p.port61;
    this.uarts = p.uarts;
    this.serialOut = p.serialOut;
    this.cmos = p.cmos;
    this.kbc = p.kbc as I8042;
    this.port92 = p.port92 as Port92;
    this.post = p.post;
    this.debugcon = p.debugcon;
    this.debugconOut = p.debugconOut;
    this.debugExit = p.debugExit;

    const factory: CpuFactory =
      options.cpuFactory ?? ((m, i, l) => new Cpu(m, i, l) as unknown as MachineCpu);
    this.apic = options.apic ? new LocalApic(this.clock, this.pic) : null;
    this.intr = this.apic ?? this.pic;
    this.cpu = factory(this.memory, this.io, this.intr);
    if (this.apic) {
      this.memory.mapMmio(APIC_BASE, 0x1000, this.apic, 'local APIC');
      (this.cpu as MachineCpu & { apic?: LocalApic | null }).apic = this.apic;
      this.apic.onAccept = () => this.cpu.interruptCheck();
      this.ioapic = new IoApic(this.apic);
      this.memory.mapMmio(IOAPIC_BASE, 0x1000, this.ioapic, 'I/O APIC');
      const io = this.ioapic;
      this.pic.tap = (irq, level) => io.setIrq(irq, level);
    }
    this.cpu.setA20(true);
    if (options.fpu) this.attachFpu();
  }

  /** The x87 machine option: the CPU's FPU, FERR# → IRQ 13, port F0h clears it. */
  private attachFpu(): void {
    const cpu = this.cpu as MachineCpu & {
      setFpu?(on: boolean): void;
      fpu?: { onFerr: (() => void) | null } | null;
    };
    if (!cpu.setFpu) throw new Error('pc: this CPU has no x87 option');
    cpu.setFpu(true);
    if (cpu.fpu) cpu.fpu.onFerr = () => this.pic.setIrq(13, true);
    this.io.register(0xf0, 1, { write8: () => this.pic.setIrq(13, false) }, 'x87 error latch');
  }

  // ---- host API -------------------------------------------------------------------------

  /** Retired instructions since power-on. */
  get instructions(): number {
    return this.cpu.instructions;
  }

  /** Virtual time in ticks (1 tick = 10 ns; see clock.ts). */
  get virtualTicks(): number {
    return this.clock.now();
  }

  get virtualTimeNs(): number {
    return this.clock.now() * NS_PER_TICK;
  }

  get a20Enabled(): boolean {
    return this.a20;
  }

  /** The A20 gate (port 0x92 bit 1, keyboard controller output port bit 1). */
  setA20(enabled: boolean): void {
    if (enabled === this.a20) return;
    this.a20 = enabled;
    this.cpu.setA20(enabled);
  }

  /** Copy bytes into RAM (for loaders and tests). Throws a clear Error if they do not fit. */
  loadRam(addr: number, bytes: Uint8Array): void {
    if (!this.memory.isRamRange(addr, bytes.length)) {
      throw new Error(
        `pc: ${bytes.length} bytes at 0x${addr.toString(16)} do not lie in RAM ` +
          `(RAM is 0–0x9FFFF and 0x100000–0x${(this.memory.ramBytes - 1).toString(16)})`,
      );
    }
    this.memory.loadRam(addr, bytes);
    this.cpu.codeWritten?.(addr, bytes.length);
  }

  /** Map a read-only image at `addr` (4 KiB aligned). */
  loadRom(addr: number, bytes: Uint8Array, name = 'rom'): void {
    this.memory.mapRom(addr, bytes, name);
  }

  /**
   * Place a loader's BootImage and start the CPU as it says. A later guest reset re-places the RAM
   * chunks and re-enters, as QEMU's -kernel does through its firmware. Throws on chunks that do not
   * fit the machine.
   */
  load(boot: BootImage): void {
    if (boot.chunks.some((c) => c.rom)) this.memory.unmapRoms();
    for (const c of boot.chunks) {
      if (c.rom) this.loadRom(c.addr, c.bytes, 'bios');
    }
    this.boot = boot;
    this.enter(boot);
  }

  private enter(boot: BootImage): void {
    for (const c of boot.chunks) if (!c.rom) this.loadRam(c.addr, c.bytes);
    const e = boot.entry;
    if (e.mode === 'protected-flat') this.cpu.enterProtectedFlat(e.eip, e.regs);
    else if (e.mode === 'real') this.cpu.enterReal(e.cs, e.ip, e.regs);
    else this.cpu.reset();
  }

  /** Queue host input for UART `index` (0 = COM1). */
  sendSerial(index: number, bytes: Uint8Array | string): void {
    const u = this.uarts[index];
    if (!u) throw new Error(`pc: no serial port ${index}`);
    u.enqueueInput(bytes);
  }

  /**
   * Full reset (power cycle minus RAM contents and the RTC): devices, A20 on, CPU reset, and the
   * loaded boot image re-applied. Makes a stopped machine runnable again.
   */
  reset(): void {
    this.platform.reset();
    this.apic?.reset();
    this.ioapic?.reset();
    this.cpu.reset();
    this.a20 = false;
    this.setA20(true);
    if (this.boot) this.enter(this.boot);
    this.state = 'running';
    this.exitCode = undefined;
    this.pendingExit = null;
    this.pendingReset = null;
    this.endedAtSliceEdge = false;
  }

  private requestExit(status: number): void {
    if (this.pendingExit === null) this.pendingExit = status;
    this.cpu.requestStop?.();
  }

  private requestReset(why: string): void {
    if (this.pendingReset === null) this.pendingReset = why;
    this.cpu.requestStop?.();
  }

  /** Apply exit/reset requests raised by devices during the last CPU run. */
  private applyRequests(): void {
    if (this.pendingExit !== null) {
      this.state = 'exited';
      this.exitCode = this.pendingExit;
      this.reason = `guest wrote ${(this.pendingExit >>> 1) & 0xff} to isa-debug-exit (exit status ${this.pendingExit})`;
      this.pendingExit = null;
      this.pendingReset = null;
      return;
    }
    if (this.pendingReset !== null) {
      const why = this.pendingReset;
      this.pendingReset = null;
      if (this.noReboot) {
        this.state = 'reset';
        this.reason = `${why}; not rebooting`;
      } else {
        this.resets++;
        this.reset();
        this.reason = `reset: ${why}`;
      }
    }
  }

  /** Fire due timers at a guest-determined boundary and note the next deadline the loop knows. */
  private fireTimers(now: number): void {
    this.clock.runDue(now);
    this.knownDeadline = this.clock.nextDeadline();
  }

  private interruptsEnabled(): boolean {
    const c = this.cpu;
    if (typeof c.getEflags === 'function') return (c.getEflags() & IF_FLAG) !== 0;
    return true;
  }

  /**
   * Done with this machine: its CPU hands its TLB and block-cache buffers to the next machine
   * created (cpu/fresh-buffer.ts), which then starts on resident memory and allocates less (fewer
   * GCs). Running it afterwards throws; disposing twice does nothing.
   */
  dispose(): void {
    if (this.disposed || this.inRun) return;
    this.disposed = true;
    this.cpu.dispose?.();
    if (this.recycleRam) this.memory.release();
  }

  /**
   * Run until `budget` ticks of virtual time have passed (instructions retired plus HLT skips) or
   * the machine stops. Never throws for anything the guest does.
   */
  runSlice(budget: number): RunResult {
    if (!Number.isFinite(budget) || budget < 1 || !Number.isInteger(budget)) {
      throw new Error(`pc: runSlice budget must be a positive integer (got ${budget})`);
    }
    if (this.disposed) throw new Error('pc: this machine was disposed');
    const cpu = this.cpu;
    const clock = this.clock;
    const startInstr = cpu.instructions;
    const startTick = clock.now();
    const sliceEnd = startTick + budget;
    let stop: RunResult['stop'] = 'budget';

    // After a host-chosen slice edge nothing fires here: that boundary must be invisible.
    if (this.state === 'running' && !this.endedAtSliceEdge) this.fireTimers(startTick);

    while (this.state === 'running') {
      const now = clock.now();
      if (now >= sliceEnd) break;
      if (this.intr.hasInterrupt()) cpu.interruptCheck();
      const aligned = (Math.floor(now / this.chunk) + 1) * this.chunk;
      let limit = Math.min(sliceEnd, aligned);
      if (this.knownDeadline > now && this.knownDeadline < limit) limit = this.knownDeadline;
      this.inRun = true;
      let r: number;
      try {
        r = cpu.run(limit - now);
      } finally {
        this.inRun = false;
      }
      this.applyRequests();
      if (this.state !== 'running') break;
      const after = clock.now();
      if (r === StopReason.Budget) {
        if (after < limit || after % this.chunk === 0 || after === this.knownDeadline) {
          this.fireTimers(after);
          this.endedAtSliceEdge = false;
        } else {
          this.endedAtSliceEdge = true;
        }
        continue;
      }
      this.endedAtSliceEdge = false;
      if (r === StopReason.Shutdown) {
        this.state = 'shutdown';
        this.reason = `triple fault: ${cpu.shutdownReason || 'shutdown'}`;
        break;
      }
      this.fireTimers(after);
      if (r === StopReason.Monitor || r === StopReason.Breakpoint) {
        stop = r === StopReason.Monitor ? 'monitor' : 'breakpoint';
        break;
      }
      // Halt: a guest-determined point.
      if (!cpu.halted) continue;
      const enabled = this.interruptsEnabled();
      if (this.intr.hasInterrupt() && enabled) continue;
      if (!enabled) {
        this.state = 'hung';
        this.reason = 'HLT with interrupts disabled: nothing can wake the CPU';
        break;
      }
      const next = this.knownDeadline;
      if (next === Number.POSITIVE_INFINITY) {
        stop = 'idle';
        break;
      }
      // HLT: skip virtual time to the next device deadline (or the slice end).
      const before = clock.now();
      clock.skipTo(Math.min(Math.max(next, before + 1), sliceEnd)); // always progress
      const t = clock.now();
      if (typeof cpu.tscOffset === 'number') cpu.tscOffset += t - before;
      if (t >= next) this.fireTimers(t);
      else this.endedAtSliceEdge = true;
    }

    if (this.state !== 'running') stop = 'stopped';
    const result: RunResult = {
      state: this.state,
      stop,
      instructions: cpu.instructions - startInstr,
      ticks: clock.now() - startTick,
    };
    if (this.exitCode !== undefined) result.exitCode = this.exitCode;
    if (this.state !== 'running') result.reason = this.reason;
    return result;
  }
}
