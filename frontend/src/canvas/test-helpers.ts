/**
 * Masks written as text for tests: `.` unclear, `#` important, `o` unimportant, one string per row.
 */

import { IMPORTANT, type Mask, UNCLEAR, UNIMPORTANT } from "./mask";

const CHAR_TO_CODE: Record<string, number> = { ".": UNCLEAR, "#": IMPORTANT, o: UNIMPORTANT };

/** Builds a mask from rows of `.`, `#` and `o`. */
export function maskFromRows(rows: readonly string[]): Mask {
  const height = rows.length;
  const width = rows[0].length;
  const data = new Uint8Array(width * height);
  rows.forEach((row, y) => {
    for (let x = 0; x < width; x++) data[y * width + x] = CHAR_TO_CODE[row[x]];
  });
  return { width, height, data };
}

/** Writes a mask as rows of `.`, `#` and `o`. */
export function maskToRows(mask: Mask): string[] {
  const rows: string[] = [];
  for (let y = 0; y < mask.height; y++) {
    let row = "";
    for (let x = 0; x < mask.width; x++) {
      const v = mask.data[y * mask.width + x];
      row += v === IMPORTANT ? "#" : v === UNIMPORTANT ? "o" : ".";
    }
    rows.push(row);
  }
  return rows;
}

/** The set of `x,y` keys of pixels holding `code`. */
export function pixelsWith(mask: Mask, code: number): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < mask.data.length; i++) {
    if (mask.data[i] === code) out.add(`${i % mask.width},${Math.floor(i / mask.width)}`);
  }
  return out;
}

/** A deterministic pseudo-random generator (mulberry32) for property tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
