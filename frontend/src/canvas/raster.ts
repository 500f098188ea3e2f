/**
 * Rasterisation of the editing tools into a mask, in image pixel coordinates.
 *
 * Geometry is continuous: pixel `(i, j)` covers `[i, i + 1) x [j, j + 1)` and belongs to a shape
 * when its centre `(i + 0.5, j + 0.5)` does (the "pixel centre" rule, the same at every zoom, so
 * what is drawn on screen is what is stored). Each function writes through a {@link MaskWriter},
 * which records the change for undo and the dirty rectangle for redrawing.
 */

import { type MaskCode, type MaskWriter, UNCLEAR } from "./mask";

/** A point in image pixel coordinates (continuous; pixel centres at `.5`). */
export interface Point {
  x: number;
  y: number;
}

// Shapes include their boundary; the tolerance absorbs floating-point noise on exact touches.
const EPS = 1e-7;

/** Smallest and largest brush diameters in image pixels. */
export const MIN_BRUSH = 1;
export const MAX_BRUSH = 512;

/**
 * The centre a brush of the given diameter snaps to under a pointer at `(x, y)`.
 *
 * Odd diameters centre on the pixel under the pointer and even ones on the nearest pixel corner,
 * so a diameter-1 brush paints exactly the pixel under the cursor and a diameter-2 brush a 2x2
 * block: strokes do not depend on sub-pixel pointer positions.
 */
export function snapBrushCentre(p: Point, diameter: number): Point {
  if (Math.round(diameter) % 2 === 1) {
    return { x: Math.floor(p.x) + 0.5, y: Math.floor(p.y) + 0.5 };
  }
  return { x: Math.round(p.x), y: Math.round(p.y) };
}

/** The x-interval `[lo, hi]` of the line `y = yc` inside a disc, or null. */
function discSpan(c: Point, r: number, yc: number): [number, number] | null {
  const dy = yc - c.y;
  const h2 = r * r - dy * dy;
  if (h2 < -EPS) return null;
  const h = Math.sqrt(Math.max(0, h2));
  return [c.x - h - EPS, c.x + h + EPS];
}

/** Intersects `[lo, hi]` with `{x : a <= k x + c <= b}`; null when empty. */
function clipLinear(
  span: [number, number] | null,
  k: number,
  c: number,
  a: number,
  b: number,
): [number, number] | null {
  if (!span) return null;
  if (Math.abs(k) < 1e-12) return c >= a - EPS && c <= b + EPS ? span : null;
  let lo = (a - c) / k;
  let hi = (b - c) / k;
  if (lo > hi) [lo, hi] = [hi, lo];
  const out: [number, number] = [Math.max(span[0], lo - EPS), Math.min(span[1], hi + EPS)];
  return out[0] <= out[1] ? out : null;
}

/**
 * Paints a round brush of radius `r` swept from `a` to `b` (a capsule), row by row.
 *
 * The capsule is convex, so each row meets it in one interval: the union of the row's intervals
 * in the two end discs and in the band between them. Cost is one interval per row plus the
 * pixels written, independent of how far apart the pointer samples are.
 *
 * @returns the number of pixels that changed.
 */
export function paintSegment(writer: MaskWriter, a: Point, b: Point, r: number): number {
  const { width, height } = writer.mask;
  const yStart = Math.max(0, Math.floor(Math.min(a.y, b.y) - r - 0.5));
  const yEnd = Math.min(height - 1, Math.ceil(Math.max(a.y, b.y) + r - 0.5));
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length = Math.hypot(dx, dy);
  const ux = length > 0 ? dx / length : 0;
  const uy = length > 0 ? dy / length : 0;
  let changed = 0;
  for (let row = yStart; row <= yEnd; row++) {
    const yc = row + 0.5;
    let lo = Infinity;
    let hi = -Infinity;
    for (const span of [discSpan(a, r, yc), discSpan(b, r, yc)]) {
      if (span) {
        lo = Math.min(lo, span[0]);
        hi = Math.max(hi, span[1]);
      }
    }
    if (length > 0) {
      // Band: 0 <= (p - a).u <= length and |(p - a).n| <= r with n = (-uy, ux).
      let band: [number, number] | null = [-Infinity, Infinity];
      band = clipLinear(band, ux, -a.x * ux + (yc - a.y) * uy, 0, length);
      band = clipLinear(band, -uy, a.x * uy + (yc - a.y) * ux, -r, r);
      if (band) {
        lo = Math.min(lo, band[0]);
        hi = Math.max(hi, band[1]);
      }
    }
    if (lo > hi) continue;
    const x0 = Math.max(0, Math.ceil(lo - 0.5));
    const x1 = Math.min(width, Math.floor(hi - 0.5) + 1);
    if (x0 < x1) changed += writer.writeRun(row, x0, x1);
  }
  return changed;
}

/** Paints a single brush dab of radius `r` at `c`. */
export function paintDot(writer: MaskWriter, c: Point, r: number): number {
  return paintSegment(writer, c, c, r);
}

/**
 * Fills a polygon (closed implicitly) by the non-zero winding rule, so a lasso that crosses
 * itself fills its loops instead of leaving even-odd holes.
 *
 * @param outline also paint the edges one pixel wide (radius 0.5), so pixels the vertices and
 *   edges pass through are included: a polygon clicked on pixel centres contains those pixels.
 * @returns the number of pixels that changed.
 */
export function fillPolygon(writer: MaskWriter, points: readonly Point[], outline = true): number {
  const { width, height } = writer.mask;
  let changed = 0;
  if (points.length >= 3) {
    let minY = Infinity;
    let maxY = -Infinity;
    for (const p of points) {
      minY = Math.min(minY, p.y);
      maxY = Math.max(maxY, p.y);
    }
    const rowStart = Math.max(0, Math.ceil(minY - 0.5));
    const rowEnd = Math.min(height - 1, Math.floor(maxY - 0.5));
    const crossings: { x: number; dir: number }[] = [];
    for (let row = rowStart; row <= rowEnd; row++) {
      const yc = row + 0.5;
      crossings.length = 0;
      for (let k = 0; k < points.length; k++) {
        const p = points[k];
        const q = points[(k + 1) % points.length];
        // Half-open in y so a vertex on the scanline is counted once.
        if ((p.y <= yc && q.y > yc) || (q.y <= yc && p.y > yc)) {
          const t = (yc - p.y) / (q.y - p.y);
          crossings.push({ x: p.x + t * (q.x - p.x), dir: q.y > p.y ? 1 : -1 });
        }
      }
      crossings.sort((m, n) => m.x - n.x);
      let winding = 0;
      for (let k = 0; k < crossings.length - 1; k++) {
        winding += crossings[k].dir;
        if (winding === 0) continue;
        const x0 = Math.max(0, Math.ceil(crossings[k].x - 0.5));
        const x1 = Math.min(width, Math.ceil(crossings[k + 1].x - 0.5));
        if (x0 < x1) changed += writer.writeRun(row, x0, x1);
      }
    }
  }
  if (outline) {
    for (let k = 0; k < points.length; k++) {
      const next = points.length > 1 ? points[(k + 1) % points.length] : points[k];
      changed += paintSegment(writer, points[k], next, 0.5);
    }
  }
  return changed;
}

/**
 * Fills the pixels from corner pixel `a` to corner pixel `b`, both included (pixel indices, any
 * order), clipped to the mask.
 */
export function fillRect(
  writer: MaskWriter,
  a: { x: number; y: number },
  b: { x: number; y: number },
): number {
  const x0 = Math.min(a.x, b.x);
  const x1 = Math.max(a.x, b.x) + 1;
  const y0 = Math.max(0, Math.min(a.y, b.y));
  const y1 = Math.min(writer.mask.height, Math.max(a.y, b.y) + 1);
  let changed = 0;
  for (let y = y0; y < y1; y++) changed += writer.writeRun(y, x0, x1);
  return changed;
}

/**
 * Flood-fills the 4-connected region of equal code around pixel `(x, y)` with the writer's code.
 *
 * 4-connectivity, because a one-pixel diagonal brush line (8-connected) must still close a region.
 * Scanline algorithm with an explicit stack: memory is proportional to the region's boundary,
 * not its area, and there is no recursion to overflow on 2048x2048 masks.
 *
 * @returns the number of pixels that changed (0 when the seed already holds the code).
 */
export function floodFill(writer: MaskWriter, x: number, y: number): number {
  const { width, height, data } = writer.mask;
  if (x < 0 || y < 0 || x >= width || y >= height) return 0;
  const target: MaskCode = data[y * width + x] as MaskCode;
  if (target === writer.code) return 0;
  let changed = 0;
  const stack: number[] = [x, y];
  while (stack.length > 0) {
    const sy = stack.pop() as number;
    const sx = stack.pop() as number;
    const row = sy * width;
    if (data[row + sx] !== target) continue;
    let left = sx;
    while (left > 0 && data[row + left - 1] === target) left--;
    let right = sx + 1;
    while (right < width && data[row + right] === target) right++;
    changed += writer.writeRun(sy, left, right);
    for (const ny of [sy - 1, sy + 1]) {
      if (ny < 0 || ny >= height) continue;
      const nrow = ny * width;
      let inside = false;
      for (let nx = left; nx < right; nx++) {
        const match = data[nrow + nx] === target;
        // One seed per run of matching pixels in the neighbouring row.
        if (match && !inside) stack.push(nx, ny);
        inside = match;
      }
    }
  }
  return changed;
}

/** "Fill the rest": every unclear pixel takes the writer's code. */
export function fillRest(writer: MaskWriter): number {
  return writer.replaceAll(UNCLEAR);
}

/** "Clear": every pixel back to unclear (the writer's code must be UNCLEAR). */
export function clearAll(writer: MaskWriter): number {
  if (writer.code !== UNCLEAR) throw new Error("clearing writes the unclear code");
  let changed = 0;
  for (let y = 0; y < writer.mask.height; y++) changed += writer.writeRun(y, 0, writer.mask.width);
  return changed;
}
