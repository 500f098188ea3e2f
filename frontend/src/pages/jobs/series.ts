// Metric series of a job, as the charts draw them (kept free of the chart library for tests).

import type { MetricPoint } from "./api";

/** The x (step) column and one column per key; missing values leave a gap (null). */
export function chartData(points: MetricPoint[], keys: string[]): [number[], ...(number | null)[][]] {
  const xs = points.map((p) => p.step);
  const columns = keys.map((key) =>
    points.map((p) => {
      const value = p.values[key];
      return typeof value === "number" && Number.isFinite(value) ? value : null;
    }),
  );
  return [xs, ...columns];
}

/** Merges new points into the series (a resumed job may send a step again). */
export function mergePoints(current: MetricPoint[], incoming: MetricPoint[]): MetricPoint[] {
  if (incoming.length === 0) return current;
  const byStep = new Map(current.map((p) => [p.step, p]));
  for (const point of incoming) byStep.set(point.step, point);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}
