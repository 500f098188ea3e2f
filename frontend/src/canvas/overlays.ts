/**
 * Overlay layers under the prompt: a grey PNG (a model's Grad-CAM map, the refined prompt t(D),
 * the ground-truth explanation) turned into a colour-mapped canvas at image resolution.
 *
 * The input is deliberately generic, "a grey PNG URL", so any map the jobs API produces later
 * plugs in by URL. Continuous maps are resized bilinearly (METHODS.md section 1) and drawn with
 * viridis; binary masks are resized nearest-neighbour and drawn as an outline.
 */

import { GROUND_TRUTH_RGB, heatmapRgba, outlineRgba, viridisLut } from "./colour";

/** How a grey map is drawn. */
export type OverlayKind = "heatmap" | "outline";

/** An overlay the page can offer; `url` null hides its toggle. */
export interface OverlaySource {
  key: string;
  label: string;
  /** Toggle key shown in the help and on the button. */
  shortcut: string;
  url: string | null;
  kind: OverlayKind;
}

let lut: Uint8Array | null = null;

/** Colour-maps a decoded grey image onto a new canvas of the image's size. */
export function renderOverlay(
  source: CanvasImageSource,
  width: number,
  height: number,
  kind: OverlayKind,
): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("2D canvas unavailable");
  ctx.imageSmoothingEnabled = kind === "heatmap";
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(source, 0, 0, width, height);
  const grey = ctx.getImageData(0, 0, width, height);
  const out = ctx.createImageData(width, height);
  if (kind === "heatmap") {
    lut ??= viridisLut();
    heatmapRgba(grey.data, lut, out.data);
  } else {
    // About two screen pixels wide when the image is fitted to a typical canvas.
    const thickness = Math.max(1, Math.round(Math.max(width, height) / 400));
    outlineRgba(grey.data, width, height, GROUND_TRUTH_RGB, out.data, thickness);
  }
  ctx.putImageData(out, 0, 0);
  return canvas;
}

/** Fetches a grey PNG and renders it as an overlay of the given size. */
export async function loadOverlay(
  url: string,
  width: number,
  height: number,
  kind: OverlayKind,
  signal?: AbortSignal,
): Promise<HTMLCanvasElement> {
  const response = await fetch(url, { credentials: "same-origin", signal });
  if (!response.ok) throw new Error(`overlay ${url} answered ${response.status}`);
  const bitmap = await createImageBitmap(await response.blob(), {
    colorSpaceConversion: "none",
    premultiplyAlpha: "none",
  });
  try {
    return renderOverlay(bitmap, width, height, kind);
  } finally {
    bitmap.close();
  }
}
