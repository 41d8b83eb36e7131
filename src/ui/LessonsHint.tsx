import { useState } from 'react';
import { pageHref } from './pages/registry.ts';
import './lessons-hint.css';

const KEY = 'traplab.lessonsHint';

function seen(): boolean {
  try {
    return localStorage.getItem(KEY) === 'seen';
  } catch {
    return true;
  }
}

/** Beside the toolbar's Lessons link on a first visit: where a newcomer should start. */
export function LessonsHint() {
  const [hidden, setHidden] = useState(seen);
  if (hidden || new URLSearchParams(location.search).has('view')) return null;
  const dismiss = () => {
    try {
      localStorage.setItem(KEY, 'seen');
    } catch {
      /* storage may be unavailable */
    }
    setHidden(true);
  };
  return (
    <span className="lessons-hint" data-testid="lessons-hint">
      <a href={pageHref('lessons', { lesson: '1' })} data-testid="lessons-hint-start">
        New here? Start with lesson 1 →
      </a>
      <button type="button" onClick={dismiss} aria-label="Hide this hint" title="Hide this hint">
        ✕
      </button>
    </span>
  );
}
