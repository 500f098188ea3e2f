// @vitest-environment node
import { describe, expect, it } from "vitest";
import { readDicomFrame, UnsupportedDicom } from "./dicom";
import { windowValue } from "./windowing";

// pydicom's bundled CT slice, from the project's virtual environment when it is installed.
// (A computed specifier keeps Node's types out of the browser build's type check.)
const fsModule = "node:fs";
const { existsSync, readFileSync } = (await import(/* @vite-ignore */ fsModule)) as {
  existsSync(path: string): boolean;
  readFileSync(path: string): Uint8Array;
};
const ctPath = new URL(
  "../../../.venv/lib/python3.11/site-packages/pydicom/data/test_files/CT_small.dcm",
  import.meta.url,
).pathname;
const ctSmall: Uint8Array | null = existsSync(ctPath) ? readFileSync(ctPath) : null;

type Encoding = "explicit" | "implicit";

/** Writes one little-endian data element. */
function element(
  group: number,
  el: number,
  vr: string,
  value: Uint8Array,
  encoding: Encoding,
): Uint8Array {
  const long = ["OB", "OW", "SQ", "UN", "UT"].includes(vr);
  const undefinedLength = value.length === 0 && vr === "SQ";
  const headerSize = encoding === "implicit" ? 8 : long ? 12 : 8;
  const out = new Uint8Array(headerSize + value.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, group, true);
  view.setUint16(2, el, true);
  const length = undefinedLength ? 0xffffffff : value.length;
  if (encoding === "implicit") {
    view.setUint32(4, length, true);
  } else {
    out[4] = vr.charCodeAt(0);
    out[5] = vr.charCodeAt(1);
    if (long) view.setUint32(8, length, true);
    else view.setUint16(6, length, true);
  }
  out.set(value, headerSize);
  return out;
}

const str = (s: string) => Uint8Array.from(s.length % 2 ? `${s} ` : s, (c) => c.charCodeAt(0));
const us = (n: number) => new Uint8Array(new Uint16Array([n]).buffer);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** A sequence of undefined length with one undefined-length item, as scanners write them. */
function undefinedSequence(encoding: Encoding): Uint8Array {
  const tagBytes = (g: number, e: number, length: number) => {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint16(0, g, true);
    v.setUint16(2, e, true);
    v.setUint32(4, length, true);
    return b;
  };
  return concat(
    element(0x0008, 0x1140, "SQ", new Uint8Array(0), encoding),
    tagBytes(0xfffe, 0xe000, 0xffffffff),
    element(0x0008, 0x1150, "UI", str("1.2.3"), encoding),
    tagBytes(0xfffe, 0xe00d, 0),
    tagBytes(0xfffe, 0xe0dd, 0),
  );
}

function dicomFile(options: {
  encoding: Encoding;
  stored: number[];
  width: number;
  height: number;
  frames?: number;
  bitsStored?: number;
  signed?: boolean;
  slope?: string;
  intercept?: string;
  photometric?: string;
  syntax?: string;
}): ArrayBuffer {
  const syntax =
    options.syntax ??
    (options.encoding === "explicit" ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2");
  const meta = element(0x0002, 0x0010, "UI", str(`${syntax}\0`), "explicit");
  const enc = options.encoding;
  const pixels = new Uint8Array(new Uint16Array(options.stored).buffer);
  const body = concat(
    undefinedSequence(enc),
    element(0x0028, 0x0002, "US", us(1), enc),
    element(0x0028, 0x0004, "CS", str(options.photometric ?? "MONOCHROME2"), enc),
    element(0x0028, 0x0008, "IS", str(String(options.frames ?? 1)), enc),
    element(0x0028, 0x0010, "US", us(options.height), enc),
    element(0x0028, 0x0011, "US", us(options.width), enc),
    element(0x0028, 0x0100, "US", us(16), enc),
    element(0x0028, 0x0101, "US", us(options.bitsStored ?? 16), enc),
    element(0x0028, 0x0103, "US", us(options.signed ? 1 : 0), enc),
    element(0x0028, 0x1052, "DS", str(options.intercept ?? "0"), enc),
    element(0x0028, 0x1053, "DS", str(options.slope ?? "1"), enc),
    element(0x7fe0, 0x0010, "OW", pixels, enc),
  );
  const preamble = new Uint8Array(132);
  preamble.set(str("DICM"), 128);
  return concat(preamble, meta, body).buffer;
}

describe("readDicomFrame", () => {
  it("applies slope and intercept to explicit-VR stored values", () => {
    const file = dicomFile({
      encoding: "explicit",
      stored: [0, 1024, 2000, 4095],
      width: 2,
      height: 2,
      intercept: "-1024",
      slope: "1",
    });
    const frame = readDicomFrame(file);
    expect([frame.width, frame.height, frame.invert]).toEqual([2, 2, false]);
    expect(Array.from(frame.values)).toEqual([-1024, 0, 976, 3071]);
  });

  it("sign-extends 12-bit signed values in implicit VR", () => {
    // 0xFFF is -1 and 0x800 is -2048 in 12-bit two's complement; high bits are ignored.
    const file = dicomFile({
      encoding: "implicit",
      stored: [0xfff, 0x800, 0xf7ff, 5],
      width: 4,
      height: 1,
      bitsStored: 12,
      signed: true,
      slope: "2.5",
    });
    expect(Array.from(readDicomFrame(file).values)).toEqual([-2.5, -5120, 5117.5, 12.5]);
  });

  it("reads the middle frame unless told otherwise", () => {
    const file = dicomFile({
      encoding: "explicit",
      stored: [1, 1, 2, 2, 3, 3],
      width: 2,
      height: 1,
      frames: 3,
    });
    expect(Array.from(readDicomFrame(file).values)).toEqual([2, 2]);
    expect(Array.from(readDicomFrame(file, 2).values)).toEqual([3, 3]);
  });

  it("flags MONOCHROME1 for inversion", () => {
    const file = dicomFile({
      encoding: "explicit",
      stored: [1],
      width: 1,
      height: 1,
      photometric: "MONOCHROME1",
    });
    expect(readDicomFrame(file).invert).toBe(true);
  });

  it("leaves compressed transfer syntaxes to the server", () => {
    const file = dicomFile({
      encoding: "explicit",
      stored: [1],
      width: 1,
      height: 1,
      syntax: "1.2.840.10008.1.2.4.50",
    });
    expect(() => readDicomFrame(file)).toThrow(UnsupportedDicom);
  });

  it("rejects files without the part 10 header", () => {
    expect(() => readDicomFrame(new ArrayBuffer(300))).toThrow(UnsupportedDicom);
  });

  it.skipIf(ctSmall === null)(
    "agrees with pydicom and the server's window on a real CT slice",
    () => {
      const bytes = ctSmall as Uint8Array;
      const frame = readDicomFrame(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      );
      // Reference values from pydicom's apply_modality_lut and labeling.imaging.dicom.apply_window.
      expect([frame.width, frame.height]).toEqual([128, 128]);
      expect(Array.from(frame.values.subarray(0, 4))).toEqual([-849, -844, -858, -881]);
      expect(frame.values.reduce((a, b) => a + b, 0)).toBe(-1950906);
      const lung = Array.from(frame.values, (v) => windowValue(v, { center: -600, width: 1500 }));
      expect(lung.reduce((a, b) => a + b, 0)).toBe(3351419);
      const row = Array.from(frame.values.subarray(100 * 128 + 10, 100 * 128 + 14), (v) =>
        windowValue(v, { center: 40, width: 400 }),
      );
      expect(row).toEqual([162, 149, 149, 142]);
    },
  );
});
