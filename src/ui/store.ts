/**
 * UI state (zustand). Only low-rate state lives here: the scenario, the latest status/stats, the
 * register snapshots for the diff, panel settings. Serial bytes and trap records never pass
 * through React state: they go straight from the worker client to xterm and to the trap table.
 */
import { create } from 'zustand';
import type { CpuModelId } from '../hypervisor/vmm/cost-model.ts';
import type {
  HostingId,
  LoadedInfo,
  MachineId,
  RegSnapshot,
  StatsView,
  StatusView,
  TechniqueId,
  VmInfoView,
} from '../worker/protocol.ts';

export interface ScenarioSel {
  guestId: string;
  technique: TechniqueId;
  vms: number;
  /** hardware-assisted only: shadow paging instead of EPT (absent: EPT). */
  paging?: 'ept' | 'shadow';
  /** Who owns the PC (src/hypervisor/hosting/README.md); absent = type1. */
  hosting?: HostingId;
  /** The PC model (native only: under a VMM every VM is the plain 'pc'). */
  machine: MachineId;
  /** The CPU generation the cost model follows (absent: the default tables). */
  cpuModel?: CpuModelId;
}

export interface Toast {
  id: number;
  message: string;
  kind: 'error' | 'info';
}

export type Theme = 'dark' | 'light';

export interface TrapFilterSel {
  vm: number | null;
  kinds: number[];
  /** Only VM exits with these basic exit reasons (set from the VMCS panel). */
  exitReasons?: number[];
}

export interface UiState {
  scenario: ScenarioSel;
  /** Name of a guest loaded from disk, when that is what runs. */
  uploadName: string | null;
  /** Name of the upload being loaded (null while a built-in guest loads). */
  pendingUpload: string | null;
  workerReady: boolean;
  /** Techniques the emulator build can run (null until the worker says). */
  techniques: TechniqueId[] | null;
  loading: boolean;
  loaded: LoadedInfo | null;
  /** The last load's failure, shown in the load dialog (also toasted). */
  loadError: string | null;
  /** The scenario of the session that runs now (to fall back to when a new load fails). */
  activeScenario: ScenarioSel | null;
  status: StatusView | null;
  stats: StatsView | null;
  /** Latest registers, and what they are compared with (the registers at the previous stop). */
  regs: RegSnapshot | null;
  baseRegs: RegSnapshot | null;
  stopRegs: RegSnapshot | null;
  /** Bumped when a guest (re)starts: terminals clear themselves. */
  serialGen: number;
  /** Bumped whenever the trap log grew (at most once per animation frame). */
  trapVersion: number;
  /** Instructions per second, null = full speed. */
  speed: number | null;
  untilKind: number;
  /** Trap kinds "Next trap" runs past (still logged): a teacher's way to skip noise. */
  skipKinds: number[];
  /** The guest kernel's own panic line, when its console printed one (it may keep "running"). */
  panic: string | null;
  /** One VM's console shown alone, large (null: all tiled). */
  consoleSolo: number | null;
  /** The trap detail fills the trap-log panel (room for the explanation and registers). */
  detailWide: boolean;
  theme: Theme;
  classroom: boolean;
  helpOpen: boolean;
  loadOpen: boolean;
  toasts: Toast[];
  trapFilter: TrapFilterSel;
  follow: boolean;
  selectedTrap: number | null;
  /** A link's selected trap (sequence number), applied once the replay has produced it. */
  pendingSel: number | null;
  /** The link also carries a run position: apply `pendingSel` when its replay ends. */
  pendingAfterReplay: boolean;
  /** Scroll the trap table to this log index once (a link's selected trap). */
  revealTrap: number | null;
  /** Per-VM state, memory map and counters (when the session reports them). */
  vmInfo: VmInfoView[] | null;
  rightTab: 'code' | 'stats' | 'rings' | 'timeline' | 'translation' | 'vmcs' | 'hosting' | 'paging';
  /** The EPT view's asked address (the address box; null: the last exit's own address). */
  eptAsk: { addr: number; space: 'linear' | 'guest-physical' } | null;
  /** Disassembly pinned to an address (a trap's instruction) instead of following EIP. */
  codeAt: { addr: number; label: string } | null;
  leftSplit: number;
  colSplit: number;
  rightSplit: number;
}

export interface FrameUpdate {
  status: StatusView;
  stats: StatsView;
  /** Register snapshots in arrival order, each with whether it marks a stop. */
  regs: { regs: RegSnapshot; stop: boolean }[];
  trapsGrew: boolean;
  vms?: VmInfoView[];
}

export interface UiActions {
  set(p: Partial<UiState>): void;
  toast(message: string, kind?: Toast['kind']): void;
  dismiss(id: number): void;
  applyFrames(u: FrameUpdate): void;
  resetRun(): void;
}

let toastSeq = 1;

function prefersLight(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: light)').matches;
}

function stored<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
  try {
    const v = localStorage.getItem(key);
    return v !== null && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;
  } catch {
    return fallback;
  }
}

export const useUi = create<UiState & UiActions>()((set) => ({
  scenario: { guestId: 'hello', technique: 'native', vms: 1, machine: 'pc' },
  uploadName: null,
  pendingUpload: null,
  workerReady: false,
  techniques: null,
  loading: false,
  loaded: null,
  loadError: null,
  activeScenario: null,
  status: null,
  stats: null,
  regs: null,
  baseRegs: null,
  stopRegs: null,
  trapVersion: 0,
  serialGen: 0,
  speed: null,
  untilKind: 1,
  skipKinds: [],
  panic: null,
  consoleSolo: null,
  detailWide: false,
  theme: stored<Theme>('traplab.theme', ['dark', 'light'], prefersLight() ? 'light' : 'dark'),
  classroom: stored('traplab.classroom', ['1', '0'], '0') === '1',
  helpOpen: false,
  loadOpen: false,
  toasts: [],
  trapFilter: { vm: null, kinds: [] },
  follow: true,
  selectedTrap: null,
  pendingSel: null,
  pendingAfterReplay: false,
  revealTrap: null,
  vmInfo: null,
  rightTab: 'code',
  eptAsk: null,
  codeAt: null,
  leftSplit: 0.5,
  colSplit: 0.56,
  rightSplit: 0.56,

  set: (p) => set(p),
  toast: (message, kind = 'error') =>
    set((s) => ({ toasts: [...s.toasts.slice(-3), { id: toastSeq++, message, kind }] })),
  dismiss: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
  applyFrames: (u) =>
    set((s) => {
      let { regs, baseRegs, stopRegs } = s;
      for (const r of u.regs) {
        regs = r.regs;
        baseRegs = stopRegs;
        if (r.stop) stopRegs = r.regs;
      }
      return {
        status: u.status,
        stats: u.stats,
        regs,
        baseRegs,
        stopRegs,
        trapVersion: u.trapsGrew ? s.trapVersion + 1 : s.trapVersion,
        vmInfo: u.vms ?? s.vmInfo,
      };
    }),
  resetRun: () =>
    set((s) => ({
      status: null,
      stats: null,
      regs: null,
      baseRegs: null,
      stopRegs: null,
      selectedTrap: null,
      codeAt: null,
      vmInfo: null,
      panic: null,
      trapVersion: 0,
      serialGen: s.serialGen + 1,
    })),
}));
