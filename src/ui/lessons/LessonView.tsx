/**
 * One lesson beside the live playground: the text of one screen at a time (the introduction, then
 * each step), each step's checks evaluated against the live machine on every frame, questions
 * answered from it, and the URL kept at `?view=lessons&lesson=N&step=K` plus the machine's share-
 * link position, so a copied link reopens this lesson, this step and this point of the run.
 */

import { useEffect, useMemo, useState } from 'react';
import { CPU_MODEL_PRESETS } from '../../hypervisor/vmm/cost-model.ts';
import { App } from '../App.tsx';
import { pageHref } from '../pages/registry.ts';
import { TECHNIQUE_LABELS } from '../scenario.ts';
import { useUi } from '../store.ts';
import { findLesson } from './content.ts';
import { openPreset, prepareUrl, presetAvailable, useLive } from './live.ts';
import { Markdown } from './Markdown.tsx';
import type { Lesson, Preset, Step } from './parse.ts';
import { Question } from './Question.tsx';
import { evaluate, type LiveState } from './vocab.ts';

function setUrlParam(k: string, v: string | null): void {
  const q = new URLSearchParams(location.search);
  if (v === null) q.delete(k);
  else q.set(k, v);
  const url = `${location.pathname}?${q.toString()}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
}

function presetText(p: Preset): string {
  const host = p.hosting === 'type2' ? ', hosted (Type 2)' : '';
  const cpu = p.cpu ? `, ${CPU_MODEL_PRESETS[p.cpu].label} CPU` : '';
  const paging = p.paging === 'shadow' ? ', shadow paging' : '';
  return `${p.guest} under ${TECHNIQUE_LABELS[p.technique]}${paging}, ${p.vms} VM${p.vms > 1 ? 's' : ''}${host}${cpu}${p.at ? ', at a saved point of the run' : ''}`;
}

function isCurrent(p: Preset, live: LiveState): boolean {
  const s = live.scenario;
  return (
    !!s &&
    s.guest === p.guest &&
    s.technique === p.technique &&
    s.vms === p.vms &&
    s.cpu === (p.cpu ?? 'none') &&
    (p.technique !== 'hardware-assisted' || s.paging === (p.paging ?? 'ept'))
  );
}

function PresetButton({ p, live, label }: { p: Preset; live: LiveState; label: string }) {
  const ok = presetAvailable(p);
  return (
    <div className="lesson-preset" data-testid="lesson-preset">
      <button
        type="button"
        className={`btn ${isCurrent(p, live) ? '' : 'primary'}`}
        disabled={!ok}
        onClick={() => openPreset(p)}
        data-testid="lesson-open-machine"
      >
        {isCurrent(p, live) ? `Reload: ${label}` : label}
      </button>
      <span className="muted small">{presetText(p)}</span>
      {!ok ? (
        <p className="lesson-pending" data-testid="lesson-pending">
          This machine needs the hosted (Type 2) arrangement, which this build does not have yet.
        </p>
      ) : null}
    </div>
  );
}

function Checklist({ step, live, pending }: { step: Step; live: LiveState; pending: boolean }) {
  return (
    <ul className="lesson-checks" data-testid="lesson-checks">
      {step.checks.map((c, i) => {
        const r = pending ? { ok: false, now: 'waits for the hosted arrangement' } : evaluate(c, live);
        return (
          <li key={step.checkText[i]} data-testid="lesson-check" data-ok={r.ok ? 'yes' : 'no'}>
            <span className={`check-dot ${r.ok ? 'ok' : ''}`} aria-hidden="true">
              {r.ok ? '✓' : '○'}
            </span>
            <span className="check-text mono">{step.checkText[i]}</span>
            {r.ok ? null : <span className="check-now muted small">now: {r.now}</span>}
          </li>
        );
      })}
    </ul>
  );
}

function StepScreen({
  lesson,
  k,
  live,
  done,
}: {
  lesson: Lesson;
  k: number;
  live: LiveState;
  done: boolean;
}) {
  const step = lesson.steps[k - 1];
  const pending = !!step.requires && !presetAvailable({ ...lesson.preset, hosting: step.requires.hosting });
  return (
    <section className="lesson-step" data-testid="lesson-step" data-step={k} data-done={done ? 'yes' : 'no'}>
      <h2>
        <span className="muted">
          Step {k} of {lesson.steps.length}
          {step.optional ? ' (optional)' : ''}:
        </span>{' '}
        {step.title}
      </h2>
      {pending ? (
        <p className="lesson-pending" data-testid="lesson-pending">
          Placeholder: this step needs the hosted (Type 2) arrangement, which is being added to TrapLab. Its
          checks are written and turn on when it lands; skip it for now.
        </p>
      ) : null}
      <Markdown text={step.body} />
      {step.machine ? <PresetButton p={step.machine} live={live} label="Load this step's machine" /> : null}
      <h3>The machine shows it when</h3>
      <Checklist step={step} live={live} pending={pending} />
      {done ? (
        <p className="lesson-done" data-testid="lesson-step-done">
          ✓ Done: the live machine shows it.
        </p>
      ) : null}
      {step.questions.map((q, i) => (
        <Question key={q.ask} q={q} live={live} index={i} />
      ))}
    </section>
  );
}

function Intro({ lesson, live }: { lesson: Lesson; live: LiveState }) {
  return (
    <section className="lesson-step" data-testid="lesson-intro" data-step={0}>
      <Markdown text={lesson.intro} />
      <PresetButton p={lesson.preset} live={live} label="Open the lesson's machine" />
      <h3>Sources</h3>
      <ul className="lesson-sources" data-testid="lesson-sources">
        {lesson.sources.map((s) => (
          <li key={s}>
            <Markdown text={s} inline />
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Steps that must be done for the lesson to count as complete (placeholders and optional ones aside). */
function required(lesson: Lesson): number[] {
  return lesson.steps
    .map((s, i) => ({ s, k: i + 1 }))
    .filter(
      ({ s }) =>
        !s.optional && !(s.requires && !presetAvailable({ ...lesson.preset, hosting: s.requires.hosting })),
    )
    .map(({ k }) => k);
}

export function LessonView({ lesson, initialStep }: { lesson: Lesson; initialStep: number }) {
  // Before the playground mounts and loads whatever the URL names.
  useState(() => prepareUrl(lesson.preset));
  const [k, setK] = useState(Math.min(Math.max(0, initialStep), lesson.steps.length));
  const [teacher, setTeacher] = useState(() => new URLSearchParams(location.search).get('teacher') === '1');
  const [done, setDone] = useState<ReadonlySet<number>>(new Set());
  const live = useLive();
  // The same element every render: the playground subscribes to the store itself and must not
  // re-render as a whole each time the lesson panel re-reads the live state.
  const machine = useMemo(() => <App />, []);

  useEffect(() => setUrlParam('step', String(k)), [k]);
  useEffect(() => {
    setUrlParam('teacher', teacher ? '1' : null);
    if (teacher) useUi.getState().set({ classroom: true });
  }, [teacher]);
  useEffect(() => {
    document.title = `${lesson.number}. ${lesson.title} — TrapLab lessons`;
  }, [lesson]);

  // A step is done once the live machine has shown every one of its checks (it stays done).
  const step = k > 0 ? lesson.steps[k - 1] : null;
  const pending = !!step?.requires && !presetAvailable({ ...lesson.preset, hosting: step.requires.hosting });
  const allOk = !!step && !pending && step.checks.every((c) => evaluate(c, live).ok);
  useEffect(() => {
    if (allOk && !done.has(k)) setDone(new Set([...done, k]));
  }, [allOk, done, k]);

  const need = required(lesson);
  const complete = need.every((n) => done.has(n));
  const next = findLesson(lesson.number + 1);
  return (
    <div className={`lesson-layout ${teacher ? 'teacher' : ''}`} data-testid="lesson-page">
      <aside className="lesson-panel" aria-label="Lesson" data-testid="lesson-panel">
        <header className="lesson-head">
          <a href={pageHref('lessons')} data-testid="lesson-index-link">
            ← Lessons
          </a>
          <span className="spacer" />
          <button
            type="button"
            className={`btn small ${teacher ? 'active' : ''}`}
            aria-pressed={teacher}
            onClick={() => setTeacher(!teacher)}
            data-testid="lesson-teacher"
            title="Teacher mode: large type, one step per screen, for a projector"
          >
            Teacher mode
          </button>
        </header>
        <h1 className="lesson-title" data-testid="lesson-title">
          {lesson.number}. {lesson.title}
        </h1>
        <nav className="lesson-dots" aria-label="Steps">
          <button
            type="button"
            className={`dot-btn ${k === 0 ? 'on' : ''}`}
            onClick={() => setK(0)}
            aria-label="Introduction"
          >
            i
          </button>
          {lesson.steps.map((s, i) => (
            <button
              key={s.title}
              type="button"
              className={`dot-btn ${k === i + 1 ? 'on' : ''} ${done.has(i + 1) ? 'done' : ''}`}
              onClick={() => setK(i + 1)}
              aria-label={`Step ${i + 1}: ${s.title}${done.has(i + 1) ? ' (done)' : ''}`}
              data-testid="lesson-dot"
              data-done={done.has(i + 1) ? 'yes' : 'no'}
            >
              {i + 1}
            </button>
          ))}
        </nav>
        <div className="lesson-screen">
          {k === 0 ? (
            <Intro lesson={lesson} live={live} />
          ) : (
            <StepScreen key={k} lesson={lesson} k={k} live={live} done={done.has(k)} />
          )}
          {complete ? (
            <p className="lesson-complete" data-testid="lesson-complete">
              Lesson complete: every step was shown by the live machine.{' '}
              {next ? (
                <a href={pageHref('lessons', { lesson: String(next.number) })}>
                  Next: {next.number}. {next.title} →
                </a>
              ) : null}
            </p>
          ) : null}
        </div>
        <footer className="lesson-nav">
          <button type="button" className="btn" disabled={k === 0} onClick={() => setK(k - 1)}>
            ← Back
          </button>
          <span className="muted small">
            {done.size} of {need.length} steps done
          </span>
          <button
            type="button"
            className={`btn ${k === 0 || done.has(k) || pending ? 'primary' : ''}`}
            disabled={k >= lesson.steps.length}
            onClick={() => setK(k + 1)}
            data-testid="lesson-next"
          >
            {k === 0 ? 'Start →' : 'Next →'}
          </button>
        </footer>
      </aside>
      <div className="lesson-machine">{machine}</div>
    </div>
  );
}
