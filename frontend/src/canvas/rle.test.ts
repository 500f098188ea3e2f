// @vitest-environment node
import { describe, expect, it } from "vitest";
import { maskToRle, rleToMask } from "./rle";
import { maskFromRows, maskToRows } from "./test-helpers";

describe("run-length form", () => {
  it("encodes row-major runs of -1, 0 and 1 that cross row ends", () => {
    const mask = maskFromRows(["##o", "o.."]);
    expect(maskToRle(mask)).toEqual({
      width: 3,
      height: 2,
      rle: [
        [1, 2],
        [0, 2],
        [-1, 2],
      ],
    });
  });

  it("decodes what it encodes", () => {
    const rows = ["#.o.#", "ooo..", "....#"];
    expect(maskToRows(rleToMask(maskToRle(maskFromRows(rows))))).toEqual(rows);
  });

  it("rejects values outside -1, 0, 1", () => {
    expect(() => rleToMask({ width: 2, height: 1, rle: [[2, 2]] })).toThrow("not one of");
  });

  it("rejects runs that do not cover the image exactly", () => {
    expect(() => rleToMask({ width: 2, height: 2, rle: [[1, 3]] })).toThrow("cover 3 pixels");
    expect(() => rleToMask({ width: 2, height: 1, rle: [[1, 3]] })).toThrow("overflows");
  });
});
