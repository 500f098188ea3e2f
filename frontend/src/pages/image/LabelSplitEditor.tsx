import { useState } from "preact/hooks";
import { api } from "../../api";
import { LabelBadge, SplitBadge } from "../../components/Badges";
import { errorMessage } from "../../components/Status";
import type { ImageDetail, Project, Split } from "../../types";
import { SPLITS } from "../../types";

/** Label and split; admins change them in place (each change is saved at once). */
export function LabelSplitEditor(props: {
  image: ImageDetail;
  project: Project;
  onSaved: (image: ImageDetail) => void;
}) {
  const { image, project } = props;
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  if (project.my_role !== "admin") {
    return (
      <div class="image-tags">
        <LabelBadge label={image.label} classNames={project.class_names} />
        <SplitBadge split={image.split} />
      </div>
    );
  }

  const save = async (change: { label?: string | null; split?: Split }) => {
    setSaving(true);
    setError(null);
    setSaved(false);
    try {
      props.onSaved(await api.updateImage(image.id, change));
      setSaved(true);
    } catch (reason) {
      setError(errorMessage(reason));
    } finally {
      setSaving(false);
    }
  };

  return (
    <div class="label-editor">
      <label class="field field-inline">
        <span>Label</span>
        <select
          value={image.label ?? ""}
          disabled={saving}
          onChange={(e) => save({ label: e.currentTarget.value || null })}
        >
          <option value="">(unlabelled)</option>
          {project.class_names.map((name) => (
            <option value={name} key={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label class="field field-inline">
        <span>Split</span>
        <select
          value={image.split}
          disabled={saving}
          onChange={(e) => save({ split: e.currentTarget.value as Split })}
        >
          {SPLITS.map((name) => (
            <option value={name} key={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <span class="save-state" role="status">
        {saving ? "Saving…" : saved ? "Saved" : ""}
      </span>
      {error && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
