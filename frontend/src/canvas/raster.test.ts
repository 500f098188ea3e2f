// @vitest-environment node
import { describe, expect, it } from "vitest";
import { createMask, IMPORTANT, MaskWriter, UNCLEAR, UNIMPORTANT } from "./mask";
import {
  clearAll,
  fillPolygon,
  fillRect,
  fillRest,
  floodFill,
  paintDot,
  paintSegment,
  type Point,
  snapBrushCentre,
} from "./raster";
import { maskFromRows, maskToRows, pixelsWith, seededRandom } from "./test-helpers";

function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

describe("brush", () => {
  it("paints exactly the pixel under the cursor with a diameter-1 brush", () => {
    const mask = createMask(5, 5);
    const w = new MaskWriter(mask, IMPORTANT);
    paintDot(w, snapBrushCentre({ x: 2.9, y: 1.1 }, 1), 0.5);
    expect(maskToRows(mask)).toEqual([".....", "..#..", ".....", ".....", "....."]);
  });

  it("paints a 2x2 block with a diameter-2 brush centred on the nearest corner", () => {
    const mask = createMask(4, 4);
    const w = new MaskWriter(mask, IMPORTANT);
    paintDot(w, snapBrushCentre({ x: 2.2, y: 1.9 }, 2), 1);
    expect(maskToRows(mask)).toEqual(["....", ".##.", ".##.", "...."]);
  });

  it("paints the 21-pixel disc of a diameter-5 brush", () => {
    const mask = createMask(7, 7);
    paintDot(new MaskWriter(mask, IMPORTANT), { x: 3.5, y: 3.5 }, 2.5);
    expect(maskToRows(mask)).toEqual([
      ".......",
      "..###..",
      ".#####.",
      ".#####.",
      ".#####.",
      "..###..",
      ".......",
    ]);
  });

  it("leaves no gap between pointer samples far apart", () => {
    const mask = createMask(100, 3);
    paintSegment(new MaskWriter(mask, UNIMPORTANT), { x: 0.5, y: 1.5 }, { x: 99.5, y: 1.5 }, 0.5);
    expect(pixelsWith(mask, UNIMPORTANT).size).toBe(100);
    expect(maskToRows(mask)[1]).toBe("o".repeat(100));
  });

  it("draws a one-pixel diagonal as an 8-connected staircase", () => {
    const mask = createMask(4, 4);
    paintSegment(new MaskWriter(mask, IMPORTANT), { x: 0.5, y: 0.5 }, { x: 3.5, y: 3.5 }, 0.5);
    expect(maskToRows(mask)).toEqual(["#...", ".#..", "..#.", "...#"]);
  });

  it("covers exactly the pixels whose centre lies within the radius of the segment", () => {
    const random = seededRandom(7);
    const wrong: string[] = [];
    for (let trial = 0; trial < 200; trial++) {
      const mask = createMask(40, 30);
      const a = { x: random() * 40, y: random() * 30 };
      const b = { x: random() * 40, y: random() * 30 };
      const r = 0.5 + random() * 6;
      paintSegment(new MaskWriter(mask, IMPORTANT), a, b, r);
      for (let y = 0; y < 30; y++) {
        for (let x = 0; x < 40; x++) {
          const d = distanceToSegment({ x: x + 0.5, y: y + 0.5 }, a, b);
          if (Math.abs(d - r) < 1e-6) continue; // exactly on the boundary: either is fine
          if ((mask.data[y * 40 + x] === IMPORTANT) !== d < r)
            wrong.push(`trial ${trial} pixel ${x},${y}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("clips strokes that leave the image", () => {
    const mask = createMask(4, 4);
    const changed = paintSegment(
      new MaskWriter(mask, IMPORTANT),
      { x: -10, y: 1.5 },
      { x: 10, y: 1.5 },
      0.5,
    );
    expect(changed).toBe(4);
    expect(maskToRows(mask)).toEqual(["....", "####", "....", "...."]);
  });
});

describe("polygon fill", () => {
  it("fills the pixels whose centres are inside a square", () => {
    const mask = createMask(8, 8);
    const square = [
      { x: 2, y: 2 },
      { x: 6, y: 2 },
      { x: 6, y: 6 },
      { x: 2, y: 6 },
    ];
    expect(fillPolygon(new MaskWriter(mask, IMPORTANT), square, false)).toBe(16);
    expect(maskToRows(mask)).toEqual([
      "........",
      "........",
      "..####..",
      "..####..",
      "..####..",
      "..####..",
      "........",
      "........",
    ]);
  });

  it("matches a point-in-triangle test at every pixel centre", () => {
    const mask = createMask(20, 20);
    const tri = [
      { x: 1.3, y: 2.7 },
      { x: 18.2, y: 5.1 },
      { x: 7.9, y: 17.6 },
    ];
    fillPolygon(new MaskWriter(mask, IMPORTANT), tri, false);
    const wrong: string[] = [];
    const side = (p: Point, a: Point, b: Point) =>
      (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 20; x++) {
        const p = { x: x + 0.5, y: y + 0.5 };
        const s = [side(p, tri[0], tri[1]), side(p, tri[1], tri[2]), side(p, tri[2], tri[0])];
        const inside = s.every((v) => v > 0) || s.every((v) => v < 0);
        if ((mask.data[y * 20 + x] === IMPORTANT) !== inside) wrong.push(`${x},${y}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("fills the centre of a self-crossing lasso (non-zero winding)", () => {
    const mask = createMask(21, 21);
    const star = [0, 2, 4, 1, 3].map((k) => {
      const angle = -Math.PI / 2 + (k * 2 * Math.PI) / 5;
      return { x: 10.5 + 10 * Math.cos(angle), y: 10.5 + 10 * Math.sin(angle) };
    });
    fillPolygon(new MaskWriter(mask, IMPORTANT), star, false);
    expect(mask.data[10 * 21 + 10]).toBe(IMPORTANT);
  });

  it("includes the pixels under the vertices and edges when outlined", () => {
    const mask = createMask(6, 6);
    const clicked = [
      { x: 1.5, y: 1.5 },
      { x: 4.5, y: 1.5 },
      { x: 4.5, y: 4.5 },
    ];
    fillPolygon(new MaskWriter(mask, UNIMPORTANT), clicked);
    expect(maskToRows(mask)).toEqual(["......", ".oooo.", "..ooo.", "...oo.", "....o.", "......"]);
  });
});

describe("rectangle", () => {
  it("fills both corner pixels and everything between, in any drag direction", () => {
    const mask = createMask(5, 4);
    expect(fillRect(new MaskWriter(mask, IMPORTANT), { x: 3, y: 2 }, { x: 1, y: 1 })).toBe(6);
    expect(maskToRows(mask)).toEqual([".....", ".###.", ".###.", "....."]);
  });

  it("clips to the image", () => {
    const mask = createMask(3, 3);
    expect(fillRect(new MaskWriter(mask, IMPORTANT), { x: -5, y: -5 }, { x: 0, y: 9 })).toBe(3);
  });
});

describe("flood fill", () => {
  it("fills the inside of a closed outline and nothing outside", () => {
    const mask = maskFromRows(["......", ".####.", ".#..#.", ".#..#.", ".####.", "......"]);
    expect(floodFill(new MaskWriter(mask, UNIMPORTANT), 2, 2)).toBe(4);
    expect(maskToRows(mask)).toEqual(["......", ".####.", ".#oo#.", ".#oo#.", ".####.", "......"]);
  });

  it("does not leak through a one-pixel diagonal line (4-connectivity)", () => {
    const mask = maskFromRows(["#...", ".#..", "..#.", "...#"]);
    floodFill(new MaskWriter(mask, UNIMPORTANT), 3, 0);
    expect(maskToRows(mask)).toEqual(["#ooo", ".#oo", "..#o", "...#"]);
  });

  it("fills a region that winds around obstacles", () => {
    const mask = maskFromRows([".....", "####.", ".....", ".####", "....."]);
    floodFill(new MaskWriter(mask, IMPORTANT), 0, 0);
    expect(pixelsWith(mask, UNCLEAR).size).toBe(0);
  });

  it("changes nothing when the seed already holds the value", () => {
    const mask = maskFromRows(["##", ".."]);
    const w = new MaskWriter(mask, IMPORTANT);
    expect(floodFill(w, 0, 0)).toBe(0);
    expect(w.finish()).toBeNull();
  });

  it("handles a 2048x2048 region without recursion", () => {
    const mask = createMask(2048, 2048);
    expect(floodFill(new MaskWriter(mask, IMPORTANT), 1000, 1000)).toBe(2048 * 2048);
  });
});

describe("fill the rest and clear", () => {
  it("gives every unclear pixel the value and keeps painted ones", () => {
    const mask = maskFromRows(["#..", ".o.", "..#"]);
    expect(fillRest(new MaskWriter(mask, UNIMPORTANT))).toBe(6);
    expect(maskToRows(mask)).toEqual(["#oo", "ooo", "oo#"]);
  });

  it("clears every pixel back to unclear", () => {
    const mask = maskFromRows(["#o.", "o#."]);
    expect(clearAll(new MaskWriter(mask, UNCLEAR))).toBe(4);
    expect(maskToRows(mask)).toEqual(["...", "..."]);
  });
});
