// @vitest-environment node
import { describe, expect, it } from "vitest";
import {
  dragWindow,
  matchPreset,
  windowPresets,
  windowQuery,
  windowToRgba,
  windowValue,
} from "./windowing";

describe("windowValue (DICOM LINEAR, as the server computes it)", () => {
  const abdomen = { center: 40, width: 400 };

  it("maps the window's low edge to black and the center to mid-grey", () => {
    expect(windowValue(-160, abdomen)).toBe(0);
    expect(windowValue(40, abdomen)).toBe(128); // (0.5 / 399 + 0.5) * 255 = 127.82
    expect(windowValue(-1000, abdomen)).toBe(0);
    expect(windowValue(240, abdomen)).toBe(255);
  });

  it("rounds halves to even like numpy's rint", () => {
    // center 0.5, width 256: scaled = v + 127.5
    expect(windowValue(0, { center: 0.5, width: 256 })).toBe(128);
    expect(windowValue(1, { center: 0.5, width: 256 })).toBe(128);
  });

  it("thresholds at center - 0.5 with width 1", () => {
    expect(windowValue(10, { center: 10, width: 1 })).toBe(255);
    expect(windowValue(9.5, { center: 10, width: 1 })).toBe(0);
  });
});

describe("windowToRgba", () => {
  it("writes opaque grey and inverts MONOCHROME1", () => {
    const out = new Uint8ClampedArray(8);
    windowToRgba(Float32Array.of(-1000, 1000), { center: 0, width: 100 }, out, true);
    expect(Array.from(out)).toEqual([255, 255, 255, 255, 0, 0, 0, 255]);
  });
});

describe("presets", () => {
  it("lists the project default first, then lung, mediastinum, bone and abdomen", () => {
    const presets = windowPresets({ center: -500, width: 1400 });
    expect(presets.map((p) => [p.key, p.center, p.width])).toEqual([
      ["project", -500, 1400],
      ["lung", -600, 1500],
      ["mediastinum", 50, 350],
      ["bone", 400, 1800],
      ["abdomen", 40, 400],
    ]);
    expect(matchPreset(presets, { center: 400, width: 1800 })?.key).toBe("bone");
  });

  it("builds the display endpoint's query", () => {
    expect(windowQuery({ center: -600, width: 1500 })).toBe("window_center=-600&window_width=1500");
  });
});

describe("dragWindow", () => {
  it("widens to the right and raises the center downwards, in steps of the width", () => {
    expect(dragWindow({ center: 40, width: 400 }, 128, 0)).toEqual({ center: 40, width: 800 });
    expect(dragWindow({ center: 40, width: 400 }, 0, 64)).toEqual({ center: 140, width: 400 });
  });

  it("never reaches a zero width", () => {
    expect(dragWindow({ center: 0, width: 10 }, -10000, 0).width).toBe(1);
  });
});
