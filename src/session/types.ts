/**
 * The session's public types (notes/session-contract.md). Everything here is plain data so the Web
 * Worker can post it to the UI with structured clone.
 */

import type { TranslationInfo } from '../hypervisor/binary-translation/info.ts';
import type { VmcsInfo } from '../hypervisor/hardware-assisted/vmcs-info.ts';
import type { ParavirtualInfo } from '../hypervisor/paravirtual/info.ts';
import type { CpuModelId } from '../hypervisor/vmm/cost-model.ts';

export type Technique =
  | 'native'
  | 'trap-and-emulate'
  | 'binary-translation'
  | 'paravirtual'
  | 'hardware-assisted';
export const TECHNIQUES: readonly Technique[] = [
  'native',
  'trap-and-emulate',
  'binary-translation',
  'paravirtual',
  'hardware-assisted',
];

export type GuestSource =
  | { kind: 'kernel'; kernel: Uint8Array; initrd?: Uint8Array; cmdline?: string } // multiboot ELF or bzImage
  | { kind: 'bios'; image: Uint8Array }
  | { kind: 'raw'; image: Uint8Array; addr: number; entry: number };

export interface SessionConfig {
  guest: GuestSource;
  technique: Technique;
  vms: number;
  memMiB: number;
  noReboot: boolean;
  /** hardware-assisted only: nested paging (EPT, default) or shadow page tables. */
  paging?: 'ept' | 'shadow';
  /** Give the native machine an x87 (default: none, as on the i486-class PC). */
  fpu?: boolean;
  /** Give the native machine a local APIC (default: none). */
  apic?: boolean;
  /**
   * Who owns the physical PC (src/hypervisor/hosting/README.md). type1 (default): the VMM boots
   * first and owns the devices. type2: a host OS (`hostKernel`, minikernel-host.elf) boots first
   * and the VMM runs through its driver, the guest's I/O through its user process VMApp.
   */
  hosting?: Hosting;
  /** type2: the host OS image (a multiboot kernel built with minikernel's -DHOST). */
  hostKernel?: Uint8Array;
  /**
   * CPU-generation preset of the cost model (src/hypervisor/vmm/cost-model.ts): every technique's
   * modelled costs for that part, and the guest's RDTSC reads modelled cycles. Unset: the Pentium 4
   * tables in the trap log and a TSC that counts instructions (as before presets existed).
   */
  cpuModel?: CpuModelId;
}

export type Hosting = 'type1' | 'type2';
export const HOSTINGS: readonly Hosting[] = ['type1', 'type2'];

/**
 * - running: the budget ran out; call run() again.
 * - idle: every CPU is halted with nothing that could wake it except host input (serial RX).
 * - exited: the guest wrote to the debug-exit port; exitCode = (value << 1) | 1.
 * - shutdown: triple fault; reason says why. exitCode 2.
 * - reset: the guest reset the machine with noReboot set; exitCode 0.
 * - stopped: the host stopped the session (stop()).
 */
export type SessionState = 'running' | 'idle' | 'exited' | 'shutdown' | 'reset' | 'stopped';
export interface SessionStatus {
  state: SessionState;
  exitCode?: number;
  reason?: string;
}

/** A bad configuration or guest image: the message is for the user; never show a stack trace. */
export class SessionError extends Error {
  override name = 'SessionError';
}

export type { CpuSnapshot, SegmentSnapshot } from '../cpu/snapshot.ts';

/** One range of a VM's guest-physical → host-physical map. */
export interface VmMemoryRange {
  guestPhys: number;
  hostPhys: number;
  bytes: number;
  /** ram: the VM's slice of host RAM; hole / unbacked: no RAM there (reads as all ones). */
  kind: 'ram' | 'hole' | 'unbacked';
}

/** What one VM is doing, where its memory lives and what the VMM did for it (plain data). */
export interface VmInfo {
  vm: number;
  /** runnable, blocked (HLT), hung, exited, shutdown, reset, unsupported, error. */
  state: string;
  reason: string;
  exitCode: number | undefined;
  /** Its state is in the physical CPU right now. */
  running: boolean;
  memory: VmMemoryRange[];
  shadowTables: number;
  /** Events that reached the VMM from this VM (exceptions, INT n). */
  traps: number;
  hiddenFaults: number;
  reflected: number;
  injected: number;
  /** Silent events logged for it (sensitive instructions that did not trap and diverged). */
  silent: number;
  /** World switches into this VM. */
  switchesIn: number;
  /** Modelled cycles of its trap-log records (the technique's cost model). */
  cycles: number;
  /** Paravirtual only: the shared info page, event channels, hypercall histogram. */
  paravirtual?: ParavirtualInfo;
  /** Binary translation only: the translation cache, its statistics and recent units. */
  translation?: TranslationInfo;
  /** Hardware-assisted only: its VMCS, every field read live from the CPU (the VMCS panel). */
  vmcs?: VmcsInfo;
}

export interface DisasmLine {
  addr: number;
  bytes: number[];
  text: string;
}
