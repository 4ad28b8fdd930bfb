import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A small time-series chart (uPlot: canvas, ~20 KB gzipped), one line per series. */
export function TimeChart({ times, series, label }: { times: number[]; series: { name: string; values: number[]; color: string }[]; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current) return;
    const width = Math.max(320, host.current.clientWidth || 640);
    const plot = new uPlot(
      {
        width,
        height: 220,
        series: [{}, ...series.map((line) => ({ label: line.name, stroke: line.color, width: 2, points: { show: true } }))],
        axes: [{}, { size: 60 }],
      },
      [times.map((time) => time / 1000), ...series.map((line) => line.values)],
      host.current,
    );
    return () => plot.destroy();
  }, [times, series]);
  return <div ref={host} className="chart" role="img" aria-label={label} />;
}
