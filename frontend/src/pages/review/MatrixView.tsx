// The 2x2 reasonability matrix: rows reasonable / unreasonable, columns accurate / inaccurate.

import type { Matrix, Quadrant } from "./api";
import { QUADRANT_NAMES, fmt } from "./api";

export interface MatrixViewProps {
  counts: Record<Quadrant, number>;
  raPerformance: number | null;
  attentionAccuracy: number | null;
  selected?: Quadrant | null;
  onSelect?: (quadrant: Quadrant) => void;
}

function Cell(props: MatrixViewProps & { quadrant: Quadrant }) {
  const count = props.counts[props.quadrant];
  const content = (
    <>
      <span class="matrix-code">{props.quadrant}</span>
      <span class="matrix-count" data-testid={`matrix-${props.quadrant}`}>
        {count}
      </span>
    </>
  );
  if (!props.onSelect) return <td class={`matrix-cell q-${props.quadrant}`}>{content}</td>;
  return (
    <td class={`matrix-cell q-${props.quadrant}`}>
      <button
        type="button"
        class={props.selected === props.quadrant ? "matrix-button selected" : "matrix-button"}
        aria-pressed={props.selected === props.quadrant}
        title={`${QUADRANT_NAMES[props.quadrant]}: list the images`}
        onClick={() => props.onSelect?.(props.quadrant)}
      >
        {content}
      </button>
    </td>
  );
}

export function MatrixView(props: MatrixViewProps) {
  return (
    <div class="matrix">
      <table class="matrix-table" aria-label="Reasonability matrix">
        <thead>
          <tr>
            <th />
            <th scope="col">Accurate</th>
            <th scope="col">Inaccurate</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Reasonable</th>
            <Cell {...props} quadrant="RA" />
            <Cell {...props} quadrant="RIA" />
          </tr>
          <tr>
            <th scope="row">Unreasonable</th>
            <Cell {...props} quadrant="UA" />
            <Cell {...props} quadrant="UIA" />
          </tr>
        </tbody>
      </table>
      <dl class="stats matrix-rates">
        <div>
          <dt>RA performance</dt>
          <dd data-testid="ra-performance">{fmt(props.raPerformance)}</dd>
        </div>
        <div>
          <dt>Attention accuracy</dt>
          <dd data-testid="attention-accuracy">{fmt(props.attentionAccuracy)}</dd>
        </div>
      </dl>
    </div>
  );
}

/** Cohen's kappa per pair and Fleiss' kappa of a matrix's reviewers. */
export function AgreementTable(props: { agreement: Matrix["agreement"] }) {
  const { cohen, fleiss } = props.agreement;
  if (cohen.length === 0) return <p class="muted">Agreement needs two or more reviewers.</p>;
  return (
    <table class="table">
      <thead>
        <tr>
          <th>Reviewers</th>
          <th>Shared images</th>
          <th>Kappa</th>
        </tr>
      </thead>
      <tbody>
        {cohen.map((pair) => (
          <tr key={`${pair.a}-${pair.b}`}>
            <td>
              {pair.a} · {pair.b} <span class="muted">(Cohen)</span>
            </td>
            <td>{pair.n}</td>
            <td>{fmt(pair.kappa)}</td>
          </tr>
        ))}
        <tr>
          <td>
            all {fleiss.raters} <span class="muted">(Fleiss)</span>
          </td>
          <td>{fleiss.items}</td>
          <td>{fmt(fleiss.kappa)}</td>
        </tr>
      </tbody>
    </table>
  );
}
