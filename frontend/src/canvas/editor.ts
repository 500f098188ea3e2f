/**
 * The prompt canvas: an image, overlays and the prompt mask drawn with one view transform, and
 * the editing state (value, tool, brush, opacity). The mask and its undo history are edits.ts;
 * pointer gestures are input.ts.
 *
 * Performance model: the mask is a byte array at image resolution (mask.ts). A pointer sample
 * rasterises only the segment since the previous sample into it (raster.ts, via input.ts) and
 * widens a dirty rectangle; once per animation frame only that rectangle is recoloured into an
 * offscreen canvas at image resolution, and the frame composites image, overlays and mask with
 * `imageSmoothingEnabled = false` (render.ts), so each image pixel is a crisp square at every zoom
 * and what is shown is exactly what is stored. Nothing per frame grows with the image size.
 *
 * In perf mode (render.ts `PERF`) it records User Timing measures: `canvas:paint` (rasterising one
 * pointer sample), `canvas:render` (one frame's work: recolouring and compositing),
 * `canvas:frame` (from the first sample not yet shown to the end of the frame that shows it: the
 * stroke's latency on the main thread) and, in edits.ts, `canvas:op` (a whole-mask operation,
 * undo or redo, named in `detail`).
 */

import { MaskEdits } from "./edits";
import { type InputHost, PointerInput, type Tool } from "./input";
import {
  createMask,
  IMPORTANT,
  type Mask,
  type MaskCode,
  type MaskWriter,
  type Rect,
} from "./mask";
import { MAX_BRUSH, MIN_BRUSH } from "./raster";
import { drawChrome, drawScene, MaskLayer, PERF, perfNow } from "./render";
import { fitView, minScale, panBy, type View, zoomAt } from "./view";
import type { DisplayWindow } from "./windowing";

export type { Tool } from "./input";

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
  /** Any visible state changed (at most once per frame). */
  onState?: (state: EditorState) => void;
  /** The mask changed by a completed operation (stroke, fill, undo...). */
  onEdit?: () => void;
  /** The window being dragged (`done` on release). */
  onWindowDrag?: (window: DisplayWindow, done: boolean) => void;
  /** The window a drag starts from; null disables window dragging (not DICOM). */
  currentWindow?: () => DisplayWindow | null;
}

export class CanvasEditor implements InputHost {
  readonly canvas: HTMLCanvasElement;
  view: View = { scale: 1, tx: 0, ty: 0 };
  tool: Tool = "brush";
  code: MaskCode = IMPORTANT;
  brushSize = 12;
  readOnly = false;

  private readonly ctx: CanvasRenderingContext2D;
  private readonly input: PointerInput;
  private readonly layer = new MaskLayer();
  private readonly edits = new MaskEdits(
    (rect) => this.edited(rect),
    () => this.changed(),
  );
  private readonly overlays = new Map<string, { canvas: HTMLCanvasElement; visible: boolean }>();
  private readonly resizeObserver: ResizeObserver;
  private image: CanvasImageSource | null = null;
  private opacity = 0.8;
  private promptVisible = true;
  private viewW = 0;
  private viewH = 0;
  private dpr = 1;
  private fitted = false;
  private frame = 0;
  private stateFrame = 0;
  private firstUnrendered: number | null = null;

  constructor(
    private readonly container: HTMLElement,
    private readonly callbacks: EditorCallbacks = {},
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "prompt-canvas";
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute(
      "aria-label",
      "Image with the attention prompt; paint with the pointer",
    );
    container.appendChild(this.canvas);
    const ctx = this.canvas.getContext("2d", { alpha: false });
    if (!ctx) throw new Error("2D canvas unavailable");
    this.ctx = ctx;
    this.layer.reset(this.mask);
    this.input = new PointerInput(this.canvas, this);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.resize();
  }

  // ----- content -----------------------------------------------------------------------------

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

  /** Replaces the mask (a loaded prompt, the other version of a conflict); forgets the history. */
  setMask(mask: Mask): void {
    this.input.cancel();
    this.edits.replace(mask);
    this.layer.reset(mask);
    this.changed();
  }

  get mask(): Mask {
    return this.edits.mask;
  }

  getMask(): Mask {
    return this.edits.mask;
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

  // ----- settings ----------------------------------------------------------------------------

  setTool(tool: Tool): void {
    if (tool !== "polygon") this.input.polygon = [];
    this.tool = tool;
    this.input.updateCursor();
    this.changed();
  }

  setCode(code: MaskCode): void {
    this.code = code;
    this.changed();
  }

  setBrushSize(size: number): void {
    this.brushSize = Math.round(Math.min(MAX_BRUSH, Math.max(MIN_BRUSH, size)));
    this.changed();
  }

  /** Grows or shrinks the brush by about 15% (at least one pixel). */
  stepBrush(direction: 1 | -1): void {
    this.setBrushSize(this.brushSize + direction * Math.max(1, Math.round(this.brushSize * 0.15)));
  }

  setOpacity(opacity: number): void {
    this.opacity = Math.min(1, Math.max(0.05, opacity));
    this.changed();
  }

  setPromptVisible(visible: boolean): void {
    this.promptVisible = visible;
    this.changed();
  }

  /** Blocks editing (reviewers, a conflict being resolved); viewing still works. */
  setReadOnly(readOnly: boolean): void {
    if (readOnly) this.input.cancel();
    this.readOnly = readOnly;
    this.input.updateCursor();
    this.changed();
  }

  state(): EditorState {
    let cursor: EditorState["cursor"] = null;
    if (this.input.hover) {
      const x = Math.floor((this.input.hover.x - this.view.tx) / this.view.scale);
      const y = Math.floor((this.input.hover.y - this.view.ty) / this.view.scale);
      if (x >= 0 && y >= 0 && x < this.mask.width && y < this.mask.height) {
        cursor = { x, y, code: this.mask.data[y * this.mask.width + x] as MaskCode };
      }
    }
    return {
      tool: this.tool,
      code: this.code,
      brushSize: this.brushSize,
      opacity: this.opacity,
      promptVisible: this.promptVisible,
      scale: this.view.scale,
      cursor,
      undoDepth: this.edits.undoDepth,
      redoDepth: this.edits.redoDepth,
      polygonPoints: this.input.polygon.length,
      readOnly: this.readOnly,
    };
  }

  // ----- whole-mask operations ---------------------------------------------------------------

  undo(): void {
    if (!this.readOnly && !this.input.busy) this.edits.undo();
  }

  redo(): void {
    if (!this.readOnly && !this.input.busy) this.edits.redo();
  }

  /** Every unclear pixel takes the current value (nothing to do with the eraser). */
  fillRest(): void {
    if (!this.readOnly) this.edits.fillRest(this.code);
  }

  /** Every pixel back to unclear, as one undoable step. */
  clear(): void {
    if (!this.readOnly) this.edits.clear();
  }

  /** Closes and fills the polygon being clicked. */
  commitPolygon(): void {
    this.input.commitPolygon();
  }

  /** Abandons the shape or stroke in progress. */
  cancel(): void {
    this.input.cancel();
  }

  // ----- view --------------------------------------------------------------------------------

  fit(): void {
    if (this.viewW === 0) return;
    this.view = fitView(this.mask.width, this.mask.height, this.viewW, this.viewH);
    this.fitted = true;
    this.changed();
  }

  /** Zooms about the viewport centre. */
  zoomBy(factor: number): void {
    this.view = zoomAt(
      this.view,
      { x: this.viewW / 2, y: this.viewH / 2 },
      factor,
      this.minScale(),
    );
    this.changed();
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    cancelAnimationFrame(this.stateFrame);
    this.resizeObserver.disconnect();
    this.input.destroy();
    this.canvas.remove();
  }

  // ----- InputHost ---------------------------------------------------------------------------

  minScale(): number {
    return minScale(this.mask.width, this.mask.height, this.viewW, this.viewH);
  }

  commit(writer: MaskWriter, name?: string, start = 0): void {
    this.edits.commit(writer, name, start);
  }

  markDirty(rect: Rect, sampleStart?: number): void {
    if (this.layer.markDirty(rect)) {
      if (PERF && sampleStart !== undefined) this.firstUnrendered ??= sampleStart;
      this.requestDraw();
    }
  }

  changed(): void {
    this.requestDraw();
    if (!this.callbacks.onState || this.stateFrame) return;
    this.stateFrame = requestAnimationFrame(() => {
      this.stateFrame = 0;
      this.callbacks.onState?.(this.state());
    });
  }

  currentWindow(): DisplayWindow | null {
    return this.callbacks.currentWindow?.() ?? null;
  }

  windowDragged(window: DisplayWindow, done: boolean): void {
    this.callbacks.onWindowDrag?.(window, done);
  }

  // ----- internals ---------------------------------------------------------------------------

  private edited(rect: Rect): void {
    this.markDirty(rect);
    this.changed();
    this.callbacks.onEdit?.();
  }

  private resize(): void {
    const rect = this.container.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.floor(rect.width));
    const h = Math.max(1, Math.floor(rect.height));
    if (w === this.viewW && h === this.viewH && this.canvas.width === Math.round(w * this.dpr))
      return;
    // Keep the image point at the viewport centre where it was.
    if (this.viewW > 0 && this.fitted)
      this.view = panBy(this.view, (w - this.viewW) / 2, (h - this.viewH) / 2);
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

  private draw(): void {
    const started = perfNow();
    this.layer.flush(this.mask);
    const { view } = this;
    // The view in the DOM lets tests and tools map image pixels to screen positions.
    this.canvas.dataset.view = `${view.scale},${view.tx},${view.ty}`;
    drawScene(this.ctx, {
      view,
      dpr: this.dpr,
      width: this.mask.width,
      height: this.mask.height,
      image: this.image,
      overlays: this.overlays.values(),
      mask: this.layer.canvas,
      promptVisible: this.promptVisible,
      opacity: this.opacity,
    });
    if (this.image) {
      const hover = this.input.hover;
      drawChrome(this.ctx, {
        view,
        width: this.mask.width,
        height: this.mask.height,
        viewW: this.viewW,
        viewH: this.viewH,
        code: this.code,
        preview: this.input.preview(),
        polygon: this.input.polygon,
        hover,
        brush:
          hover && this.input.showsBrush()
            ? { centre: this.input.brushCentre(hover), radius: this.brushSize / 2 }
            : null,
      });
    }
    if (PERF) {
      const end = performance.now();
      performance.measure("canvas:render", { start: started, end });
      if (this.firstUnrendered !== null)
        performance.measure("canvas:frame", { start: this.firstUnrendered, end });
      this.firstUnrendered = null;
    }
  }
}
