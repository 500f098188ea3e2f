/**
 * The JSON run-length form of a prompt (API contract): `{"width", "height", "rle": [[value, run],
 * ...]}`, row-major over the whole image, values in {-1, 0, 1}.
 */

import { codeToValue, createMask, type Mask, type MaskCode, valueToCode } from "./mask";

/** A prompt mask in the API's run-length form. */
export interface RleMask {
  width: number;
  height: number;
  rle: [number, number][];
}

/** Run-length encodes a mask (runs may cross row ends). */
export function maskToRle(mask: Mask): RleMask {
  const { data } = mask;
  const rle: [number, number][] = [];
  let start = 0;
  for (let i = 1; i <= data.length; i++) {
    if (i === data.length || data[i] !== data[start]) {
      rle.push([codeToValue(data[start] as MaskCode), i - start]);
      start = i;
    }
  }
  return { width: mask.width, height: mask.height, rle };
}

/**
 * Decodes the run-length form into a mask.
 *
 * @throws RangeError when a value is not -1, 0 or 1, or the runs do not cover exactly
 *   `width * height` pixels.
 */
export function rleToMask(encoded: RleMask): Mask {
  const mask = createMask(encoded.width, encoded.height);
  const { data } = mask;
  let at = 0;
  for (const [value, run] of encoded.rle) {
    if (!Number.isInteger(run) || run < 0 || at + run > data.length) {
      throw new RangeError(
        `run of ${run} at pixel ${at} overflows a ${encoded.width}x${encoded.height} mask`,
      );
    }
    data.fill(valueToCode(value), at, at + run);
    at += run;
  }
  if (at !== data.length) {
    throw new RangeError(`runs cover ${at} pixels, the mask has ${data.length}`);
  }
  return mask;
}
