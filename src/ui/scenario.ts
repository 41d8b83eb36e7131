/**
 * The scenario in the URL (`?guest=hello&technique=trap-and-emulate&vms=2`), the run position
 * (`&at=t5` — a journal the worker replays, see src/worker/position.ts — and `&sel=4`, the selected
 * trap's sequence number), and the commands the toolbar and keyboard shortcuts share.
 */
import { parseCpuModel } from '../hypervisor/vmm/cost-model.ts';
import { findGuest, guests } from '../worker/guests.ts';
import {
  MACHINES,
  MAX_VMS,
  type MachineId,
  type Scenario,
  TECHNIQUES,
  type TechniqueId,
  type UploadedGuest,
} from '../worker/protocol.ts';
import { emulator } from './emulator.ts';
import { type ScenarioSel, useUi } from './store.ts';

export const TECHNIQUE_LABELS: Record<TechniqueId, string> = {
  native: 'Native (no VMM)',
  'trap-and-emulate': 'Trap-and-emulate',
  'binary-translation': 'Binary translation',
  paravirtual: 'Paravirtualization',
  'hardware-assisted': 'Hardware-assisted (VT-x style)',
};

export const TECHNIQUE_BLURBS: Record<TechniqueId, string> = {
  native: 'The guest owns the whole (emulated) PC. Nothing intercepts it, so the trap log stays empty.',
  'trap-and-emulate':
    'The guest kernel is moved to ring 1. Every privileged instruction faults into the VMM, which emulates it.',
  'binary-translation':
    'The VMM rewrites guest kernel code before it runs, replacing sensitive instructions with calls into itself.',
  paravirtual:
    'The guest knows it is virtualized and calls the hypervisor directly (hypercalls) instead of trapping.',
  'hardware-assisted':
    'The CPU runs the guest in non-root mode and exits to the VMM on the events it configured.',
};

export const MACHINE_LABELS: Record<MachineId, string> = {
  pc: 'PC (i486SX)',
  'pc-fpu': 'PC + x87 FPU',
  'pc-apic': 'PC + local APIC',
  'pc-fpu-apic': 'PC + x87 + APIC',
};

/** What each PC model adds, for the picker's tooltip (the CLI's `--machine`). */
export const MACHINE_BLURBS: Record<MachineId, string> = {
  pc: 'The i486SX-class PC: no x87 FPU and no local APIC; interrupts come through the two 8259 PICs, the timer is the 8254 PIT. An x87 instruction raises #NM, so Linux runs its math emulator.',
  'pc-fpu':
    'Adds an x87 FPU: CPUID reports it, floating point runs in hardware (80-bit registers), and an unmasked x87 error raises FERR# on IRQ 13.',
  'pc-apic':
    'Adds a local APIC at 0xFEE00000 (its own timer, TPR, EOI, self-IPIs; CPUID reports it) and an I/O APIC at 0xFEC00000 that routes the ISA IRQs.',
  'pc-fpu-apic': 'Both: an x87 FPU and a local APIC with an I/O APIC.',
};

/** Machine options exist on the native machine only: a VMM gives each VM the plain PC. */
export const machineApplies = (t: TechniqueId): boolean => t === 'native';

/** The scenario's own URL parameters, in link order; anything else belongs to the page. */
const SCENARIO_PARAMS = ['guest', 'technique', 'vms', 'machine', 'paging', 'hosting', 'cpu', 'at', 'sel'];

/** Parse the scenario from a query string; unknown or missing values fall back to defaults. */
export function scenarioFromSearch(search: string, fallback: ScenarioSel): ScenarioSel {
  const q = new URLSearchParams(search);
  const guest = q.get('guest');
  const technique = q.get('technique');
  const vms = Number(q.get('vms'));
  const machine = q.get('machine');
  const t: TechniqueId =
    technique && (TECHNIQUES as readonly string[]).includes(technique)
      ? (technique as TechniqueId)
      : fallback.technique;
  const sel: ScenarioSel = {
    guestId: guest && findGuest(guest) ? guest : fallback.guestId,
    technique: t,
    // Native has no VMM to multiplex VMs: it always runs exactly one guest.
    vms: t === 'native' ? 1 : Number.isInteger(vms) && vms >= 1 && vms <= MAX_VMS ? vms : fallback.vms,
    machine: !machineApplies(t)
      ? 'pc'
      : machine && (MACHINES as readonly string[]).includes(machine)
        ? (machine as MachineId)
        : fallback.machine,
  };
  // VT-x's paging mode (EPT is the default, so only shadow paging shows in a link).
  if (t === 'hardware-assisted' && q.get('paging') === 'shadow') sel.paging = 'shadow';
  // Type 2 hosting: a hypervisor technique, one VM (one VMApp).
  if (q.get('hosting') === 'type2' && t !== 'native') Object.assign(sel, { hosting: 'type2', vms: 1 });
  // The CPU generation of the cost model (`&cpu=p4`); an unknown value keeps the default.
  const cpu = parseCpuModel(q.get('cpu'));
  if (cpu) sel.cpuModel = cpu;
  return sel;
}

/** The scenario's query parameters: `paging` only when shadow, `hosting` only when Type 2, `cpu`
 *  only when a CPU generation is chosen. */
export function scenarioParams(s: ScenarioSel): URLSearchParams {
  const q = new URLSearchParams({ guest: s.guestId, technique: s.technique, vms: String(s.vms) });
  if (s.technique === 'hardware-assisted' && s.paging === 'shadow') q.set('paging', 'shadow');
  if (s.hosting === 'type2') q.set('hosting', 'type2');
  if (s.cpuModel) q.set('cpu', s.cpuModel);
  return q;
}

export function searchFromScenario(s: ScenarioSel, pos?: LinkPosition): string {
  const q = scenarioParams(s);
  // The plain PC is the default: links made before the picker existed stay the same.
  if (s.machine !== 'pc') q.set('machine', s.machine);
  if (pos?.at) q.set('at', pos.at);
  if (pos?.sel !== undefined && pos.sel !== null) q.set('sel', String(pos.sel));
  return `?${q.toString()}`;
}

/** Where in the run a link points: the worker's journal and the selected trap's sequence number. */
export interface LinkPosition {
  at: string;
  sel: number | null;
}

/** The position part of a query string (anything malformed is left to the worker to refuse). */
export function positionFromSearch(search: string): LinkPosition {
  const q = new URLSearchParams(search);
  const at = q.get('at') ?? '';
  const selText = q.get('sel');
  const sel = selText !== null && /^\d{1,15}$/.test(selText) ? Number(selText) : null;
  return { at: at.slice(0, 16384), sel };
}

/** Rewrite the position part of the URL (scenario kept), without a history entry. */
export function setUrlPosition(p: Partial<LinkPosition>): void {
  const q = new URLSearchParams(location.search);
  if (p.at !== undefined) {
    if (p.at) q.set('at', p.at);
    else q.delete('at');
  }
  if (p.sel !== undefined) {
    if (p.sel !== null) q.set('sel', String(p.sel));
    else q.delete('sel');
  }
  // Always the same order, so the same point of the same run has one link.
  const order = SCENARIO_PARAMS;
  const sorted = new URLSearchParams();
  for (const k of order) if (q.has(k)) sorted.set(k, q.get(k)!);
  for (const [k, v] of q) if (!order.includes(k)) sorted.append(k, v);
  const search = sorted.toString();
  const url = `${location.pathname}${search ? `?${search}` : ''}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
}

/** The current URL's other parameters (a page's `view`, `lesson`, `step`) appended to `search`. */
function withPageParams(search: string): string {
  const q = new URLSearchParams(search);
  for (const [k, v] of new URLSearchParams(location.search)) {
    // Scenario parameters come from `search` only (an absent one means its default).
    if (!SCENARIO_PARAMS.includes(k)) q.append(k, v);
  }
  return `?${q.toString()}`;
}

export function defaultScenario(): ScenarioSel {
  return { guestId: guests[0]?.id ?? 'hello', technique: 'native', vms: 1, machine: 'pc' };
}

function prepareLoad(): void {
  useUi.getState().set({ loading: true, loadError: null });
}

/**
 * Load the selected built-in scenario and record it in the URL. With a position (a shared link),
 * the worker replays the run to it and the trap `pos.sel` is selected once it exists.
 */
export function loadScenario(s: ScenarioSel, pos?: LinkPosition): void {
  const ui = useUi.getState();
  ui.set({
    scenario: s,
    pendingUpload: null,
    pendingSel: pos?.sel ?? null,
    pendingAfterReplay: !!pos?.at,
  });
  const url = `${location.pathname}${withPageParams(searchFromScenario(s, pos))}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
  prepareLoad();
  emulator().send({
    type: 'load',
    scenario: { guest: { kind: 'builtin', id: s.guestId }, ...machineOf(s) },
    ...(pos?.at ? { position: pos.at } : {}),
  });
}

/** The scenario's technique, VM count and (when not the plain PC) machine, for a load message. */
function machineOf(s: ScenarioSel): Omit<Scenario, 'guest'> {
  const out: Omit<Scenario, 'guest'> = { technique: s.technique, vms: s.vms };
  if (s.machine !== 'pc' && machineApplies(s.technique)) out.machine = s.machine;
  // VT-x's paging mode: only shadow differs from the default (EPT).
  if (s.technique === 'hardware-assisted' && s.paging === 'shadow') out.paging = 'shadow';
  if (s.hosting === 'type2') out.hosting = 'type2';
  if (s.cpuModel) out.cpuModel = s.cpuModel;
  return out;
}

let lastUpload: UploadedGuest | null = null;

/** Load a guest from disk with the selected technique and VM count (the bytes are kept, so a
 *  technique change can reload it). */
export function loadUpload(guest: UploadedGuest): void {
  const ui = useUi.getState();
  lastUpload = guest;
  prepareLoad();
  ui.set({ pendingUpload: guest.name });
  emulator().send({
    type: 'load',
    scenario: { guest: { kind: 'upload', guest }, ...machineOf(ui.scenario) },
  });
}

/** The selection changed: reload whatever is running (the uploaded guest or a built-in one). */
export function changeScenario(s: ScenarioSel): void {
  const ui = useUi.getState();
  if (ui.uploadName && lastUpload && s.guestId === ui.scenario.guestId) {
    ui.set({ scenario: s });
    loadUpload(lastUpload);
  } else loadScenario(s);
}

export const SPEEDS: { label: string; ips: number | null }[] = [
  { label: 'Full speed', ips: null },
  { label: '1 M instr/s', ips: 1_000_000 },
  { label: '100 k instr/s', ips: 100_000 },
  { label: '10 k instr/s', ips: 10_000 },
  { label: '1 k instr/s', ips: 1000 },
  { label: '100 instr/s', ips: 100 },
  { label: 'Slow: 10 instr/s', ips: 10 },
  { label: 'Slow: 4 instr/s', ips: 4 },
  { label: 'Slow: 1 instr/s', ips: 1 },
];

export const commands = {
  run: () => emulator().send({ type: 'run' }),
  pause: () => emulator().send({ type: 'pause' }),
  toggle: () => (useUi.getState().status?.running ? commands.pause() : commands.run()),
  step: () => emulator().send({ type: 'step' }),
  stepToTrap: () => {
    const skip = useUi.getState().skipKinds;
    emulator().send(skip.length ? { type: 'stepToTrap', skip } : { type: 'stepToTrap' });
  },
  runUntil: () => emulator().send({ type: 'runUntilTrapKind', kind: useUi.getState().untilKind }),
  reset: () => {
    emulator().clearSerial();
    const ui = useUi.getState();
    ui.resetRun();
    ui.set({ pendingSel: null });
    emulator().send({ type: 'reset' });
  },
  setSpeed: (ips: number | null) => {
    useUi.getState().set({ speed: ips });
    emulator().send({ type: 'setSpeed', ips });
  },
  speedStep: (dir: 1 | -1) => {
    const cur = SPEEDS.findIndex((s) => s.ips === useUi.getState().speed);
    const next = Math.min(SPEEDS.length - 1, Math.max(0, cur + (dir > 0 ? -1 : 1)));
    commands.setSpeed(SPEEDS[next].ips);
  },
};
