import { useState } from "preact/hooks";
import { api } from "../../api";
import { Link } from "../../components/Link";
import { errorMessage } from "../../components/Status";
import type { Project, Split, UploadResult } from "../../types";
import { SPLITS } from "../../types";
import { RejectedList } from "./RejectedList";

const ACCEPT =
  ".png,.jpg,.jpeg,.tif,.tiff,.dcm,.dicom,image/png,image/jpeg,image/tiff,application/dicom";

/** Uploads one or more files with an optional label and a split; lists created and rejected files. */
export function UploadForm(props: { project: Project; onUploaded: () => void }) {
  const [files, setFiles] = useState<File[]>([]);
  const [label, setLabel] = useState("");
  const [split, setSplit] = useState<Split>("unassigned");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<UploadResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [inputKey, setInputKey] = useState(0);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (files.length === 0) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const answer = await api.uploadImages(props.project.id, files, { label, split });
      setResult(answer);
      setFiles([]);
      setInputKey((n) => n + 1);
      if (answer.created.length > 0) props.onUploaded();
    } catch (reason) {
      setError(errorMessage(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card form-card" onSubmit={submit} aria-label="Upload images">
      <h2>Upload images</h2>
      <p class="muted">PNG, JPEG, TIFF or DICOM; several files at once.</p>
      <div class="form-row">
        <label class="field field-wide">
          <span>Files</span>
          <input
            key={inputKey}
            type="file"
            name="files"
            multiple
            accept={ACCEPT}
            required
            onChange={(e) => setFiles(Array.from(e.currentTarget.files ?? []))}
          />
        </label>
        <label class="field">
          <span>Label</span>
          <select name="label" value={label} onChange={(e) => setLabel(e.currentTarget.value)}>
            <option value="">(none)</option>
            {props.project.class_names.map((name) => (
              <option value={name} key={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Split</span>
          <select
            name="split"
            value={split}
            onChange={(e) => setSplit(e.currentTarget.value as Split)}
          >
            {SPLITS.map((name) => (
              <option value={name} key={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy || files.length === 0}>
          {busy ? "Uploading…" : files.length > 1 ? `Upload ${files.length} files` : "Upload"}
        </button>
      </div>
      {error && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div class="result" role="status" data-testid="upload-result">
          <p class={result.created.length ? "alert alert-success" : "alert alert-warning"}>
            Created {result.created.length} image{result.created.length === 1 ? "" : "s"}
            {result.rejected.length > 0 && `, rejected ${result.rejected.length}`}.
          </p>
          {result.created.length > 0 && (
            <ul class="plain-list">
              {result.created.map((image) => (
                <li key={image.id}>
                  <Link href={`/images/${image.id}`}>{image.name}</Link>{" "}
                  <span class="muted">
                    {image.width}×{image.height} {image.format}
                  </span>
                </li>
              ))}
            </ul>
          )}
          <RejectedList rejected={result.rejected} />
        </div>
      )}
    </form>
  );
}
