/**
 * Grouped bars, log scale: one group per benchmark, one bar per technique (ours, filled) and per
 * column of the paper (outlined). Drawn by uPlot; this file only configures it.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { AA_BENCHMARKS, type AaSeries, benchmarkAt, formatCycles, groupedData } from './aa-model.ts';

/** Bar colours by series key (CSS variables of styles.css, with fallbacks for the canvas). */
const COLOUR_VARS: Record<string, [string, string]> = {
  native: ['--k5', '#5fd39a'],
  'binary-translation': ['--k2', '#c792ea'],
  'vtx-shadow': ['--k0', '#ff8a65'],
  'vtx-ept': ['--k4', '#f6c177'],
  paravirtual: ['--k1', '#7cc4ff'],
  'paper-native': ['--k5', '#5fd39a'],
  'paper-bt': ['--k2', '#c792ea'],
  'paper-vtx': ['--k0', '#ff8a65'],
};

export function seriesColour(key: string): string {
  const [v, fallback] = COLOUR_VARS[key] ?? ['--k7', '#a6accd'];
  const css =
    typeof document === 'undefined' ? '' : getComputedStyle(document.documentElement).getPropertyValue(v);
  return css.trim() || fallback;
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let v = 10 ** Math.floor(Math.log10(Math.max(min, 1e-9))); v <= max * 1.0001; v *= 10)
    if (v >= min * 0.9999) out.push(v);
  return out;
}

export function AaChart({ series }: { series: AaSeries[] }) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const { x, ys, centers } = groupedData(series);
    const text = cssVar('--text', '#d9dfe9');
    const grid = cssVar('--border', '#232d3d');
    const font = `${Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize) || 13)}px system-ui, sans-serif`;
    const bars = uPlot.paths.bars?.({ size: [0.92, 64], align: 0 });
    const opts: uPlot.Options = {
      width: Math.max(480, el.clientWidth),
      height: 380,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [-1, x.length - 1] }, y: { distr: 3, log: 10 } },
      axes: [
        {
          stroke: text,
          font,
          grid: { show: false },
          ticks: { show: false },
          splits: () => centers,
          values: (_u, splits) => splits.map((s) => benchmarkAt(centers, s) ?? ''),
        },
        {
          stroke: text,
          font,
          size: 70,
          grid: { stroke: grid, width: 1 },
          // One line per decade: uPlot's log splits also mark 2…9 of each, too busy on a projector.
          splits: (u) => decades(u.scales.y.min ?? 1, u.scales.y.max ?? 10),
          values: (_u, splits) => splits.map((s) => formatCycles(s)),
          label: 'cycles per operation (log)',
          labelFont: font,
        },
      ],
      series: [
        {},
        ...series.map((s) => {
          const c = seriesColour(s.key);
          return {
            label: s.label,
            stroke: c,
            width: s.paper ? 2 : 0,
            dash: s.paper ? [4, 3] : undefined,
            fill: s.paper ? 'transparent' : c,
            paths: bars,
            points: { show: false },
          } satisfies uPlot.Series;
        }),
      ],
    };
    const plot = new uPlot(opts, [x, ...ys] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(480, el.clientWidth), height: 380 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [series]);

  return (
    <figure className="aa-chart">
      <div ref={host} className="aa-chart-plot" data-testid="aa-chart" />
      <figcaption className="aa-legend">
        {series.map((s) => (
          <span key={s.key} className={s.paper ? 'aa-key paper' : 'aa-key'}>
            <i style={s.paper ? { borderColor: seriesColour(s.key) } : { background: seriesColour(s.key) }} />
            {s.label}
          </span>
        ))}
        <span className="aa-key-note">
          {AA_BENCHMARKS.length} benchmarks; filled bars: TrapLab, outlined: the paper (Pentium 4)
        </span>
      </figcaption>
    </figure>
  );
}
