import { useState } from 'react';
import { findGuest, guestAvailable, guests } from '../worker/guests.ts';
import { MACHINES, MAX_VMS, type MachineId, TECHNIQUES, type TechniqueId } from '../worker/protocol.ts';
import { CpuModelPicker } from './cpu-model/CpuModelPicker.tsx';
import {
  ClassroomIcon,
  HelpIcon,
  LinkIcon,
  MoonIcon,
  OpenIcon,
  PauseIcon,
  PlayIcon,
  ResetIcon,
  StepIcon,
  SunIcon,
  TrapIcon,
  UntilIcon,
} from './Icons.tsx';
import { LessonsHint } from './LessonsHint.tsx';
import { PAGES, pageHref } from './pages/registry.ts';
import { StopCallout } from './StopCallout.tsx';
import {
  changeScenario,
  commands,
  loadScenario,
  MACHINE_BLURBS,
  MACHINE_LABELS,
  machineApplies,
  SPEEDS,
  TECHNIQUE_BLURBS,
  TECHNIQUE_LABELS,
} from './scenario.ts';
import { useUi } from './store.ts';

const isTestGuest = (id: string) => id.startsWith('cpu-') || id.startsWith('bench');
const isSensitiveDemo = (id: string) => id.startsWith('sensitive-');
const GUEST_GROUPS: [string, (id: string) => boolean][] = [
  ['Teaching guests', (id) => !isTestGuest(id) && !isSensitiveDemo(id)],
  ['Popek–Goldberg demos (one sensitive instruction each)', isSensitiveDemo],
  ['CPU tests and benchmarks', isTestGuest],
];

/**
 * The guest list never changes while the page is open: built once, its elements are the same
 * objects on every render, so the toolbar's re-render at each Run and stop skips its ~40 options.
 */
const GUEST_OPTIONS = GUEST_GROUPS.map(([label, test]) => (
  <optgroup key={label} label={label}>
    {guests
      .filter((g) => test(g.id))
      .map((g) => (
        <option key={g.id} value={g.id} disabled={!guestAvailable(g)}>
          {g.title}
          {guestAvailable(g) ? '' : ' (image not built)'}
        </option>
      ))}
  </optgroup>
));

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is passed as children
    <label className="field">
      <span className="field-label">{label}</span>
      {children}
    </label>
  );
}

export function Toolbar() {
  const scenario = useUi((s) => s.scenario);
  const uploadName = useUi((s) => s.uploadName);
  const available = useUi((s) => s.techniques);
  const running = useUi((s) => s.status?.running ?? false);
  const runState = useUi((s) => s.status?.state);
  const loaded = useUi((s) => s.loaded);
  const speed = useUi((s) => s.speed);
  const untilKind = useUi((s) => s.untilKind);
  const theme = useUi((s) => s.theme);
  const classroom = useUi((s) => s.classroom);
  const set = useUi((s) => s.set);
  const canRun = !!loaded && (runState === 'running' || runState === 'idle');
  const kinds = loaded?.names.kinds ?? [];
  // Any technique with a VMM logs records to step to; native has none (generic: new techniques
  // get stepping without a change here).
  const noVmm = loaded?.technique === 'native';
  const noVmmTitle = 'Native execution has no VMM, so no trap ever comes: choose a VMM technique';

  const guestValue = uploadName ? '__upload' : scenario.guestId;
  return (
    <header className="toolbar" role="toolbar" aria-label="Scenario and run controls">
      <div className="brand" title="TrapLab — watch a hypervisor trap by trap">
        <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
          <rect width="32" height="32" rx="7" fill="var(--brand-bg)" />
          <path d="M7 9h18M16 9v15" stroke="var(--accent)" strokeWidth="3.2" strokeLinecap="round" />
          <circle cx="24" cy="22" r="3.4" fill="var(--warn)" />
        </svg>
        <span>TrapLab</span>
      </div>
      <PageLinks />

      <div className="tb-group scenario">
        <Field label="Guest">
          <select
            data-testid="guest-select"
            value={guestValue}
            onChange={(e) => {
              if (e.target.value === '__upload') return;
              // A guest built for a machine (linux-apic: pc-apic) brings it along on native.
              const wants = findGuest(e.target.value)?.machine;
              const machine =
                wants && machineApplies(scenario.technique) && (MACHINES as readonly string[]).includes(wants)
                  ? (wants as MachineId)
                  : scenario.machine;
              loadScenario({ ...scenario, guestId: e.target.value, machine });
            }}
          >
            {uploadName ? <option value="__upload">{uploadName} (from disk)</option> : null}
            {GUEST_OPTIONS}
          </select>
        </Field>
        <button
          type="button"
          className="btn ghost icon-only"
          title="Load a guest from disk (multiboot ELF, bzImage + initrd, raw image)  [O]"
          aria-label="Load a guest from disk"
          data-testid="open-file"
          onClick={() => set({ loadOpen: true })}
        >
          <OpenIcon />
        </button>
        <Field label="Technique">
          <select
            data-testid="technique-select"
            value={scenario.technique}
            title={TECHNIQUE_BLURBS[scenario.technique]}
            onChange={(e) => {
              const technique = e.target.value as TechniqueId;
              // Native has no VMM to multiplex VMs: it always runs exactly one guest. A VMM gives
              // each VM the plain PC.
              changeScenario({
                ...scenario,
                technique,
                vms: technique === 'native' ? 1 : scenario.vms,
                // Type 2 needs a VMM to host.
                ...(technique === 'native' ? { hosting: undefined } : {}),
                machine: machineApplies(technique) ? scenario.machine : 'pc',
              });
            }}
          >
            {TECHNIQUES.map((t) => {
              const meant = findGuest(scenario.guestId)?.techniques.includes(t) ?? true;
              const built = available === null || available.includes(t);
              return (
                <option key={t} value={t} disabled={!built}>
                  {TECHNIQUE_LABELS[t]}
                  {!built ? ' (not built yet)' : meant || uploadName ? '' : ' (not for this guest)'}
                </option>
              );
            })}
          </select>
        </Field>
        <Field label="VMs">
          <select
            data-testid="vms-select"
            value={scenario.vms}
            disabled={scenario.technique === 'native'}
            title={
              scenario.technique === 'native'
                ? 'Native runs one guest on the bare machine; choose a VMM technique to run several VMs'
                : 'Number of VMs the hypervisor runs side by side'
            }
            onChange={(e) => {
              const vms = Number(e.target.value);
              // Type 2 runs one VM (one VMApp): more VMs go back to Type 1.
              changeScenario({ ...scenario, vms, ...(vms > 1 ? { hosting: undefined } : {}) });
            }}
          >
            {Array.from({ length: MAX_VMS }, (_, i) => i + 1).map((n) => (
              <option key={n} value={n}>
                {n === 1 ? '1 VM' : `${n} VMs`}
              </option>
            ))}
          </select>
        </Field>
        {/* One slot: the machine is a native choice (a VMM gives each VM the plain PC), hosting a
            VMM one (native has nothing to host), so only one of the two pickers is ever live. */}
        {scenario.technique === 'native' ? (
          <MachinePicker />
        ) : (
          <Field label="Hosting">
            <select
              data-testid="hosting-select"
              value={scenario.hosting ?? 'type1'}
              title="Type 1: the VMM owns the PC. Type 2: a host OS boots first; the VMM runs through its driver (one VM)"
              onChange={(e) => {
                const type2 = e.target.value === 'type2';
                changeScenario({
                  ...scenario,
                  hosting: type2 ? 'type2' : undefined,
                  vms: type2 ? 1 : scenario.vms,
                });
              }}
            >
              <option value="type1">Type 1</option>
              <option value="type2">Type 2</option>
            </select>
          </Field>
        )}
      </div>

      <div className="tb-group run-controls">
        <button
          type="button"
          className={`btn primary ${running ? 'is-running' : ''}`}
          data-testid="run-pause"
          disabled={!canRun && !running}
          onClick={commands.toggle}
          title={running ? 'Pause  [Space]' : 'Run  [Space]'}
        >
          {running ? <PauseIcon /> : <PlayIcon />}
          <span>{running ? 'Pause' : 'Run'}</span>
        </button>
        <button
          type="button"
          className="btn"
          data-testid="step"
          disabled={!canRun || running}
          onClick={commands.step}
          title="Execute one instruction  [S]"
        >
          <StepIcon />
          <span>Step</span>
        </button>
        <button
          type="button"
          className="btn"
          data-testid="step-trap"
          disabled={!canRun || running || noVmm}
          onClick={commands.stepToTrap}
          title={noVmm ? noVmmTitle : 'Run until the next trap record (except the kinds you skip)  [T]'}
        >
          <TrapIcon />
          <span>Next trap</span>
        </button>
        <SkipChooser kinds={kinds} disabled={noVmm || kinds.length === 0} />
        <div className="split-btn">
          <button
            type="button"
            className="btn"
            data-testid="run-until"
            disabled={!canRun || running || kinds.length === 0 || noVmm}
            onClick={commands.runUntil}
            title={noVmm ? noVmmTitle : 'Run until a trap of the chosen kind  [U]'}
          >
            <UntilIcon />
            <span>Until</span>
          </button>
          <select
            aria-label="Trap kind to run until"
            data-testid="until-kind"
            value={untilKind}
            onChange={(e) => set({ untilKind: Number(e.target.value) })}
            disabled={kinds.length === 0 || noVmm}
          >
            {kinds.map((k, i) => (
              <option key={k} value={i}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          className="btn"
          data-testid="reset"
          disabled={!loaded}
          onClick={commands.reset}
          title="Restart the guest from its first instruction  [R]"
        >
          <ResetIcon />
          <span>Reset</span>
        </button>
        {/* No visible label: every option says it is a speed ("Full speed", "1 M instr/s"). */}
        <select
          aria-label="Speed"
          data-testid="speed"
          value={speed === null ? 'max' : String(speed)}
          onChange={(e) => commands.setSpeed(e.target.value === 'max' ? null : Number(e.target.value))}
          title="Slow it down so a class can follow  [ and ]"
        >
          {SPEEDS.map((s) => (
            <option key={s.label} value={s.ips === null ? 'max' : String(s.ips)}>
              {s.label}
            </option>
          ))}
        </select>
        <CpuModelPicker />
      </div>

      <div className="tb-group tb-end">
        <button
          type="button"
          className="btn ghost icon-only"
          aria-label="Copy a link to this scenario and run position"
          title="Copy a link to this scenario and this point of the run (opening it replays the run to here)"
          data-testid="share"
          disabled={!!uploadName}
          onClick={() => {
            const ui = useUi.getState();
            navigator.clipboard
              .writeText(location.href)
              .then(() =>
                ui.toast(
                  ui.status?.position === null
                    ? `Link copied: ${location.href} — this run is too long to carry in a link, so it reproduces the scenario from the start`
                    : `Link copied${new URLSearchParams(location.search).has('at') ? ' (it replays the run to this point)' : ''}: ${location.href}`,
                  'info',
                ),
              )
              .catch(() => ui.toast(`Copy this link: ${location.href}`, 'info'));
          }}
        >
          <LinkIcon />
        </button>
        <button
          type="button"
          className="btn ghost icon-only"
          aria-label={theme === 'dark' ? 'Switch to the light theme' : 'Switch to the dark theme'}
          title="Light / dark theme  [D]"
          onClick={() => set({ theme: theme === 'dark' ? 'light' : 'dark' })}
        >
          {theme === 'dark' ? <SunIcon /> : <MoonIcon />}
        </button>
        <button
          type="button"
          className={`btn ghost icon-only ${classroom ? 'active' : ''}`}
          aria-pressed={classroom}
          aria-label="Classroom mode: large fonts for a projector"
          title="Classroom mode: large fonts for a projector  [C]"
          onClick={() => set({ classroom: !classroom })}
        >
          <ClassroomIcon />
        </button>
        <button
          type="button"
          className="btn ghost icon-only"
          aria-label="Keyboard shortcuts and help"
          title="Keyboard shortcuts and help  [?]"
          data-testid="help"
          onClick={() => set({ helpOpen: true })}
        >
          <HelpIcon />
        </button>
      </div>
    </header>
  );
}

/** The PC model (the CLI's `--machine`): an x87 and/or a local APIC on the native machine. */
function MachinePicker() {
  const scenario = useUi((s) => s.scenario);
  const applies = machineApplies(scenario.technique);
  return (
    <Field label="Machine">
      <select
        data-testid="machine-select"
        value={scenario.machine}
        disabled={!applies}
        title={
          applies
            ? `${MACHINE_LABELS[scenario.machine]}: ${MACHINE_BLURBS[scenario.machine]}`
            : 'Under a VMM every VM is the plain PC (no x87, no local APIC): choose Native to pick the machine'
        }
        onChange={(e) => changeScenario({ ...scenario, machine: e.target.value as MachineId })}
      >
        {MACHINES.map((m) => (
          <option key={m} value={m} title={MACHINE_BLURBS[m]}>
            {MACHINE_LABELS[m]}
          </option>
        ))}
      </select>
    </Field>
  );
}

/**
 * Which trap kinds "Next trap" runs past: polling port I/O or shadow-page fills can bury the traps
 * a lesson is about. Skipped records are still logged (and counted); only stepping ignores them.
 */
function SkipChooser({ kinds, disabled }: { kinds: string[]; disabled: boolean }) {
  const skip = useUi((s) => s.skipKinds);
  const byKind = useUi((s) => s.stats?.trapsByKind);
  const set = useUi((s) => s.set);
  const [open, setOpen] = useState(false);
  const toggle = (k: number) =>
    set({ skipKinds: skip.includes(k) ? skip.filter((x) => x !== k) : [...skip, k].sort((a, b) => a - b) });
  return (
    <div className="skip-chooser">
      <button
        type="button"
        className={`btn small ${skip.length ? 'active' : ''}`}
        data-testid="skip-kinds"
        aria-expanded={open}
        disabled={disabled}
        onClick={() => setOpen(!open)}
        title="Trap kinds Next trap runs past without stopping (they stay in the log)"
      >
        {skip.length ? `Skipping ${skip.length}` : 'Skip…'}
      </button>
      {open && !disabled ? (
        <fieldset className="skip-menu" data-testid="skip-menu">
          <legend>Next trap runs past (still logged):</legend>
          {kinds.map((k, i) => (
            <label key={k}>
              <input type="checkbox" checked={skip.includes(i)} onChange={() => toggle(i)} /> {k}
              {byKind?.[i] ? <span className="muted mono"> {byKind[i].toLocaleString()}</span> : null}
            </label>
          ))}
          <button type="button" className="btn small" onClick={() => setOpen(false)}>
            Done
          </button>
        </fieldset>
      ) : null}
    </div>
  );
}

/** The selected guest's teaching description and the technique's one-liner. */
export function GuestBanner() {
  const scenario = useUi((s) => s.scenario);
  const uploadName = useUi((s) => s.uploadName);
  const loaded = useUi((s) => s.loaded);
  const [open, setOpen] = useState(false);
  const g = findGuest(scenario.guestId);
  const title = uploadName ?? g?.title ?? scenario.guestId;
  const description = uploadName
    ? `A guest loaded from disk. ${loaded?.summary ?? ''}`
    : (g?.description ?? 'No description in guests/manifest.json.');
  return (
    <section
      className={`banner ${open ? 'open' : ''}`}
      data-testid="guest-banner"
      aria-label="About this guest"
    >
      <div className="banner-title">
        <strong>{title}</strong>
        <span className="pill">{TECHNIQUE_LABELS[scenario.technique]}</span>
        {scenario.vms > 1 ? <span className="pill">{scenario.vms} VMs</span> : null}
        {loaded && loaded.machine !== 'pc' ? (
          <span className="pill" data-testid="machine-pill" title={MACHINE_BLURBS[loaded.machine]}>
            {MACHINE_LABELS[loaded.machine]}
          </span>
        ) : null}
        {loaded?.summary ? (
          <span className="muted mono small banner-summary" title={loaded.summary}>
            {loaded.summary}
          </span>
        ) : null}
        {PAGES.some((p) => p.id === 'lessons' && p.nav) ? <LessonsHint /> : null}
        <StopCallout />
      </div>
      <p className="banner-text" data-testid="guest-description">
        {description} <em className="muted">{TECHNIQUE_BLURBS[scenario.technique]}</em>
      </p>
      <button type="button" className="link" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? 'less' : 'more'}
      </button>
    </section>
  );
}

/** Links to the other pages (lessons, labs …) from the page registry. */
function PageLinks() {
  const pages = PAGES.filter((p) => p.nav);
  if (pages.length === 0) return null;
  // The first page (the lessons) is a link of its own; the labs share one small menu, so the
  // toolbar keeps its single row at 1920×1080 in classroom type.
  const [first, ...rest] = pages;
  return (
    <nav className="page-links" aria-label="Pages" data-testid="page-links">
      <a href={pageHref(first.id)} data-testid={`page-link-${first.id}`}>
        {first.title}
      </a>
      {rest.length > 0 ? <LabsMenu pages={rest} /> : null}
    </nav>
  );
}

/** The labs menu: its links exist only while it is open, so they never lie under other controls. */
function LabsMenu({ pages }: { pages: typeof PAGES }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="page-menu" data-testid="page-menu">
      <button
        type="button"
        className="page-menu-button"
        aria-expanded={open}
        data-testid="page-menu-button"
        onClick={() => setOpen(!open)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setOpen(false);
        }}
        onBlur={(e) => {
          // Closes when focus leaves the menu (a click elsewhere); a click on one of its links navigates.
          if (!e.currentTarget.parentElement?.contains(e.relatedTarget as Node | null)) setOpen(false);
        }}
      >
        Labs ▾
      </button>
      {open ? (
        <div className="page-menu-list">
          {pages.map((p) => (
            <a key={p.id} href={pageHref(p.id)} data-testid={`page-link-${p.id}`}>
              {p.title}
            </a>
          ))}
        </div>
      ) : null}
    </div>
  );
}
