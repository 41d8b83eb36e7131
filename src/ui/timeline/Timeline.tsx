/**
 * A timeline of traps by kind: for each stretch of virtual time between two samples, a stacked bar
 * of how many records of each kind the VMM logged — where the guest was noisy (polling port I/O,
 * shadow fills) and where the interesting traps are. Drawn from live stats samples (samples.ts).
 */
import { useSyncExternalStore } from 'react';
import { fmtCount, fmtTimeNs } from '../format.ts';
import { useUi } from '../store.ts';
import { kindClass } from '../TrapLog.tsx';
import { getSamples, samplesVersion, subscribeSamples } from './samples.ts';

const W = 600;
const H = 160;

export function Timeline() {
  useSyncExternalStore(subscribeSamples, samplesVersion);
  const names = useUi((s) => s.loaded?.names.kinds ?? []);
  const technique = useUi((s) => s.loaded?.technique);
  const s = getSamples();
  if (technique === 'native') {
    return <div className="empty">Native execution logs no traps: there is no timeline to draw.</div>;
  }
  if (s.length < 2) {
    return <div className="empty">Run the guest: the timeline fills as the VMM logs traps.</div>;
  }
  const bars = s.slice(1).map((b, i) => {
    const a = s[i];
    return { t0: a.t, t1: b.t, d: b.counts.map((c, k) => Math.max(0, c - (a.counts[k] ?? 0))) };
  });
  const max = Math.max(1, ...bars.map((b) => b.d.reduce((x, y) => x + y, 0)));
  const bw = W / bars.length;
  const totals = names.map((_, k) => (s.at(-1)!.counts[k] ?? 0) - (s[0].counts[k] ?? 0));
  return (
    <div className="timeline" data-testid="timeline">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label="Traps per kind over virtual time"
      >
        {bars.map((b, i) => {
          let y = H;
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: one bar per time slot
            <g key={i}>
              <title>{`${fmtTimeNs(b.t0)} – ${fmtTimeNs(b.t1)}: ${
                b.d
                  .map((n, k) => (n ? `${fmtCount(n)} ${names[k] ?? k}` : ''))
                  .filter(Boolean)
                  .join(', ') || 'no traps'
              }`}</title>
              {b.d.map((n, k) => {
                if (!n) return null;
                const h = (n / max) * (H - 4);
                y -= h;
                return (
                  <rect
                    key={names[k] ?? `kind ${k}`}
                    x={i * bw}
                    y={y}
                    width={Math.max(1, bw - 1)}
                    height={h}
                    className={`tl-bar ${kindClass(k)}`}
                  />
                );
              })}
            </g>
          );
        })}
      </svg>
      <div className="tl-axis muted small mono">
        <span>{fmtTimeNs(s[0].t)}</span>
        <span>virtual time →</span>
        <span>{fmtTimeNs(s.at(-1)!.t)}</span>
      </div>
      <ul className="tl-legend" data-testid="timeline-legend">
        {names.map((n, k) =>
          totals[k] ? (
            <li key={n} className={kindClass(k)}>
              <span className="swatch" /> {n} <b className="mono">{fmtCount(totals[k])}</b>
            </li>
          ) : null,
        )}
      </ul>
      <p className="muted small">
        Each bar is one stretch of virtual time between two samples; its height is the number of records
        logged in it (tallest: {fmtCount(max)}).
      </p>
    </div>
  );
}
