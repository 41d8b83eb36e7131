/**
 * A timeline of traps by kind: for each stretch of virtual time between two samples, a stacked bar
 * of how many records of each kind the VMM logged — where the guest was noisy (polling port I/O,
 * shadow fills) and where the interesting traps are. Drawn with uPlot (canvas) from live stats
 * samples (samples.ts); the chart is made once and only given new data as samples arrive.
 */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtCount, fmtTimeNs } from '../format.ts';
import { useUi } from '../store.ts';
import { kindClass } from '../TrapLog.tsx';
import { type Bars, barsOf, getSamples, samplesVersion, subscribeSamples } from './samples.ts';
import './timeline.css';

/**
 * uPlot data for stacked bars: one series per kind that logged anything, each the running sum of
 * the kinds below it, the tallest first so the shorter ones paint over it. Stretches differ in
 * length, so each bar is a step from its start to the next sample (`end`: the last sample's time).
 */
function stacked(b: Bars, shown: number[], end: number): uPlot.AlignedData {
  const acc = new Array<number>(b.t.length).fill(0);
  const sums = shown.map((k) => {
    for (let i = 0; i < acc.length; i++) acc[i] += b.d[k][i];
    return [...acc, acc.at(-1) ?? 0];
  });
  return [[...b.t, end], ...sums.reverse()];
}

function kindColour(k: number): string {
  const v = getComputedStyle(document.documentElement)
    .getPropertyValue(`--k${k % 17}`)
    .trim();
  return v || '#888';
}

function options(width: number, names: string[], shown: number[], theme: string): uPlot.Options {
  const bars = uPlot.paths.stepped?.({ align: 1 });
  const axis = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#888';
  const grid = theme === 'dark' ? '#ffffff14' : '#0000001a';
  return {
    width,
    height: 170,
    legend: { show: false },
    cursor: { y: false, points: { show: false } },
    scales: { x: { time: false } },
    axes: [
      {
        stroke: axis,
        grid: { stroke: grid },
        values: (_u, ticks) => ticks.map((v) => fmtTimeNs(v)),
        space: 90,
      },
      {
        stroke: axis,
        grid: { stroke: grid },
        values: (_u, ticks) => ticks.map((v) => fmtCount(v)),
        size: 50,
      },
    ],
    series: [
      {},
      ...[...shown].reverse().map((k) => ({
        label: names[k] ?? `kind ${k}`,
        fill: kindColour(k),
        stroke: kindColour(k),
        width: 0,
        paths: bars,
        points: { show: false },
      })),
    ],
  };
}

export function Timeline() {
  useSyncExternalStore(subscribeSamples, samplesVersion);
  const names = useUi((s) => s.loaded?.names.kinds ?? []);
  const technique = useUi((s) => s.loaded?.technique);
  const theme = useUi((s) => s.theme);
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<{ plot: uPlot; key: string } | null>(null);
  const s = getSamples();
  const b = barsOf(s, names.length);
  const totals = names.map((_, k) => (s.length ? (s.at(-1)!.counts[k] ?? 0) - (s[0].counts[k] ?? 0) : 0));
  const shown = names.map((_, k) => k).filter((k) => totals[k] > 0);
  const max = Math.max(1, ...b.t.map((_, i) => b.d.reduce((x, dk) => x + dk[i], 0)));
  const ready = technique !== 'native' && s.length >= 2;

  // The chart is rebuilt only when its series change (a new kind appears, the theme flips);
  // otherwise new samples are just new data.
  useEffect(() => {
    const el = host.current;
    if (!ready || !el) {
      chart.current?.plot.destroy();
      chart.current = null;
      return;
    }
    const key = `${shown.join(',')}|${theme}|${names.join(',')}`;
    const data = stacked(b, shown, s.at(-1)?.t ?? 0);
    if (chart.current && chart.current.key === key) {
      chart.current.plot.setData(data);
      return;
    }
    chart.current?.plot.destroy();
    chart.current = { plot: new uPlot(options(el.clientWidth || 400, names, shown, theme), data, el), key };
  });

  // Follow the panel's width (the host exists once the chart is ready).
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-attach when the host appears
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      const c = chart.current;
      if (c && el.clientWidth > 0) c.plot.setSize({ width: el.clientWidth, height: 170 });
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [ready]);

  useEffect(
    () => () => {
      chart.current?.plot.destroy();
      chart.current = null;
    },
    [],
  );

  if (technique === 'native') {
    return <div className="empty">Native execution logs no traps: there is no timeline to draw.</div>;
  }
  if (!ready) {
    return <div className="empty">Run the guest: the timeline fills as the VMM logs traps.</div>;
  }
  return (
    <div
      className="timeline"
      data-testid="timeline"
      data-bars={b.t.length}
      data-cells={b.d.reduce((n, dk) => n + dk.filter((v) => v > 0).length, 0)}
    >
      <div
        className="tl-chart"
        ref={host}
        role="img"
        aria-label={`Traps per kind over virtual time, ${b.t.length} stretches from ${fmtTimeNs(s[0].t)} to ${fmtTimeNs(s.at(-1)!.t)}`}
      />
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
        Virtual time runs left to right. Each bar is one stretch between two samples; its height is the number
        of records logged in it, stacked by kind (tallest: {fmtCount(max)}).
      </p>
    </div>
  );
}
