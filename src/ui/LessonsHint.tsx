import { useLayoutEffect, useState } from 'react';
import { createPortal } from 'react-dom';
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
 * On a first visit, a note under the toolbar's Lessons link: where a newcomer should start. It is
 * drawn outside the toolbar (a portal, placed under the link), so the toolbar's layout never changes.
 */
export function LessonsHint({ anchor }: { anchor: string }) {
  // Inside a lesson the student has found the lessons already: no hint there.
  const [hidden, setHidden] = useState(
    () => seen() || new URLSearchParams(location.search).get('view') === 'lessons',
  );
  const [at, setAt] = useState<{ left: number; top: number } | null>(null);
  useLayoutEffect(() => {
    if (hidden) return;
    const place = () => {
      const b = document.querySelector(`[data-testid="${anchor}"]`)?.getBoundingClientRect();
      const bar = document.querySelector('.toolbar')?.getBoundingClientRect();
      if (b && bar) setAt({ left: b.left, top: bar.bottom + 6 });
    };
    place();
    // The toolbar wraps and grows as fonts load, classroom type switches on or a guest loads:
    // follow it, so the hint never lies over the toolbar's second row.
    const bar = document.querySelector('.toolbar');
    const ro = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(place);
    if (bar && ro) ro.observe(bar);
    window.addEventListener('resize', place);
    return () => {
      ro?.disconnect();
      window.removeEventListener('resize', place);
    };
  }, [hidden, anchor]);
  if (hidden || !at) return null;
  const dismiss = () => {
    try {
      localStorage.setItem(KEY, 'seen');
    } catch {
      /* storage may be unavailable */
    }
    setHidden(true);
  };
  return createPortal(
    <div className="lessons-hint" data-testid="lessons-hint" style={{ left: at.left, top: at.top }}>
      <a href={pageHref('lessons', { lesson: '1' })} data-testid="lessons-hint-start">
        New here? Start with lesson 1 →
      </a>
      <button type="button" onClick={dismiss} aria-label="Hide this hint" title="Hide this hint">
        ✕
      </button>
    </div>,
    document.body,
  );
}
