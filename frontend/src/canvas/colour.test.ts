// @vitest-environment node
import { describe, expect, it } from "vitest";
import {
  colourMaskRect,
  IMPORTANT_RGB,
  INTERIOR_ALPHA,
  outlineRgba,
  UNIMPORTANT_RGB,
  viridisLut,
} from "./colour";
import { maskFromRows } from "./test-helpers";

describe("colourMaskRect", () => {
  it("colours painted pixels and leaves unclear ones transparent, within the rect", () => {
    const mask = maskFromRows(["#o.", ".#o"]);
    const out = new Uint8ClampedArray(2 * 2 * 4);
    colourMaskRect(mask, { x0: 1, y0: 0, x1: 3, y1: 2 }, out);
    expect(Array.from(out)).toEqual([
      ...UNIMPORTANT_RGB,
      255,
      0,
      0,
      0,
      0,
      ...IMPORTANT_RGB,
      255,
      ...UNIMPORTANT_RGB,
      255,
    ]);
  });

  it("draws a region's boundary opaque and its interior translucent", () => {
    const mask = maskFromRows([".....", ".###.", ".###.", ".###.", "....."]);
    const out = new Uint8ClampedArray(5 * 5 * 4);
    colourMaskRect(mask, { x0: 0, y0: 0, x1: 5, y1: 5 }, out);
    const alpha = (x: number, y: number) => out[(y * 5 + x) * 4 + 3];
    expect([alpha(1, 1), alpha(2, 1), alpha(2, 2), alpha(0, 0)]).toEqual([
      255,
      255,
      INTERIOR_ALPHA,
      0,
    ]);
  });
});

describe("viridisLut", () => {
  it("runs from dark purple to yellow", () => {
    const lut = viridisLut();
    expect(Array.from(lut.subarray(0, 3))).toEqual([68, 1, 84]);
    expect(Array.from(lut.subarray(255 * 3))).toEqual([253, 231, 37]);
  });
});

describe("outlineRgba", () => {
  it("draws the boundary opaque and the interior faint", () => {
    const size = 4;
    const grey = new Uint8ClampedArray(size * size * 4);
    for (const [x, y] of [
      [1, 1],
      [2, 1],
      [1, 2],
      [2, 2],
      [0, 1],
      [3, 1],
      [0, 2],
      [3, 2],
      [1, 0],
      [2, 0],
      [1, 3],
      [2, 3],
    ]) {
      grey[(y * size + x) * 4] = 255;
    }
    const out = new Uint8ClampedArray(grey.length);
    outlineRgba(grey, size, size, [1, 2, 3], out);
    expect(out[(1 * size + 1) * 4 + 3]).toBe(56); // interior
    expect(out[(1 * size + 0) * 4 + 3]).toBe(255); // boundary
    expect(out[(0 * size + 0) * 4 + 3]).toBe(0); // outside
  });

  it("thickens the boundary inwards", () => {
    const size = 7;
    const grey = new Uint8ClampedArray(size * size * 4);
    for (let y = 1; y < 6; y++) for (let x = 1; x < 6; x++) grey[(y * size + x) * 4] = 255;
    const out = new Uint8ClampedArray(grey.length);
    outlineRgba(grey, size, size, [1, 2, 3], out, 2);
    const alpha = (x: number, y: number) => out[(y * size + x) * 4 + 3];
    expect([alpha(1, 1), alpha(2, 2), alpha(3, 3), alpha(0, 0)]).toEqual([255, 255, 56, 0]);
  });
});
