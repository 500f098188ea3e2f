// The launch form: one field per parameter of the chosen job kind (from GET jobs/schema/),
// grouped as the schema groups them, with the method presets applied when the method changes.

import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError } from "../../api";
import { ErrorMessage } from "../../components/Status";
import type { Job, JobKind, JobSchema, ModelVersion, Param } from "./api";
import { modelingApi } from "./api";

type Values = Record<string, string | boolean | string[]>;

const KINDS: { kind: JobKind; label: string }[] = [
  { kind: "train", label: "Train a model" },
  { kind: "evaluate", label: "Evaluate a version" },
  { kind: "explain", label: "Explain images (Grad-CAM / RISE)" },
  { kind: "refine", label: "Refine prompts t(D) (VAPL)" },
];

/** Form values of a kind's defaults, with a method preset and extra overrides on top. */
export function initialValues(params: Param[], overrides: Record<string, unknown>): Values {
  const values: Values = {};
  for (const param of params) {
    const value = param.name in overrides ? overrides[param.name] : param.default;
    values[param.name] = toField(param, value);
  }
  return values;
}

function toField(param: Param, value: unknown): string | boolean | string[] {
  if (param.type === "bool" && !param.nullable) return Boolean(value);
  if (param.type === "list") return Array.isArray(value) ? value.map(String) : [];
  if (param.type === "ids") return Array.isArray(value) ? value.join(", ") : "";
  if (value === null || value === undefined) return "";
  return String(value);
}

/** The JSON parameters of the form (empty optional fields are left out). */
export function toParameters(params: Param[], values: Values, method: string | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const param of params) {
    if (method && param.methods.length && !param.methods.includes(method)) continue;
    const raw = values[param.name];
    if (param.type === "bool" && !param.nullable) {
      out[param.name] = Boolean(raw);
    } else if (param.type === "list") {
      out[param.name] = raw;
    } else if (param.type === "ids") {
      const ids = String(raw ?? "").split(/[\s,]+/).filter(Boolean).map(Number);
      if (ids.length) out[param.name] = ids;
    } else if (raw === "" || raw === undefined) {
      if (param.nullable) out[param.name] = null;
    } else if (param.type === "int" || param.type === "float") {
      out[param.name] = Number(raw);
    } else if (param.type === "bool") {
      out[param.name] = raw === "true";
    } else {
      out[param.name] = raw;
    }
  }
  return out;
}

export interface LaunchFormProps {
  projectId: number;
  schema: JobSchema;
  versions: ModelVersion[];
  onLaunched: (job: Job) => void;
}

export function LaunchForm(props: LaunchFormProps) {
  const { schema } = props;
  const [kind, setKind] = useState<JobKind>("train");
  const params = schema.kinds[kind];
  const [values, setValues] = useState<Values>(() => initialValues(schema.kinds.train, {}));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const method = kind === "train" ? String(values.method ?? "baseline") : null;

  useEffect(() => {
    const latest = props.versions.find((v) => v.is_active) ?? props.versions[0];
    setValues(initialValues(params, kind === "train" ? {} : { model_version: latest?.id ?? null }));
    setError(null);
  }, [kind]);

  const applyPreset = (next: string, extra: Record<string, unknown> = {}) => {
    setValues(initialValues(params, { ...schema.presets[next], ...extra, method: next }));
  };

  const visible = useMemo(
    () => params.filter((p) => !(method && p.methods.length && !p.methods.includes(method))),
    [params, method],
  );
  const groups = useMemo(() => {
    const byGroup = new Map<string, Param[]>();
    for (const param of visible) byGroup.set(param.group, [...(byGroup.get(param.group) ?? []), param]);
    return [...byGroup.entries()];
  }, [visible]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const job = await modelingApi.launch(props.projectId, kind, toParameters(params, values, method));
      props.onLaunched(job);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const set = (name: string, value: string | boolean | string[]) => {
    if (name === "method" && typeof value === "string") applyPreset(value);
    else setValues((current) => ({ ...current, [name]: value }));
  };
  const fieldErrors = error instanceof ApiError && error.detail && typeof error.detail === "object" ? (error.detail as Record<string, string>) : {};

  return (
    <form class="card form-card" onSubmit={submit} aria-label="Launch a job" data-testid="launch-form">
      <h2>Launch a job</h2>
      <div class="form-row">
        <label class="field">
          <span>Kind</span>
          <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as JobKind)} name="kind">
            {KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        </label>
        {kind === "train" && (
          <div class="field">
            <span>Presets</span>
            <div class="actions">
              <button type="button" class="button button-small" onClick={() => applyPreset(method ?? "baseline")}>
                Paper defaults for {method}
              </button>
              <button
                type="button"
                class="button button-small"
                onClick={() => applyPreset(method ?? "baseline", schema.quick_preset)}
              >
                Quick (small project, CPU)
              </button>
            </div>
          </div>
        )}
      </div>
      <div class="param-groups">
        {groups.map(([group, fields]) => (
          <fieldset key={group}>
            <legend>{group}</legend>
            {fields.map((param) => (
              <ParamField
                key={param.name}
                param={param}
                value={values[param.name]}
                versions={props.versions}
                error={fieldErrors[param.name]}
                onChange={(value) => set(param.name, value)}
              />
            ))}
          </fieldset>
        ))}
      </div>
      {error !== null && <ErrorMessage error={error} />}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? "Launching…" : "Launch"}
        </button>
      </div>
    </form>
  );
}

interface ParamFieldProps {
  param: Param;
  value: string | boolean | string[] | undefined;
  versions: ModelVersion[];
  error?: string;
  onChange: (value: string | boolean | string[]) => void;
}

function ParamField(props: ParamFieldProps) {
  const { param, value } = props;
  const id = `param-${param.name}`;
  const label = param.name.replace(/_/g, " ");
  let input;
  if (param.name === "model_version") {
    input = (
      <select id={id} value={String(value ?? "")} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        <option value="">choose a version</option>
        {props.versions.map((v) => (
          <option key={v.id} value={v.id}>
            version {v.number} ({v.method}){v.is_active ? ", active" : ""}
          </option>
        ))}
      </select>
    );
  } else if (param.type === "bool" && !param.nullable) {
    input = <input id={id} type="checkbox" checked={Boolean(value)} onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)} />;
  } else if (param.type === "choice" || param.type === "bool") {
    const choices = param.type === "bool" ? ["true", "false"] : param.choices.map(String);
    input = (
      <select id={id} name={param.name} value={String(value ?? "")} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        {param.nullable && <option value="">{param.type === "bool" ? "auto" : "none"}</option>}
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </select>
    );
  } else if (param.type === "list") {
    const chosen = Array.isArray(value) ? value : [];
    input = (
      <span>
        {param.choices.map(String).map((choice) => (
          <label key={choice} class="field-inline">
            <input
              type="checkbox"
              checked={chosen.includes(choice)}
              onChange={(e) =>
                props.onChange((e.target as HTMLInputElement).checked ? [...chosen, choice] : chosen.filter((c) => c !== choice))
              }
            />{" "}
            {choice}
          </label>
        ))}
      </span>
    );
  } else {
    const numeric = param.type === "int" || param.type === "float";
    input = (
      <input
        id={id}
        name={param.name}
        type={numeric ? "number" : "text"}
        step={param.type === "float" ? "any" : numeric ? "1" : undefined}
        min={param.minimum ?? undefined}
        max={param.maximum ?? undefined}
        placeholder={param.nullable ? "none" : undefined}
        value={String(value ?? "")}
        onInput={(e) => props.onChange((e.target as HTMLInputElement).value)}
      />
    );
  }
  return (
    <div class="param-field">
      <label for={id}>{label}</label>
      {input}
      {param.help && <small>{param.help}</small>}
      {props.error && <small class="alert-error">{props.error}</small>}
    </div>
  );
}
