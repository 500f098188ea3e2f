// Rule-based browsing: choose images by stored values (prediction, confidence, correctness,
// quadrant, attention energy outside the prompt, prompts, annotator), preview them, save the
// selection, and send it to the annotation queue or to a rating study in one action. "Open in the
// canvas" starts the prompt canvas on the selection's first image with `?selection=<id>`, so the
// queue stays inside the selection.

import { useState } from "preact/hooks";
import { api } from "../../api";
import { selectionAnnotateHref } from "../../canvas/queue";
import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { EmptyState, ErrorMessage, Loading } from "../../components/Status";
import { useAsync, useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import { navigate } from "../../router";
import type { Selection, SelectionPreview, SelectionRules } from "../review/api";
import { reviewApi } from "../review/api";
import { StudyForm } from "../studies/StudyForm";
import "../review/review.css";

const QUADRANT_RULES = ["RA", "UA", "RIA", "UIA", "undecided", "unassessed"];

type Tri = "" | "true" | "false";

function tri(value: Tri): boolean | null {
  return value === "" ? null : value === "true";
}

function num(value: string): number | null {
  return value.trim() === "" ? null : Number(value);
}

function describeRules(rules: SelectionRules): string {
  const parts = Object.entries(rules).map(([key, value]) => `${key} ${Array.isArray(value) ? value.join("/") : String(value)}`);
  return parts.length ? parts.join(", ") : "all images";
}

export default function SelectionsPage(props: PageProps) {
  const id = props.params.id;
  const project = useAsync(() => api.project(id), [id]);
  const versions = useAsync(() => reviewApi.versions(id), [id]);
  const members = useAsync(() => api.members(id), [id]);
  const saved = useAsync(() => reviewApi.selections(id), [id]);
  const [form, setForm] = useState({
    model_version: "",
    split: "",
    label: "",
    predicted_class: "",
    confidence_min: "",
    confidence_max: "",
    correct: "" as Tri,
    quadrants: [] as string[],
    outside_energy_min: "",
    outside_energy_max: "",
    has_prompt: "" as Tri,
    annotator: "",
    search: "",
  });
  const [preview, setPreview] = useState<SelectionPreview | null>(null);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [studyFor, setStudyFor] = useState<Selection | null>(null);
  useTitle(project.data ? `Selections · ${project.data.name}` : "Selections");

  const p = project.data;
  const isAdmin = p?.my_role === "admin";
  const set = (change: Partial<typeof form>) => {
    setForm({ ...form, ...change });
    setPreview(null);
  };
  const rules = (): SelectionRules => ({
    model_version: num(form.model_version),
    split: (form.split || null) as SelectionRules["split"],
    label: form.label || null,
    predicted_class: form.predicted_class || null,
    confidence_min: num(form.confidence_min),
    confidence_max: num(form.confidence_max),
    correct: tri(form.correct),
    quadrants: form.quadrants.length ? form.quadrants : null,
    outside_energy_min: num(form.outside_energy_min),
    outside_energy_max: num(form.outside_energy_max),
    has_prompt: tri(form.has_prompt),
    annotator: form.annotator || null,
    search: form.search || null,
  });

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const showPreview = () => run(async () => setPreview(await reviewApi.previewSelection(id, rules())));
  const save = () =>
    run(async () => {
      await reviewApi.saveSelection(id, name, rules());
      setName("");
      saved.reload();
    });
  const queue = (selection: Selection) =>
    run(async () => {
      await reviewApi.queueSelection(selection.id);
      saved.reload();
    });
  const remove = (selection: Selection) =>
    run(async () => {
      await reviewApi.deleteSelection(selection.id);
      saved.reload();
    });

  const classNames = p?.class_names ?? [];
  const field = (label: string, key: keyof typeof form, type = "text", extra: Record<string, string> = {}) => (
    <label class="field">
      <span>{label}</span>
      <input type={type} value={form[key] as string} onInput={(e) => set({ [key]: (e.target as HTMLInputElement).value })} {...extra} />
    </label>
  );

  return (
    <Layout crumbs={[{ label: p?.name ?? "…", href: `/projects/${id}/review` }, { label: "Selections" }]}>
      <div class="page-header">
        <div>
          <h1>Select images by rules</h1>
          <p class="muted">Rules combine with AND; prediction and quadrant rules read one model version.</p>
        </div>
      </div>
      <form
        class="card form-card"
        aria-label="Selection rules"
        onSubmit={(e) => {
          e.preventDefault();
          void showPreview();
        }}
      >
        <div class="form-row rules-grid">
          <label class="field">
            <span>Model version</span>
            <select value={form.model_version} onChange={(e) => set({ model_version: (e.target as HTMLSelectElement).value })}>
              <option value="">none</option>
              {versions.data?.map((v) => (
                <option key={v.id} value={v.id}>
                  version {v.number} ({v.method})
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>Split</span>
            <select value={form.split} onChange={(e) => set({ split: (e.target as HTMLSelectElement).value })}>
              <option value="">any</option>
              <option value="train">train</option>
              <option value="val">val</option>
              <option value="test">test</option>
              <option value="unassigned">unassigned</option>
            </select>
          </label>
          <label class="field">
            <span>Label</span>
            <select value={form.label} onChange={(e) => set({ label: (e.target as HTMLSelectElement).value })}>
              <option value="">any</option>
              <option value="none">unlabelled</option>
              {classNames.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>Predicted class</span>
            <select value={form.predicted_class} onChange={(e) => set({ predicted_class: (e.target as HTMLSelectElement).value })}>
              <option value="">any</option>
              {classNames.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
          {field("Confidence from", "confidence_min", "number", { min: "0", max: "1", step: "0.01" })}
          {field("Confidence to", "confidence_max", "number", { min: "0", max: "1", step: "0.01" })}
          <label class="field">
            <span>Prediction</span>
            <select value={form.correct} onChange={(e) => set({ correct: (e.target as HTMLSelectElement).value as Tri })}>
              <option value="">any</option>
              <option value="true">correct</option>
              <option value="false">wrong</option>
            </select>
          </label>
          {field("Energy outside prompt from", "outside_energy_min", "number", { min: "0", max: "1", step: "0.05" })}
          {field("Energy outside prompt to", "outside_energy_max", "number", { min: "0", max: "1", step: "0.05" })}
          <label class="field">
            <span>Prompt</span>
            <select value={form.has_prompt} onChange={(e) => set({ has_prompt: (e.target as HTMLSelectElement).value as Tri })}>
              <option value="">any</option>
              <option value="true">has a prompt</option>
              <option value="false">no prompt</option>
            </select>
          </label>
          <label class="field">
            <span>Prompted by</span>
            <select value={form.annotator} onChange={(e) => set({ annotator: (e.target as HTMLSelectElement).value })}>
              <option value="">anyone</option>
              {members.data?.map((m) => (
                <option key={m.user.id} value={m.user.username}>
                  {m.user.username}
                </option>
              ))}
            </select>
          </label>
          {field("Name contains", "search")}
        </div>
        <fieldset class="quadrant-rules">
          <legend>Quadrant</legend>
          {QUADRANT_RULES.map((q) => (
            <label class="field field-inline" key={q}>
              <input
                type="checkbox"
                checked={form.quadrants.includes(q)}
                onChange={(e) =>
                  set({
                    quadrants: (e.target as HTMLInputElement).checked
                      ? [...form.quadrants, q]
                      : form.quadrants.filter((x) => x !== q),
                  })
                }
              />
              <span>{q}</span>
            </label>
          ))}
        </fieldset>
        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={busy}>
            Preview
          </button>
          {isAdmin && (
            <>
              <input aria-label="Selection name" placeholder="Selection name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
              <button type="button" class="button" disabled={busy || !name} onClick={() => void save()}>
                Save selection
              </button>
            </>
          )}
        </div>
      </form>
      {error !== null && <ErrorMessage error={error} />}
      {preview && (
        <section class="card" aria-label="Preview">
          <h2 data-testid="preview-count">
            {preview.count} image{preview.count === 1 ? "" : "s"} match
          </h2>
          <div class="preview-grid">
            {preview.images.map((image) => (
              <Link key={image.id} href={`/images/${image.id}`} class="preview-item">
                <img src={image.thumbnail_url} alt="" width={72} height={72} />
                <span>{image.name}</span>
              </Link>
            ))}
          </div>
          {preview.count > preview.images.length && <p class="muted">Showing the first {preview.images.length}.</p>}
        </section>
      )}
      <section class="card">
        <h2>Saved selections</h2>
        {saved.loading && !saved.data && <Loading />}
        {saved.data?.length === 0 && <EmptyState title="No saved selections" />}
        {saved.data && saved.data.length > 0 && (
          <table class="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Images</th>
                <th>Rules</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {saved.data.map((s) => (
                <tr key={s.id}>
                  <td>{s.name}</td>
                  <td>{s.count}</td>
                  <td class="muted small">{describeRules(s.rules)}</td>
                  <td class="answer-buttons">
                    {s.image_ids.length > 0 && (
                      <Link href={selectionAnnotateHref(s)} class="button button-small" data-testid="open-selection-canvas">
                        Open in the canvas
                      </Link>
                    )}
                    {!s.queued_for_annotation_at && isAdmin && (
                      <button type="button" class="button button-small" disabled={busy} onClick={() => void queue(s)}>
                        Send to annotation queue
                      </button>
                    )}
                    {isAdmin && (
                      <button type="button" class="button button-small" onClick={() => setStudyFor(s)}>
                        Rating study
                      </button>
                    )}
                    {isAdmin && (
                      <button type="button" class="button button-small button-ghost" disabled={busy} onClick={() => void remove(s)}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {studyFor && (
        <StudyForm
          projectId={id}
          selection={studyFor}
          onCancel={() => setStudyFor(null)}
          onCreated={(study) => navigate(`/studies/${study.id}`)}
        />
      )}
    </Layout>
  );
}
