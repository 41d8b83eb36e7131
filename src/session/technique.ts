/**
 * How a virtualization technique plugs into the session. `native` (one guest owns the machine) is
 * a TechniqueRunner; so will be each hypervisor technique of issue 6 and after (trap-and-emulate,
 * binary translation, paravirtual, hardware-assisted), each owning its VMs, their virtual devices
 * and the trap log. The session adds what every technique shares: config validation, guest loading,
 * the status machine, stepping, and the debugger's memory and disassembly views.
 */
import type { TwoDWalkView } from '../hypervisor/hardware-assisted/ept-walk.ts';
import type { PageWalkInfo } from '../hypervisor/vmm/page-walk.ts';
import type { TrapLog } from '../hypervisor/vmm/trap-log.ts';
import type { BootImage } from '../machine/loaders/index.ts';
import type { CpuSnapshot, SessionConfig, SessionStatus, VmInfo } from './types.ts';

/** What ended (or paused) a runner's run() call. */
export interface RunnerResult {
  /**
   * - budget: the budget was used up (or stopOnTrap hit: a trap record was appended).
   * - idle: halted with nothing but host input able to wake any VM.
   * - exited / shutdown / reset: as SessionStatus; `reset` only when noReboot is set (otherwise the
   *   runner resets its machine and keeps going).
   * - hung: halted with interrupts disabled: nothing at all can wake it (under a VMM: the virtual IF).
   * - unsupported: a VMM stopped a VM that did something it does not virtualize (reason says what).
   * - error: a VMM bug stopped a VM (the other VMs were kept).
   */
  state: 'budget' | 'idle' | 'exited' | 'shutdown' | 'reset' | 'hung' | 'unsupported' | 'error';
  exitCode?: number;
  reason?: string;
}

export interface TechniqueRunner {
  readonly vmCount: number;
  /** Retired guest instructions, all VMs together. */
  readonly instructions: number;
  /**
   * Exceptions and interrupts delivered, all VMs together. Each takes one tick of virtual time and
   * counts against every budget, so a guest that retires nothing (a handler that faults on its
   * first instruction) still uses up budgets and limits.
   */
  readonly eventsDelivered: number;
  readonly virtualTimeNs: number;
  readonly traps: TrapLog;
  /**
   * Run up to `budget` instructions. With `stopOnTrap`, return as soon as a trap record has been
   * appended to the log (after the instruction that caused it). Never throws for guest behaviour.
   */
  run(budget: number, stopOnTrap: boolean): RunnerResult;
  takeSerial(vm: number): Uint8Array;
  sendSerial(vm: number, bytes: Uint8Array): void;
  /** Bytes sent with sendSerial that the VM's UART has not yet taken into its receive FIFO. */
  serialInputPending(vm: number): number;
  takeDebugcon(): Uint8Array;
  postCodes(): number[];
  snapshot(): CpuSnapshot;
  /** Physical memory as the current VM's CPU sees it (host-physical under native). */
  readPhysical(addr: number, len: number): Uint8Array;
  /** The translation the current CPU would use for a linear address, or null (not present). */
  translateLinear(addr: number): number | null;
  /** Disassemble one instruction from `bytes` decoded at `addr` in the current code size. */
  disassemble(bytes: Uint8Array, addr: number, code32: boolean): { length: number; text: string };
  /** A VMM's page-tables view: the guest's walk of `lin` beside the shadow's (shadow paging only). */
  pageWalk?(vm: number, lin: number): PageWalkInfo | null;
  /** Hardware-assisted with EPT: the 2-D walk of a guest-linear or guest-physical address. */
  eptWalk?(vm: number, addr: number, space: 'linear' | 'guest-physical'): TwoDWalkView | null;
  /** Per-VM state, memory map and counters (a VMM); the session supplies a default without it. */
  vmInfo?(): VmInfo[];
  /** Hand the machine's large buffers to the next one created (Pc.dispose); not used afterwards. */
  dispose?(): void;
}

export type TechniqueFactory = (config: SessionConfig, boot: BootImage) => TechniqueRunner;

export function isTerminal(s: SessionStatus): boolean {
  return s.state === 'exited' || s.state === 'shutdown' || s.state === 'reset' || s.state === 'stopped';
}
