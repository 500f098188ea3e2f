/**
 * Pointer input of the prompt canvas (mouse, pen and touch through Pointer Events): strokes,
 * shapes, flood fill, pan (space-drag, middle drag, two fingers), zoom (wheel, pinch) and
 * window / level dragging. It owns the gesture in progress and edits the mask only through
 * {@link MaskWriter}s handed to its host, the editor.
 */

import { MaskWriter, type Mask, type MaskCode, type Rect } from "./mask";
import {
  fillPolygon,
  fillRect,
  floodFill,
  paintDot,
  paintSegment,
  type Point,
  snapBrushCentre,
} from "./raster";
import { measureSince, perfNow, type Preview } from "./render";
import { isInteractive } from "./keymap";
import {
  imageToScreen,
  panBy,
  type PinchStart,
  pinchStart,
  pinchView,
  screenToImage,
  type View,
  wheelView,
} from "./view";
import { type DisplayWindow, dragWindow } from "./windowing";

export type Tool = "brush" | "polygon" | "fill" | "rect" | "window";

/** What the input needs from the editor. */
export interface InputHost {
  readonly mask: Mask;
  view: View;
  readonly tool: Tool;
  readonly code: MaskCode;
  readonly brushSize: number;
  readonly readOnly: boolean;
  /** Smallest zoom allowed. */
  minScale(): number;
  /** Records a finished operation (undo step, autosave). */
  commit(writer: MaskWriter, name?: string, start?: number): void;
  /** Area of the mask to recolour. */
  markDirty(rect: Rect, sampleStart?: number): void;
  /** Something visible changed (redraw, state for the UI). */
  changed(): void;
  /** The window a drag starts from; null when the image has none. */
  currentWindow(): DisplayWindow | null;
  windowDragged(window: DisplayWindow, done: boolean): void;
}

type Gesture =
  | { kind: "paint"; pointerId: number; writer: MaskWriter; last: Point }
  | { kind: "pan"; pointerId: number; start: Point; view: View }
  | { kind: "rect"; pointerId: number; a: Point; b: Point }
  | { kind: "lasso"; pointerId: number; points: Point[]; start: Point; moved: boolean }
  | { kind: "window"; pointerId: number; start: Point; window: DisplayWindow }
  | ({ kind: "pinch" } & PinchStart);

/** Screen pixels a press must travel before the polygon tool treats it as a lasso drag. */
const LASSO_THRESHOLD = 4;
/** Screen pixels within which a click on the first vertex closes the polygon. */
const CLOSE_DISTANCE = 8;

export class PointerInput {
  /** Pointer position over the canvas (CSS pixels), or null when outside. */
  hover: Point | null = null;
  /** Vertices of the polygon being clicked, at pixel centres. */
  polygon: Point[] = [];
  private gesture: Gesture | null = null;
  private readonly pointers = new Map<number, Point>();
  private spaceHeld = false;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly host: InputHost,
  ) {
    this.listen();
  }

  /** Whether a gesture (stroke, shape, pan...) is in progress. */
  get busy(): boolean {
    return this.gesture !== null;
  }

  /** The shape being dragged, for drawing. */
  preview(): Preview | null {
    const g = this.gesture;
    if (g?.kind === "rect") return { kind: "rect", a: g.a, b: g.b };
    if (g?.kind === "lasso" && g.moved) return { kind: "lasso", points: g.points };
    return null;
  }

  /** Whether the brush outline should follow the pointer. */
  showsBrush(): boolean {
    return (
      this.host.tool === "brush" &&
      !this.host.readOnly &&
      this.hover !== null &&
      !this.spaceHeld &&
      this.gesture?.kind !== "pan"
    );
  }

  /** Where a brush under screen point `p` paints (image coordinates). */
  brushCentre(p: Point): Point {
    return snapBrushCentre(screenToImage(this.host.view, p), this.host.brushSize);
  }

  /** Closes and fills the polygon being clicked. */
  commitPolygon(): void {
    if (this.polygon.length === 0 || this.host.readOnly) return;
    const start = perfNow();
    const writer = new MaskWriter(this.host.mask, this.host.code);
    fillPolygon(writer, this.polygon);
    this.polygon = [];
    this.host.commit(writer, "polygon", start);
  }

  /** Abandons the stroke or shape in progress (a stroke's pixels are restored). */
  cancel(): void {
    if (this.gesture?.kind === "paint") this.host.markDirty(this.gesture.writer.revert());
    this.gesture = null;
    this.polygon = [];
    this.updateCursor();
    this.host.changed();
  }

  /** Refreshes the CSS cursor after a tool or mode change. */
  updateCursor(): void {
    let cursor = "crosshair";
    if (this.gesture?.kind === "pan") cursor = "grabbing";
    else if (this.spaceHeld) cursor = "grab";
    else if (this.host.tool === "window" || this.gesture?.kind === "window") cursor = "ns-resize";
    else if (this.host.readOnly) cursor = "default";
    else if (this.host.tool === "brush") cursor = "none";
    this.canvas.style.cursor = cursor;
  }

  destroy(): void {
    for (const cleanup of this.cleanups) cleanup();
  }

  // ----- event wiring ------------------------------------------------------------------------

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
    on(this.canvas, "pointerdown", (e) => this.down(e));
    on(this.canvas, "pointermove", (e) => this.move(e));
    on(this.canvas, "pointerup", (e) => this.up(e, false));
    on(this.canvas, "pointercancel", (e) => this.up(e, true));
    on(this.canvas, "pointerleave", () => {
      this.hover = null;
      this.host.changed();
    });
    on(this.canvas, "wheel", (e) => this.wheel(e), { passive: false });
    on(this.canvas, "dblclick", (e) => {
      if (this.host.tool !== "polygon") return;
      e.preventDefault();
      this.commitPolygon();
    });
    on(this.canvas, "contextmenu", (e) => e.preventDefault());
    on(window, "keydown", (e) => {
      // Space pans, except where it has a meaning of its own (a focused button or field).
      if (e.key !== " " || isInteractive(e.target)) return;
      e.preventDefault();
      if (!this.spaceHeld) this.setSpace(true);
    });
    on(window, "keyup", (e) => {
      if (e.key === " ") this.setSpace(false);
    });
    on(window, "blur", () => this.setSpace(false));
  }

  private setSpace(held: boolean): void {
    this.spaceHeld = held;
    this.updateCursor();
    this.host.changed();
  }

  private local(e: { clientX: number; clientY: number }): Point {
    const r = this.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  // ----- gestures ----------------------------------------------------------------------------

  private down(e: PointerEvent): void {
    const p = this.local(e);
    this.canvas.focus({ preventScroll: true });
    this.pointers.set(e.pointerId, p);
    if (this.pointers.size === 2 && e.pointerType === "touch") return this.startPinch();
    if (this.gesture) return;
    this.canvas.setPointerCapture(e.pointerId);
    const id = e.pointerId;
    if (e.button === 1 || this.spaceHeld) {
      this.gesture = { kind: "pan", pointerId: id, start: p, view: this.host.view };
    } else if (e.button === 2 || (e.button === 0 && this.host.tool === "window")) {
      const window = this.host.currentWindow();
      if (window) this.gesture = { kind: "window", pointerId: id, start: p, window };
    } else if (e.button === 0 && !this.host.readOnly) {
      this.startTool(id, p);
    }
    this.updateCursor();
    this.host.changed();
  }

  private startTool(pointerId: number, p: Point): void {
    const { host } = this;
    const image = screenToImage(host.view, p);
    switch (host.tool) {
      case "brush": {
        const start = perfNow();
        const writer = new MaskWriter(host.mask, host.code);
        const centre = this.brushCentre(p);
        paintDot(writer, centre, host.brushSize / 2);
        this.gesture = { kind: "paint", pointerId, writer, last: centre };
        host.markDirty(writer.takeDirty(), start);
        break;
      }
      case "fill": {
        const x = Math.floor(image.x);
        const y = Math.floor(image.y);
        if (x < 0 || y < 0 || x >= host.mask.width || y >= host.mask.height) return;
        const start = perfNow();
        const writer = new MaskWriter(host.mask, host.code);
        floodFill(writer, x, y);
        host.commit(writer, "flood-fill", start);
        break;
      }
      case "rect": {
        const a = { x: Math.floor(image.x), y: Math.floor(image.y) };
        this.gesture = { kind: "rect", pointerId, a, b: a };
        break;
      }
      case "polygon":
        this.gesture = { kind: "lasso", pointerId, points: [image], start: p, moved: false };
        break;
      case "window":
        break;
    }
  }

  private move(e: PointerEvent): void {
    const p = this.local(e);
    this.hover = p;
    if (this.pointers.has(e.pointerId)) this.pointers.set(e.pointerId, p);
    const g = this.gesture;
    if (g?.kind === "pinch") {
      this.movePinch(g);
    } else if (g && g.pointerId === e.pointerId) {
      switch (g.kind) {
        case "paint": {
          // Every sample the device reported (coalesced), so fast strokes stay smooth.
          const samples = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
          for (const sample of samples.length > 0 ? samples : [e])
            this.paintTo(g, this.local(sample));
          break;
        }
        case "pan":
          this.host.view = panBy(g.view, p.x - g.start.x, p.y - g.start.y);
          break;
        case "rect": {
          const image = screenToImage(this.host.view, p);
          g.b = { x: Math.floor(image.x), y: Math.floor(image.y) };
          break;
        }
        case "lasso":
          if (Math.hypot(p.x - g.start.x, p.y - g.start.y) > LASSO_THRESHOLD) g.moved = true;
          if (g.moved) g.points.push(screenToImage(this.host.view, p));
          break;
        case "window":
          this.host.windowDragged(dragWindow(g.window, p.x - g.start.x, p.y - g.start.y), false);
          break;
      }
    }
    this.host.changed();
  }

  private paintTo(g: Extract<Gesture, { kind: "paint" }>, screen: Point): void {
    const start = perfNow();
    const centre = this.brushCentre(screen);
    if (centre.x === g.last.x && centre.y === g.last.y) return;
    paintSegment(g.writer, g.last, centre, this.host.brushSize / 2);
    g.last = centre;
    this.host.markDirty(g.writer.takeDirty(), start);
    measureSince("canvas:paint", start);
  }

  private up(e: PointerEvent, cancelled: boolean): void {
    this.pointers.delete(e.pointerId);
    const g = this.gesture;
    if (g?.kind === "pinch") {
      if (this.pointers.size < 2) this.gesture = null;
      return;
    }
    if (!g || g.pointerId !== e.pointerId) return;
    this.gesture = null;
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (cancelled) {
      if (g.kind === "paint") this.host.markDirty(g.writer.revert());
    } else {
      this.finish(g, this.local(e));
    }
    this.updateCursor();
    this.host.changed();
  }

  private finish(g: Gesture, p: Point): void {
    const { host } = this;
    switch (g.kind) {
      case "paint":
        this.paintTo(g, p);
        host.commit(g.writer);
        break;
      case "rect": {
        const writer = new MaskWriter(host.mask, host.code);
        fillRect(writer, g.a, g.b);
        host.commit(writer);
        break;
      }
      case "lasso":
        if (g.moved && g.points.length >= 3) {
          const writer = new MaskWriter(host.mask, host.code);
          fillPolygon(writer, g.points);
          this.polygon = [];
          host.commit(writer);
        } else {
          this.addVertex(p);
        }
        break;
      case "window":
        host.windowDragged(dragWindow(g.window, p.x - g.start.x, p.y - g.start.y), true);
        break;
      case "pan":
      case "pinch":
        break;
    }
  }

  /** A click of the polygon tool: a vertex at the pixel centre, or closing on the first one. */
  private addVertex(p: Point): void {
    const first = this.polygon[0];
    if (first && this.polygon.length >= 3) {
      const s = imageToScreen(this.host.view, first);
      if (Math.hypot(s.x - p.x, s.y - p.y) <= CLOSE_DISTANCE) return this.commitPolygon();
    }
    const image = screenToImage(this.host.view, p);
    this.polygon.push({ x: Math.floor(image.x) + 0.5, y: Math.floor(image.y) + 0.5 });
  }

  private startPinch(): void {
    // A second finger turns the gesture into zoom and pan: the first finger's stroke is withdrawn.
    if (this.gesture?.kind === "paint") this.host.markDirty(this.gesture.writer.revert());
    const [a, b] = [...this.pointers.values()];
    this.gesture = { kind: "pinch", ...pinchStart(a, b, this.host.view) };
  }

  private movePinch(g: Extract<Gesture, { kind: "pinch" }>): void {
    if (this.pointers.size < 2) return;
    const [a, b] = [...this.pointers.values()];
    this.host.view = pinchView(g, a, b, this.host.minScale());
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    const { host } = this;
    host.view = wheelView(host.view, e, this.local(e), host.minScale());
    host.changed();
  }
}
