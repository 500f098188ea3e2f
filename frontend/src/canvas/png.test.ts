// @vitest-environment node
import { describe, expect, it } from "vitest";
import { createMask, IMPORTANT, MaskWriter, UNIMPORTANT } from "./mask";
import { assemblePng, crc32, decodePng, encodeGreyPng, filterRows } from "./png";
import { paintSegment } from "./raster";
import { seededRandom } from "./test-helpers";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe("crc32", () => {
  it("matches the standard check value", () => {
    expect(crc32(ascii("123456789"))).toBe(0xcbf43926);
  });

  it("matches the CRC every PNG's IEND chunk carries", () => {
    expect(crc32(ascii("IEND"))).toBe(0xae426082);
  });
});

describe("encodeGreyPng", () => {
  it("writes an 8-bit greyscale header of the mask's size", async () => {
    const png = await encodeGreyPng(new Uint8Array(6 * 4).fill(128), 6, 4);
    const view = new DataView(png.buffer);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    expect(String.fromCharCode(...png.subarray(12, 16))).toBe("IHDR");
    expect([view.getUint32(16), view.getUint32(20), png[24], png[25]]).toEqual([6, 4, 8, 0]);
  });

  it("round-trips every byte of a mask", async () => {
    const random = seededRandom(3);
    const codes = [0, 128, 255];
    const pixels = Uint8Array.from({ length: 37 * 23 }, () => codes[Math.floor(random() * 3)]);
    const decoded = await decodePng(await encodeGreyPng(pixels, 37, 23));
    expect(decoded.channels).toBe(1);
    expect([decoded.width, decoded.height]).toEqual([37, 23]);
    expect(Array.from(decoded.data)).toEqual(Array.from(pixels));
  });

  it("sends a 1024x1024 prompt of a few strokes in a few kilobytes", async () => {
    const mask = createMask(1024, 1024);
    const important = new MaskWriter(mask, IMPORTANT);
    paintSegment(important, { x: 200, y: 300 }, { x: 700, y: 420 }, 40);
    paintSegment(important, { x: 700, y: 420 }, { x: 640, y: 800 }, 25);
    paintSegment(new MaskWriter(mask, UNIMPORTANT), { x: 100, y: 900 }, { x: 950, y: 880 }, 30);
    const png = await encodeGreyPng(mask.data, 1024, 1024);
    expect(png.length).toBeLessThan(8 * 1024);
  });

  it("rejects a pixel count that does not match the size", () => {
    expect(() => encodeGreyPng(new Uint8Array(5), 2, 2)).toThrow(RangeError);
  });
});

describe("filterRows", () => {
  it("turns identical rows into zeros with the Up filter", () => {
    const rows = filterRows(new Uint8Array([128, 128, 255, 128, 128, 255]), 3, 2);
    expect(Array.from(rows.subarray(4))).toEqual([2, 0, 0, 0]);
  });
});

describe("decodePng", () => {
  it("reverses the Average and Paeth filters", async () => {
    // Two RGB rows of two pixels; row 0 filtered with Average (3), row 1 with Paeth (4).
    const pixels = [
      [10, 20, 30, 40, 50, 60],
      [70, 80, 90, 100, 110, 120],
    ];
    const bpp = 3;
    const filtered: number[] = [3];
    for (let x = 0; x < 6; x++) {
      const a = x >= bpp ? pixels[0][x - bpp] : 0;
      filtered.push((pixels[0][x] - Math.floor(a / 2)) & 0xff);
    }
    filtered.push(4);
    const paeth = (a: number, b: number, c: number) => {
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    };
    for (let x = 0; x < 6; x++) {
      const a = x >= bpp ? pixels[1][x - bpp] : 0;
      const c = x >= bpp ? pixels[0][x - bpp] : 0;
      filtered.push((pixels[1][x] - paeth(a, pixels[0][x], c)) & 0xff);
    }
    const decoded = await decodePng(await assemblePng(2, 2, 2, Uint8Array.from(filtered)));
    expect(decoded.channels).toBe(3);
    expect(Array.from(decoded.data)).toEqual(pixels.flat());
  });

  it("names what it cannot read", async () => {
    await expect(decodePng(ascii("GIF89a........"))).rejects.toThrow("not a PNG");
  });
});
