// Setting up a rating study: name, two or more conditions, reviewers, questions, correction.
// The images come from a saved selection (chosen here, or given by the caller).

import { useState } from "preact/hooks";
import { api } from "../../api";
import { ErrorMessage } from "../../components/Status";
import { useAsync } from "../../hooks";
import type { ConditionInput, ConditionKind, ModelVersion, Question, Selection, Study, StudySetup } from "../review/api";
import { reviewApi } from "../review/api";

const KINDS: { value: ConditionKind; label: string }[] = [
  { value: "model_map", label: "Attention map of a model version" },
  { value: "refined_prompt", label: "Refined prompt t(D) of a VAPL version" },
  { value: "raw_prompt", label: "Prompt as drawn" },
];

const QUESTIONS: { value: Question; label: string }[] = [
  { value: "q1", label: "Q1 needed details highlighted" },
  { value: "q2", label: "Q2 unneeded details highlighted" },
  { value: "likert", label: "5-level Likert rating" },
];

function emptyCondition(versions: ModelVersion[], index: number): ConditionInput {
  const version = versions[index] ?? versions[0];
  return {
    name: version ? `version ${version.number}` : `condition ${index + 1}`,
    kind: version ? "model_map" : "raw_prompt",
    model_version: version?.id ?? null,
    map_method: "gradcam",
  };
}

export interface StudyFormProps {
  projectId: number | string;
  /** Fixed selection (the form then hides the selection chooser). */
  selection?: Selection;
  onCreated: (study: Study) => void;
  onCancel?: () => void;
}

export function StudyForm(props: StudyFormProps) {
  const versions = useAsync(() => reviewApi.versions(props.projectId), [props.projectId]);
  const members = useAsync(() => api.members(props.projectId), [props.projectId]);
  const selections = useAsync(
    () => (props.selection ? Promise.resolve([props.selection]) : reviewApi.selections(props.projectId)),
    [props.projectId, props.selection?.id],
  );
  const [name, setName] = useState("");
  const [selectionId, setSelectionId] = useState<number | null>(props.selection?.id ?? null);
  const [conditions, setConditions] = useState<ConditionInput[] | null>(null);
  const [reviewers, setReviewers] = useState<string[]>([]);
  const [questions, setQuestions] = useState<Question[]>(["q1", "q2", "likert"]);
  const [correction, setCorrection] = useState<"holm" | "bonferroni">("holm");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const allVersions = versions.data ?? [];
  const rows = conditions ?? (versions.data ? [emptyCondition(allVersions, 0), emptyCondition(allVersions, 1)] : []);
  const raters = (members.data ?? []).filter((m) => m.role === "reviewer" || m.role === "admin");
  const chosenSelection = selectionId ?? selections.data?.[0]?.id ?? null;

  const update = (index: number, change: Partial<ConditionInput>) =>
    setConditions(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));

  const submit = async (event: Event) => {
    event.preventDefault();
    if (chosenSelection === null) return setError(new Error("Save a selection of images first."));
    setBusy(true);
    setError(null);
    const setup: StudySetup = {
      name,
      conditions: rows.map((row) => ({ ...row, model_version: row.kind === "raw_prompt" ? null : row.model_version })),
      reviewers,
      questions,
      correction,
    };
    try {
      const study = props.selection
        ? await reviewApi.studyFromSelection(props.selection.id, setup)
        : await reviewApi.createStudy(props.projectId, { ...setup, selection: chosenSelection });
      props.onCreated(study);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card form-card study-form" onSubmit={submit} aria-label="New rating study">
      <h2>New rating study</h2>
      <div class="form-row">
        <label class="field">
          <span>Study name</span>
          <input required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        {!props.selection && (
          <label class="field">
            <span>Images (saved selection)</span>
            <select
              value={chosenSelection ?? ""}
              onChange={(e) => setSelectionId(Number((e.target as HTMLSelectElement).value) || null)}
            >
              {selections.data?.length === 0 && <option value="">no saved selection yet</option>}
              {selections.data?.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({s.count} images)
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <fieldset class="conditions">
        <legend>Conditions (shown blind, in a random order per reviewer and image)</legend>
        {rows.map((row, index) => (
          <div class="form-row condition-row" key={index}>
            <label class="field">
              <span>Name (admins only)</span>
              <input value={row.name} onInput={(e) => update(index, { name: (e.target as HTMLInputElement).value })} />
            </label>
            <label class="field">
              <span>Maps from</span>
              <select value={row.kind} onChange={(e) => update(index, { kind: (e.target as HTMLSelectElement).value as ConditionKind })}>
                {KINDS.map((k) => (
                  <option key={k.value} value={k.value}>
                    {k.label}
                  </option>
                ))}
              </select>
            </label>
            {row.kind !== "raw_prompt" && (
              <label class="field">
                <span>Model version</span>
                <select
                  value={row.model_version ?? ""}
                  onChange={(e) => update(index, { model_version: Number((e.target as HTMLSelectElement).value) })}
                >
                  {allVersions.map((v) => (
                    <option key={v.id} value={v.id}>
                      version {v.number} ({v.method})
                    </option>
                  ))}
                </select>
              </label>
            )}
            {row.kind === "model_map" && (
              <label class="field">
                <span>Map</span>
                <select
                  value={row.map_method}
                  onChange={(e) => update(index, { map_method: (e.target as HTMLSelectElement).value as "gradcam" | "rise" })}
                >
                  <option value="gradcam">Grad-CAM</option>
                  <option value="rise">RISE</option>
                </select>
              </label>
            )}
            {rows.length > 2 && (
              <button type="button" class="button button-small button-ghost" onClick={() => setConditions(rows.filter((_, i) => i !== index))}>
                Remove
              </button>
            )}
          </div>
        ))}
        <button type="button" class="button button-small" onClick={() => setConditions([...rows, emptyCondition(allVersions, rows.length)])}>
          Add a condition
        </button>
      </fieldset>
      <fieldset>
        <legend>Reviewers</legend>
        {raters.length === 0 && <p class="muted">No reviewers or admins in this project.</p>}
        {raters.map((m) => (
          <label class="field field-inline" key={m.user.id}>
            <input
              type="checkbox"
              checked={reviewers.includes(m.user.username)}
              onChange={(e) =>
                setReviewers(
                  (e.target as HTMLInputElement).checked
                    ? [...reviewers, m.user.username]
                    : reviewers.filter((r) => r !== m.user.username),
                )
              }
            />
            <span>
              {m.user.username} ({m.role})
            </span>
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Questions</legend>
        {QUESTIONS.map((q) => (
          <label class="field field-inline" key={q.value}>
            <input
              type="checkbox"
              checked={questions.includes(q.value)}
              onChange={(e) =>
                setQuestions(
                  (e.target as HTMLInputElement).checked
                    ? QUESTIONS.map((x) => x.value).filter((x) => x === q.value || questions.includes(x))
                    : questions.filter((x) => x !== q.value),
                )
              }
            />
            <span>{q.label}</span>
          </label>
        ))}
        <label class="field field-inline">
          <span>Post-hoc correction</span>
          <select value={correction} onChange={(e) => setCorrection((e.target as HTMLSelectElement).value as "holm" | "bonferroni")}>
            <option value="holm">Holm</option>
            <option value="bonferroni">Bonferroni</option>
          </select>
        </label>
      </fieldset>
      {error !== null && <ErrorMessage error={error} title="The study was not created." />}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy || !name || reviewers.length === 0 || questions.length === 0}>
          Create study
        </button>
        {props.onCancel && (
          <button type="button" class="button button-ghost" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
