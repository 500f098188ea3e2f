// Predictions for one image side by side: f_o (image only) and f_m (image masked by the refined
// prompt), the prompt D, the refined map t(D) and the Grad-CAM maps of both streams. A worker
// computes them (POST predictions/); the toggle predicts with or without the prompt.

import { useEffect, useState } from "preact/hooks";
import { api, apiUrl } from "../../api";
import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { ErrorMessage, Loading } from "../../components/Status";
import { useAsync, useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import { setQuery } from "../../router";
import type { Prediction, PredictionResult } from "../jobs/api";
import { fmt, modelingApi, predictAndWait } from "../jobs/api";
import "../jobs/jobs.css";
import { MapOverlay } from "../review/MapOverlay";
import "../review/review.css";

export default function ComparePage(props: PageProps) {
  const id = Number(props.params.id);
  const versionParam = Number(props.query.get("version")) || null;
  const usePrompt = props.query.get("prompt") !== "off";
  const image = useAsync(() => api.image(id), [id]);
  const prompts = useAsync(() => api.prompts(id), [id]);
  const versions = useAsync(
    async () => (image.data ? modelingApi.versions(image.data.project) : []),
    [image.data?.project],
  );
  const version = versions.data?.find((v) => v.id === versionParam) ?? versions.data?.find((v) => v.is_active) ?? versions.data?.[0] ?? null;
  const prompt = prompts.data?.[0] ?? null;
  const [prediction, setPrediction] = useState<Prediction | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [opacity, setOpacity] = useState(0.5);
  useTitle(image.data ? `Compare · ${image.data.name}` : "Compare");

  useEffect(() => {
    if (!version || prompts.loading) return;
    let live = true;
    setBusy(true);
    setError(null);
    predictAndWait({ image: id, model_version: version.id, prompt: prompt?.id, use_prompt: usePrompt && prompt !== null }).then(
      (answer) => live && setPrediction(answer),
      (caught: unknown) => live && setError(caught),
    ).finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [version?.id, usePrompt, prompt?.id, prompts.loading]);

  const img = image.data;
  if (image.error) {
    return (
      <Layout crumbs={[{ label: "Compare" }]}>
        <ErrorMessage error={image.error} onRetry={image.reload} />
      </Layout>
    );
  }
  const result = prediction?.status === "done" ? (prediction.result as PredictionResult) : null;
  return (
    <Layout
      crumbs={[
        { label: "Project", href: img ? `/projects/${img.project}` : undefined },
        { label: img?.name ?? "…", href: `/images/${id}` },
        { label: "Compare predictions" },
      ]}
    >
      <div class="page-header">
        <div>
          <h1>Predictions for {img?.name ?? "…"}</h1>
          <p class="muted">
            {img?.label ? `Label: ${img.label}. ` : ""}
            {result ? `Computed on ${result.device}${result.elapsed_ms ? ` in ${Math.round(result.elapsed_ms)} ms` : ""}.` : ""}
          </p>
        </div>
        <div class="actions">
          <select
            aria-label="Model version"
            value={version?.id ?? ""}
            onChange={(e) => setQuery({ version: (e.target as HTMLSelectElement).value })}
          >
            {versions.data?.map((v) => (
              <option key={v.id} value={v.id}>
                version {v.number} ({v.method}){v.is_active ? ", active" : ""}
              </option>
            ))}
          </select>
          <label class="field-inline">
            <input
              type="checkbox"
              checked={usePrompt}
              disabled={!prompt}
              onChange={(e) => setQuery({ prompt: (e.target as HTMLInputElement).checked ? null : "off" })}
              data-testid="use-prompt"
            />{" "}
            Predict with the prompt
          </label>
          <label class="field-inline">
            Map opacity{" "}
            <input type="range" min="0" max="1" step="0.05" value={opacity} onInput={(e) => setOpacity(Number((e.target as HTMLInputElement).value))} />
          </label>
          {img && (
            <Link class="button" href={`/projects/${img.project}/models`}>
              Model versions
            </Link>
          )}
        </div>
      </div>
      {versions.data?.length === 0 && <p class="alert alert-warning">The project has no model version yet.</p>}
      {error !== null && <ErrorMessage error={error} />}
      {prediction?.status === "failed" && <p class="alert alert-error">{prediction.error_message}</p>}
      {busy && <Loading label="Asking a worker…" />}
      {result?.note && <p class="alert alert-warning">{result.note}</p>}
      {result?.n_masks_reduced && (
        <p class="alert alert-warning" data-testid="reduced-masks">
          t(D) used N = {result.n_masks} masks on {result.device} (trained with {result.n_masks_trained}).
        </p>
      )}
      {img && (
        <div class="compare-grid">
          <section class="card compare-panel" data-testid="prediction-o">
            <h3>f_o: the image only</h3>
            <Probabilities values={result?.probabilities_o ?? null} predicted={result?.predicted_o ?? null} />
            <MapOverlay imageUrl={img.display_url} mapUrl={prediction?.maps.gradcam ?? null} opacity={opacity} label="Grad-CAM of f_o" size={260} />
          </section>
          <section class="card compare-panel" data-testid="prediction-m">
            <h3>f_m: the image masked by t(D)</h3>
            {result && !result.probabilities_m && (
              <p class="muted">{usePrompt ? "No prompt stream for this prediction." : "Prediction without the prompt."}</p>
            )}
            <Probabilities values={result?.probabilities_m ?? null} predicted={result?.predicted_m ?? null} />
            <MapOverlay imageUrl={img.display_url} mapUrl={prediction?.maps.gradcam_m ?? null} opacity={opacity} label="Grad-CAM of f_m" size={260} />
          </section>
          <section class="card compare-panel" data-testid="prompt-d">
            <h3>Prompt D{prompt ? ` (${prompt.annotator.username}, ${prompt.target_class})` : ""}</h3>
            {prompt ? (
              <MapOverlay imageUrl={img.display_url} mapUrl={apiUrl(prompt.mask_url)} opacity={opacity} label="Prompt D" size={260} />
            ) : (
              <p class="muted">No prompt on this image.</p>
            )}
          </section>
          <section class="card compare-panel" data-testid="refined">
            <h3>Refined prompt t(D)</h3>
            {prediction?.maps.refined ? (
              <MapOverlay imageUrl={img.display_url} mapUrl={prediction.maps.refined} opacity={opacity} label="Refined prompt" size={260} />
            ) : (
              <p class="muted">Refinement needs a VAPL version and the prompt.</p>
            )}
          </section>
        </div>
      )}
    </Layout>
  );
}

function Probabilities(props: { values: Record<string, number> | null; predicted: string | null }) {
  if (!props.values) return null;
  return (
    <div data-testid="probabilities">
      <p>
        Predicted: <strong>{props.predicted}</strong>
      </p>
      {Object.entries(props.values).map(([name, p]) => (
        <div class="probability-row" key={name}>
          <span>{name}</span>
          <div class="probability-bar">
            <span style={{ width: `${Math.round(p * 100)}%` }} />
          </div>
          <span class="mono">{fmt(p, 2)}</span>
        </div>
      ))}
    </div>
  );
}
