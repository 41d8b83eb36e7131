/**
 * The worker core's contract: what it needs from a Session (EmuSession) and from its host
 * (CoreHost: the Worker in the browser, a test harness in Node). Kept apart from core.ts so the
 * adapters and tests can name the contract without the core's run logic.
 */
import type { TwoDWalkView } from '../hypervisor/hardware-assisted/ept-walk.ts';
import type { PageWalkInfo } from '../hypervisor/vmm/page-walk.ts';
import type {
  DisasmLine,
  FromWorker,
  HostingId,
  HostingView,
  RegSnapshot,
  RunState,
  Scenario,
  VmInfoView,
} from './protocol.ts';
import type { TrapLogLike } from './traps.ts';

/** What the worker needs from a guest source (mirrors session's GuestSource). */
export type GuestSourceLike =
  | { kind: 'kernel'; kernel: Uint8Array; initrd?: Uint8Array; cmdline?: string }
  | { kind: 'bios'; image: Uint8Array }
  | { kind: 'raw'; image: Uint8Array; addr: number; entry: number };

export interface SessionConfigLike {
  guest: GuestSourceLike;
  technique: Scenario['technique'];
  vms: number;
  memMiB: number;
  noReboot: boolean;
  paging?: 'ept' | 'shadow';
  hosting?: HostingId;
  hostKernel?: Uint8Array;
  /** The native machine's x87 and local APIC (Scenario.machine). */
  fpu?: boolean;
  apic?: boolean;
  /** The CPU-generation cost preset (Scenario.cpuModel). */
  cpuModel?: Scenario['cpuModel'];
}

export interface SessionStatusLike {
  state: RunState;
  exitCode?: number;
  reason?: string;
}

/** The part of `src/session/`'s Session the worker drives (see notes/session-contract.md). */
export interface EmuSession {
  run(budget: number): SessionStatusLike;
  readonly status: SessionStatusLike;
  readonly vmCount: number;
  takeSerial(vm: number): Uint8Array;
  sendSerial(vm: number, bytes: Uint8Array): void;
  readonly instructions: number;
  readonly virtualTimeNs: number;
  snapshot(): unknown;
  step(): SessionStatusLike;
  runToNextTrap(budget: number): SessionStatusLike;
  readLinear(addr: number, len: number): Uint8Array;
  readPhysical(addr: number, len: number): Uint8Array;
  /** The guest's page walk beside the VMM's shadow walk (shadow paging only). */
  pageWalk?(vm: number, lin: number): PageWalkInfo | null;
  eptWalk?(vm: number, addr: number, space: 'linear' | 'guest-physical'): TwoDWalkView | null;
  disassembleAt(linearAddr: number, count: number): DisasmLine[];
  readonly traps: TrapLogLike;
  /** Optional: what the loader did, for the status line. */
  readonly bootSummary?: string;
  /** Optional: each VM's state, memory map and counters. */
  vmInfo?(): VmInfoView[];
  /** Optional (Type 2): the host OS's console and the hosted path's counters. */
  takeHostSerial?(): Uint8Array;
  sendHostSerial?(bytes: Uint8Array): void;
  hostingCounters?(): HostingView | null;
  /** Optional: done with it; its machine's buffers go to the next session (Session.dispose). */
  dispose?(): void;
}

export interface ResolvedGuest {
  source: GuestSourceLike;
  label: string;
  memMiB: number;
}

export interface CoreHost {
  /** Build a session; throws (SessionError) with a clear message for a bad image or config. */
  createSession(config: SessionConfigLike): EmuSession;
  /** Fetch a built-in guest by manifest id. */
  resolveGuest(id: string): Promise<ResolvedGuest>;
  /** Type 2: fetch the host OS image (minikernel-host.elf). */
  hostKernel?(): Promise<Uint8Array>;
  /** Run `config` headless under Type 1 and Type 2 up to `ticks` and tabulate both. */
  compareHosting?(
    config: SessionConfigLike,
    ticks: number,
  ): { title: string; rows: [string, string, string][] };
  /** Turn the session's register snapshot into the protocol's view. */
  toRegSnapshot(snap: unknown): RegSnapshot | null;
  post(msg: FromWorker): void;
  /** Milliseconds, monotonic. */
  now(): number;
  /** Ask to have `runSlice()` called soon. */
  wake(): void;
}
