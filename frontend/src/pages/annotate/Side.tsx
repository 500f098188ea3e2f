// The information column of the prompt canvas: the image, the prompt's class and save state,
// and the annotation queue (filters, previous / next).

import type { ComponentChildren } from "preact";
import type { QueueFilters } from "../../canvas/queue";
import type { SaveStatus } from "../../canvas/saver";
import { LabelBadge, SplitBadge } from "../../components/Badges";
import type { ImageDetail, Project, Split } from "../../types";
import { SPLITS } from "../../types";

const STATUS_TEXT: Record<SaveStatus, string> = {
  saved: "Saved",
  unsaved: "Unsaved changes",
  saving: "Saving…",
  offline: "Offline: kept in this browser",
  conflict: "Conflict: choose a version",
  error: "Not saved",
};

export function SaveIndicator(props: {
  status: SaveStatus;
  version: number;
  bytes: number;
  error: string | null;
  readOnly: boolean;
}) {
  if (props.readOnly) {
    return (
      <div class="save-indicator" data-state="readonly" data-testid="save-status">
        <span class="save-dot" aria-hidden="true" />
        Read only
      </div>
    );
  }
  const detail =
    props.status === "saved" && props.version > 0
      ? `version ${props.version}${props.bytes ? ` · ${formatBytes(props.bytes)}` : ""}`
      : props.status === "error"
        ? props.error
        : null;
  return (
    <div
      class="save-indicator"
      data-state={props.status}
      data-version={props.version}
      data-testid="save-status"
      role="status"
      aria-live="polite"
    >
      <span class="save-dot" aria-hidden="true" />
      <span>
        <strong>
          {props.status === "saved" && props.version === 0
            ? "Nothing to save yet"
            : STATUS_TEXT[props.status]}
        </strong>
        {detail && <span class="save-detail">{detail}</span>}
      </span>
    </div>
  );
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}

export interface SideProps {
  image: ImageDetail;
  project: Project;
  targetClass: string;
  onTargetClass: (name: string) => void;
  save: ComponentChildren;
  /** DICOM window controls, if any. */
  display?: ComponentChildren;
  filters: QueueFilters;
  onFilters: (filters: QueueFilters) => void;
  onPrevious: () => void;
  onNext: () => void;
  navigating: boolean;
  queueMessage: string | null;
  onHelp: () => void;
  notice: ComponentChildren;
}

export function SidePanel(props: SideProps) {
  const { image, project, filters } = props;
  const set = (patch: Partial<QueueFilters>) => props.onFilters({ ...filters, ...patch });
  return (
    <aside class="annotate-side" aria-label="Image and queue">
      <section>
        <h2 class="annotate-image-name" title={image.name}>
          {image.name}
        </h2>
        <div class="image-badges">
          <LabelBadge label={image.label} classNames={project.class_names} />
          <SplitBadge split={image.split} />
          <span class="badge badge-plain">
            {image.width}×{image.height}
          </span>
          {image.is_dicom && <span class="badge badge-plain">DICOM</span>}
        </div>
      </section>
      <section>
        <label class="field">
          <span>Prompt for class</span>
          <select
            value={props.targetClass}
            onChange={(e) => props.onTargetClass(e.currentTarget.value)}
            data-testid="target-class"
          >
            {project.class_names.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        {props.save}
        {props.notice}
      </section>
      {props.display}
      <section class="queue">
        <h3>Queue</h3>
        <div class="queue-filters">
          <label class="field">
            <span>Split</span>
            <select
              value={filters.split}
              onChange={(e) => set({ split: e.currentTarget.value as Split | "" })}
              data-testid="queue-split"
            >
              <option value="">Any</option>
              {SPLITS.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>Label</span>
            <select
              value={filters.label}
              onChange={(e) => set({ label: e.currentTarget.value })}
              data-testid="queue-label"
            >
              <option value="">Any</option>
              <option value="none">Unlabelled</option>
              {project.class_names.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        </div>
        <label class="check">
          <input
            type="checkbox"
            checked={filters.unprompted}
            onChange={(e) => set({ unprompted: e.currentTarget.checked })}
            data-testid="queue-unprompted"
          />
          Only images without my prompt
        </label>
        <div class="queue-buttons">
          <button
            type="button"
            class="button button-small"
            onClick={props.onPrevious}
            disabled={props.navigating}
            data-testid="previous-image"
          >
            ← Previous <kbd>P</kbd>
          </button>
          <button
            type="button"
            class="button button-small button-primary"
            onClick={props.onNext}
            disabled={props.navigating}
            data-testid="next-image"
          >
            Next <kbd>N</kbd> →
          </button>
        </div>
        {props.queueMessage && (
          <p class="hint" role="status">
            {props.queueMessage}
          </p>
        )}
      </section>
      <section class="side-foot">
        <button
          type="button"
          class="button button-ghost button-small"
          onClick={props.onHelp}
          data-testid="open-help"
        >
          <kbd>?</kbd> Keyboard shortcuts
        </button>
      </section>
    </aside>
  );
}
