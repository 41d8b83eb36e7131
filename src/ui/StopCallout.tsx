/**
 * Why the guest stopped — or that its kernel panicked while the CPU runs on — in full, in large
 * type above the workspace, where a class can read it (the status bar's line is cut off).
 */
import { stopCallout } from './status-text.ts';
import { useUi } from './store.ts';
import './stop-callout.css';

export function StopCallout() {
  const status = useUi((s) => s.status);
  const panic = useUi((s) => s.panic);
  const loaded = useUi((s) => s.loaded);
  const c = loaded ? stopCallout(status, panic) : null;
  // It sits in the guest banner's title line, in place of the loader's summary, so it costs the
  // workspace no height on a 720-line projector unless it needs a second line.
  if (!c?.title) return null;
  return (
    <output className={`callout tone-${c.tone}`} data-testid="stop-reason" aria-live="polite">
      <strong className="callout-title">{c.title}</strong>
      {c.detail ? <span className="callout-detail"> — {c.detail}</span> : null}
    </output>
  );
}
