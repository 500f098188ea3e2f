import { describe, expect, it } from "vitest";
import { colourise, heatColour } from "./overlay";

describe("heatColour", () => {
  it("runs from dark blue through green to dark red", () => {
    expect(heatColour(0)).toEqual([0, 0, 128]);
    expect(heatColour(127.5)).toEqual([128, 255, 128]);
    expect(heatColour(255)).toEqual([128, 0, 0]);
  });

  it("clamps values outside 0-255", () => {
    expect(heatColour(-10)).toEqual(heatColour(0));
    expect(heatColour(400)).toEqual(heatColour(255));
  });
});

describe("colourise", () => {
  it("reads the red channel as the value and makes every pixel opaque", () => {
    const pixels = new Uint8ClampedArray([255, 255, 255, 0, 0, 0, 0, 10]);
    colourise(pixels);
    expect(Array.from(pixels)).toEqual([128, 0, 0, 255, 0, 0, 128, 255]);
  });
});
