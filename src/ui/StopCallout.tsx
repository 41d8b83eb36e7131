/**
 * Why the guest stopped — or that its kernel panicked while the CPU runs on — in full, in large
 * type above the workspace, where a class can read it (the status bar's line is cut off).
 */
import { stopCallout } from './status-text.ts';
import { useUi } from './store.ts';

export function StopCallout() {
  const status = useUi((s) => s.status);
  const panic = useUi((s) => s.panic);
  const loaded = useUi((s) => s.loaded);
  const c = loaded ? stopCallout(status, panic) : null;
  // The slot is always there (the page grid has a row for it); it is empty while nothing stopped.
  return (
    <div className="callout-slot" aria-live="polite">
      {c?.title ? (
        <section className={`callout tone-${c.tone}`} data-testid="stop-reason">
          <strong className="callout-title">{c.title}</strong>
          {c.detail ? <span className="callout-detail"> — {c.detail}</span> : null}
        </section>
      ) : null}
    </div>
  );
}
