/**
 * The prompt canvas: an image, overlays and the prompt mask drawn with one view transform, and
 * the pointer interactions that edit the mask.
 *
 * Performance model: the mask is a byte array at image resolution (mask.ts). A pointer sample
 * rasterises only the segment since the previous sample into it (raster.ts) and widens a dirty
 * rectangle; once per animation frame only that rectangle is recoloured into an offscreen canvas
 * at image resolution, and the frame composites image, overlays and mask with
 * `imageSmoothingEnabled = false`, so each image pixel is a crisp square at every zoom and what is
 * shown is exactly what is stored. Nothing per frame is proportional to the image size.
 *
 * With `?perf` in the URL (or localStorage `sightline.perf = 1`) it records User Timing
 * measures: `canvas:paint` (rasterising one pointer sample into the mask), `canvas:render` (one
 * frame's work: recolouring the dirty rectangle and compositing), `canvas:frame` (from the first
 * sample not yet shown to the end of the frame that shows it: the stroke's latency on the main
 * thread) and `canvas:op` (a whole-mask operation or an undo / redo, its name in `detail`).
 */

import { cssColour, colourMaskRect, IMPORTANT_RGB, UNIMPORTANT_RGB } from "./colour";
import { UndoStack } from "./history";
import {
  createMask,
  emptyRect,
  IMPORTANT,
  isEmptyRect,
  type Mask,
  type MaskCode,
  MaskWriter,
  type Rect,
  UNCLEAR,
  unionRect,
  UNIMPORTANT,
} from "./mask";
import {
  clearAll,
  fillPolygon,
  fillRect,
  fillRest,
  floodFill,
  MAX_BRUSH,
  MIN_BRUSH,
  paintDot,
  paintSegment,
  type Point,
  snapBrushCentre,
} from "./raster";
import { fitView, imageToScreen, minScale, panBy, screenToImage, type View, wheelFactor, zoomAt } from "./view";
import { type DisplayWindow, dragWindow } from "./windowing";

export type Tool = "brush" | "polygon" | "fill" | "rect" | "window";

/** What the surrounding UI shows about the editor. */
export interface EditorState {
  tool: Tool;
  code: MaskCode;
  brushSize: number;
  opacity: number;
  promptVisible: boolean;
  scale: number;
  /** Pixel under the pointer and its value, or null when outside the image. */
  cursor: { x: number; y: number; code: MaskCode } | null;
  undoDepth: number;
  redoDepth: number;
  /** Vertices of a polygon being clicked (0 when none). */
  polygonPoints: number;
  readOnly: boolean;
}

export interface EditorCallbacks {
  /** Any visible state changed (throttled to one call per frame). */
  onState?: (state: EditorState) => void;
  /** The mask changed by a completed operation (stroke, fill, undo...). */
  onEdit?: () => void;
  /** The window being dragged (`done` on release). */
  onWindowDrag?: (window: DisplayWindow, done: boolean) => void;
  /** The window a drag starts from; null disables window dragging (not DICOM). */
  currentWindow?: () => DisplayWindow | null;
}

type Operation =
  | { kind: "paint"; pointerId: number; writer: MaskWriter; last: Point }
  | { kind: "pan"; pointerId: number; start: Point; view: View }
  | { kind: "rect"; pointerId: number; a: Point; b: Point }
  | { kind: "lasso"; pointerId: number; points: Point[]; start: Point; moved: boolean }
  | { kind: "window"; pointerId: number; start: Point; window: DisplayWindow }
  | { kind: "pinch"; distance: number; centre: Point; view: View };

const PERF =
  typeof location !== "undefined" &&
  (new URLSearchParams(location.search).has("perf") || globalThis.localStorage?.getItem("sightline.perf") === "1");

/** Screen pixels a press must travel before the polygon tool treats it as a lasso drag. */
const LASSO_THRESHOLD = 4;

export class CanvasEditor {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly callbacks: EditorCallbacks;
  private readonly container: HTMLElement;
  private readonly resizeObserver: ResizeObserver;
  private readonly cleanups: (() => void)[] = [];

  private image: CanvasImageSource | null = null;
  private mask: Mask = createMask(1, 1);
  private maskCanvas: HTMLCanvasElement = document.createElement("canvas");
  private maskCtx: CanvasRenderingContext2D;
  private readonly history = new UndoStack();
  private readonly overlays = new Map<string, { canvas: HTMLCanvasElement; visible: boolean }>();

  private view: View = { scale: 1, tx: 0, ty: 0 };
  private viewW = 0;
  private viewH = 0;
  private dpr = 1;
  private fitted = false;

  private tool: Tool = "brush";
  private code: MaskCode = IMPORTANT;
  private brushSize = 12;
  private opacity = 0.8;
  private promptVisible = true;
  private readOnly = false;

  private op: Operation | null = null;
  private readonly pointers = new Map<number, Point>();
  private polygon: Point[] = [];
  private spaceHeld = false;
  private hover: Point | null = null;
  private dirty: Rect = emptyRect();
  private frame = 0;
  private stateFrame = 0;
  private firstUnrendered: number | null = null;
  private fullBuffer: ImageData | null = null;

  constructor(container: HTMLElement, callbacks: EditorCallbacks = {}) {
    this.container = container;
    this.callbacks = callbacks;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "prompt-canvas";
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", "Image with the attention prompt; paint with the pointer");
    container.appendChild(this.canvas);
    const ctx = this.canvas.getContext("2d", { alpha: false });
    const maskCtx = this.maskCanvas.getContext("2d");
    if (!ctx || !maskCtx) throw new Error("2D canvas unavailable");
    this.ctx = ctx;
    this.maskCtx = maskCtx;
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.listen();
    this.resize();
  }

  // ----- content ---------------------------------------------------------------------------

  /** The image size (the mask's). */
  get width(): number {
    return this.mask.width;
  }

  get height(): number {
    return this.mask.height;
  }

  /** Shows an image (or a new rendition of it, e.g. another DICOM window) of the mask's size. */
  setImage(source: CanvasImageSource, width: number, height: number): void {
    if (width !== this.mask.width || height !== this.mask.height) {
      this.setMask(createMask(width, height));
      this.fitted = false;
    }
    this.image = source;
    if (!this.fitted && this.viewW > 0) this.fit();
    this.requestDraw();
  }

  /** Replaces the mask (a loaded prompt); forgets the undo history. */
  setMask(mask: Mask): void {
    this.mask = mask;
    this.maskCanvas.width = mask.width;
    this.maskCanvas.height = mask.height;
    this.history.clear();
    this.polygon = [];
    this.op = null;
    this.markDirty({ x0: 0, y0: 0, x1: mask.width, y1: mask.height });
    this.emitState();
  }

  /** The live mask (do not modify it outside the editor). */
  getMask(): Mask {
    return this.mask;
  }

  /** Adds, replaces or (with null) removes an overlay layer drawn under the prompt. */
  setOverlay(key: string, canvas: HTMLCanvasElement | null, visible = true): void {
    if (canvas) this.overlays.set(key, { canvas, visible });
    else this.overlays.delete(key);
    this.requestDraw();
  }

  setOverlayVisible(key: string, visible: boolean): void {
    const layer = this.overlays.get(key);
    if (layer) layer.visible = visible;
    this.requestDraw();
  }

  // ----- settings --------------------------------------------------------------------------

  setTool(tool: Tool): void {
    if (tool !== "polygon") this.polygon = [];
    this.tool = tool;
    this.updateCursorStyle();
    this.emitState();
    this.requestDraw();
  }

  setCode(code: MaskCode): void {
    this.code = code;
    this.emitState();
    this.requestDraw();
  }

  setBrushSize(size: number): void {
    this.brushSize = Math.round(Math.min(MAX_BRUSH, Math.max(MIN_BRUSH, size)));
    this.emitState();
    this.requestDraw();
  }

  /** Grows or shrinks the brush by about 15% (at least one pixel). */
  stepBrush(direction: 1 | -1): void {
    const step = Math.max(1, Math.round(this.brushSize * 0.15));
    this.setBrushSize(this.brushSize + direction * step);
  }

  setOpacity(opacity: number): void {
    this.opacity = Math.min(1, Math.max(0.05, opacity));
    this.emitState();
    this.requestDraw();
  }

  setPromptVisible(visible: boolean): void {
    this.promptVisible = visible;
    this.emitState();
    this.requestDraw();
  }

  /** Blocks editing (reviewers, a conflict being resolved); viewing still works. */
  setReadOnly(readOnly: boolean): void {
    if (readOnly) this.cancel();
    this.readOnly = readOnly;
    this.updateCursorStyle();
    this.emitState();
  }

  state(): EditorState {
    const cursor = this.hover ? this.pixelAt(this.hover) : null;
    return {
      tool: this.tool,
      code: this.code,
      brushSize: this.brushSize,
      opacity: this.opacity,
      promptVisible: this.promptVisible,
      scale: this.view.scale,
      cursor: cursor ? { ...cursor, code: this.mask.data[cursor.y * this.mask.width + cursor.x] as MaskCode } : null,
      undoDepth: this.history.undoDepth,
      redoDepth: this.history.redoDepth,
      polygonPoints: this.polygon.length,
      readOnly: this.readOnly,
    };
  }

  // ----- whole-mask operations -------------------------------------------------------------

  undo(): void {
    if (this.readOnly || this.op) return;
    const start = PERF ? performance.now() : 0;
    const rect = this.history.undo(this.mask);
    if (rect) this.edited(rect);
    measureOp("undo", start);
  }

  redo(): void {
    if (this.readOnly || this.op) return;
    const start = PERF ? performance.now() : 0;
    const rect = this.history.redo(this.mask);
    if (rect) this.edited(rect);
    measureOp("redo", start);
  }

  /** Every unclear pixel takes the current value (nothing to do with the eraser). */
  fillRest(): void {
    if (this.readOnly || this.code === UNCLEAR) return;
    const start = PERF ? performance.now() : 0;
    const writer = new MaskWriter(this.mask, this.code);
    fillRest(writer);
    this.commit(writer);
    measureOp("fill-rest", start);
  }

  /** Every pixel back to unclear, as one undoable step. */
  clear(): void {
    if (this.readOnly) return;
    const start = PERF ? performance.now() : 0;
    const writer = new MaskWriter(this.mask, UNCLEAR);
    clearAll(writer);
    this.commit(writer);
    measureOp("clear", start);
  }

  /** Closes and fills the polygon being clicked. */
  commitPolygon(): void {
    if (this.polygon.length === 0 || this.readOnly) return;
    const writer = new MaskWriter(this.mask, this.code);
    fillPolygon(writer, this.polygon);
    this.polygon = [];
    this.commit(writer);
  }

  /** Abandons the shape or stroke in progress. */
  cancel(): void {
    if (this.op?.kind === "paint") this.markDirty(this.op.writer.revert());
    this.op = null;
    this.polygon = [];
    this.emitState();
    this.requestDraw();
  }

  // ----- view ------------------------------------------------------------------------------

  fit(): void {
    if (this.viewW === 0) return;
    this.view = fitView(this.mask.width, this.mask.height, this.viewW, this.viewH);
    this.fitted = true;
    this.emitState();
    this.requestDraw();
  }

  /** Zooms about the viewport centre. */
  zoomBy(factor: number): void {
    this.zoom({ x: this.viewW / 2, y: this.viewH / 2 }, factor);
  }

  /** The current view transform (screen = image * scale + t, CSS pixels). */
  getView(): View {
    return { ...this.view };
  }

  /** Screen (CSS, relative to the canvas) position of an image point. */
  toScreen(p: Point): Point {
    return imageToScreen(this.view, p);
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    cancelAnimationFrame(this.stateFrame);
    this.resizeObserver.disconnect();
    for (const cleanup of this.cleanups) cleanup();
    this.canvas.remove();
  }

  // ----- internals: editing ----------------------------------------------------------------

  private commit(writer: MaskWriter): void {
    const diff = writer.finish();
    if (!diff) {
      this.emitState();
      this.requestDraw();
      return;
    }
    this.history.push(diff);
    this.edited(diff.rect);
  }

  private edited(rect: Rect): void {
    this.markDirty(rect);
    this.emitState();
    this.callbacks.onEdit?.();
  }

  private markDirty(rect: Rect): void {
    if (isEmptyRect(rect)) return;
    this.dirty = unionRect(this.dirty, rect);
    this.requestDraw();
  }

  private pixelAt(screen: Point): { x: number; y: number } | null {
    const p = screenToImage(this.view, screen);
    const x = Math.floor(p.x);
    const y = Math.floor(p.y);
    return x >= 0 && y >= 0 && x < this.mask.width && y < this.mask.height ? { x, y } : null;
  }

  private brushCentre(screen: Point): Point {
    return snapBrushCentre(screenToImage(this.view, screen), this.brushSize);
  }

  private paintTo(op: Extract<Operation, { kind: "paint" }>, screen: Point): void {
    const start = PERF ? performance.now() : 0;
    const centre = this.brushCentre(screen);
    if (centre.x === op.last.x && centre.y === op.last.y) return;
    paintSegment(op.writer, op.last, centre, this.brushSize / 2);
    op.last = centre;
    this.markDirty(op.writer.takeDirty());
    if (PERF) {
      performance.measure("canvas:paint", { start, end: performance.now() });
      this.firstUnrendered ??= start;
    }
  }

  // ----- internals: pointer ----------------------------------------------------------------

  private listen(): void {
    const on = <K extends keyof HTMLElementEventMap>(
      target: HTMLElement | Window,
      type: K,
      handler: (event: HTMLElementEventMap[K]) => void,
      options?: AddEventListenerOptions,
    ): void => {
      target.addEventListener(type, handler as EventListener, options);
      this.cleanups.push(() => target.removeEventListener(type, handler as EventListener, options));
    };
    on(this.canvas, "pointerdown", (e) => this.pointerDown(e));
    on(this.canvas, "pointermove", (e) => this.pointerMove(e));
    on(this.canvas, "pointerup", (e) => this.pointerUp(e));
    on(this.canvas, "pointercancel", (e) => this.pointerUp(e, true));
    on(this.canvas, "pointerleave", () => {
      this.hover = null;
      this.emitState();
      this.requestDraw();
    });
    on(this.canvas, "wheel", (e) => this.wheel(e), { passive: false });
    on(this.canvas, "dblclick", (e) => {
      if (this.tool === "polygon") {
        e.preventDefault();
        this.commitPolygon();
      }
    });
    on(this.canvas, "contextmenu", (e) => e.preventDefault());
    on(window, "keydown", (e) => {
      if (e.key === " " && !isTyping(e.target)) {
        if (!this.spaceHeld) {
          this.spaceHeld = true;
          this.updateCursorStyle();
        }
        e.preventDefault();
      }
    });
    on(window, "keyup", (e) => {
      if (e.key === " ") {
        this.spaceHeld = false;
        this.updateCursorStyle();
      }
    });
    on(window, "blur", () => {
      this.spaceHeld = false;
      this.updateCursorStyle();
    });
  }

  private local(e: { clientX: number; clientY: number }): Point {
    const r = this.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private pointerDown(e: PointerEvent): void {
    const p = this.local(e);
    this.canvas.focus({ preventScroll: true });
    this.pointers.set(e.pointerId, p);
    if (this.pointers.size === 2 && e.pointerType === "touch") {
      this.startPinch();
      return;
    }
    if (this.op) return;
    this.canvas.setPointerCapture(e.pointerId);
    const id = e.pointerId;
    if (e.button === 1 || this.spaceHeld) {
      this.op = { kind: "pan", pointerId: id, start: p, view: this.view };
    } else if (e.button === 2 || (e.button === 0 && this.tool === "window")) {
      const window = this.callbacks.currentWindow?.();
      if (window) this.op = { kind: "window", pointerId: id, start: p, window };
    } else if (e.button === 0 && !this.readOnly) {
      this.startTool(id, p);
    }
    this.updateCursorStyle();
    this.requestDraw();
  }

  private startTool(pointerId: number, p: Point): void {
    const image = screenToImage(this.view, p);
    switch (this.tool) {
      case "brush": {
        const writer = new MaskWriter(this.mask, this.code);
        const centre = this.brushCentre(p);
        const start = PERF ? performance.now() : 0;
        paintDot(writer, centre, this.brushSize / 2);
        this.op = { kind: "paint", pointerId, writer, last: centre };
        this.markDirty(writer.takeDirty());
        if (PERF) this.firstUnrendered ??= start;
        break;
      }
      case "fill": {
        const pixel = this.pixelAt(p);
        if (!pixel) return;
        const start = PERF ? performance.now() : 0;
        const writer = new MaskWriter(this.mask, this.code);
        floodFill(writer, pixel.x, pixel.y);
        this.commit(writer);
        measureOp("flood-fill", start);
        break;
      }
      case "rect": {
        const a = { x: Math.floor(image.x), y: Math.floor(image.y) };
        this.op = { kind: "rect", pointerId, a, b: a };
        break;
      }
      case "polygon":
        this.op = { kind: "lasso", pointerId, points: [image], start: p, moved: false };
        break;
      case "window":
        break;
    }
  }

  private pointerMove(e: PointerEvent): void {
    const p = this.local(e);
    this.hover = p;
    if (this.pointers.has(e.pointerId)) this.pointers.set(e.pointerId, p);
    const op = this.op;
    if (op?.kind === "pinch") {
      this.movePinch();
    } else if (op && "pointerId" in op && op.pointerId === e.pointerId) {
      switch (op.kind) {
        case "paint": {
          // Coalesced samples keep fast strokes smooth: every sample the device reported.
          const samples = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
          for (const sample of samples.length > 0 ? samples : [e]) this.paintTo(op, this.local(sample));
          break;
        }
        case "pan":
          this.view = panBy(op.view, p.x - op.start.x, p.y - op.start.y);
          break;
        case "rect": {
          const image = screenToImage(this.view, p);
          op.b = { x: Math.floor(image.x), y: Math.floor(image.y) };
          break;
        }
        case "lasso":
          if (Math.hypot(p.x - op.start.x, p.y - op.start.y) > LASSO_THRESHOLD) op.moved = true;
          if (op.moved) op.points.push(screenToImage(this.view, p));
          break;
        case "window": {
          const next = dragWindow(op.window, p.x - op.start.x, p.y - op.start.y);
          this.callbacks.onWindowDrag?.(next, false);
          break;
        }
      }
    }
    this.emitState();
    this.requestDraw();
  }

  private pointerUp(e: PointerEvent, cancelled = false): void {
    this.pointers.delete(e.pointerId);
    const op = this.op;
    if (op?.kind === "pinch") {
      if (this.pointers.size < 2) this.op = null;
      return;
    }
    if (!op || op.pointerId !== e.pointerId) return;
    this.op = null;
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (cancelled && op.kind === "paint") {
      this.markDirty(op.writer.revert());
    } else if (!cancelled) {
      this.finishOperation(op, this.local(e));
    }
    this.updateCursorStyle();
    this.emitState();
    this.requestDraw();
  }

  private finishOperation(op: Operation, p: Point): void {
    switch (op.kind) {
      case "paint":
        this.paintTo(op, p);
        this.commit(op.writer);
        break;
      case "rect": {
        const writer = new MaskWriter(this.mask, this.code);
        fillRect(writer, op.a, op.b);
        this.commit(writer);
        break;
      }
      case "lasso":
        if (op.moved && op.points.length >= 3) {
          const writer = new MaskWriter(this.mask, this.code);
          fillPolygon(writer, op.points);
          this.polygon = [];
          this.commit(writer);
        } else {
          // A click: add a vertex at the pixel centre; closing on the first vertex fills.
          const pixel = screenToImage(this.view, p);
          const vertex = { x: Math.floor(pixel.x) + 0.5, y: Math.floor(pixel.y) + 0.5 };
          const first = this.polygon[0];
          if (first && this.polygon.length >= 3) {
            const s = imageToScreen(this.view, first);
            if (Math.hypot(s.x - p.x, s.y - p.y) <= 8) {
              this.commitPolygon();
              break;
            }
          }
          this.polygon.push(vertex);
        }
        break;
      case "window": {
        const next = dragWindow(op.window, p.x - op.start.x, p.y - op.start.y);
        this.callbacks.onWindowDrag?.(next, true);
        break;
      }
      case "pan":
      case "pinch":
        break;
    }
  }

  private startPinch(): void {
    // A second finger turns the gesture into zoom/pan: the first finger's stroke is withdrawn.
    if (this.op?.kind === "paint") this.markDirty(this.op.writer.revert());
    const [a, b] = [...this.pointers.values()];
    this.op = {
      kind: "pinch",
      distance: Math.max(1, Math.hypot(a.x - b.x, a.y - b.y)),
      centre: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 },
      view: this.view,
    };
  }

  private movePinch(): void {
    const op = this.op;
    if (op?.kind !== "pinch" || this.pointers.size < 2) return;
    const [a, b] = [...this.pointers.values()];
    const centre = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
    const factor = Math.hypot(a.x - b.x, a.y - b.y) / op.distance;
    const zoomed = zoomAt(op.view, op.centre, factor, this.minScale());
    this.view = panBy(zoomed, centre.x - op.centre.x, centre.y - op.centre.y);
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    if (e.ctrlKey || !e.shiftKey) {
      this.zoom(this.local(e), wheelFactor(e.deltaY, e.deltaMode));
    } else {
      this.view = panBy(this.view, -e.deltaY, -e.deltaX);
      this.requestDraw();
    }
  }

  private zoom(anchor: Point, factor: number): void {
    this.view = zoomAt(this.view, anchor, factor, this.minScale());
    this.emitState();
    this.requestDraw();
  }

  private minScale(): number {
    return minScale(this.mask.width, this.mask.height, this.viewW, this.viewH);
  }

  private updateCursorStyle(): void {
    let cursor = "crosshair";
    if (this.op?.kind === "pan") cursor = "grabbing";
    else if (this.spaceHeld) cursor = "grab";
    else if (this.tool === "window" || this.op?.kind === "window") cursor = "ns-resize";
    else if (this.readOnly) cursor = "default";
    else if (this.tool === "brush") cursor = "none";
    this.canvas.style.cursor = cursor;
  }

  // ----- internals: drawing ----------------------------------------------------------------

  private resize(): void {
    const rect = this.container.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.floor(rect.width));
    const h = Math.max(1, Math.floor(rect.height));
    if (w === this.viewW && h === this.viewH && this.canvas.width === Math.round(w * this.dpr)) return;
    // Keep the image point at the viewport centre where it was.
    if (this.viewW > 0 && this.fitted) {
      this.view = panBy(this.view, (w - this.viewW) / 2, (h - this.viewH) / 2);
    }
    this.viewW = w;
    this.viewH = h;
    this.canvas.width = Math.round(w * this.dpr);
    this.canvas.height = Math.round(h * this.dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    if (!this.fitted && this.image) this.fit();
    this.draw();
  }

  private requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private emitState(): void {
    if (!this.callbacks.onState || this.stateFrame) return;
    this.stateFrame = requestAnimationFrame(() => {
      this.stateFrame = 0;
      this.callbacks.onState?.(this.state());
    });
  }

  /** Recolours the dirty part of the mask layer. */
  private flushMask(): void {
    const r = this.dirty;
    if (isEmptyRect(r)) return;
    this.dirty = emptyRect();
    // One pixel more on each side: a change can turn its neighbours into region boundaries.
    const x0 = Math.max(0, r.x0 - 1);
    const y0 = Math.max(0, r.y0 - 1);
    const x1 = Math.min(this.mask.width, r.x1 + 1);
    const y1 = Math.min(this.mask.height, r.y1 + 1);
    if (x0 >= x1 || y0 >= y1) return;
    const w = x1 - x0;
    const h = y1 - y0;
    // Whole-image redraws (load, fills, clear) reuse one buffer instead of allocating megabytes.
    let pixels: ImageData;
    if (w === this.mask.width && h === this.mask.height) {
      if (this.fullBuffer?.width !== w || this.fullBuffer.height !== h) this.fullBuffer = this.maskCtx.createImageData(w, h);
      pixels = this.fullBuffer;
    } else {
      pixels = this.maskCtx.createImageData(w, h);
    }
    colourMaskRect(this.mask, { x0, y0, x1, y1 }, pixels.data);
    this.maskCtx.putImageData(pixels, x0, y0);
  }

  private draw(): void {
    const ctx = this.ctx;
    const { dpr, view } = this;
    const started = PERF ? performance.now() : 0;
    this.flushMask();
    // The view in the DOM lets tests and tools map image pixels to screen positions.
    this.canvas.dataset.view = `${view.scale},${view.tx},${view.ty}`;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#161a21";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (this.image) {
      ctx.setTransform(dpr * view.scale, 0, 0, dpr * view.scale, dpr * view.tx, dpr * view.ty);
      ctx.imageSmoothingEnabled = false;
      ctx.globalAlpha = 1;
      ctx.drawImage(this.image, 0, 0, this.mask.width, this.mask.height);
      for (const layer of this.overlays.values()) {
        if (layer.visible) ctx.drawImage(layer.canvas, 0, 0, this.mask.width, this.mask.height);
      }
      if (this.promptVisible) {
        ctx.globalAlpha = this.opacity;
        ctx.drawImage(this.maskCanvas, 0, 0);
        ctx.globalAlpha = 1;
      }
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      this.drawChrome();
    }
    if (PERF) {
      const end = performance.now();
      performance.measure("canvas:render", { start: started, end });
      if (this.firstUnrendered !== null) performance.measure("canvas:frame", { start: this.firstUnrendered, end });
      this.firstUnrendered = null;
    }
  }

  /** Screen-space decorations: image border, pixel grid, tool previews, brush cursor. */
  private drawChrome(): void {
    const ctx = this.ctx;
    const { view } = this;
    const w = this.mask.width * view.scale;
    const h = this.mask.height * view.scale;
    ctx.lineWidth = 1;
    ctx.strokeStyle = "rgba(255, 255, 255, 0.25)";
    ctx.strokeRect(Math.round(view.tx) - 0.5, Math.round(view.ty) - 0.5, Math.round(w) + 1, Math.round(h) + 1);
    if (view.scale >= 16) this.drawGrid();
    const fill = this.code === IMPORTANT ? IMPORTANT_RGB : this.code === UNIMPORTANT ? UNIMPORTANT_RGB : null;
    const op = this.op;
    if (op?.kind === "rect") {
      const a = imageToScreen(view, { x: Math.min(op.a.x, op.b.x), y: Math.min(op.a.y, op.b.y) });
      const b = imageToScreen(view, { x: Math.max(op.a.x, op.b.x) + 1, y: Math.max(op.a.y, op.b.y) + 1 });
      ctx.fillStyle = fill ? cssColour(fill, 0.35) : "rgba(255, 255, 255, 0.2)";
      ctx.fillRect(a.x, a.y, b.x - a.x, b.y - a.y);
      outline(ctx, () => ctx.rect(a.x, a.y, b.x - a.x, b.y - a.y));
    }
    if (op?.kind === "lasso" && op.moved) {
      const pts = op.points.map((p) => imageToScreen(view, p));
      outline(ctx, () => polyline(ctx, pts, true), fill ? cssColour(fill, 0.3) : "rgba(255,255,255,0.2)");
    }
    if (this.polygon.length > 0) {
      const pts = this.polygon.map((p) => imageToScreen(view, p));
      if (this.hover) pts.push(this.hover);
      outline(ctx, () => polyline(ctx, pts, false));
      for (const p of pts.slice(0, this.polygon.length)) {
        ctx.fillStyle = "#fff";
        ctx.fillRect(p.x - 3, p.y - 3, 6, 6);
        ctx.strokeStyle = "#000";
        ctx.strokeRect(p.x - 3.5, p.y - 3.5, 7, 7);
      }
    }
    if (this.tool === "brush" && this.hover && !this.readOnly && this.op?.kind !== "pan" && !this.spaceHeld) {
      const c = imageToScreen(view, this.brushCentre(this.hover));
      const r = Math.max(1.5, (this.brushSize / 2) * view.scale);
      outline(ctx, () => ctx.arc(c.x, c.y, r, 0, Math.PI * 2));
      ctx.fillStyle = fill ? cssColour(fill) : "#fff";
      ctx.fillRect(c.x - 1.5, c.y - 1.5, 3, 3);
    }
  }

  private drawGrid(): void {
    const ctx = this.ctx;
    const { view } = this;
    const start = screenToImage(view, { x: 0, y: 0 });
    const end = screenToImage(view, { x: this.viewW, y: this.viewH });
    const x0 = Math.max(0, Math.floor(start.x));
    const y0 = Math.max(0, Math.floor(start.y));
    const x1 = Math.min(this.mask.width, Math.ceil(end.x));
    const y1 = Math.min(this.mask.height, Math.ceil(end.y));
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
}

/** Records a whole-mask operation's main-thread time (perf mode only). */
function measureOp(name: string, start: number): void {
  if (PERF) performance.measure("canvas:op", { start, end: performance.now(), detail: name });
}

/** Strokes a path twice (dark under light) so it reads on any image. */
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

/** Whether a key event comes from a text field (keys then type instead of acting). */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  if (target.isContentEditable || tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target as HTMLInputElement).type;
  return !["checkbox", "radio", "range", "button", "submit"].includes(type);
}
