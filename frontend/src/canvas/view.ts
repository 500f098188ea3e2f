/**
 * The view transform between image pixels and screen (CSS) pixels: `screen = image * scale + t`.
 *
 * Pure functions on an immutable value so zoom and pan are testable without a DOM.
 */

import type { Point } from "./raster";

export interface View {
  /** Screen pixels per image pixel. */
  scale: number;
  /** Screen position of the image's top-left corner. */
  tx: number;
  ty: number;
}

/** Largest zoom: one image pixel as 128 screen pixels (64x64 images stay comfortable). */
export const MAX_SCALE = 128;

/** Image coordinates of a screen point (continuous; floor gives the pixel). */
export function screenToImage(view: View, p: Point): Point {
  return { x: (p.x - view.tx) / view.scale, y: (p.y - view.ty) / view.scale };
}

/** Screen coordinates of an image point. */
export function imageToScreen(view: View, p: Point): Point {
  return { x: p.x * view.scale + view.tx, y: p.y * view.scale + view.ty };
}

/** The view showing the whole image centred in the viewport with a margin. */
export function fitView(
  imageWidth: number,
  imageHeight: number,
  viewWidth: number,
  viewHeight: number,
  margin = 16,
): View {
  const availableW = Math.max(1, viewWidth - 2 * margin);
  const availableH = Math.max(1, viewHeight - 2 * margin);
  const scale = Math.min(MAX_SCALE, availableW / imageWidth, availableH / imageHeight);
  return {
    scale,
    tx: (viewWidth - imageWidth * scale) / 2,
    ty: (viewHeight - imageHeight * scale) / 2,
  };
}

/** Smallest zoom for an image in a viewport: an eighth of the fitting scale. */
export function minScale(
  imageWidth: number,
  imageHeight: number,
  viewWidth: number,
  viewHeight: number,
): number {
  return Math.min(1, fitView(imageWidth, imageHeight, viewWidth, viewHeight, 0).scale / 8);
}

/** Zooms by `factor` keeping the image point under screen point `anchor` fixed. */
export function zoomAt(
  view: View,
  anchor: Point,
  factor: number,
  min: number,
  max = MAX_SCALE,
): View {
  const scale = Math.min(max, Math.max(min, view.scale * factor));
  const k = scale / view.scale;
  return {
    scale,
    tx: anchor.x - (anchor.x - view.tx) * k,
    ty: anchor.y - (anchor.y - view.ty) * k,
  };
}

/** Moves the image by a screen offset. */
export function panBy(view: View, dx: number, dy: number): View {
  return { scale: view.scale, tx: view.tx + dx, ty: view.ty + dy };
}

/** The zoom factor for a wheel event's delta (pixels): smooth for trackpads, ~10% per notch. */
export function wheelFactor(deltaY: number, deltaMode = 0): number {
  const pixels = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.exp(-Math.max(-300, Math.min(300, pixels)) * 0.0012);
}

/** Where a two-finger gesture starts: the fingers' midpoint and distance (at least 1). */
export interface PinchStart {
  centre: Point;
  distance: number;
  view: View;
}

/** The start of a pinch with fingers at `a` and `b` over `view`. */
export function pinchStart(a: Point, b: Point, view: View): PinchStart {
  return {
    centre: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 },
    distance: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)),
    view,
  };
}

/** The view once pinch fingers are at `a` and `b`: zoomed by their spread, panned with them. */
export function pinchView(start: PinchStart, a: Point, b: Point, min: number): View {
  const centre = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  const factor = Math.hypot(a.x - b.x, a.y - b.y) / start.distance;
  const zoomed = zoomAt(start.view, start.centre, factor, min);
  return panBy(zoomed, centre.x - start.centre.x, centre.y - start.centre.y);
}

/** What a wheel turn needs from its event. */
export interface WheelInput {
  deltaX: number;
  deltaY: number;
  deltaMode: number;
  shiftKey: boolean;
  ctrlKey: boolean;
}

/** The view after a wheel turn with the pointer at `at`: Shift pans, anything else zooms there. */
export function wheelView(view: View, e: WheelInput, at: Point, min: number): View {
  if (e.shiftKey && !e.ctrlKey) return panBy(view, -e.deltaY, -e.deltaX);
  return zoomAt(view, at, wheelFactor(e.deltaY, e.deltaMode), min);
}
