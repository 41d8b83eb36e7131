import { lazy, Suspense, useMemo } from 'react';
import { App } from '../App.tsx';
import { pageFromSearch } from './registry.ts';

/** Chooses the playground or a page from `?view=` once per document load. */
export function Root() {
  const page = useMemo(() => pageFromSearch(location.search), []);
  const Page = useMemo(() => (page ? lazy(page.load) : null), [page]);
  if (!page || !Page) return <App />;
  document.title = `${page.title} — TrapLab`;
  return (
    <Suspense fallback={<div className="page-loading">Loading {page.title}…</div>}>
      <Page />
    </Suspense>
  );
}
