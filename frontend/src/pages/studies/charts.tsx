// Small SVG charts for study reports: grouped bars of Likert distributions, nothing else.

const COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00"];

export interface Series {
  name: string;
  /** Counts per Likert level "1".."5". */
  counts: Record<string, number>;
}

/** Grouped bars: one group per Likert level, one bar per condition (share of its ratings). */
export function LikertChart(props: { series: Series[]; anchors: Record<string, string> }) {
  const levels = ["1", "2", "3", "4", "5"];
  const width = 520;
  const height = 220;
  const pad = { left: 36, right: 10, top: 10, bottom: 34 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const shares = props.series.map((s) => {
    const total = levels.reduce((sum, l) => sum + (s.counts[l] ?? 0), 0);
    return levels.map((l) => (total ? (s.counts[l] ?? 0) / total : 0));
  });
  const groupW = plotW / levels.length;
  const barW = (groupW * 0.8) / Math.max(1, props.series.length);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Distribution of ratings per condition">
        {[0, 0.25, 0.5, 0.75, 1].map((t) => (
          <g key={t}>
            <line x1={pad.left} x2={width - pad.right} y1={pad.top + plotH * (1 - t)} y2={pad.top + plotH * (1 - t)} stroke="#e3e6ea" />
            <text x={pad.left - 4} y={pad.top + plotH * (1 - t) + 4} text-anchor="end" font-size="10" fill="#5b6470">
              {Math.round(t * 100)}%
            </text>
          </g>
        ))}
        {levels.map((level, li) => (
          <g key={level}>
            {props.series.map((s, si) => {
              const h = plotH * shares[si][li];
              return (
                <rect
                  key={s.name}
                  x={pad.left + li * groupW + groupW * 0.1 + si * barW}
                  y={pad.top + plotH - h}
                  width={barW - 1}
                  height={h}
                  fill={COLOURS[si % COLOURS.length]}
                >
                  <title>
                    {s.name}, rating {level}: {s.counts[level] ?? 0}
                  </title>
                </rect>
              );
            })}
            <text x={pad.left + (li + 0.5) * groupW} y={height - pad.bottom + 14} text-anchor="middle" font-size="11">
              {level}
            </text>
          </g>
        ))}
        <text x={pad.left} y={height - 4} font-size="10" fill="#5b6470">
          1 = {props.anchors["1"]}
        </text>
        <text x={width - pad.right} y={height - 4} font-size="10" fill="#5b6470" text-anchor="end">
          5 = {props.anchors["5"]}
        </text>
      </svg>
      <figcaption class="chart-legend">
        {props.series.map((s, i) => (
          <span key={s.name}>
            <span class="swatch" style={{ background: COLOURS[i % COLOURS.length] }} /> {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
