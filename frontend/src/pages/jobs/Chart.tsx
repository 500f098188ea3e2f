// A live line chart of a job's metric series, drawn by uPlot (small, canvas based).

import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { MetricPoint } from "./api";
import { chartData } from "./series";

// Okabe-Ito colours: distinguishable for colour-blind readers.
const COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9"];

export interface ChartProps {
  title: string;
  points: MetricPoint[];
  /** Keys of `values` to draw, each as one line. */
  keys: string[];
  testId?: string;
}

export function Chart(props: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const present = props.keys.filter((key) => props.points.some((p) => typeof p.values[key] === "number"));
  const signature = present.join(",");

  useEffect(() => {
    if (!host.current || present.length === 0) return;
    const options: uPlot.Options = {
      title: props.title,
      width: Math.max(280, host.current.clientWidth || 420),
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: "epoch" }, {}],
      series: [{ label: "epoch" }, ...present.map((key, i) => ({ label: key, stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: true, size: 5 } }))],
    };
    plot.current = new uPlot(options, chartData(props.points, present) as uPlot.AlignedData, host.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [signature, props.title]);

  useEffect(() => {
    plot.current?.setData(chartData(props.points, present) as uPlot.AlignedData);
  }, [props.points]);

  if (present.length === 0) {
    return (
      <div class="chart chart-empty" data-testid={props.testId}>
        <strong>{props.title}</strong>
        <p class="muted">No points yet.</p>
      </div>
    );
  }
  return <div class="chart" ref={host} data-testid={props.testId} />;
}
