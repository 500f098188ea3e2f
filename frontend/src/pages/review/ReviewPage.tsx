// Reasonability review of a model version: for each image, its prediction and attention map;
// Q1 "does the highlighted area contain the details needed to decide the class?" and Q2 "does it
// contain details not needed?" answered by keyboard (Y / N) or click, nothing pre-selected, then
// on to the next image. The matrix beside it updates after every answer. After an unreasonable
// answer, A opens the prompt canvas on that image.

import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../../api";
import { LabelBadge } from "../../components/Badges";
import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { EmptyState, ErrorMessage, Loading } from "../../components/Status";
import { useAsync, useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import { navigate, setQuery } from "../../router";
import type { Decision, Quadrant, ReviewItem } from "./api";
import { QUADRANT_NAMES, fmt, reviewApi } from "./api";
import type { Draft } from "./keys";
import { EMPTY_DRAFT, isReasonable, reviewKey } from "./keys";
import { MapOverlay, OpacityControl } from "./MapOverlay";
import { AgreementTable, MatrixView } from "./MatrixView";
import "./review.css";

const MATRIX_POLL_MS = 15_000;

function typing(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && ["INPUT", "SELECT", "TEXTAREA"].includes(element.tagName);
}

function YesNo(props: { question: string; value: boolean | null; onAnswer: (value: boolean) => void; keysHint: string }) {
  return (
    <div class="question" role="group" aria-label={props.question}>
      <p class="question-text">{props.question}</p>
      <div class="answer-buttons">
        <button
          type="button"
          class={props.value === true ? "button answer selected" : "button answer"}
          aria-pressed={props.value === true}
          onClick={() => props.onAnswer(true)}
        >
          Yes <kbd>Y</kbd>
        </button>
        <button
          type="button"
          class={props.value === false ? "button answer selected" : "button answer"}
          aria-pressed={props.value === false}
          onClick={() => props.onAnswer(false)}
        >
          No <kbd>N</kbd>
        </button>
      </div>
      <p class="muted small">{props.keysHint}</p>
    </div>
  );
}

export default function ReviewPage(props: PageProps) {
  const id = props.params.id;
  const split = props.query.get("split") ?? "";
  const version = useAsync(() => reviewApi.version(id), [id]);
  const projectId = version.data?.project;
  const project = useAsync(
    () => (projectId === undefined ? new Promise<never>(() => {}) : api.project(projectId)),
    [projectId],
  );
  const queue = useAsync(() => reviewApi.queue(id, split), [id, split]);
  const matrix = useAsync(() => reviewApi.matrix(id, { split: split || undefined }), [id, split]);
  const [items, setItems] = useState<ReviewItem[]>([]);
  const [index, setIndex] = useState(0);
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [opacity, setOpacity] = useState(0.5);
  const [saving, setSaving] = useState(0);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [lastUnreasonable, setLastUnreasonable] = useState<ReviewItem | null>(null);
  const [cell, setCell] = useState<Quadrant | null>(null);
  const [cellRows, setCellRows] = useState<Decision[] | null>(null);
  useTitle(version.data ? `Review version ${version.data.number}` : "Review");

  // A fresh queue starts at the first image the reviewer has not answered.
  useEffect(() => {
    if (!queue.data) return;
    setItems(queue.data);
    const wanted = Number(props.query.get("image"));
    const byId = queue.data.findIndex((item) => item.image.id === wanted);
    const open = queue.data.findIndex((item) => item.my_answer === null);
    setIndex(byId >= 0 ? byId : open >= 0 ? open : 0);
    setDraft(EMPTY_DRAFT);
  }, [queue.data]);

  useEffect(() => {
    const timer = window.setInterval(() => matrix.reload(), MATRIX_POLL_MS);
    return () => window.clearInterval(timer);
  }, [matrix.reload]);

  useEffect(() => {
    if (!cell) return setCellRows(null);
    reviewApi.cell(id, cell, split || undefined).then(setCellRows, () => setCellRows([]));
  }, [cell, matrix.data]);

  const current = items[index] ?? null;

  const move = (step: number) => {
    setIndex((i) => Math.min(Math.max(0, i + step), Math.max(0, items.length - 1)));
    setDraft(EMPTY_DRAFT);
  };

  // Answers are applied at once and saved in order in the background, so keys typed while a
  // save is under way are never lost; a failed save puts the previous answer back.
  const saves = useRef<Promise<void>>(Promise.resolve());
  const submit = (answer: Draft) => {
    if (!current || answer.q1_needed === null || answer.q2_unneeded === null) return;
    const saved = { q1_needed: answer.q1_needed, q2_unneeded: answer.q2_unneeded };
    const before = current;
    const updated = { ...current, my_answer: saved };
    setItems((list) => list.map((item) => (item.image.id === before.image.id ? updated : item)));
    setLastUnreasonable(isReasonable(saved) ? null : updated);
    setDraft(EMPTY_DRAFT);
    if (index < items.length - 1) setIndex(index + 1);
    setSaveError(null);
    setSaving((n) => n + 1);
    saves.current = saves.current
      .then(() => reviewApi.answer(id, before.image.id, saved))
      .then(
        () => matrix.reload(),
        (error: unknown) => {
          setSaveError(error);
          setItems((list) => list.map((item) => (item.image.id === before.image.id ? before : item)));
        },
      )
      .finally(() => setSaving((n) => n - 1));
  };

  const answer = (next: Draft) => {
    setDraft(next);
    if (next.q1_needed !== null && next.q2_unneeded !== null) submit(next);
  };

  const annotateTarget = lastUnreasonable ?? (current?.my_answer && isReasonable(current.my_answer) === false ? current : null);

  const keyHandler = useRef<(event: KeyboardEvent) => void>(() => {});
  keyHandler.current = (event: KeyboardEvent) => {
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === "ArrowRight") return move(1);
    if (key === "ArrowLeft") return move(-1);
    if (key === "[" || key === "]") {
      setOpacity((o) => Math.min(1, Math.max(0, o + (key === "]" ? 0.1 : -0.1))));
      return;
    }
    if ((key === "a" || key === "A") && annotateTarget) {
      event.preventDefault();
      navigate(`/images/${annotateTarget.image.id}/annotate`);
      return;
    }
    const next = reviewKey(draft, key);
    if (next) {
      event.preventDefault();
      answer(next);
    }
  };
  useEffect(() => {
    const listener = (event: KeyboardEvent) => keyHandler.current(event);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);

  const v = version.data;
  const p = project.data;
  const crumbs = [
    { label: p?.name ?? "Project", href: p ? `/projects/${p.id}/review` : undefined },
    { label: v ? `Review version ${v.number}` : "Review" },
  ];
  if (version.error) {
    return (
      <Layout crumbs={[{ label: "Review" }]}>
        <ErrorMessage error={version.error} onRetry={version.reload} title="This model version could not be loaded." />
      </Layout>
    );
  }
  const answered = items.filter((item) => item.my_answer !== null).length;
  const classNames = p?.class_names ?? [];

  return (
    <Layout crumbs={crumbs} wide>
      <div class="page-header">
        <div>
          <h1>
            Reasonability review{v && <span class="muted"> · version {v.number} ({v.method})</span>}
          </h1>
          <p class="muted" data-testid="review-progress">
            {answered} of {items.length} images answered by you
          </p>
        </div>
        <div class="actions">
          <label class="field field-inline">
            <span>Split</span>
            <select value={split} onChange={(e) => setQuery({ split: (e.target as HTMLSelectElement).value, image: undefined })}>
              <option value="">all</option>
              <option value="train">train</option>
              <option value="val">val</option>
              <option value="test">test</option>
            </select>
          </label>
          <Link class="button" href={`/model-versions/${id}/matrix${split ? `?split=${split}` : ""}`}>
            Matrix and agreement
          </Link>
        </div>
      </div>
      {queue.loading && !queue.data && <Loading label="Loading the images to review…" />}
      {queue.error !== null && <ErrorMessage error={queue.error} onRetry={queue.reload} />}
      {queue.data && items.length === 0 && (
        <EmptyState title="No stored predictions for this version">
          <p class="muted">Run an explain job with this model version to review its attention maps.</p>
        </EmptyState>
      )}
      {current && (
        <div class="review-layout">
          <section class="review-image" aria-label="Image and attention map">
            <MapOverlay
              imageUrl={current.image.display_url}
              mapUrl={current.map_url}
              opacity={opacity}
              label={`${current.image.name} with its attention map`}
              testId="review-overlay"
            />
            <OpacityControl value={opacity} onChange={setOpacity} />
            {!current.map_url && <p class="alert alert-warning">No stored attention map for this image.</p>}
          </section>
          <section class="review-side">
            <div class="card">
              <div class="review-nav">
                <button type="button" class="button button-small" onClick={() => move(-1)} disabled={index === 0}>
                  ← Previous
                </button>
                <span data-testid="review-position">
                  {index + 1} / {items.length}
                </span>
                <button type="button" class="button button-small" onClick={() => move(1)} disabled={index >= items.length - 1}>
                  Next →
                </button>
              </div>
              <h2 class="image-title" data-testid="review-image-name">
                {current.image.name}
              </h2>
              <p>
                Predicted <strong data-testid="review-prediction">{current.predicted_class}</strong> (
                {fmt(current.confidence)}) · label <LabelBadge label={current.image.label} classNames={classNames} />
              </p>
              {current.my_answer && (
                <p class="muted" data-testid="my-answer">
                  Your answer: {isReasonable(current.my_answer) ? "reasonable" : "unreasonable"} (Q1{" "}
                  {current.my_answer.q1_needed ? "yes" : "no"}, Q2 {current.my_answer.q2_unneeded ? "yes" : "no"}). Answer
                  again to change it.
                </p>
              )}
              <YesNo
                question="Q1. Does the highlighted area contain the details needed to decide the class?"
                value={draft.q1_needed}
                onAnswer={(value) => answer({ ...draft, q1_needed: value })}
                keysHint="Keys: Y or N"
              />
              <YesNo
                question="Q2. Does the highlighted area contain details that are not needed?"
                value={draft.q2_unneeded}
                onAnswer={(value) => answer({ ...draft, q2_unneeded: value })}
                keysHint="Then Y or N; the next image follows"
              />
              {saving > 0 && <p class="muted">Saving…</p>}
              {saveError !== null && <ErrorMessage error={saveError} />}
              {annotateTarget && (
                <div class="alert alert-warning" data-testid="annotate-hint">
                  <span>
                    {annotateTarget.image.name} is unreasonable.{" "}
                    <Link href={`/images/${annotateTarget.image.id}/annotate`}>Draw its prompt</Link> (key <kbd>A</kbd>).
                  </span>
                </div>
              )}
              <p class="muted small">
                <kbd>←</kbd>/<kbd>→</kbd> move, <kbd>[</kbd>/<kbd>]</kbd> map opacity.
              </p>
            </div>
            <div class="card">
              <h2>Matrix{split ? ` (${split})` : ""}</h2>
              {matrix.data ? (
                <>
                  <MatrixView
                    counts={matrix.data.counts}
                    raPerformance={matrix.data.ra_performance}
                    attentionAccuracy={matrix.data.attention_accuracy}
                    selected={cell}
                    onSelect={(q) => setCell(cell === q ? null : q)}
                  />
                  <p class="muted small">
                    {matrix.data.assessed_images} assessed images · {matrix.data.undecided} undecided ·{" "}
                    {matrix.data.disagreements} disagreements
                  </p>
                  {matrix.data.reviewers.length > 1 && <AgreementTable agreement={matrix.data.agreement} />}
                </>
              ) : (
                <Loading label="Loading the matrix…" />
              )}
              {cell && (
                <div class="cell-list" data-testid="cell-list">
                  <h3>{QUADRANT_NAMES[cell]}</h3>
                  {cellRows === null && <Loading />}
                  {cellRows?.length === 0 && <p class="muted">No images.</p>}
                  <ul class="plain-list">
                    {cellRows?.map((row) => (
                      <li key={row.image}>
                        <button
                          type="button"
                          class="button-link"
                          onClick={() => {
                            const at = items.findIndex((item) => item.image.id === row.image);
                            if (at >= 0) {
                              setIndex(at);
                              setDraft(EMPTY_DRAFT);
                            }
                          }}
                        >
                          {row.image_name}
                        </button>{" "}
                        <span class="muted">predicted {row.predicted_class}, label {row.label ?? "none"}</span>
                      </li>
                    ))}
                  </ul>
                </div>
              )}
            </div>
          </section>
        </div>
      )}
    </Layout>
  );
}
