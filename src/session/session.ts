/**
 * The session: the one run loop both the CLI and the Web Worker drive (notes/session-contract.md).
 * It validates the configuration, loads the guest, picks the technique runner, and keeps the
 * status machine. It never throws for anything a guest does; bad configuration or images throw
 * SessionError with a message meant for the user.
 */

import type { TwoDWalkView } from '../hypervisor/hardware-assisted/ept-walk.ts';
import type { HostingCounters } from '../hypervisor/hosting/hosted.ts';
import { HostedRunner } from '../hypervisor/hosting/runner.ts';
import { CPU_MODELS, parseCpuModel } from '../hypervisor/vmm/cost-model.ts';
import type { PageWalkInfo } from '../hypervisor/vmm/page-walk.ts';
import { VmmRunner } from '../hypervisor/vmm/runner.ts';
import type { TrapLogReader } from '../hypervisor/vmm/trap-log.ts';
import { HOSTED_HOST_RAM } from '../hypervisor/vmm/vmm.ts';
import { type BootImage, LoadError, loadBios, loadKernel, loadRaw } from '../machine/loaders/index.ts';
import { MAX_RAM_MIB } from '../machine/pc.ts';
import { isTerminal, type RunnerResult, type TechniqueRunner } from './technique.ts';
import { techniqueFactory } from './techniques.ts';
import {
  type CpuSnapshot,
  type DisasmLine,
  type GuestSource,
  HOSTINGS,
  type SessionConfig,
  SessionError,
  type SessionStatus,
  TECHNIQUES,
  type VmInfo,
} from './types.ts';

/** A guest's RAM: the emulated PC's limit (RAM must lie below 2 GiB physical; machine/pc.ts). */
export const MAX_MEM_MIB = MAX_RAM_MIB;
export const MAX_VMS = 16;
/** Longest instruction (SDM Vol.2 §2.3.11). */
const MAX_INSN = 15;

export class Session {
  readonly config: SessionConfig;
  readonly vmCount: number;
  /** What the loader did (e.g. "multiboot ELF: 2 segments, entry 0x100010"). */
  readonly bootSummary: string;
  status: SessionStatus = { state: 'running' };
  /** The exception behind an 'internal emulator error' stop (for bug reports). */
  lastError: unknown = null;
  private readonly liveRunner: TechniqueRunner;
  /** Type 2: the hosted arrangement (the host OS and the VMM world), else null. */
  private readonly hostedRunner: HostedRunner | null = null;
  private disposed = false;

  constructor(config: SessionConfig) {
    this.config = validateConfig(config);
    const factory = techniqueFactory(config.technique);
    if (!factory) throw new SessionError(`technique '${config.technique}' is not built yet (see issue 6)`);
    if (config.technique === 'native' && config.vms !== 1) {
      throw new SessionError('native runs one guest; use --technique trap-and-emulate for several VMs');
    }
    const boot = loadGuest(config.guest, config.memMiB * 1024 * 1024);
    this.bootSummary = boot.summary;
    const type2 = this.config.hosting === 'type2';
    if (type2) {
      if (config.technique === 'native') {
        throw new SessionError('--hosting type2 needs a hypervisor technique (native runs no VMM)');
      }
      if (config.vms !== 1) throw new SessionError('--hosting type2 runs one VM (one VMApp): use --vms 1');
    }
    const hostBoot = type2 ? loadHostKernel(this.config.hostKernel) : null;
    try {
      const made = factory(type2 ? ({ ...this.config, hosted: true } as SessionConfig) : this.config, boot);
      if (hostBoot && made instanceof VmmRunner) {
        this.hostedRunner = new HostedRunner(made, hostBoot);
        this.liveRunner = this.hostedRunner;
      } else this.liveRunner = made;
    } catch (e) {
      if (e instanceof RangeError && /allocat/i.test(e.message)) {
        throw new SessionError(
          `cannot allocate ${config.memMiB} MiB of guest memory on this host; try a smaller --mem`,
        );
      }
      throw e;
    }
    this.vmCount = this.runner.vmCount;
    // Trap records carry instruction bytes; let exports show them disassembled.
    this.runner.traps.disassembler ??= (bytes, eip, code32) =>
      this.runner.disassemble(bytes, eip, code32).text;
  }

  private get runner(): TechniqueRunner {
    if (this.disposed) throw new SessionError('this session was disposed; create a new one');
    return this.liveRunner;
  }
  private get hosted(): HostedRunner | null {
    return this.runner === this.hostedRunner ? this.hostedRunner : null;
  }

  /**
   * Done with this session (the worker's next Run, the end of a CLI run): its machines hand their
   * large buffers to the next session created, which then starts on resident memory (see
   * cpu/fresh-buffer.ts). Any later call but dispose() throws a SessionError.
   */
  dispose(): void {
    if (this.disposed) return;
    this.stop('disposed');
    this.liveRunner.dispose?.();
    this.disposed = true;
  }

  get instructions(): number {
    return this.runner.instructions;
  }
  /** Exceptions and interrupts delivered (see TechniqueRunner.eventsDelivered). */
  get eventsDelivered(): number {
    return this.runner.eventsDelivered;
  }
  get virtualTimeNs(): number {
    return this.runner.virtualTimeNs;
  }
  get traps(): TrapLogReader {
    return this.runner.traps;
  }

  /**
   * Run up to `budget` ticks of virtual time (all VMs together): instructions retired, exceptions
   * and interrupts delivered, HLT skips.
   */
  run(budget: number): SessionStatus {
    return this.advance(budget, false);
  }
  /**
   * Execute exactly one guest instruction (or wake from HLT, when an interrupt is due). Under a
   * VMM, a step also ends at a trap: an instruction the VMM emulates takes no tick of its own, so
   * without stopping on the trap record the one-tick budget would run the next instruction too.
   */
  step(): SessionStatus {
    return this.advance(1, true);
  }
  /** Run until the trap log gains a record, or `budget` instructions have run. */
  runToNextTrap(budget: number): SessionStatus {
    return this.advance(budget, true);
  }
  /** End the session from the host side; further run() calls do nothing. */
  stop(reason = 'stopped'): SessionStatus {
    if (!isTerminal(this.status)) this.status = { state: 'stopped', reason };
    return this.status;
  }

  private advance(budget: number, stopOnTrap: boolean): SessionStatus {
    if (isTerminal(this.status)) return this.status;
    const n = Number.isFinite(budget) ? Math.max(0, Math.floor(budget)) : 0;
    if (n === 0) return this.status;
    let r: RunnerResult;
    try {
      r = this.runner.run(n, stopOnTrap);
    } catch (e) {
      // A bug in the emulator, not guest behaviour: keep the session (and the UI) up, stop this
      // run, and say what happened. exitCode 70 is EX_SOFTWARE.
      this.lastError = e;
      const msg = e instanceof Error ? e.message : String(e);
      this.status = { state: 'stopped', exitCode: 70, reason: `internal emulator error: ${msg}` };
      return this.status;
    }
    switch (r.state) {
      case 'budget':
        this.status = { state: 'running' };
        break;
      case 'idle':
        this.status = { state: 'idle', reason: r.reason ?? 'halted; waiting for input' };
        break;
      case 'exited':
        this.status = { state: 'exited', exitCode: r.exitCode ?? 1, reason: r.reason ?? 'debug-exit port' };
        break;
      case 'shutdown':
        // The CLI prints "triple fault: <reason>"; runners may already include the words.
        this.status = {
          state: 'shutdown',
          exitCode: 2,
          reason: (r.reason ?? 'triple fault').replace(/^(triple fault: )+/, ''),
        };
        break;
      case 'reset':
        this.status = { state: 'reset', exitCode: 0, reason: r.reason ?? 'the guest reset the machine' };
        break;
      case 'hung':
        // Not in the contract's state list as such: the guest has stopped for good. Natively that
        // is how a kernel powers off without ACPI (cli; hlt): status 0. Under a VMM it is the
        // predicted failure (a lost POPF/IRET IF change): exit status 4.
        this.status =
          this.config.technique === 'native'
            ? { state: 'stopped', reason: r.reason ?? 'halted with interrupts disabled' }
            : {
                state: 'stopped',
                exitCode: 4,
                reason: `hung: ${r.reason ?? 'halted with interrupts disabled'}`,
              };
        break;
      case 'unsupported':
        this.status = {
          state: 'stopped',
          exitCode: 6,
          reason: `the hypervisor cannot virtualize this guest: ${r.reason ?? 'unsupported operation'}`,
        };
        break;
      case 'error':
        this.status = {
          state: 'stopped',
          exitCode: 70,
          reason: `internal emulator error: ${r.reason ?? ''}`,
        };
        break;
    }
    return this.status;
  }

  takeSerial(vm: number): Uint8Array {
    return this.checkVm(vm) ? this.runner.takeSerial(vm) : new Uint8Array(0);
  }
  /** Type 2: the host OS's own console (physical COM1); empty under Type 1. */
  takeHostSerial(): Uint8Array {
    return this.hosted?.takeHostSerial() ?? new Uint8Array(0);
  }
  sendHostSerial(bytes: Uint8Array): void {
    if (this.hosted && bytes.length > 0) {
      this.hosted.sendHostSerial(bytes);
      if (this.status.state === 'idle') this.status = { state: 'running' };
    }
  }
  /** Type 2: world switches, host system calls, forwarded interrupts… (null under Type 1). */
  hostingCounters(): (HostingCounters & { inVmm: boolean }) | null {
    return this.hosted ? { ...this.hosted.counters, inVmm: this.hosted.machine.world === 'vmm' } : null;
  }
  sendSerial(vm: number, bytes: Uint8Array): void {
    if (this.checkVm(vm) && bytes.length > 0) {
      this.runner.sendSerial(vm, bytes);
      if (this.status.state === 'idle') this.status = { state: 'running' };
    }
  }
  /** Bytes sent to `vm`'s console that the guest's UART has not taken yet (for backpressure). */
  serialInputPending(vm: number): number {
    return this.checkVm(vm) ? this.runner.serialInputPending(vm) : 0;
  }
  takeDebugcon(): Uint8Array {
    return this.runner.takeDebugcon();
  }
  /** Every byte written to port 0x80 so far (the machine keeps a bounded history). */
  postCodes(): number[] {
    return this.runner.postCodes();
  }
  snapshot(): CpuSnapshot {
    return this.runner.snapshot();
  }

  /**
   * Each VM's state, guest-physical → host-physical map and counters (for the UI and --stats).
   * Natively the one guest owns the machine: its memory is host memory, identity-mapped.
   */
  vmInfo(): VmInfo[] {
    if (this.runner.vmInfo) return this.runner.vmInfo();
    const s = this.status;
    return [
      {
        vm: 0,
        state: s.state === 'running' || s.state === 'idle' ? 'runnable' : s.state,
        reason: s.reason ?? '',
        exitCode: s.exitCode,
        running: true,
        memory: [{ guestPhys: 0, hostPhys: 0, bytes: this.config.memMiB * 1024 * 1024, kind: 'ram' }],
        shadowTables: 0,
        traps: 0,
        hiddenFaults: 0,
        reflected: 0,
        injected: 0,
        silent: 0,
        switchesIn: 0,
        cycles: 0,
      },
    ];
  }

  /** The guest's page walk of `lin` beside the VMM's shadow walk, or null (no shadow paging). */
  pageWalk(vm: number, lin: number): PageWalkInfo | null {
    return this.runner.pageWalk?.(vm, lin >>> 0) ?? null;
  }

  /** The EPT view's 2-D walk of `addr` in VM `vm` (null without VT-x and EPT). */
  eptWalk(vm: number, addr: number, space: 'linear' | 'guest-physical'): TwoDWalkView | null {
    return this.runner.eptWalk?.(vm, addr >>> 0, space) ?? null;
  }

  readPhysical(addr: number, len: number): Uint8Array {
    return this.runner.readPhysical(addr >>> 0, clampLen(len));
  }

  /** Linear memory through the current page tables; bytes of not-present pages read as 0. */
  readLinear(addr: number, len: number): Uint8Array {
    return this.readLinearMapped(addr, clampLen(len)).bytes;
  }

  private readLinearMapped(addr: number, len: number): { bytes: Uint8Array; mapped: number } {
    const out = new Uint8Array(len);
    let done = 0;
    let mapped = 0;
    let contiguous = true;
    while (done < len) {
      const lin = (addr + done) >>> 0;
      const run = Math.min(len - done, 0x1000 - (lin & 0xfff));
      const phys = this.runner.translateLinear(lin);
      if (phys === null) contiguous = false;
      else {
        out.set(this.runner.readPhysical(phys, run), done);
        if (contiguous) mapped += run;
      }
      done += run;
    }
    return { bytes: out, mapped };
  }

  /** Disassemble `count` instructions from a linear address in the current code size. */
  disassembleAt(linearAddr: number, count: number): DisasmLine[] {
    const code32 = this.codeIs32();
    const lines: DisasmLine[] = [];
    let addr = linearAddr >>> 0;
    for (let i = 0; i < Math.min(Math.max(0, Math.floor(count)), 1000); i++) {
      const { bytes, mapped } = this.readLinearMapped(addr, MAX_INSN);
      if (mapped === 0) {
        lines.push({ addr, bytes: [], text: '(not mapped)' });
        break;
      }
      const d = this.runner.disassemble(bytes.subarray(0, mapped), addr, code32);
      const length = Math.max(1, Math.min(d.length, mapped));
      lines.push({ addr, bytes: Array.from(bytes.subarray(0, length)), text: d.text });
      addr = (addr + length) >>> 0;
    }
    return lines;
  }

  private codeIs32(): boolean {
    const s = this.runner.snapshot();
    // CS.D (bit 22 of the access-rights word, SDM Vol.3 §3.4.5) outside real and V86 mode.
    return s.mode === 'protected' && (s.cs.access & 0x4000) !== 0;
  }

  private checkVm(vm: number): boolean {
    return Number.isInteger(vm) && vm >= 0 && vm < this.vmCount;
  }
}

function clampLen(len: number): number {
  return Number.isFinite(len) ? Math.max(0, Math.min(Math.floor(len), 1 << 24)) : 0;
}

function validateConfig(c: SessionConfig): SessionConfig {
  if (typeof c !== 'object' || c === null) throw new SessionError('no session configuration given');
  if (!TECHNIQUES.includes(c.technique)) {
    throw new SessionError(`unknown technique '${String(c.technique)}' (one of: ${TECHNIQUES.join(', ')})`);
  }
  if (!Number.isInteger(c.vms) || c.vms < 1 || c.vms > MAX_VMS) {
    throw new SessionError(
      `the number of VMs must be a whole number from 1 to ${MAX_VMS}, got ${String(c.vms)}`,
    );
  }
  if (!Number.isInteger(c.memMiB) || c.memMiB < 1 || c.memMiB > MAX_MEM_MIB) {
    throw new SessionError(
      `memory must be a whole number of MiB from 1 to ${MAX_MEM_MIB}, got ${String(c.memMiB)}`,
    );
  }
  if (c.hosting !== undefined && !HOSTINGS.includes(c.hosting)) {
    throw new SessionError(`hosting must be type1 or type2, got '${String(c.hosting)}'`);
  }
  if (c.paging !== undefined && c.paging !== 'ept' && c.paging !== 'shadow') {
    throw new SessionError(`paging must be ept or shadow, got '${String(c.paging)}'`);
  }
  if (c.cpuModel !== undefined && parseCpuModel(c.cpuModel) === null) {
    throw new SessionError(`cpu model must be one of ${CPU_MODELS.join(', ')}, got '${String(c.cpuModel)}'`);
  }
  return { ...c, noReboot: c.noReboot === true };
}

/** The Type 2 host OS: a multiboot kernel given the host's share of physical RAM (8 MiB). */
function loadHostKernel(k: Uint8Array | undefined): BootImage {
  if (!(k instanceof Uint8Array) || k.length === 0) {
    throw new SessionError('--hosting type2 needs the host OS image (guests/minikernel/minikernel-host.elf)');
  }
  try {
    return loadKernel(k, { ramBytes: HOSTED_HOST_RAM });
  } catch (e) {
    if (e instanceof LoadError) throw new SessionError(`host OS image: ${e.message}`);
    throw e;
  }
}

function loadGuest(g: GuestSource, ramBytes: number): BootImage {
  const bytes = (v: unknown, what: string): Uint8Array => {
    if (!(v instanceof Uint8Array)) throw new SessionError(`the ${what} is missing`);
    if (v.length === 0) throw new SessionError(`the ${what} is empty`);
    return v;
  };
  try {
    switch (g?.kind) {
      case 'kernel':
        return loadKernel(bytes(g.kernel, 'kernel image'), {
          ramBytes,
          initrd: g.initrd === undefined ? undefined : bytes(g.initrd, 'initrd'),
          cmdline: g.cmdline,
        });
      case 'bios':
        return loadBios(bytes(g.image, 'BIOS image'));
      case 'raw':
        return loadRaw(bytes(g.image, 'raw image'), { ramBytes, addr: g.addr, entry: g.entry });
      default:
        throw new SessionError(`unknown guest kind '${String((g as { kind?: unknown })?.kind)}'`);
    }
  } catch (e) {
    if (e instanceof LoadError) throw new SessionError(e.message);
    throw e;
  }
}
