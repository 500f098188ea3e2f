import { useState } from "preact/hooks";
import { api } from "../../api";
import { errorMessage } from "../../components/Status";
import type { ImportResult, Project } from "../../types";
import { RejectedList } from "./RejectedList";

/** Imports a .zip in the interchange format and shows its summary and rejected files. */
export function ImportForm(props: { project: Project; onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ImportResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [inputKey, setInputKey] = useState(0);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const answer = await api.importArchive(props.project.id, file);
      setResult(answer);
      setFile(null);
      setInputKey((n) => n + 1);
      props.onImported();
    } catch (reason) {
      setError(errorMessage(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card form-card" onSubmit={submit} aria-label="Import archive">
      <h2>Import archive</h2>
      <p class="muted">A .zip in the Sightline interchange format: images, labels, prompts.</p>
      <div class="form-row">
        <label class="field field-wide">
          <span>Archive</span>
          <input
            key={inputKey}
            type="file"
            name="file"
            accept=".zip,application/zip"
            required
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
        </label>
      </div>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy || !file}>
          {busy ? "Importing…" : "Import"}
        </button>
      </div>
      {error && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div class="result" role="status" data-testid="import-result">
          <p class={result.rejected.length ? "alert alert-warning" : "alert alert-success"}>
            {result.summary}
          </p>
          <RejectedList rejected={result.rejected} />
        </div>
      )}
    </form>
  );
}
