// The tool column of the prompt canvas: value, tool, brush size, mask operations, opacity,
// overlays and (for DICOM) the window. Every control names its key.

import type { JSX } from "preact";
import type { EditorState, Tool } from "../../canvas/editor";
import { IMPORTANT, type MaskCode, UNCLEAR, UNIMPORTANT } from "../../canvas/mask";
import type { OverlaySource } from "../../canvas/overlays";
import { MAX_BRUSH } from "../../canvas/raster";
import { type DisplayWindow, matchPreset, type WindowPreset } from "../../canvas/windowing";

export interface OverlayToggle extends OverlaySource {
  visible: boolean;
  loading: boolean;
  error: string | null;
}

export interface ToolsProps {
  state: EditorState;
  isDicom: boolean;
  overlays: OverlayToggle[];
  onCode: (code: MaskCode) => void;
  onTool: (tool: Tool) => void;
  onBrushSize: (size: number) => void;
  onOpacity: (opacity: number) => void;
  onFillRest: () => void;
  onClear: () => void;
  onUndo: () => void;
  onRedo: () => void;
  onTogglePrompt: () => void;
  onToggleOverlay: (key: string) => void;
}

const VALUES: { code: MaskCode; label: string; key: string; className: string }[] = [
  { code: IMPORTANT, label: "Important", key: "1", className: "value-important" },
  { code: UNIMPORTANT, label: "Unimportant", key: "2", className: "value-unimportant" },
  { code: UNCLEAR, label: "Eraser", key: "3", className: "value-unclear" },
];

const icon = (d: string) => (
  <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
    <path
      d={d}
      fill="none"
      stroke="currentColor"
      stroke-width="1.8"
      stroke-linecap="round"
      stroke-linejoin="round"
    />
  </svg>
);

const TOOLS: { tool: Tool; label: string; key: string; icon: JSX.Element; dicomOnly?: boolean }[] =
  [
    {
      tool: "brush",
      label: "Brush",
      key: "B",
      icon: icon("M4 20c2 0 4-1 4-3.5S6 13 8.5 11L18 3l3 3-8 9.5C11 18 9 20 4 20z"),
    },
    {
      tool: "polygon",
      label: "Polygon / lasso",
      key: "L",
      icon: icon("M5 7l7-4 8 6-3 11H7L4 13z"),
    },
    {
      tool: "fill",
      label: "Flood fill",
      key: "F",
      icon: icon("M4 12l7-7 8 8-7 7zM19 15s2 2.5 2 4a2 2 0 0 1-4 0c0-1.5 2-4 2-4z"),
    },
    { tool: "rect", label: "Rectangle", key: "R", icon: icon("M4 6h16v12H4z") },
    {
      tool: "window",
      label: "Window / level",
      key: "W",
      dicomOnly: true,
      icon: icon("M12 3a9 9 0 1 0 0 18V3z M12 3a9 9 0 0 1 0 18"),
    },
  ];

/** The brush slider is logarithmic: fine control for small brushes, reach for large ones. */
const toSlider = (size: number) => Math.round((Math.log(size) / Math.log(MAX_BRUSH)) * 1000);
const fromSlider = (value: number) =>
  Math.max(1, Math.round(Math.exp((value / 1000) * Math.log(MAX_BRUSH))));

export function ToolPanel(props: ToolsProps) {
  const { state } = props;
  const disabled = state.readOnly;
  return (
    <aside class="annotate-tools" aria-label="Tools">
      <section>
        <h3>Paint</h3>
        <div class="value-buttons" role="group" aria-label="Value">
          {VALUES.map((v) => (
            <button
              key={v.code}
              type="button"
              class={`value-button ${v.className}`}
              aria-pressed={state.code === v.code}
              disabled={disabled}
              onClick={() => props.onCode(v.code)}
              title={`${v.label} (${v.key})`}
              data-testid={`value-${v.className.slice(6)}`}
            >
              <span class="value-swatch" aria-hidden="true" />
              <span>{v.label}</span>
              <kbd>{v.key}</kbd>
            </button>
          ))}
        </div>
      </section>
      <section>
        <h3>Tool</h3>
        <div class="tool-buttons" role="group" aria-label="Tool">
          {TOOLS.filter((t) => !t.dicomOnly || props.isDicom).map((t) => (
            <button
              key={t.tool}
              type="button"
              class="tool-button"
              aria-pressed={state.tool === t.tool}
              disabled={disabled && t.tool !== "window"}
              onClick={() => props.onTool(t.tool)}
              title={`${t.label} (${t.key})`}
              data-testid={`tool-${t.tool}`}
            >
              {t.icon}
              <span>{t.label}</span>
              <kbd>{t.key}</kbd>
            </button>
          ))}
        </div>
        <label class="slider-field">
          <span>
            Brush <output data-testid="brush-size">{state.brushSize}px</output> <kbd>[</kbd>
            <kbd>]</kbd>
          </span>
          <input
            type="range"
            min={0}
            max={1000}
            value={toSlider(state.brushSize)}
            onInput={(e) => props.onBrushSize(fromSlider(Number(e.currentTarget.value)))}
            aria-label="Brush size"
            disabled={disabled}
          />
        </label>
      </section>
      <section>
        <h3>Prompt</h3>
        <div class="action-grid">
          <button
            type="button"
            class="button button-small"
            onClick={props.onUndo}
            disabled={disabled || state.undoDepth === 0}
            title="Undo (Ctrl+Z)"
            data-testid="undo"
          >
            Undo
          </button>
          <button
            type="button"
            class="button button-small"
            onClick={props.onRedo}
            disabled={disabled || state.redoDepth === 0}
            title="Redo (Ctrl+Shift+Z)"
            data-testid="redo"
          >
            Redo
          </button>
          <button
            type="button"
            class="button button-small"
            onClick={props.onFillRest}
            disabled={disabled || state.code === UNCLEAR}
            title="Every unclear pixel takes the current value (Shift+F)"
            data-testid="fill-rest"
          >
            Fill the rest
          </button>
          <button
            type="button"
            class="button button-small"
            onClick={props.onClear}
            disabled={disabled}
            title="Everything back to unclear (Shift+Delete)"
            data-testid="clear"
          >
            Clear
          </button>
        </div>
      </section>
      <section>
        <h3>Layers</h3>
        <label class="slider-field">
          <span>
            Prompt opacity <output>{Math.round(state.opacity * 100)}%</output>
          </span>
          <input
            type="range"
            min={5}
            max={100}
            value={Math.round(state.opacity * 100)}
            onInput={(e) => props.onOpacity(Number(e.currentTarget.value) / 100)}
            aria-label="Prompt opacity"
            data-testid="opacity"
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={state.promptVisible}
            onChange={props.onTogglePrompt}
            data-testid="toggle-prompt"
          />
          Prompt <kbd>M</kbd>
        </label>
        {props.overlays
          .filter((o) => o.url)
          .map((o) => (
            <label class="check" key={o.key} title={o.error ?? undefined}>
              <input
                type="checkbox"
                checked={o.visible}
                onChange={() => props.onToggleOverlay(o.key)}
                data-testid={`toggle-${o.key}`}
              />
              {o.label} <kbd>{o.shortcut}</kbd>
              {o.loading && <span class="spinner spinner-small" aria-label="loading" />}
              {o.error && <span class="overlay-error">unavailable</span>}
            </label>
          ))}
      </section>
    </aside>
  );
}

/** DICOM window / level: presets, exact values, and how to drag it. */
export function WindowControls(props: {
  window: DisplayWindow;
  presets: WindowPreset[];
  windowing: "client" | "server" | null;
  onWindow: (window: DisplayWindow) => void;
}) {
  const preset = matchPreset(props.presets, props.window);
  return (
    <section>
      <h3>Display window</h3>
      <select
        aria-label="Window preset"
        data-testid="window-preset"
        value={preset?.key ?? "custom"}
        onChange={(e) => {
          const chosen = props.presets.find((p) => p.key === e.currentTarget.value);
          if (chosen) props.onWindow({ center: chosen.center, width: chosen.width });
        }}
      >
        {props.presets.map((p) => (
          <option key={p.key} value={p.key}>
            {p.label} ({p.center} / {p.width})
          </option>
        ))}
        {!preset && <option value="custom">Custom</option>}
      </select>
      <div class="window-fields">
        <label>
          <span>Level</span>
          <input
            type="number"
            step={1}
            value={props.window.center}
            onChange={(e) =>
              props.onWindow({ center: Number(e.currentTarget.value), width: props.window.width })
            }
            data-testid="window-center"
          />
        </label>
        <label>
          <span>Width</span>
          <input
            type="number"
            min={1}
            step={1}
            value={props.window.width}
            onChange={(e) =>
              props.onWindow({
                center: props.window.center,
                width: Math.max(1, Number(e.currentTarget.value)),
              })
            }
            data-testid="window-width"
          />
        </label>
      </div>
      <p class="hint">
        Right-drag on the image or use the window tool <kbd>W</kbd>; <kbd>Shift+W</kbd> cycles
        presets. The window is saved with the prompt
        {props.windowing === "server" ? " (this file is windowed by the server)" : ""}.
      </p>
    </section>
  );
}
