// The canvas's modal dialogs: keyboard help, and the choice between two versions of a prompt
// after a save conflict.

import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { colourMaskRect } from "../../canvas/colour";
import { BINDINGS, type Binding, chordLabel } from "../../canvas/keymap";
import { countMask, type Mask } from "../../canvas/mask";
import type { Prompt } from "../../types";

function Modal(props: {
  title: string;
  onClose?: () => void;
  children: ComponentChildren;
  wide?: boolean;
  testId: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose?.()}>
      <div
        class={props.wide ? "modal modal-wide" : "modal"}
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        tabIndex={-1}
        ref={ref}
        data-testid={props.testId}
      >
        <div class="modal-head">
          <h2>{props.title}</h2>
          {props.onClose && (
            <button
              type="button"
              class="button button-ghost button-small"
              onClick={props.onClose}
              aria-label="Close"
            >
              ✕
            </button>
          )}
        </div>
        {props.children}
      </div>
    </div>
  );
}

const GROUP_ORDER: Binding["group"][] = ["Paint", "Tools", "History", "Images", "Overlays", "View"];

const GESTURES: [string, string][] = [
  ["Wheel", "Zoom at the cursor"],
  ["Space + drag", "Pan (or middle drag, Shift + wheel)"],
  ["Right drag", "Window / level (DICOM): ← → width, ↑ ↓ level"],
  ["Two fingers", "Pinch to zoom, drag to pan"],
  ["Double-click, Enter", "Close the polygon"],
];

/** Every key binding, grouped, generated from the keymap table. */
export function HelpOverlay(props: { onClose: () => void }) {
  const groups = new Map<string, Binding[]>(GROUP_ORDER.map((g) => [g, []]));
  for (const binding of BINDINGS) groups.get(binding.group)?.push(binding);
  return (
    <Modal title="Keyboard and pointer" onClose={props.onClose} wide testId="help-overlay">
      <div class="help-grid">
        {[...groups.entries()].map(([group, bindings]) => (
          <section key={group}>
            <h3>{group}</h3>
            <dl class="help-list">
              {bindings.map((b) => (
                <div key={b.action}>
                  <dt>
                    {b.chords.map((c, i) => (
                      <kbd key={i}>{chordLabel(c)}</kbd>
                    ))}
                  </dt>
                  <dd>{b.label}</dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
        <section>
          <h3>Pointer</h3>
          <dl class="help-list">
            {GESTURES.map(([gesture, what]) => (
              <div key={gesture}>
                <dt class="gesture">{gesture}</dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
        </section>
      </div>
      <p class="muted help-foot">
        Every stroke is saved automatically; edits made offline are kept in this browser and sent
        when the connection returns.
      </p>
    </Modal>
  );
}

/** The image with a mask on top, scaled to fit `size` pixels. */
function MaskPreview(props: {
  image: CanvasImageSource | null;
  mask: Mask | null;
  label: string;
  testId: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { mask, image } = props;
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas || !mask) return;
    const size = 280;
    const scale = Math.min(size / mask.width, size / mask.height);
    canvas.width = Math.max(1, Math.round(mask.width * scale));
    canvas.height = Math.max(1, Math.round(mask.height * scale));
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    const layer = document.createElement("canvas");
    layer.width = mask.width;
    layer.height = mask.height;
    const layerCtx = layer.getContext("2d");
    if (!layerCtx) return;
    const pixels = layerCtx.createImageData(mask.width, mask.height);
    colourMaskRect(mask, { x0: 0, y0: 0, x1: mask.width, y1: mask.height }, pixels.data);
    layerCtx.putImageData(pixels, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = "#161a21";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (image) ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    ctx.globalAlpha = 0.6;
    ctx.drawImage(layer, 0, 0, canvas.width, canvas.height);
  }, [mask, image]);
  return (
    <canvas
      ref={ref}
      class="conflict-preview"
      aria-label={props.label}
      data-testid={props.testId}
    />
  );
}

function Counts(props: { mask: Mask | null }) {
  if (!props.mask) return <p class="muted">Loading…</p>;
  const c = countMask(props.mask);
  return (
    <p class="conflict-counts">
      <span class="swatch swatch-important" /> {c.important.toLocaleString()} important{" "}
      <span class="swatch swatch-unimportant" /> {c.unimportant.toLocaleString()} unimportant
    </p>
  );
}

export interface ConflictProps {
  image: CanvasImageSource | null;
  mine: Mask;
  theirs: Mask | null;
  current: Prompt;
  busy: boolean;
  onKeepMine: () => void;
  onTakeTheirs: () => void;
}

/** Both versions side by side; the user chooses, nothing is discarded silently. */
export function ConflictDialog(props: ConflictProps) {
  const when = new Date(props.current.updated_at);
  return (
    <Modal title="This prompt was saved elsewhere" wide testId="conflict-dialog">
      <p>
        Version {props.current.version} was saved by{" "}
        <strong>{props.current.annotator.username}</strong>
        {Number.isNaN(when.getTime()) ? "" : ` at ${when.toLocaleTimeString()}`} (another tab or
        device) while you were drawing. Choose which one continues. The other stays in the prompt's
        history.
      </p>
      <div class="conflict-grid">
        <figure>
          <figcaption>Yours (this tab)</figcaption>
          <MaskPreview
            image={props.image}
            mask={props.mine}
            label="Your version"
            testId="conflict-mine"
          />
          <Counts mask={props.mine} />
          <button
            type="button"
            class="button button-primary"
            disabled={props.busy}
            onClick={props.onKeepMine}
            data-testid="keep-mine"
          >
            Keep mine (save as version {props.current.version + 1})
          </button>
        </figure>
        <figure>
          <figcaption>Theirs (version {props.current.version})</figcaption>
          <MaskPreview
            image={props.image}
            mask={props.theirs}
            label="The saved version"
            testId="conflict-theirs"
          />
          <Counts mask={props.theirs} />
          <button
            type="button"
            class="button"
            disabled={props.busy || !props.theirs}
            onClick={props.onTakeTheirs}
            data-testid="take-theirs"
          >
            Take theirs
          </button>
        </figure>
      </div>
    </Modal>
  );
}
