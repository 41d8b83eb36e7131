/**
 * Trap records over virtual time, one line per technique (uPlot). Each machine reports samples at
 * its own pace; uPlot.join aligns them on one x axis (virtual milliseconds), gaps spanned.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  color: string;
  /** [virtual ms, cumulative trap records] samples, x ascending. */
  xs: number[];
  ys: number[];
}

function aligned(series: readonly Series[]): uPlot.AlignedData {
  if (series.length === 0) return [[]];
  const tables = series.map((s) => [s.xs.length ? s.xs : [0], s.ys.length ? s.ys : [0]] as uPlot.AlignedData);
  return uPlot.join(tables as uPlot.AlignedData[]);
}

export function TrapsChart({ series, width }: { series: Series[]; width: number }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const labels = series.map((s) => s.label).join('|');

  // (Re)build when the set of techniques changes; otherwise only feed data.
  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt per technique set only
  useEffect(() => {
    const el = host.current!;
    const opts: uPlot.Options = {
      width,
      height: 260,
      scales: { x: { time: false } },
      axes: [
        { label: 'virtual time (ms)', stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' } },
        {
          label: 'trap records',
          stroke: 'currentColor',
          size: 70,
          grid: { stroke: 'rgba(128,128,128,0.2)' },
        },
      ],
      series: [
        { label: 'virtual ms', value: (_u, v) => (v == null ? '—' : v.toFixed(2)) },
        ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true })),
      ],
      legend: { live: true },
    };
    plot.current = new uPlot(opts, aligned(series), el);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [labels]);

  useEffect(() => {
    plot.current?.setData(aligned(series));
  }, [series]);
  useEffect(() => {
    plot.current?.setSize({ width, height: 260 });
  }, [width]);

  return <div ref={host} className="cmp-chart" data-testid="cmp-chart" />;
}
