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

/**
 * On a first visit, where a newcomer should start. It sits at the end of the guest banner's title
 * line, in flow: floating under the toolbar's Lessons link it covered the guest's title at 1280×720.
 * A stop callout takes the line over (lessons-hint.css), since why the guest stopped matters more.
 */
export function LessonsHint() {
  // Inside a lesson the student has found the lessons already: no hint there.
  const [hidden, setHidden] = useState(
    () => seen() || new URLSearchParams(location.search).get('view') === 'lessons',
  );
  if (hidden) return null;
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
