/**
 * Drawing of the prompt canvas: the mask layer (an offscreen canvas at image resolution,
 * recoloured only where it changed), the composited scene, and the screen-space decorations
 * (brush cursor, shape previews, pixel grid).
 */

import { colourMaskRect, cssColour, IMPORTANT_RGB, UNIMPORTANT_RGB } from "./colour";
import {
  emptyRect,
  IMPORTANT,
  isEmptyRect,
  type Mask,
  type MaskCode,
  type Rect,
  UNIMPORTANT,
  unionRect,
} from "./mask";
import type { Point } from "./raster";
import { imageToScreen, screenToImage, type View } from "./view";

/** User Timing measures are recorded with `?perf` in the URL or localStorage `sightline.perf=1`. */
export const PERF =
  typeof location !== "undefined" &&
  (new URLSearchParams(location.search).has("perf") ||
    globalThis.localStorage?.getItem("sightline.perf") === "1");

/** Milliseconds timestamp when measuring, else 0 (no clock read). */
export function perfNow(): number {
  return PERF ? performance.now() : 0;
}

/** Records a measure from `start` to now (perf mode only). */
export function measureSince(name: string, start: number, detail?: string): void {
  if (PERF) performance.measure(name, { start, end: performance.now(), detail });
}

/** The mask drawn as RGBA at image resolution, recoloured lazily by dirty rectangle. */
export class MaskLayer {
  readonly canvas: HTMLCanvasElement = document.createElement("canvas");
  private readonly ctx: CanvasRenderingContext2D;
  private dirty: Rect = emptyRect();
  private fullBuffer: ImageData | null = null;

  constructor() {
    const ctx = this.canvas.getContext("2d");
    if (!ctx) throw new Error("2D canvas unavailable");
    this.ctx = ctx;
  }

  /** Sizes the layer for a mask and schedules a full recolour. */
  reset(mask: Mask): void {
    this.canvas.width = mask.width;
    this.canvas.height = mask.height;
    this.dirty = { x0: 0, y0: 0, x1: mask.width, y1: mask.height };
  }

  /** Adds a changed area; returns whether anything is now pending. */
  markDirty(rect: Rect): boolean {
    if (!isEmptyRect(rect)) this.dirty = unionRect(this.dirty, rect);
    return !isEmptyRect(this.dirty);
  }

  /** Recolours what changed since the last flush. */
  flush(mask: Mask): void {
    const r = this.dirty;
    if (isEmptyRect(r)) return;
    this.dirty = emptyRect();
    // One pixel more on each side: a change can turn its neighbours into region boundaries.
    const x0 = Math.max(0, r.x0 - 1);
    const y0 = Math.max(0, r.y0 - 1);
    const x1 = Math.min(mask.width, r.x1 + 1);
    const y1 = Math.min(mask.height, r.y1 + 1);
    if (x0 >= x1 || y0 >= y1) return;
    const w = x1 - x0;
    const h = y1 - y0;
    // Whole-image redraws (load, fills, clear) reuse one buffer instead of allocating megabytes.
    let pixels: ImageData;
    if (w === mask.width && h === mask.height) {
      if (this.fullBuffer?.width !== w || this.fullBuffer.height !== h)
        this.fullBuffer = this.ctx.createImageData(w, h);
      pixels = this.fullBuffer;
    } else {
      pixels = this.ctx.createImageData(w, h);
    }
    colourMaskRect(mask, { x0, y0, x1, y1 }, pixels.data);
    this.ctx.putImageData(pixels, x0, y0);
  }
}

/** What the composited scene shows. */
export interface Scene {
  view: View;
  dpr: number;
  width: number;
  height: number;
  image: CanvasImageSource | null;
  overlays: Iterable<{ canvas: HTMLCanvasElement; visible: boolean }>;
  mask: HTMLCanvasElement;
  promptVisible: boolean;
  opacity: number;
}

/** Draws background, image, visible overlays and the prompt with the view transform. */
export function drawScene(ctx: CanvasRenderingContext2D, scene: Scene): void {
  const { view, dpr, width, height } = scene;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#161a21";
  ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  if (!scene.image) return;
  ctx.setTransform(dpr * view.scale, 0, 0, dpr * view.scale, dpr * view.tx, dpr * view.ty);
  // Nearest-neighbour: each image pixel is a crisp square, identical for image and prompt.
  ctx.imageSmoothingEnabled = false;
  ctx.globalAlpha = 1;
  ctx.drawImage(scene.image, 0, 0, width, height);
  for (const layer of scene.overlays) {
    if (layer.visible) ctx.drawImage(layer.canvas, 0, 0, width, height);
  }
  if (scene.promptVisible) {
    ctx.globalAlpha = scene.opacity;
    ctx.drawImage(scene.mask, 0, 0);
    ctx.globalAlpha = 1;
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
}

/** A shape being drawn. */
export type Preview = { kind: "rect"; a: Point; b: Point } | { kind: "lasso"; points: Point[] };

/** What the screen-space decorations show. */
export interface Chrome {
  view: View;
  width: number;
  height: number;
  viewW: number;
  viewH: number;
  code: MaskCode;
  preview: Preview | null;
  /** Vertices of a polygon being clicked (image coordinates). */
  polygon: readonly Point[];
  hover: Point | null;
  /** Brush outline: centre in image coordinates and radius in image pixels. */
  brush: { centre: Point; radius: number } | null;
}

/** Draws the image border, pixel grid, shape previews and brush cursor (CSS pixels). */
export function drawChrome(ctx: CanvasRenderingContext2D, chrome: Chrome): void {
  const { view } = chrome;
  ctx.lineWidth = 1;
  ctx.strokeStyle = "rgba(255, 255, 255, 0.25)";
  ctx.strokeRect(
    Math.round(view.tx) - 0.5,
    Math.round(view.ty) - 0.5,
    Math.round(chrome.width * view.scale) + 1,
    Math.round(chrome.height * view.scale) + 1,
  );
  if (view.scale >= 16) drawGrid(ctx, chrome);
  const fill =
    chrome.code === IMPORTANT
      ? IMPORTANT_RGB
      : chrome.code === UNIMPORTANT
        ? UNIMPORTANT_RGB
        : null;
  const preview = chrome.preview;
  if (preview?.kind === "rect") {
    const a = imageToScreen(view, {
      x: Math.min(preview.a.x, preview.b.x),
      y: Math.min(preview.a.y, preview.b.y),
    });
    const b = imageToScreen(view, {
      x: Math.max(preview.a.x, preview.b.x) + 1,
      y: Math.max(preview.a.y, preview.b.y) + 1,
    });
    outline(
      ctx,
      () => ctx.rect(a.x, a.y, b.x - a.x, b.y - a.y),
      fill ? cssColour(fill, 0.35) : "rgba(255, 255, 255, 0.2)",
    );
  } else if (preview?.kind === "lasso") {
    const pts = preview.points.map((p) => imageToScreen(view, p));
    outline(
      ctx,
      () => polyline(ctx, pts, true),
      fill ? cssColour(fill, 0.3) : "rgba(255, 255, 255, 0.2)",
    );
  }
  if (chrome.polygon.length > 0) {
    const pts = chrome.polygon.map((p) => imageToScreen(view, p));
    outline(ctx, () => polyline(ctx, chrome.hover ? [...pts, chrome.hover] : pts, false));
    for (const p of pts) {
      ctx.fillStyle = "#fff";
      ctx.fillRect(p.x - 3, p.y - 3, 6, 6);
      ctx.strokeStyle = "#000";
      ctx.strokeRect(p.x - 3.5, p.y - 3.5, 7, 7);
    }
  }
  const brush = chrome.brush;
  if (brush) {
    const c = imageToScreen(view, brush.centre);
    outline(ctx, () => ctx.arc(c.x, c.y, Math.max(1.5, brush.radius * view.scale), 0, Math.PI * 2));
    ctx.fillStyle = fill ? cssColour(fill) : "#fff";
    ctx.fillRect(c.x - 1.5, c.y - 1.5, 3, 3);
  }
}

/** Pixel boundaries of the visible part of the image (from 16x zoom). */
function drawGrid(ctx: CanvasRenderingContext2D, chrome: Chrome): void {
  const { view } = chrome;
  const start = screenToImage(view, { x: 0, y: 0 });
  const end = screenToImage(view, { x: chrome.viewW, y: chrome.viewH });
  const x0 = Math.max(0, Math.floor(start.x));
  const y0 = Math.max(0, Math.floor(start.y));
  const x1 = Math.min(chrome.width, Math.ceil(end.x));
  const y1 = Math.min(chrome.height, Math.ceil(end.y));
  ctx.beginPath();
  for (let x = x0; x <= x1; x++) {
    const sx = Math.round(x * view.scale + view.tx) + 0.5;
    ctx.moveTo(sx, y0 * view.scale + view.ty);
    ctx.lineTo(sx, y1 * view.scale + view.ty);
  }
  for (let y = y0; y <= y1; y++) {
    const sy = Math.round(y * view.scale + view.ty) + 0.5;
    ctx.moveTo(x0 * view.scale + view.tx, sy);
    ctx.lineTo(x1 * view.scale + view.tx, sy);
  }
  ctx.strokeStyle = "rgba(255, 255, 255, 0.12)";
  ctx.lineWidth = 1;
  ctx.stroke();
}

/** Strokes a path twice (dark under light) so it reads on any image; fills it first if asked. */
function outline(ctx: CanvasRenderingContext2D, path: () => void, fill?: string): void {
  ctx.beginPath();
  path();
  if (fill) {
    ctx.fillStyle = fill;
    ctx.fill();
  }
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(0, 0, 0, 0.7)";
  ctx.stroke();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "#fff";
  ctx.stroke();
}

function polyline(ctx: CanvasRenderingContext2D, pts: Point[], close: boolean): void {
  pts.forEach((p, i) => (i === 0 ? ctx.moveTo(p.x, p.y) : ctx.lineTo(p.x, p.y)));
  if (close) ctx.closePath();
}
