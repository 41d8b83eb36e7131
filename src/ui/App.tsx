import { type CSSProperties, lazy, Suspense, useEffect, useRef } from 'react';
import { CodeView } from './CodeView.tsx';
import { HelpOverlay, LoadDialog, Toasts } from './Dialogs.tsx';
import { fmtCount, fmtTimeNs } from './format.ts';
import { HostingPanel } from './hosting/HostingPanel.tsx';
import { syncViewWithUrl } from './link-view.ts';
import { PageWalkView } from './paging/PageWalkView.tsx';
import { Registers } from './Registers.tsx';
import { RingDiagram } from './rings/RingDiagram.tsx';
import { Stats } from './Stats.tsx';
import {
  commands,
  defaultScenario,
  loadScenario,
  positionFromSearch,
  scenarioFromSearch,
  setUrlPosition,
} from './scenario.ts';
import { exitText, statusNoteText } from './status-text.ts';
import { type UiState, useUi } from './store.ts';
import { GuestBanner, Toolbar } from './Toolbar.tsx';
import { TrapLog } from './TrapLog.tsx';
import { startSampling } from './timeline/samples.ts';
import { Timeline } from './timeline/Timeline.tsx';
import { TranslationView } from './translation/TranslationView.tsx';
import { VmcsPanel } from './vmcs/VmcsPanel.tsx';

// xterm is most of the bundle: load it in its own chunk while the rest of the page comes up.
// Output that arrives first waits in the emulator client's backlog.
const Consoles = lazy(() => import('./Consoles.tsx').then((m) => ({ default: m.Consoles })));

function isTyping(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  if (t.closest('.xterm')) return true;
  return t.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName);
}

function useShortcuts() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const ui = useUi.getState();
      if (e.key === 'Escape') {
        if (ui.helpOpen || ui.loadOpen) ui.set({ helpOpen: false, loadOpen: false });
        else if (document.activeElement instanceof HTMLElement && document.activeElement.closest('.xterm')) {
          document.activeElement.blur();
        }
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target) || ui.helpOpen || ui.loadOpen) return;
      const k = e.key;
      // Space/Enter on a focused button is that button's click, not a shortcut.
      if ((k === ' ' || k === 'Enter') && e.target instanceof HTMLElement && e.target.closest('button'))
        return;
      const act: Record<string, () => void> = {
        ' ': commands.toggle,
        s: commands.step,
        F10: commands.step,
        t: commands.stepToTrap,
        u: commands.runUntil,
        r: commands.reset,
        '[': () => commands.speedStep(-1),
        ']': () => commands.speedStep(1),
        f: () => ui.set({ follow: !ui.follow }),
        o: () => ui.set({ loadOpen: true }),
        d: () => ui.set({ theme: ui.theme === 'dark' ? 'light' : 'dark' }),
        c: () => ui.set({ classroom: !ui.classroom }),
        '?': () => ui.set({ helpOpen: true }),
      };
      const f = act[k] ?? act[k.toLowerCase()];
      if (f && !(k.length === 1 && k !== k.toLowerCase() && k !== '?')) {
        e.preventDefault();
        f();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

/** A drag handle that sets a fraction of its parent's size. */
function Splitter({ dir, prop }: { dir: 'col' | 'row'; prop: 'colSplit' | 'leftSplit' | 'rightSplit' }) {
  const ref = useRef<HTMLDivElement>(null);
  const onDown = (e: React.PointerEvent) => {
    const parent = ref.current?.parentElement;
    if (!parent) return;
    e.preventDefault();
    (e.target as HTMLElement).setPointerCapture(e.pointerId);
    const rect = parent.getBoundingClientRect();
    const move = (ev: PointerEvent) => {
      const f = dir === 'col' ? (ev.clientX - rect.left) / rect.width : (ev.clientY - rect.top) / rect.height;
      useUi.getState().set({ [prop]: Math.min(0.85, Math.max(0.15, f)) } as Partial<UiState>);
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };
  const onKey = (e: React.KeyboardEvent) => {
    const d = { ArrowLeft: -0.03, ArrowUp: -0.03, ArrowRight: 0.03, ArrowDown: 0.03 }[e.key];
    if (d === undefined) return;
    e.preventDefault();
    const v = useUi.getState()[prop];
    useUi.getState().set({ [prop]: Math.min(0.85, Math.max(0.15, v + d)) } as Partial<UiState>);
  };
  return (
    // biome-ignore lint/a11y/useSemanticElements: an interactive pane separator (WAI-ARIA window splitter)
    <div
      ref={ref}
      className={`splitter ${dir}`}
      role="separator"
      aria-orientation={dir === 'col' ? 'vertical' : 'horizontal'}
      aria-valuenow={Math.round(useUi.getState()[prop] * 100)}
      tabIndex={0}
      onPointerDown={onDown}
      onKeyDown={onKey}
    />
  );
}

function StatusBar() {
  const status = useUi((s) => s.status);
  const stats = useUi((s) => s.stats);
  const loaded = useUi((s) => s.loaded);
  const loading = useUi((s) => s.loading);
  const speed = useUi((s) => s.speed);
  const panic = useUi((s) => s.panic);
  const st = status?.state;
  const state = panic
    ? 'stopped'
    : loading
      ? 'loading'
      : !loaded || !st
        ? 'empty'
        : status.running
          ? 'running'
          : st === 'running' || st === 'idle'
            ? 'paused'
            : st;
  const replay = status?.replay;
  const pct = replay && replay.total > 0 ? ` ${Math.floor((100 * replay.done) / replay.total)}%` : '';
  const note = loading
    ? 'Loading the guest…'
    : !loaded
      ? 'No guest loaded'
      : panic && status?.running
        ? `Running — but the guest kernel panicked: ${panic}`
        : `${status ? statusNoteText(status) : ''}${pct}`;
  return (
    <footer
      className="statusbar"
      data-testid="statusbar"
      data-instructions={stats?.instructions ?? 0}
      data-running={status?.running ? 'yes' : 'no'}
    >
      <span className={`dot s-${state}`} aria-hidden="true" />
      <span data-testid="status-note" className="status-note" title={note}>
        {note}
      </span>
      {status?.state === 'exited' ? (
        <span className="pill" data-testid="exit-pill" title={`exit status ${status.exitCode}`}>
          {exitText(status)}
        </span>
      ) : null}
      <span className="spacer" />
      {stats ? (
        <>
          <span className="sb-item" title="Instructions retired">
            <span className="muted">instr</span> <span className="mono">{fmtCount(stats.instructions)}</span>
          </span>
          <span className="sb-item" title="Measured emulation speed">
            <span className="mono">{stats.mips > 0 ? stats.mips.toFixed(1) : '—'}</span>{' '}
            <span className="muted">MIPS</span>
          </span>
          <span className="sb-item" title="Virtual time (derived from the instruction count)">
            <span className="muted">virtual</span>{' '}
            <span className="mono">{fmtTimeNs(stats.virtualTimeNs)}</span>
          </span>
          {speed !== null ? <span className="pill">{fmtCount(speed)} instr/s</span> : null}
        </>
      ) : null}
    </footer>
  );
}

export function App() {
  const theme = useUi((s) => s.theme);
  const classroom = useUi((s) => s.classroom);
  const helpOpen = useUi((s) => s.helpOpen);
  const loadOpen = useUi((s) => s.loadOpen);
  const rightTab = useUi((s) => s.rightTab);
  const technique = useUi((s) => s.loaded?.technique);
  const colSplit = useUi((s) => s.colSplit);
  const leftSplit = useUi((s) => s.leftSplit);
  const rightSplit = useUi((s) => s.rightSplit);
  const hasVirtual = useUi((s) => !!s.regs?.virtual);
  const set = useUi((s) => s.set);
  useShortcuts();

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.dataset.classroom = classroom ? 'on' : 'off';
    try {
      localStorage.setItem('traplab.theme', theme);
      localStorage.setItem('traplab.classroom', classroom ? '1' : '0');
    } catch {
      /* storage may be unavailable */
    }
  }, [theme, classroom]);

  useEffect(startSampling, []);

  useEffect(() => {
    const s = scenarioFromSearch(location.search, defaultScenario());
    // The link's tab and EPT address first: loading rewrites the URL, keeping them.
    const unsync = syncViewWithUrl(s.technique);
    loadScenario(s, positionFromSearch(location.search));
    return unsync;
  }, []);

  // The selected trap goes into the URL (as its sequence number), so a shared link selects it too.
  useEffect(
    () =>
      useUi.subscribe((s, p) => {
        if (s.selectedTrap === p.selectedTrap || s.pendingSel !== null || s.uploadName) return;
        const first = s.stats ? s.stats.trapTotal - s.stats.trapHeld : 0;
        setUrlPosition({ sel: s.selectedTrap === null ? null : first + s.selectedTrap });
      }),
    [],
  );

  return (
    <div className="app" data-testid="app">
      <Toolbar />
      <GuestBanner />
      <main
        className="workspace"
        style={{ '--cols': `minmax(0, ${colSplit}fr) 6px minmax(0, ${1 - colSplit}fr)` } as CSSProperties}
      >
        <section
          className="column"
          style={{ '--rows': `minmax(0, ${leftSplit}fr) 6px minmax(0, ${1 - leftSplit}fr)` } as CSSProperties}
        >
          <section className="panel" aria-label="Serial consoles">
            <div className="panel-head">
              <h2>Console</h2>
              <span className="muted small">COM1 · click to type · Esc or Shift+Tab leaves</span>
            </div>
            <Suspense fallback={<div className="empty">Starting the console…</div>}>
              <Consoles />
            </Suspense>
          </section>
          <Splitter dir="row" prop="leftSplit" />
          <div className="panel">
            <TrapLog />
          </div>
        </section>
        <Splitter dir="col" prop="colSplit" />
        <section
          className="column"
          style={
            { '--rows': `minmax(0, ${rightSplit}fr) 6px minmax(0, ${1 - rightSplit}fr)` } as CSSProperties
          }
        >
          <section className="panel" aria-label="Registers">
            <div className="panel-head">
              <h2>Registers</h2>
              <span className="muted small">
                <span className="changed-swatch" /> changed since the previous stop
              </span>
              {hasVirtual ? (
                <span
                  className="muted small"
                  title="Dotted underline: the VM's virtual CPU holds a different value than the real CPU"
                >
                  <span className="differs">dotted</span>: virtual ≠ real
                </span>
              ) : null}
            </div>
            <div className="panel-body scroll">
              <Registers />
            </div>
          </section>
          <Splitter dir="row" prop="rightSplit" />
          <div className="panel">
            <div className="panel-head tabs" role="tablist">
              <button
                type="button"
                role="tab"
                aria-selected={rightTab === 'code'}
                className={`tab ${rightTab === 'code' ? 'on' : ''}`}
                onClick={() => set({ rightTab: 'code' })}
              >
                Code &amp; memory
              </button>
              <button
                type="button"
                role="tab"
                aria-selected={rightTab === 'stats'}
                className={`tab ${rightTab === 'stats' ? 'on' : ''}`}
                onClick={() => set({ rightTab: 'stats' })}
                data-testid="stats-tab"
              >
                Stats
              </button>
              <button
                type="button"
                role="tab"
                aria-selected={rightTab === 'rings'}
                className={`tab ${rightTab === 'rings' ? 'on' : ''}`}
                onClick={() => set({ rightTab: 'rings' })}
                data-testid="rings-tab"
              >
                Rings
              </button>
              <button
                type="button"
                role="tab"
                aria-selected={rightTab === 'timeline'}
                className={`tab ${rightTab === 'timeline' ? 'on' : ''}`}
                onClick={() => set({ rightTab: 'timeline' })}
                data-testid="timeline-tab"
              >
                Timeline
              </button>
              <button
                type="button"
                role="tab"
                aria-selected={rightTab === 'hosting'}
                className={`tab ${rightTab === 'hosting' ? 'on' : ''}`}
                onClick={() => set({ rightTab: 'hosting' })}
                data-testid="hosting-tab"
              >
                Hosting
              </button>
              {technique === 'binary-translation' ? (
                <button
                  type="button"
                  role="tab"
                  aria-selected={rightTab === 'translation'}
                  className={`tab ${rightTab === 'translation' ? 'on' : ''}`}
                  onClick={() => set({ rightTab: 'translation' })}
                  data-testid="translation-tab"
                >
                  Translation
                </button>
              ) : null}
              {technique === 'trap-and-emulate' ||
              technique === 'binary-translation' ||
              technique === 'paravirtual' ? (
                <button
                  type="button"
                  role="tab"
                  aria-selected={rightTab === 'paging'}
                  className={`tab ${rightTab === 'paging' ? 'on' : ''}`}
                  onClick={() => set({ rightTab: 'paging' })}
                  data-testid="paging-tab"
                >
                  Paging
                </button>
              ) : null}
              {technique === 'hardware-assisted' ? (
                <button
                  type="button"
                  role="tab"
                  aria-selected={rightTab === 'vmcs'}
                  className={`tab ${rightTab === 'vmcs' ? 'on' : ''}`}
                  onClick={() => set({ rightTab: 'vmcs' })}
                  data-testid="vmcs-tab"
                >
                  VMCS
                </button>
              ) : null}
            </div>
            <div className="panel-body scroll">
              {rightTab === 'code' ? (
                <CodeView />
              ) : rightTab === 'stats' ? (
                <Stats />
              ) : rightTab === 'rings' ? (
                <RingDiagram />
              ) : rightTab === 'translation' ? (
                <TranslationView />
              ) : rightTab === 'vmcs' ? (
                <VmcsPanel />
              ) : rightTab === 'hosting' ? (
                <HostingPanel />
              ) : rightTab === 'paging' ? (
                <PageWalkView />
              ) : (
                <Timeline />
              )}
            </div>
          </div>
        </section>
      </main>
      <StatusBar />
      {helpOpen ? <HelpOverlay /> : null}
      {loadOpen ? <LoadDialog /> : null}
      <Toasts />
    </div>
  );
}
