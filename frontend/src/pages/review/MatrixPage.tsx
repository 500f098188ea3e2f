// The reasonability matrix of a model version: cells listing their images, agreement between
// reviewers, and the adjudication list of images the reviewers disagree on.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api";
import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { ErrorMessage, Loading } from "../../components/Status";
import { useAsync, useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import { setQuery } from "../../router";
import type { Decision, Quadrant } from "./api";
import { QUADRANT_NAMES, reviewApi } from "./api";
import { AgreementTable, MatrixView } from "./MatrixView";
import "./review.css";

function Votes(props: { row: Decision }) {
  return (
    <>
      {props.row.votes.map((vote) => (
        <span key={vote.reviewer} class={vote.reasonable ? "chip chip-positive" : "chip"}>
          {vote.reviewer}: {vote.reasonable ? "reasonable" : "unreasonable"}
        </span>
      ))}
    </>
  );
}

function DecisionRows(props: { rows: Decision[]; reviewHref: (imageId: number) => string; actions?: (row: Decision) => ComponentChildren }) {
  return (
    <table class="table">
      <thead>
        <tr>
          <th />
          <th>Image</th>
          <th>Predicted / label</th>
          <th>Reviewers</th>
          <th>Decision</th>
          {props.actions && <th />}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr key={row.image}>
            <td>
              <img class="thumb-small" src={row.thumbnail_url} alt="" width={48} height={48} />
            </td>
            <td>
              <Link href={props.reviewHref(row.image)}>{row.image_name}</Link>
            </td>
            <td>
              {row.predicted_class} / {row.label ?? "none"}
            </td>
            <td>
              <Votes row={row} />
            </td>
            <td>
              {row.reasonable === null ? "undecided" : row.reasonable ? "reasonable" : "unreasonable"}
              {row.adjudicated !== null && <span class="muted"> (adjudicated)</span>}
            </td>
            {props.actions && <td>{props.actions(row)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function MatrixPage(props: PageProps) {
  const id = props.params.id;
  const split = props.query.get("split") ?? "";
  const reviewer = props.query.get("reviewer") ?? "";
  const version = useAsync(() => reviewApi.version(id), [id]);
  const projectId = version.data?.project;
  const project = useAsync(
    () => (projectId === undefined ? new Promise<never>(() => {}) : api.project(projectId)),
    [projectId],
  );
  const matrix = useAsync(
    () => reviewApi.matrix(id, { split: split || undefined, reviewer: reviewer || undefined }),
    [id, split, reviewer],
  );
  const disputed = useAsync(() => reviewApi.disagreements(id, split || undefined), [id, split]);
  const [cell, setCell] = useState<Quadrant | null>(null);
  const [cellRows, setCellRows] = useState<Decision[] | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  useTitle(version.data ? `Matrix of version ${version.data.number}` : "Matrix");

  useEffect(() => {
    if (!cell) {
      setCellRows(null);
      return;
    }
    reviewApi.cell(id, cell, split || undefined).then(setCellRows, setActionError);
  }, [cell, id, split, matrix.data]);

  const v = version.data;
  const p = project.data;
  const isAdmin = p?.my_role === "admin";
  const reviewHref = (imageId: number) => `/model-versions/${id}/review?image=${imageId}${split ? `&split=${split}` : ""}`;

  const adjudicate = async (row: Decision, reasonable: boolean | null) => {
    setActionError(null);
    try {
      if (reasonable === null) await reviewApi.clearAdjudication(id, row.image);
      else await reviewApi.adjudicate(id, row.image, reasonable);
      matrix.reload();
      disputed.reload();
    } catch (error) {
      setActionError(error);
    }
  };

  return (
    <Layout
      crumbs={[
        { label: p?.name ?? "Project", href: p ? `/projects/${p.id}/review` : undefined },
        { label: v ? `Matrix of version ${v.number}` : "Matrix" },
      ]}
    >
      <div class="page-header">
        <div>
          <h1>Reasonability matrix{v && <span class="muted"> · version {v.number} ({v.method})</span>}</h1>
          {matrix.data && <p class="muted small">{matrix.data.definition}</p>}
        </div>
        <div class="actions">
          <label class="field field-inline">
            <span>Split</span>
            <select value={split} onChange={(e) => setQuery({ split: (e.target as HTMLSelectElement).value })}>
              <option value="">all</option>
              <option value="train">train</option>
              <option value="val">val</option>
              <option value="test">test</option>
            </select>
          </label>
          <label class="field field-inline">
            <span>Reviewer</span>
            <select value={reviewer} onChange={(e) => setQuery({ reviewer: (e.target as HTMLSelectElement).value })}>
              <option value="">majority of all</option>
              {matrix.data?.reviewers.map((r) => (
                <option key={r.username} value={r.username}>
                  {r.username}
                </option>
              ))}
              {reviewer && !matrix.data?.reviewers.some((r) => r.username === reviewer) && <option value={reviewer}>{reviewer}</option>}
            </select>
          </label>
          <Link class="button button-primary" href={`/model-versions/${id}/review${split ? `?split=${split}` : ""}`}>
            Review images
          </Link>
        </div>
      </div>
      {actionError !== null && <ErrorMessage error={actionError} />}
      {matrix.error !== null && <ErrorMessage error={matrix.error} onRetry={matrix.reload} />}
      {!matrix.data && matrix.loading && <Loading />}
      {matrix.data && (
        <div class="matrix-layout">
          <div class="card">
            <MatrixView
              counts={matrix.data.counts}
              raPerformance={matrix.data.ra_performance}
              attentionAccuracy={matrix.data.attention_accuracy}
              selected={cell}
              onSelect={(q) => setCell(cell === q ? null : q)}
            />
            <p class="muted small">
              {matrix.data.total} decided of {matrix.data.assessed_images} assessed images ({matrix.data.predicted_images} with a
              stored prediction) · {matrix.data.undecided} undecided · {matrix.data.unlabelled} unlabelled
            </p>
          </div>
          <div class="card">
            <h2>Agreement</h2>
            <AgreementTable agreement={matrix.data.agreement} />
          </div>
        </div>
      )}
      {cell && (
        <section class="card" data-testid="cell-list">
          <h2>
            {cell}: {QUADRANT_NAMES[cell]}
          </h2>
          {cellRows === null ? <Loading /> : cellRows.length === 0 ? <p class="muted">No images.</p> : <DecisionRows rows={cellRows} reviewHref={reviewHref} />}
        </section>
      )}
      <section class="card">
        <h2>Disagreements</h2>
        {disputed.data?.length === 0 && <p class="muted">The reviewers agree on every image.</p>}
        {disputed.data && disputed.data.length > 0 && (
          <DecisionRows
            rows={disputed.data}
            reviewHref={reviewHref}
            actions={
              isAdmin
                ? (row) => (
                    <div class="answer-buttons">
                      <button type="button" class="button button-small" onClick={() => adjudicate(row, true)}>
                        Reasonable
                      </button>
                      <button type="button" class="button button-small" onClick={() => adjudicate(row, false)}>
                        Unreasonable
                      </button>
                      {row.adjudicated !== null && (
                        <button type="button" class="button button-small button-ghost" onClick={() => adjudicate(row, null)}>
                          Clear
                        </button>
                      )}
                    </div>
                  )
                : undefined
            }
          />
        )}
      </section>
    </Layout>
  );
}
