import { useState } from 'react';
import { Markdown } from './Markdown.tsx';
import type { Question as Q } from './parse.ts';
import { type LiveState, probeValue, sameAnswer } from './vocab.ts';

type Verdict = { given: string; expected: string | number | null; correct: boolean };

function showValue(v: string | number): string {
  return typeof v === 'number' && v > 0xff ? `0x${(v >>> 0).toString(16).toUpperCase()} (${v})` : String(v);
}

/**
 * A question whose answer is read from the live machine when the student answers (not written in
 * the lesson): the explanation opens after an answer, right or wrong.
 */
export function Question({ q, live, index }: { q: Q; live: LiveState; index: number }) {
  const [text, setText] = useState('');
  const [v, setV] = useState<Verdict | null>(null);
  const answer = (given: string) => {
    if (!given.trim()) return;
    const expected = probeValue(q.answer, live);
    setV({ given, expected, correct: expected !== null && sameAnswer(given, expected) });
  };
  return (
    <div className="lesson-question" data-testid="lesson-question" data-q={index}>
      <p className="q-ask">
        <span className="q-mark">?</span> <Markdown text={q.ask} inline />
      </p>
      {q.choices ? (
        <div className="q-choices">
          {q.choices.map((c) => (
            <button
              key={c}
              type="button"
              className={`btn ${v?.given === c ? (v.correct ? 'q-right' : 'q-wrong') : ''}`}
              data-testid="question-choice"
              onClick={() => answer(c)}
            >
              {c}
            </button>
          ))}
        </div>
      ) : (
        <form
          className="q-form"
          onSubmit={(e) => {
            e.preventDefault();
            answer(text);
          }}
        >
          <input
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-label="Your answer"
            placeholder="read it off the machine"
            data-testid="question-input"
          />
          <button type="submit" className="btn" data-testid="question-submit">
            Answer
          </button>
        </form>
      )}
      {v ? (
        <div className={`q-verdict ${v.correct ? 'right' : 'wrong'}`} data-testid="question-verdict">
          {v.expected === null ? (
            <strong>The machine does not show this yet: do the step first, then answer again.</strong>
          ) : v.correct ? (
            <strong>Right: the machine shows {showValue(v.expected)}.</strong>
          ) : (
            <strong>
              Not quite: you answered {v.given}; the machine shows {showValue(v.expected)}.
            </strong>
          )}
          <div className="q-explain" data-testid="question-explain">
            <Markdown text={q.explain} />
          </div>
        </div>
      ) : null}
    </div>
  );
}
