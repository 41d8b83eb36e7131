/**
 * `?view=compare&guest=G&techniques=a,b[,c,d]&input=…`: the same guest under two to four techniques
 * at once, each in its own emulator worker, consoles side by side. What you type in any console
 * (or the input box) goes to every machine; counters (instructions, trap records per kind,
 * modelled cycles, virtual time) sit side by side, and a uPlot chart draws trap records over
 * virtual time. The URL carries the comparison, so it is a share link.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { findGuest, guestAvailable, guests } from '../../worker/guests.ts';
import { type StatusView, TECHNIQUES, type TechniqueId } from '../../worker/protocol.ts';
import { TECHNIQUE_LABELS } from '../scenario.ts';
import { CompareMachine, type MachineCounters } from './machine.ts';
import { type Series, TrapsChart } from './TrapsChart.tsx';
import './compare.css';

const SHORT: Record<string, TechniqueId> = {
  bt: 'binary-translation',
  pv: 'paravirtual',
  vtx: 'hardware-assisted',
};
const COLORS = ['#ff8a65', '#7cc4ff', '#c3e88d', '#c792ea'];
/** Chart samples kept per machine (older ones are thinned out). */
const MAX_SAMPLES = 2000;
/** Virtual quiet time after which the link's input is typed (20 ms, 2 M ticks as in the CLI). */
const INPUT_QUIET_NS = 20_000_000;
/** Lockstep: how far (virtual ns) a machine may run ahead of the slowest. */
const LEAD_NS = 20_000_000;

export interface Comparison {
  guest: string;
  techniques: TechniqueId[];
  input: string;
}

export function comparisonFromSearch(search: string): { cmp: Comparison; problem: string | null } {
  const q = new URLSearchParams(search);
  const guest = q.get('guest') ?? 'minikernel';
  const raw = (q.get('techniques') ?? 'native,trap-and-emulate').split(',').filter(Boolean);
  const techniques: TechniqueId[] = [];
  const bad: string[] = [];
  for (const r of raw) {
    const t = (SHORT[r] ?? r) as TechniqueId;
    if ((TECHNIQUES as readonly string[]).includes(t) && !techniques.includes(t)) techniques.push(t);
    else bad.push(r);
  }
  let problem: string | null = null;
  if (!findGuest(guest)) problem = `there is no built-in guest called '${guest}'`;
  else if (bad.length) problem = `unknown technique ${bad.map((b) => `'${b}'`).join(', ')}`;
  else if (techniques.length < 2 || techniques.length > 4) problem = 'choose two to four techniques';
  return { cmp: { guest, techniques: techniques.slice(0, 4), input: q.get('input') ?? '' }, problem };
}

function searchOf(c: Comparison): string {
  const q = new URLSearchParams({ view: 'compare', guest: c.guest, techniques: c.techniques.join(',') });
  if (c.input) q.set('input', c.input);
  return `?${q.toString()}`;
}

interface PaneState {
  counters: MachineCounters;
  status: StatusView | null;
  error: string | null;
}
const ZERO: MachineCounters = { instructions: 0, virtualTimeNs: 0, traps: 0, trapsByKind: [], cycles: 0 };
const fmt = (n: number) => n.toLocaleString('en-US');

/** A console: xterm, keys typed into it go to every machine. */
function Console({
  technique,
  register,
  onKeys,
}: {
  technique: TechniqueId;
  register: (t: TechniqueId, write: ((s: string) => void) | null) => void;
  onKeys: (s: string) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const keys = useRef(onKeys);
  keys.current = onKeys;
  useEffect(() => {
    const term = new Terminal({
      fontSize: 14,
      lineHeight: 1.1,
      scrollback: 2000,
      fontFamily: 'var(--font-mono), "DejaVu Sans Mono", monospace',
      theme: { background: '#0b0f16', foreground: '#d9dfe9' },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current!);
    fit.fit();
    const sub = term.onData((d) => keys.current(d));
    register(technique, (s) => term.write(s));
    const ro = new ResizeObserver(() => fit.fit());
    ro.observe(host.current!);
    return () => {
      register(technique, null);
      ro.disconnect();
      sub.dispose();
      term.dispose();
    };
  }, [technique, register]);
  return <div ref={host} className="cmp-term" data-testid={`cmp-console-${technique}`} />;
}

export default function ComparePage() {
  const initial = useMemo(() => comparisonFromSearch(location.search), []);
  const [cmp, setCmp] = useState<Comparison>(initial.cmp);
  const [problem, setProblem] = useState<string | null>(initial.problem);
  const [panes, setPanes] = useState<Record<string, PaneState>>({});
  const [kindNames, setKindNames] = useState<string[]>([]);
  const [series, setSeries] = useState<Series[]>([]);
  const [typed, setTyped] = useState('');
  const [chartWidth, setChartWidth] = useState(1200);
  const machines = useRef(new Map<TechniqueId, CompareMachine>());
  const writers = useRef(new Map<TechniqueId, (s: string) => void>());
  const backlog = useRef(new Map<TechniqueId, string>());
  const samples = useRef(new Map<TechniqueId, { xs: number[]; ys: number[] }>());
  const transcript = useRef(new Map<TechniqueId, string>());
  const chartBox = useRef<HTMLDivElement>(null);
  const lockstep = useRef(true);
  const paceRef = useRef<() => void>(() => {});
  /** Pause all: nothing stays held for lockstep (it would be released and run on). */
  const holdRef = useRef<() => void>(() => {});
  const [lock, setLock] = useState(true);

  const register = useCallback((t: TechniqueId, write: ((s: string) => void) | null) => {
    if (!write) {
      writers.current.delete(t);
      return;
    }
    writers.current.set(t, write);
    const pending = backlog.current.get(t);
    if (pending) write(pending);
    backlog.current.delete(t);
  }, []);

  const sendAll = useCallback((text: string) => {
    const bytes = new TextEncoder().encode(text);
    for (const m of machines.current.values()) m.type(bytes);
  }, []);

  // One worker per technique; rebuilt when the comparison changes.
  useEffect(() => {
    if (problem) return;
    history.replaceState(null, '', `${location.pathname}${searchOf(cmp)}`);
    const ms = machines.current;
    samples.current.clear();
    transcript.current.clear();
    setPanes({});
    setSeries([]);
    // Lockstep: a machine more than LEAD_NS of virtual time ahead of the slowest running one is
    // paused until that one catches up, so the counters compare the same stretch of guest time.
    const clocks = new Map<TechniqueId, { ns: number; active: boolean; held: boolean }>();
    const pace = () => {
      const active = [...clocks.entries()].filter(([, c]) => c.active);
      if (active.length === 0) return;
      const min = Math.min(...active.map(([, c]) => c.ns));
      for (const [tech, c] of active) {
        const mm = ms.get(tech);
        if (!mm) continue;
        if (lockstep.current && !c.held && c.ns > min + LEAD_NS) {
          c.held = true;
          mm.pause();
        } else if (c.held && (!lockstep.current || c.ns <= min + LEAD_NS / 2)) {
          c.held = false;
          mm.run();
        }
      }
    };
    paceRef.current = pace;
    holdRef.current = () => {
      for (const c of clocks.values()) {
        c.held = false;
        c.active = false;
      }
    };
    const input = cmp.input.replace(/\\r/g, '\r').replace(/\\n/g, '\n');
    for (const t of cmp.techniques) {
      samples.current.set(t, { xs: [], ys: [] });
      clocks.set(t, { ns: 0, active: false, held: false });
      // The link's input is typed into each machine once its console has printed and then been
      // quiet for INPUT_QUIET_NS of its virtual time (at its prompt), as `traplab compare` does.
      let lastOutputNs = 0;
      let printedNow = false;
      let inputDue = input.length > 0;
      const m = new CompareMachine(t, {
        serial: (s) => {
          printedNow = true;
          transcript.current.set(t, (transcript.current.get(t) ?? '') + s);
          const w = writers.current.get(t);
          if (w) w(s);
          else backlog.current.set(t, (backlog.current.get(t) ?? '') + s);
        },
        loaded: (names) => {
          setKindNames(names);
          m.run();
        },
        frame: (counters, status) => {
          const nowNs = counters.virtualTimeNs;
          if (printedNow) lastOutputNs = nowNs;
          printedNow = false;
          const printed = (transcript.current.get(t) ?? '').length > 0;
          if (inputDue && printed && nowNs - lastOutputNs >= INPUT_QUIET_NS) {
            inputDue = false;
            m.type(new TextEncoder().encode(input));
          }
          const sm = samples.current.get(t)!;
          const x = counters.virtualTimeNs / 1e6;
          if (sm.xs.length === 0 || x > sm.xs[sm.xs.length - 1]) {
            sm.xs.push(x);
            sm.ys.push(counters.traps);
            if (sm.xs.length > MAX_SAMPLES) {
              sm.xs = sm.xs.filter((_, i) => i % 2 === 0);
              sm.ys = sm.ys.filter((_, i) => i % 2 === 0);
            }
          }
          const c = clocks.get(t)!;
          c.ns = nowNs;
          c.active = status.running || c.held;
          pace();
          setPanes((p) => ({ ...p, [t]: { counters, status, error: p[t]?.error ?? null } }));
        },
        error: (message) =>
          setPanes((p) => ({
            ...p,
            [t]: { counters: p[t]?.counters ?? ZERO, status: p[t]?.status ?? null, error: message },
          })),
      });
      ms.set(t, m);
      m.load(cmp.guest);
    }
    // Redraw the chart a few times a second, not on every frame.
    const timer = setInterval(() => {
      setSeries(
        cmp.techniques.map((t, i) => {
          const s = samples.current.get(t)!;
          return { label: t, color: COLORS[i], xs: s.xs.slice(), ys: s.ys.slice() };
        }),
      );
    }, 300);
    (window as unknown as { __compareTranscript?: (t: string) => string }).__compareTranscript = (t) =>
      transcript.current.get(t as TechniqueId) ?? '';
    return () => {
      clearInterval(timer);
      for (const m of ms.values()) m.dispose();
      ms.clear();
    };
  }, [cmp, problem]);

  useEffect(() => {
    const el = chartBox.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setChartWidth(Math.max(300, el.clientWidth - 8)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const kindsSeen = kindNames
    .map((name, k) => ({ name, k }))
    .filter(({ k }) => Object.values(panes).some((p) => (p.counters.trapsByKind[k] ?? 0) > 0));

  const change = (next: Comparison) => {
    const q = new URLSearchParams({ guest: next.guest, techniques: next.techniques.join(',') });
    const r = comparisonFromSearch(`?${q.toString()}`);
    setProblem(r.problem);
    if (!r.problem) setCmp({ ...r.cmp, input: '' });
  };
  const toggle = (t: TechniqueId) => {
    const has = cmp.techniques.includes(t);
    const techniques = has ? cmp.techniques.filter((x) => x !== t) : [...cmp.techniques, t];
    if (techniques.length < 2 || techniques.length > 4) return;
    change({ ...cmp, techniques: TECHNIQUES.filter((x) => techniques.includes(x)) });
  };

  return (
    <div className="cmp-page" data-testid="cmp-page">
      <header className="cmp-head">
        <a href={location.pathname} className="cmp-back">
          ← Playground
        </a>
        <h1>Side by side</h1>
        <label>
          Guest{' '}
          <select
            data-testid="cmp-guest"
            value={cmp.guest}
            onChange={(e) => change({ ...cmp, guest: e.target.value })}
          >
            {guests.filter(guestAvailable).map((g) => (
              <option key={g.id} value={g.id}>
                {g.id}
              </option>
            ))}
          </select>
        </label>
        <span className="cmp-techs">
          {TECHNIQUES.map((t) => (
            <label key={t}>
              <input
                type="checkbox"
                checked={cmp.techniques.includes(t)}
                onChange={() => toggle(t)}
                data-testid={`cmp-tech-${t}`}
              />{' '}
              {t}
            </label>
          ))}
        </span>
        <label title="Pause whichever machine runs ahead in virtual time until the others catch up">
          <input
            type="checkbox"
            checked={lock}
            data-testid="cmp-lockstep"
            onChange={(e) => {
              lockstep.current = e.target.checked;
              setLock(e.target.checked);
              paceRef.current();
            }}
          />{' '}
          lockstep in virtual time
        </label>
        <button
          type="button"
          onClick={() => {
            holdRef.current();
            for (const m of machines.current.values()) m.pause();
          }}
        >
          Pause all
        </button>
        <button
          type="button"
          onClick={() => {
            for (const m of machines.current.values()) m.run();
          }}
        >
          Run all
        </button>
      </header>
      {problem && (
        <p className="cmp-problem" data-testid="cmp-problem">
          Cannot compare: {problem}.
        </p>
      )}
      <form
        className="cmp-input"
        onSubmit={(e) => {
          e.preventDefault();
          sendAll(`${typed}\r`);
          setTyped('');
        }}
      >
        <label>
          Type to every machine{' '}
          <input
            data-testid="cmp-input"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            placeholder="e.g. help — Enter sends it, with a carriage return"
          />
        </label>
        <span className="cmp-hint">Keys typed into any console also go to all of them.</span>
      </form>
      <div className="cmp-grid" style={{ gridTemplateColumns: `repeat(${cmp.techniques.length}, 1fr)` }}>
        {cmp.techniques.map((t, i) => {
          const p = panes[t];
          return (
            <section key={t} className="cmp-pane">
              <h2 style={{ borderColor: COLORS[i] }}>{TECHNIQUE_LABELS[t]}</h2>
              <Console technique={t} register={register} onKeys={sendAll} />
              <div className="cmp-state" data-testid={`cmp-state-${t}`}>
                {p?.error ?? (p?.status ? stateText(p.status) : 'loading…')}
              </div>
            </section>
          );
        })}
      </div>
      <table className="cmp-counters" data-testid="cmp-counters">
        <thead>
          <tr>
            <th />
            {cmp.techniques.map((t, i) => (
              <th key={t} style={{ color: COLORS[i] }}>
                {t}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <Row
            label="instructions"
            cells={cmp.techniques.map((t) => fmt(panes[t]?.counters.instructions ?? 0))}
          />
          <Row
            label="virtual time"
            cells={cmp.techniques.map(
              (t) => `${((panes[t]?.counters.virtualTimeNs ?? 0) / 1e6).toFixed(3)} ms`,
            )}
          />
          <Row label="trap records" cells={cmp.techniques.map((t) => fmt(panes[t]?.counters.traps ?? 0))} />
          {kindsSeen.map(({ name, k }) => (
            <Row
              key={k}
              label={`  ${name}`}
              indent
              cells={cmp.techniques.map((t) => fmt(panes[t]?.counters.trapsByKind[k] ?? 0))}
            />
          ))}
          <Row
            label="modelled cycles"
            cells={cmp.techniques.map((t) => fmt(panes[t]?.counters.cycles ?? 0))}
          />
        </tbody>
      </table>
      <div ref={chartBox} className="cmp-chart-box">
        <h2>Trap records over virtual time</h2>
        <TrapsChart series={series} width={chartWidth} />
      </div>
    </div>
  );
}

function Row({ label, cells, indent }: { label: string; cells: string[]; indent?: boolean }) {
  return (
    <tr>
      <th className={indent ? 'cmp-indent' : undefined}>{label.trim()}</th>
      {cells.map((c, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: one column per technique, in order
        <td key={i}>{c}</td>
      ))}
    </tr>
  );
}

function stateText(s: StatusView): string {
  if (s.state === 'exited') return `exited (status ${s.exitCode})`;
  if (s.state === 'stopped' || s.state === 'shutdown') return `${s.state}${s.reason ? `: ${s.reason}` : ''}`;
  return s.running ? 'running' : s.state;
}
