/**
 * `?view=lessons`: the course. Without `lesson=` it is the index; with `lesson=N&step=K` one lesson
 * beside the live playground (LessonView). A lesson file that does not parse shows its error here
 * and the other lessons work on.
 */
import { pageHref } from '../pages/registry.ts';
import { lessons } from './content.ts';
import './lessons.css';
import { LessonView } from './LessonView.tsx';
import { Markdown } from './Markdown.tsx';

function Index() {
  return (
    <div className="lesson-index" data-testid="lesson-index">
      <header className="lesson-index-head">
        <h1>TrapLab lessons: a virtualization class, with the machine</h1>
        <a href={location.pathname}>Open the playground →</a>
      </header>
      <p className="lesson-index-lead">
        Each lesson is a short text beside a live machine. Every step asks you to make the machine show
        something — a trap, a VM exit, a console line — and turns green when it does. Questions are answered
        from what your machine shows. Add <code>&amp;teacher=1</code> to a lesson's link (or press{' '}
        <em>Teacher mode</em>) for a projector: large type, one step per screen.
      </p>
      <ol className="lesson-cards">
        {lessons.map((e) =>
          e.ok ? (
            <li key={e.lesson.file} className="lesson-card" data-testid="lesson-card">
              <a
                href={pageHref('lessons', { lesson: String(e.lesson.number) })}
                className="lesson-card-title"
              >
                {e.lesson.number}. {e.lesson.title}
              </a>
              <Markdown text={e.lesson.summary} />
              <span className="muted small">
                {e.lesson.steps.length} steps · {e.lesson.preset.guest} ·{' '}
                <Markdown text={e.lesson.sources[0]} inline />
              </span>
            </li>
          ) : (
            <li key={e.file} className="lesson-card broken" data-testid="lesson-error">
              <strong>{e.file} could not be read</strong>
              <pre>{e.error}</pre>
            </li>
          ),
        )}
      </ol>
      <p className="muted small">
        Lessons are Markdown files in the repository's <code>lessons/</code> folder; its README describes how
        to write one (the machine preset, the checks and the questions).
      </p>
    </div>
  );
}

export default function LessonsPage() {
  const q = new URLSearchParams(location.search);
  const n = q.get('lesson');
  if (n === null) return <Index />;
  const entry = lessons.find((e) => (e.ok ? String(e.lesson.number) === n : false));
  if (!entry?.ok) {
    const broken = lessons.find((e) => !e.ok && new RegExp(`/0*${n}-`).test(`/${e.file.split('/').pop()}`));
    return (
      <div className="lesson-index" data-testid="lesson-missing">
        <h1>{broken ? `Lesson ${n} could not be read` : `There is no lesson ${n}`}</h1>
        {broken && !broken.ok ? <pre>{broken.error}</pre> : null}
        <a href={pageHref('lessons')}>← All lessons</a>
      </div>
    );
  }
  const step = Number(q.get('step') ?? '0');
  return <LessonView lesson={entry.lesson} initialStep={Number.isInteger(step) ? step : 0} />;
}
