/**
 * The VMM: one physical PC (host memory, the physical PIC and PIT, one CPU) carrying N VMs.
 * It owns the CPU's monitor hook (every exception, INT n and interrupt reaches it instead of an
 * IDT) and its silent-event observer, time-slices the CPU between VMs on the physical PIT with a
 * logged world switch, and keeps the trap log. A technique (trap-and-emulate here; binary
 * translation, paravirtualization and hardware assist later) supplies the event handling through
 * the `TechniqueHandler` interface; everything else — memory slices, devices, scheduling, time,
 * the log — is shared.
 *
 * Determinism: virtual time is the physical CPU's instruction count plus HLT skips (clock.ts).
 * Timers fire, VMs are scheduled and virtual interrupts injected only at guest-determined
 * boundaries (a device deadline, an aligned chunk of virtual time, a trap the VMM handles) —
 * never where a host's run() budget happens to end — so the same guest gives the same trap log.
 */

import type { SilentKind } from '../../cpu/index.ts';
import {
  type Cpu,
  type CpuState,
  disassemble,
  instructionLength,
  MonitorAction,
  predecode,
  StopReason,
  type TrapEvent,
} from '../../cpu/index.ts';
import { NS_PER_TICK } from '../../machine/clock.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import { MAX_RAM_MIB, Pc } from '../../machine/pc.ts';
import { CPU_MODEL_PRESETS, type CpuModelId, type VmmCosts, vmmCosts } from './cost-model.ts';
import { type GuestMemoryMap, PAGE, SLICES_BASE, VMM_FRAMES, VmmFrames } from './memory-map.ts';
import { TrapAction, TrapFlag, TrapKind, TrapLog } from './trap-log.ts';
import { Vm, VmmConfigError } from './vm.ts';

/** Vector base the VMM programs into the physical master PIC. */
export const HOST_VECTOR_BASE = 0x50;
/** Physical PIT divisor: 1193 → ≈1 kHz scheduler tick (1.19318 MHz input clock). */
const HOST_PIT_DIVISOR = 1193;
/** Scheduler quantum in physical timer ticks. */
const QUANTUM_TICKS = 2;
/** Alignment of CPU run boundaries (ticks), as the native machine does. */
const CHUNK = 16384;

/** What a technique does with the events the VMM receives. */
export interface TechniqueHandler {
  /** An exception or INT n raised by the running guest (external interrupts are the VMM's). */
  onGuestEvent(vm: Vm, ev: TrapEvent): void;
  /** A silent event the CPU observed (the VMM itself could not have); see src/cpu SilentKind. */
  onSilent(vm: Vm, kind: SilentKind, eip: number, cpl: number, value: number, extra: number): void;
  /** Deliver pending virtual interrupts if the VM's virtual CPU accepts them (at a boundary). */
  injectPending(vm: Vm): void;
  /**
   * Optional: true when this event should go through the real IDT, which the technique set up for
   * it (a paravirtual guest's direct INT 0x80 trap) — the VMM never sees it, no record, no trap.
   */
  passThrough?(vm: Vm, ev: TrapEvent): boolean;
  /** Optional: right before the CPU runs `vm` (hardware assist enters it with VMRESUME here). */
  beforeRun?(vm: Vm): void;
  /** Optional: the CPU stopped while running `vm` (hardware assist handles its VM exit here). */
  afterRun?(vm: Vm, stop: StopReason): void;
  /** Optional: replaces the getState/setState world switch (hardware assist switches the VMCS). */
  switchWorld?(from: Vm | null, to: Vm): void;
  /**
   * Optional: load a rebooted VM's boot state (`vm.saved`, from its reset) itself, in place of
   * setState on the real CPU (hardware assist writes a fresh VMCS guest area and re-launches).
   */
  reboot?(vm: Vm): void;
}

export interface VmmOptions {
  vms: number;
  memMiB: number;
  noReboot: boolean;
  boot: BootImage;
  /** VMM frames a technique allocates per VM for itself (e.g. a translation cache). */
  reservedFramesPerVm?: number;
  /**
   * Type 2 hosting (hosting/README.md): a host OS owns the physical PIC, PIT, COM1 and COM2 and
   * the RAM below HOSTED_HOST_RAM; the VMM runs only when the host's driver enters its world, and
   * hands the CPU back (`hostExit`) for every host interrupt, guest console output, idle or stop.
   */
  hosted?: boolean;
  /** CPU-generation preset (cost-model.ts): its cost tables, and the guest's TSC in modelled cycles. */
  cpuModel?: CpuModelId;
}

/** Type 2: physical RAM the host OS owns (0 … 8 MiB); the VMM's frames lie from here to 16 MiB. */
export const HOSTED_HOST_RAM = 0x800000;

/** Why the VMM world hands the CPU back to the host (Type 2; the cross page's reason codes). */
export const HostExit = { Output: 1, Interrupt: 2, Idle: 3, Stopped: 4 } as const;
export type HostExit = (typeof HostExit)[keyof typeof HostExit];

export type VmmResult = {
  /** As the session's RunnerResult; `unsupported`: a VM did what the VMM cannot virtualize. */
  state: 'budget' | 'idle' | 'exited' | 'shutdown' | 'reset' | 'hung' | 'unsupported' | 'error' | 'host';
  exitCode?: number;
  reason?: string;
};

export class Vmm {
  readonly pc: Pc;
  readonly cpu: Cpu;
  readonly vms: Vm[] = [];
  readonly log = new TrapLog({ initialCapacity: 4096 });
  readonly frames: VmmFrames;
  /** Host page of 0xFF bytes: what a VM reads where it has no RAM. */
  readonly emptyPage: number;
  handler: TechniqueHandler | null = null;
  /** Index of the VM whose state is in the CPU, or -1. */
  current = -1;
  worldSwitches = 0;
  /** Cycles charged by the cost model, all records together. */
  modelledCycles = 0;
  /** Type 2: the host OS owns the physical devices (VmmOptions.hosted). */
  readonly hosted: boolean;
  /** Type 2: set when the VMM world must hand the CPU back to the host; `run` then returns 'host'. */
  hostExit: { reason: HostExit; vector: number } | null = null;
  /** The CPU-generation preset, if one was chosen (cost-model.ts); techniques pick their tables by it. */
  readonly cpuModel: CpuModelId | undefined;
  /** The software VMM's cost table for that preset (the P4's when none was chosen). */
  readonly cost: VmmCosts;

  /**
   * Guest CS (virtual RPL) and CPL at the moment the event being handled was raised; records use
   * them so an emulated far transfer (IRET) is logged where it started. -1 outside an event.
   */
  eventCs = -1;
  eventCpl = 0;
  /** The current run() returns once a record is appended (stepping to the next trap). */
  stopOnTrap = false;
  private boundaryDue = true;
  private knownDeadline = Number.POSITIVE_INFINITY;
  /** The earliest device deadline (virtual or physical) the last boundary knew of, in ticks. */
  get nextDeadline(): number {
    return this.knownDeadline;
  }
  private inRun = false;
  private ticksInSlice = 0;
  private switchWanted = false;
  private readonly memBytes: number;

  constructor(o: VmmOptions) {
    this.memBytes = o.memMiB * 1024 * 1024;
    const hostMiB = SLICES_BASE / 1048576 + o.vms * o.memMiB;
    if (hostMiB > MAX_RAM_MIB) {
      throw new VmmConfigError(
        `${o.vms} VMs of ${o.memMiB} MiB need ${hostMiB} MiB of host memory (16 MiB for the VMM + ${o.vms} × ${o.memMiB}); the emulated PC has at most ${MAX_RAM_MIB} MiB: use fewer VMs or a smaller --mem`,
      );
    }
    this.hosted = o.hosted === true;
    // Host RAM is recycled on dispose (Pc.dispose): every write to it is marked — the CPU's, the
    // VMM's frames (VmmFrames) and its writes into guest slices (all reported to cpu.codeWritten).
    // Type 2's hosted runner writes the host OS's memory directly, so it keeps fresh RAM.
    this.pc = new Pc({
      memMiB: hostMiB,
      noReboot: true,
      chunkTicks: CHUNK,
      com2: this.hosted,
      recycleRam: !this.hosted,
    });
    this.cpu = this.pc.cpu as unknown as Cpu;
    this.cpuModel = o.cpuModel;
    this.cost = vmmCosts(o.cpuModel);
    // With a preset the CPU charges its own hardware events and RDTSC reads modelled cycles.
    if (o.cpuModel !== undefined) this.cpu.timing = CPU_MODEL_PRESETS[o.cpuModel].hw;
    const ram = this.pc.memory.ram;
    const ram32 = new Int32Array(ram.buffer, ram.byteOffset, ram.byteLength >>> 2);
    this.frames = new VmmFrames(ram, this.hosted ? HOSTED_HOST_RAM : undefined, this.pc.memory.written);
    const vmmFrames = this.hosted ? (SLICES_BASE - HOSTED_HOST_RAM) / PAGE : VMM_FRAMES;
    this.emptyPage = this.frames.alloc();
    ram.fill(0xff, this.emptyPage, this.emptyPage + PAGE);
    // Share the VMM's frames out: each VM keeps 36 fixed frames (+ the technique's), the rest bounds its shadow tables.
    const reserved = o.reservedFramesPerVm ?? 0;
    const maxTables = Math.min(1023, Math.floor((vmmFrames - 1) / o.vms) - 36 - reserved);
    if (maxTables < 16) {
      throw new VmmConfigError(
        `${o.vms} VMs do not fit the VMM's ${(vmmFrames * PAGE) >>> 20} MiB of its own frames with this technique (fewer VMs, please)`,
      );
    }
    for (let i = 0; i < o.vms; i++) {
      this.vms.push(
        new Vm({
          index: i,
          memBytes: this.memBytes,
          hostRam: ram,
          hostRam32: ram32,
          frames: this.frames,
          emptyPage: this.emptyPage,
          now: () => this.pc.clock.now(),
          boot: o.boot,
          noReboot: o.noReboot,
          onDeadline: (d) => {
            if (this.inRun && d < this.knownDeadline) this.requestStop();
          },
          onStop: () => this.requestStop(),
          onRamWrite: (a, n) => this.cpu.codeWritten(a, n),
          maxTables,
        }),
      );
    }
    if (this.hosted) {
      // Type 2: guest console output leaves the VMM world at once, for VMApp to write() it.
      for (const v of this.vms) v.console.listener = () => this.requestStop();
    } else this.programHostTimer();
    // The Vmm is the monitor itself: a closure made per Vmm would be a new call target for the
    // CPU's optimized delivery code in every new session (a deoptimization and a recompile each).
    this.cpu.monitor = this;
    this.cpu.observer = (kind, eip, cpl, value, extra) => {
      const vm = this.currentVm;
      if (!vm || !this.handler) return;
      try {
        this.handler.onSilent(vm, kind, eip, cpl, value, extra);
      } catch (e) {
        // Called in the middle of a guest instruction: never let a VMM bug unwind the CPU.
        this.vmStop(
          vm,
          'error',
          `VMM internal error while observing a silent event: ${(e as Error).message}`,
        );
        this.requestStop();
      }
    };
    this.log.disassembler = (bytes, eip, code32) => {
      try {
        return disassemble(bytes, 0, code32 ? 32 : 16, eip).text;
      } catch {
        return '';
      }
    };
    this.switchTo(0, false);
  }

  get currentVm(): Vm | null {
    return this.current >= 0 ? this.vms[this.current] : null;
  }

  /** Virtual time in ns. */
  get timeNs(): number {
    return this.pc.clock.now() * NS_PER_TICK;
  }

  /** Guest-physical → host-physical maps of every VM (for the UI). */
  memoryMaps(): GuestMemoryMap[] {
    return this.vms.map((v) => v.map);
  }

  /** End the CPU's current run() at the next instruction boundary. */
  requestStop(): void {
    this.cpu.monitorStop = true;
    this.cpu.attention = true;
  }

  /** The VMM programs the physical 8259A pair and the 8254 (it runs at ring 0 on the host). */
  private programHostTimer(): void {
    const io = this.pc.io;
    io.out8(0x20, 0x11);
    io.out8(0x21, HOST_VECTOR_BASE);
    io.out8(0x21, 0x04);
    io.out8(0x21, 0x01);
    io.out8(0xa0, 0x11);
    io.out8(0xa1, HOST_VECTOR_BASE + 8);
    io.out8(0xa1, 0x02);
    io.out8(0xa1, 0x01);
    io.out8(0x21, 0xfe); // only IRQ0, the scheduler tick
    io.out8(0xa1, 0xff);
    io.out8(0x43, 0x34); // channel 0, lobyte/hibyte, mode 2 (rate generator)
    io.out8(0x40, HOST_PIT_DIVISOR & 0xff);
    io.out8(0x40, HOST_PIT_DIVISOR >>> 8);
  }

  // ---- the monitor ----

  /** The CPU's monitor hook: every exception, INT n and interrupt while a VMM runs. */
  onEvent(ev: TrapEvent): MonitorAction {
    const vm = this.currentVm;
    if (ev.kind === 1 /* External */) {
      this.hostInterrupt(ev.vector);
      return MonitorAction.Stop;
    }
    if (!vm || !this.handler) return MonitorAction.Stop;
    if (this.handler.passThrough?.(vm, ev)) return MonitorAction.Reflect;
    vm.stats.traps++;
    try {
      this.handler.onGuestEvent(vm, ev);
    } catch (e) {
      // A VMM bug must not take the emulator down: stop this VM with the reason, keep the rest.
      this.vmStop(
        vm,
        'error',
        `VMM internal error while handling vector ${ev.vector}: ${(e as Error).message}`,
      );
      return MonitorAction.Stop;
    }
    return MonitorAction.Resume;
  }

  /** A physical interrupt: only the scheduler tick is unmasked. */
  private hostInterrupt(vector: number): void {
    if (this.hosted) {
      // Type 2: the interrupt is the host's (its PIC, its IDT). Leave the VMM world; the host
      // driver re-raises the vector through the host's IDT (hosting/README.md).
      this.exitToHost(HostExit.Interrupt, vector);
      return;
    }
    this.pc.io.out8(0x20, 0x20); // EOI to the physical PIC
    if (vector !== HOST_VECTOR_BASE) return;
    this.ticksInSlice++;
    if (this.ticksInSlice >= QUANTUM_TICKS && this.runnableOther() >= 0) this.switchWanted = true;
  }

  /** Type 2: hand the CPU back to the host at the next point the run loop reaches. */
  exitToHost(reason: HostExit, vector = 0): void {
    if (this.hostExit) return;
    this.hostExit = { reason, vector };
    this.requestStop();
  }

  /** Type 2: why the VMM world must return now, if it must (checked between CPU runs). */
  private hostedCheck(): VmmResult | null {
    if (!this.hostExit) {
      if (this.vms.every((v) => v.terminal)) this.exitToHost(HostExit.Stopped);
      else if (this.vms.some((v) => v.console.peek().length > 0)) this.exitToHost(HostExit.Output);
    }
    // VT-x: only from VMX root operation (the next VM exit gets there; hosting/README.md).
    if (this.hostExit && !this.cpu.vmxNonRoot) return { state: 'host' };
    return null;
  }

  private runnableOther(): number {
    const n = this.vms.length;
    for (let k = 1; k <= n; k++) {
      const i = (Math.max(this.current, 0) + k) % n;
      if (i !== this.current && this.vms[i].state === 'runnable') return i;
    }
    return -1;
  }

  // ---- world switch ----

  /** Save the running VM's whole CPU state and load VM `to`'s (logged and costed). */
  switchTo(to: number, log = true): void {
    const from = this.current;
    const cpu = this.cpu;
    if (from === to) return;
    const next = this.vms[to];
    if (this.handler?.switchWorld) this.handler.switchWorld(from >= 0 ? this.vms[from] : null, next);
    else {
      if (from >= 0) this.vms[from].saved = cpu.getState();
      const s = next.saved as CpuState;
      // Time and the TSC belong to the host: keep them running across the switch.
      s.instructions = cpu.instructions;
      s.msr.tscOffset = cpu.tscOffset;
      cpu.setState(s);
      next.saved = null;
    }
    this.current = to;
    this.ticksInSlice = 0;
    this.switchWanted = false;
    next.stats.switchesIn++;
    if (!log) return;
    this.worldSwitches++;
    this.record(next, TrapKind.WorldSwitch, 0, TrapAction.Switched, this.cost.worldSwitch, 0, from, to, 0, 0);
    this.log.setRegMask(0x7ffffff);
  }

  /** Reload a rebooted VM's entry state into the CPU. */
  private reboot(vm: Vm): void {
    vm.pendingReboot = false;
    if (this.handler?.reboot) {
      this.handler.reboot(vm);
      return;
    }
    if (this.current === vm.index) {
      const s = vm.saved as CpuState;
      s.instructions = this.cpu.instructions;
      s.msr.tscOffset = this.cpu.tscOffset;
      this.cpu.setState(s);
      vm.saved = null;
    }
  }

  // ---- logging ----

  /** Guest-visible CPL of the running VM (ring compression: real 1 → 0). */
  virtualCpl(): number {
    const c = this.cpu.cpl;
    return c === 1 ? 0 : c;
  }

  /**
   * Append a record for `vm` at the current guest CS:EIP (`eip`, default the instruction that
   * trapped). The caller adds instruction bytes / register mask with the log's setters.
   */
  record(
    vm: Vm,
    kind: TrapKind,
    reason: number,
    action: TrapAction,
    cost: number,
    flags: number,
    d0: number,
    d1: number,
    d2: number,
    d3: number,
    eip = this.cpu.eip,
  ): void {
    const cpu = this.cpu;
    const running = this.current === vm.index;
    const vcpl = !running ? 0 : this.eventCs >= 0 ? this.eventCpl : this.virtualCpl();
    const cs = !running ? 0 : this.eventCs >= 0 ? this.eventCs : (cpu.segSel[1] & ~3) | vcpl;
    const f = flags | (running && cpu.code32 ? TrapFlag.Code32 : 0) | (vcpl << 6);
    this.log.append(vm.index, kind, reason, this.timeNs, cs, eip >>> 0, f, action, cost);
    this.log.setDetails(d0 >>> 0, d1 >>> 0, d2 >>> 0, d3 >>> 0);
    this.charge(vm, cost);
    if (this.stopOnTrap && this.inRun) this.requestStop();
  }

  /**
   * Add modelled cycles for `vm` without a record of their own (or a record's changed cost). The
   * CPU's charged cycles follow, so with a preset the guest's RDTSC sees what the VMM spent.
   */
  charge(vm: Vm, cost: number): void {
    this.modelledCycles += cost;
    vm.stats.cycles += cost;
    this.cpu.chargedCycles += cost;
  }

  /** Attach the guest instruction at linear `lin` to the last record (length from the decoder). */
  recordBytes(vm: Vm, lin: number): void {
    const b = vm.mem.fetch(lin, 15);
    let len = b.length;
    try {
      // The block cache's pre-decoder knows the length of most 32-bit code without building text.
      const pd = len > 0 && this.cpu.code32 ? predecode(b, 0, lin, len, 0xffffffff) : null;
      if (pd !== null) len = Math.min(len, pd.len);
      else if (len > 0) {
        // The disassembler's length (a '(bad)' one included), without its text.
        const n = instructionLength(b, 0, this.cpu.code32 ? 32 : 16);
        len = n === 0 ? len : Math.min(len, Math.abs(n));
      }
    } catch {
      /* truncated bytes: keep what we have */
    }
    this.log.setInstruction(b, 0, len);
  }

  // ---- the run loop ----

  /** Run up to `budget` ticks of virtual time. With `stopOnTrap`, return once a record is added. */
  run(budget: number, stopOnTrap: boolean): VmmResult {
    const clock = this.pc.clock;
    const cpu = this.cpu;
    const startTotal = this.log.total;
    this.stopOnTrap = stopOnTrap;
    let end = clock.now() + budget;
    for (;;) {
      if (this.boundaryDue) {
        this.boundary();
        this.boundaryDue = false;
      }
      const hosted = this.hosted ? this.hostedCheck() : null;
      if (hosted) return hosted;
      const done = this.hosted ? null : this.finalResult();
      if (done) return done;
      if (stopOnTrap && this.log.total > startTotal) return { state: 'budget' };
      const now = clock.now();
      if (now >= end) return { state: 'budget' };
      const vm = this.currentVm;
      if (vm?.state !== 'runnable') {
        // Nothing can run: the VMM idles the physical CPU until a VM's next device deadline.
        let next = Number.POSITIVE_INFINITY;
        for (const v of this.vms) if (v.state === 'blocked') next = Math.min(next, v.clock.nextDeadline());
        if (this.hosted) {
          // Type 2: nothing to run until input comes: back to the host, whose VMApp sleeps.
          if (next === Number.POSITIVE_INFINITY) {
            this.exitToHost(HostExit.Idle);
            continue;
          }
          // The host's timer still ticks: idle no further than the physical deadline.
          next = Math.min(next, clock.nextDeadline());
        }
        if (next === Number.POSITIVE_INFINITY) {
          this.boundaryDue = true;
          return { state: 'idle', reason: 'every VM is halted, waiting for input' };
        }
        // A single step while every VM sleeps skips to the wake-up, as the native machine does.
        if (budget === 1 && end < next + 1) end = next + 1;
        const t = Math.min(next, end);
        if (t > now) {
          clock.skipTo(t);
          cpu.tscOffset += t - now;
        }
        this.boundaryDue = t >= next;
        continue;
      }
      const aligned = (Math.floor(now / CHUNK) + 1) * CHUNK;
      let limit = Math.min(end, aligned);
      if (this.knownDeadline > now && this.knownDeadline < limit) limit = this.knownDeadline;
      this.inRun = true;
      let r: StopReason;
      try {
        this.handler?.beforeRun?.(vm);
        r = vm.state === 'runnable' ? cpu.run(limit - now) : StopReason.Monitor;
        this.handler?.afterRun?.(vm, r);
      } finally {
        this.inRun = false;
      }
      const after = clock.now();
      if (r === StopReason.Shutdown) {
        this.vmShutdown(vm, `triple fault: ${cpu.shutdownReason}`);
      }
      // A run that simply reached the host's budget end is invisible (see the file comment).
      this.boundaryDue = !(
        r === StopReason.Budget &&
        after === end &&
        after !== aligned &&
        after !== this.knownDeadline
      );
      if (r === StopReason.Halt) {
        // The real CPU halted: only possible if the VMM let a guest execute HLT at ring 0.
        this.vmShutdown(vm, 'the real CPU halted inside a guest');
      }
    }
  }

  /** Stop a VM that triple-faulted (as a PC would shut down). */
  vmShutdown(vm: Vm, reason: string): void {
    this.vmStop(vm, 'shutdown', reason);
  }

  /** Stop a VM the technique cannot carry on with: its triple fault, or something not virtualized. */
  vmCannotContinue(vm: Vm, e: { reason: string; tripleFault: boolean }): void {
    this.vmStop(vm, e.tripleFault ? 'shutdown' : 'unsupported', e.reason);
  }

  /** Stop one VM for good (logged); the others and the VMM carry on. */
  vmStop(vm: Vm, state: 'shutdown' | 'unsupported' | 'error', reason: string): void {
    this.record(vm, TrapKind.VmShutdown, 0, TrapAction.Stopped, 0, 0, 0, 0, 0, 0);
    vm.stop(state, reason);
    if (this.cpu.shutdown) {
      // Clear the physical CPU's shutdown latch: only the VM died.
      this.cpu.shutdown = false;
    }
  }

  /** Fire due timers, take physical interrupts, wake and schedule VMs, inject virtual interrupts. */
  private boundary(): void {
    const clock = this.pc.clock;
    const now = clock.now();
    clock.runDue(now);
    for (const v of this.vms) v.clock.runDue(now);
    if (this.hosted) {
      // One vector leaves with the VMM world; the rest stay pending for the host to take.
      if (this.pc.pic.hasInterrupt()) this.hostInterrupt(this.pc.pic.acknowledge());
    } else while (this.pc.pic.hasInterrupt()) this.hostInterrupt(this.pc.pic.acknowledge());
    for (const v of this.vms) {
      if (v.pendingReboot) this.reboot(v);
      if (v.state === 'blocked' && v.devices.pic.hasInterrupt()) v.state = 'runnable';
    }
    const cur = this.currentVm;
    if (cur?.state !== 'runnable' || this.switchWanted) {
      const next =
        cur && cur.state === 'runnable' && !this.switchWanted ? this.current : this.runnableOther();
      if (next >= 0 && next !== this.current) this.switchTo(next);
      else if (cur && cur.state === 'runnable') this.switchWanted = false;
    }
    const vm = this.currentVm;
    if (vm && vm.state === 'runnable' && this.handler) this.handler.injectPending(vm);
    let d = clock.nextDeadline();
    for (const v of this.vms) d = Math.min(d, v.clock.nextDeadline());
    this.knownDeadline = d;
  }

  /** The session-level result once no VM can run any more, else null. */
  finalResult(): VmmResult | null {
    if (!this.vms.every((v) => v.terminal)) return null;
    if (this.vms.every((v) => v.state === 'exited')) {
      const code = Math.max(...this.vms.map((v) => v.exitCode ?? 1));
      const reason =
        this.vms.length === 1
          ? this.vms[0].reason
          : `all ${this.vms.length} VMs powered off${
              // Odd statuses come from isa-debug-exit (V << 1 | 1): say so, as one VM's reason does.
              this.vms.every((v) => ((v.exitCode ?? 0) & 1) === 1) ? ' through isa-debug-exit' : ''
            } (${this.vms.map((v) => `VM ${v.index}: status ${v.exitCode}`).join(', ')})`;
      return { state: 'exited', exitCode: code, reason };
    }
    const bad = this.vms.find((v) => v.state !== 'exited') as Vm;
    const prefix = this.vms.length > 1 ? `VM ${bad.index}: ` : '';
    const state =
      bad.state === 'runnable' || bad.state === 'blocked' || bad.state === 'exited' ? 'hung' : bad.state;
    return { state, reason: prefix + bad.reason };
  }
}
