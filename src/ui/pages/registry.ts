/**
 * Top-level pages besides the playground, chosen by `?view=<id>` in the URL (the playground is the
 * default: no `view`). Each page lives in its own folder under src/ui/ and is loaded lazily, so the
 * playground's first paint does not pay for pages the visitor never opens. A page adds one entry
 * here; `nav` pages also get a link in the playground's toolbar.
 */
import type { ComponentType } from 'react';

export interface PageEntry {
  /** The `?view=` value. */
  id: string;
  /** Link text and document title. */
  title: string;
  /** Shown in the toolbar's page links (in this order). */
  nav: boolean;
  load: () => Promise<{ default: ComponentType }>;
}

export const PAGES: PageEntry[] = [
  // First: the course is where a new visitor starts.
  { id: 'lessons', title: 'Lessons', nav: true, load: () => import('../lessons/LessonsPage.tsx') },
  {
    id: 'popek-goldberg',
    title: 'Popek–Goldberg lab',
    nav: true,
    load: () => import('../popek-goldberg/PopekGoldbergPage.tsx'),
  },
  { id: 'compare', title: 'Compare techniques', nav: true, load: () => import('../compare/ComparePage.tsx') },
  {
    id: 'adams-agesen',
    title: 'Adams & Agesen',
    nav: true,
    load: () => import('../adams-agesen/AdamsAgesenPage.tsx'),
  },
];

export function pageFromSearch(search: string): PageEntry | null {
  const id = new URLSearchParams(search).get('view');
  if (!id) return null;
  return PAGES.find((p) => p.id === id) ?? null;
}

/** URL of a page (keeps nothing of the current query: pages read their own parameters). */
export function pageHref(id: string, params: Record<string, string> = {}): string {
  const q = new URLSearchParams({ view: id, ...params });
  return `${location.pathname}?${q.toString()}`;
}
