/**
 * DICOM window / level: presets, drag-to-window, and windowing of raw values in the browser.
 *
 * METHODS.md section 1: stored value -> `slope * x + intercept` (Hounsfield units for CT) ->
 * window `(center, width)` -> 8-bit display value. The linear mapping here
 * `255 * (v - (center - width / 2)) / width`, clipped to [0, 255] and rounded, is the one the
 * server's display endpoint uses (`labeling` imaging), so a window looks the same whether it is
 * applied in the browser or requested from the server.
 */

/** A display window in the units of the rescaled values (HU for CT). */
export interface DisplayWindow {
  center: number;
  width: number;
}

/** A named window preset. */
export interface WindowPreset extends DisplayWindow {
  key: string;
  label: string;
}

/** The standard CT presets; the project default is added by {@link windowPresets}. */
export const CT_PRESETS: readonly WindowPreset[] = [
  { key: "lung", label: "Lung", center: -600, width: 1500 },
  { key: "mediastinum", label: "Mediastinum", center: 50, width: 350 },
  { key: "bone", label: "Bone", center: 400, width: 1800 },
  { key: "abdomen", label: "Abdomen", center: 40, width: 400 },
];

/** Narrowest window accepted (a zero width would divide by zero). */
export const MIN_WINDOW_WIDTH = 1;

/** The project default first, then the CT presets. */
export function windowPresets(projectDefault: DisplayWindow): WindowPreset[] {
  return [{ key: "project", label: "Project default", ...projectDefault }, ...CT_PRESETS];
}

/** The preset matching a window exactly, if any. */
export function matchPreset(
  presets: readonly WindowPreset[],
  w: DisplayWindow,
): WindowPreset | undefined {
  return presets.find((p) => p.center === w.center && p.width === w.width);
}

/**
 * The window after dragging by `(dx, dy)` screen pixels from `start`: right widens, down raises
 * the center (the radiology convention), both in steps proportional to the starting width so the
 * same gesture works for a 350 HU and a 1800 HU window. Results are rounded to whole units.
 */
export function dragWindow(start: DisplayWindow, dx: number, dy: number): DisplayWindow {
  const step = Math.max(1, start.width) / 256;
  return {
    center: Math.round(start.center + dy * step),
    width: Math.max(MIN_WINDOW_WIDTH, Math.round(start.width + dx * step * 2)),
  };
}

/** Rounds half to even, as numpy's `rint` does. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The 8-bit display value of one rescaled value under a window (DICOM LINEAR function). */
export function windowValue(value: number, window: DisplayWindow): number {
  const width = Math.max(MIN_WINDOW_WIDTH, window.width);
  if (Number.isNaN(value)) return 0;
  if (width === 1) return value > window.center - 0.5 ? 255 : 0;
  const scaled = ((value - (window.center - 0.5)) / (width - 1) + 0.5) * 255;
  return scaled <= 0 ? 0 : scaled >= 255 ? 255 : roundHalfEven(scaled);
}

/**
 * Windows rescaled values into 8-bit grey written as opaque RGBA into `out` (`[n * 4]`).
 *
 * @param values rescaled pixel values (HU for CT), `[n]`.
 * @param invert MONOCHROME1 data (high values dark), inverted after windowing.
 */
export function windowToRgba(
  values: Float32Array,
  window: DisplayWindow,
  out: Uint8ClampedArray,
  invert = false,
): void {
  for (let i = 0, o = 0; i < values.length; i++, o += 4) {
    let g = windowValue(values[i], window);
    if (invert) g = 255 - g;
    out[o] = g;
    out[o + 1] = g;
    out[o + 2] = g;
    out[o + 3] = 255;
  }
}

/** Query string of the server's re-windowed display rendition. */
export function windowQuery(window: DisplayWindow): string {
  const params = new URLSearchParams({
    window_center: String(window.center),
    window_width: String(window.width),
  });
  return params.toString();
}
