/**
 * Colours of the prompt and of the overlays, chosen to stay distinguishable with colour-vision
 * deficiencies: the prompt uses the Okabe-Ito orange / blue pair (safe for protan, deutan and
 * tritan vision, and far apart in lightness), heatmaps use viridis (perceptually uniform,
 * monotone in lightness), and the ground truth is an outline in Okabe-Ito reddish purple so it
 * never reads as painted prompt.
 */

import { IMPORTANT, type Mask, type Rect, UNCLEAR } from "./mask";

export type Rgb = readonly [number, number, number];

/** Colour of important pixels (Okabe-Ito orange). */
export const IMPORTANT_RGB: Rgb = [230, 159, 0];
/** Colour of unimportant pixels (Okabe-Ito blue). */
export const UNIMPORTANT_RGB: Rgb = [0, 114, 178];
/** Outline colour of the ground-truth explanation (Okabe-Ito reddish purple). */
export const GROUND_TRUTH_RGB: Rgb = [204, 121, 167];

/** CSS colour of an RGB triple. */
export function cssColour(rgb: Rgb, alpha = 1): string {
  return alpha >= 1 ? `rgb(${rgb.join(", ")})` : `rgba(${rgb.join(", ")}, ${alpha})`;
}

/** Alpha of painted pixels inside a region; its boundary is drawn opaque. */
export const INTERIOR_ALPHA = 165;

/**
 * Writes the RGBA rendering of `rect` of the mask into `out` (`rect` width x height x 4):
 * painted pixels in their colour, the boundary of each painted region opaque and its interior
 * translucent (so the outline of a region stays readable over an image of similar colour),
 * unclear pixels fully transparent. Overall opacity is applied when the layer is drawn, so the
 * slider never recolours pixels. A boundary pixel has a 4-neighbour with another value; pixels
 * outside the mask do not count, so a change can restyle its neighbours: callers redraw a
 * rectangle one pixel larger than the change.
 */
export function colourMaskRect(mask: Mask, rect: Rect, out: Uint8ClampedArray): void {
  const { data, width, height } = mask;
  // One 32-bit store per pixel instead of four byte stores.
  const pixels = new Uint32Array(out.buffer, out.byteOffset, out.length >> 2);
  const w = rect.x1 - rect.x0;
  for (let y = rect.y0, o = 0; y < rect.y1; y++, o += w) {
    const rowStart = y * width + rect.x0;
    const rowEnd = rowStart + w;
    const up = y > 0 ? -width : 0;
    const down = y < height - 1 ? width : 0;
    let i = rowStart;
    while (i < rowEnd) {
      // Work by stretches of equal pixels: inside one, left and right neighbours match.
      const v = data[i];
      let j = i + 1;
      while (j < rowEnd && data[j] === v) j++;
      const at = o + (i - rowStart);
      if (v === UNCLEAR) {
        pixels.fill(0, at, at + (j - i));
      } else {
        const rgb = v === IMPORTANT ? IMPORTANT_RGB : UNIMPORTANT_RGB;
        const edge = packRgba(rgb, 255);
        const inside = packRgba(rgb, INTERIOR_ALPHA);
        for (let k = i; k < j; k++) {
          pixels[at + (k - i)] = data[k + up] !== v || data[k + down] !== v ? edge : inside;
        }
        const x = i - y * width;
        if (x > 0 && data[i - 1] !== v) pixels[at] = edge;
        if (x + (j - i) < width && data[j] !== v) pixels[at + (j - i) - 1] = edge;
      }
      i = j;
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** An RGBA colour as the 32-bit word a Uint32Array view of ImageData holds. */
function packRgba(rgb: Rgb, alpha: number): number {
  return LITTLE_ENDIAN
    ? ((alpha << 24) | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0
    : ((rgb[0] << 24) | (rgb[1] << 16) | (rgb[2] << 8) | alpha) >>> 0;
}

// matplotlib's viridis sampled at nine evenly spaced points; linear in between.
const VIRIDIS_STOPS: Rgb[] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 73, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [253, 231, 37],
];

/** A 256-entry RGB lookup table (`[256 * 3]`) of viridis. */
export function viridisLut(): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  const segments = VIRIDIS_STOPS.length - 1;
  for (let v = 0; v < 256; v++) {
    const t = (v / 255) * segments;
    const k = Math.min(segments - 1, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) {
      lut[v * 3 + c] = Math.round(VIRIDIS_STOPS[k][c] * (1 - f) + VIRIDIS_STOPS[k + 1][c] * f);
    }
  }
  return lut;
}

/**
 * Colour-maps a grey map (`rgba`: the RGBA pixels of a decoded grey PNG, red channel read) into
 * `out` RGBA: the colour from `lut`, alpha rising with the value so low-attention areas leave the
 * image visible.
 */
export function heatmapRgba(
  rgba: Uint8ClampedArray,
  lut: Uint8Array,
  out: Uint8ClampedArray,
): void {
  for (let o = 0; o < rgba.length; o += 4) {
    const v = rgba[o];
    out[o] = lut[v * 3];
    out[o + 1] = lut[v * 3 + 1];
    out[o + 2] = lut[v * 3 + 2];
    out[o + 3] = Math.round(40 + (v / 255) * 175);
  }
}

/**
 * Draws the inner boundary of a binary map (`rgba` red channel >= 128 is inside), `thickness`
 * pixels wide, in `colour` into `out` RGBA, with a faint fill inside so small regions remain
 * visible.
 */
export function outlineRgba(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
  colour: Rgb,
  out: Uint8ClampedArray,
  thickness = 1,
): void {
  const n = width * height;
  const inside = new Uint8Array(n);
  for (let i = 0; i < n; i++) inside[i] = rgba[i * 4] >= 128 ? 1 : 0;
  // Boundary: inside pixels with a 4-neighbour outside (the image border does not count).
  let edge = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!inside[i]) continue;
      edge[i] =
        (x > 0 && !inside[i - 1]) ||
        (x < width - 1 && !inside[i + 1]) ||
        (y > 0 && !inside[i - width]) ||
        (y < height - 1 && !inside[i + width])
          ? 1
          : 0;
    }
  }
  // Thicken inwards one pixel per pass.
  for (let pass = 1; pass < thickness; pass++) {
    const next = edge.slice();
    for (let i = 0; i < n; i++) {
      if (!inside[i] || edge[i]) continue;
      const x = i % width;
      if (
        (x > 0 && edge[i - 1]) ||
        (x < width - 1 && edge[i + 1]) ||
        (i >= width && edge[i - width]) ||
        (i + width < n && edge[i + width])
      ) {
        next[i] = 1;
      }
    }
    edge = next;
  }
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    if (!inside[i]) {
      out[o + 3] = 0;
      continue;
    }
    out[o] = colour[0];
    out[o + 1] = colour[1];
    out[o + 2] = colour[2];
    out[o + 3] = edge[i] ? 255 : 56;
  }
}
