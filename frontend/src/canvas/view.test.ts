// @vitest-environment node
import { describe, expect, it } from "vitest";
import {
  fitView,
  imageToScreen,
  MAX_SCALE,
  minScale,
  panBy,
  pinchStart,
  pinchView,
  screenToImage,
  wheelFactor,
  wheelView,
  zoomAt,
} from "./view";

describe("view transform", () => {
  it("fits a wide image to the viewport width, centred", () => {
    expect(fitView(200, 100, 432, 432, 16)).toEqual({ scale: 2, tx: 16, ty: 116 });
  });

  it("maps screen to image and back", () => {
    const view = { scale: 3.7, tx: -12.5, ty: 40 };
    const p = screenToImage(view, { x: 100, y: 250 });
    const q = imageToScreen(view, p);
    expect(q.x).toBeCloseTo(100, 10);
    expect(q.y).toBeCloseTo(250, 10);
  });

  it("keeps the image point under the cursor fixed while zooming", () => {
    const view = { scale: 1.5, tx: 20, ty: -30 };
    const anchor = { x: 333, y: 121 };
    const before = screenToImage(view, anchor);
    const zoomed = zoomAt(view, anchor, 2.4, 0.1);
    const after = screenToImage(zoomed, anchor);
    expect(zoomed.scale).toBeCloseTo(3.6, 10);
    expect(after.x).toBeCloseTo(before.x, 10);
    expect(after.y).toBeCloseTo(before.y, 10);
  });

  it("clamps zoom to its limits", () => {
    expect(zoomAt({ scale: 100, tx: 0, ty: 0 }, { x: 0, y: 0 }, 10, 0.1).scale).toBe(MAX_SCALE);
    expect(zoomAt({ scale: 0.2, tx: 0, ty: 0 }, { x: 0, y: 0 }, 0.01, 0.1).scale).toBe(0.1);
  });

  it("lets a 2048x2048 image shrink below fit and a 64x64 image grow to large pixels", () => {
    expect(minScale(2048, 2048, 800, 800)).toBeCloseTo(800 / 2048 / 8, 10);
    expect(fitView(64, 64, 800, 800).scale).toBeCloseTo(768 / 64, 10);
  });

  it("pans by screen pixels", () => {
    expect(panBy({ scale: 2, tx: 1, ty: 2 }, 10, -5)).toEqual({ scale: 2, tx: 11, ty: -3 });
  });

  it("zooms in on wheel up and out on wheel down", () => {
    expect(wheelFactor(-100)).toBeGreaterThan(1);
    expect(wheelFactor(100)).toBeLessThan(1);
    expect(wheelFactor(-100) * wheelFactor(100)).toBeCloseTo(1, 10);
  });
});

describe("gestures", () => {
  const view = { scale: 2, tx: 10, ty: 20 };
  const wheel = { deltaX: 0, deltaY: 0, deltaMode: 0, shiftKey: false, ctrlKey: false };

  it("pinch: spreading the fingers twice as far doubles the scale about their midpoint", () => {
    const start = pinchStart({ x: 90, y: 100 }, { x: 110, y: 100 }, view);
    expect(start.centre).toEqual({ x: 100, y: 100 });
    expect(pinchView(start, { x: 80, y: 100 }, { x: 120, y: 100 }, 0.1)).toEqual({
      scale: 4,
      tx: -80,
      ty: -60,
    });
  });

  it("pinch: moving both fingers pans by their midpoint's travel", () => {
    const start = pinchStart({ x: 0, y: 0 }, { x: 10, y: 0 }, view);
    expect(pinchView(start, { x: 5, y: 7 }, { x: 15, y: 7 }, 0.1)).toEqual({
      scale: 2,
      tx: 15,
      ty: 27,
    });
  });

  it("wheel: Shift pans, otherwise it zooms about the pointer", () => {
    expect(wheelView(view, { ...wheel, deltaY: 30, shiftKey: true }, { x: 0, y: 0 }, 0.1)).toEqual(
      { scale: 2, tx: -20, ty: 20 },
    );
    const zoomed = wheelView(view, { ...wheel, deltaY: -100 }, { x: 10, y: 20 }, 0.1);
    expect(zoomed.scale).toBeGreaterThan(2);
    expect([zoomed.tx, zoomed.ty]).toEqual([10, 20]);
  });
});
