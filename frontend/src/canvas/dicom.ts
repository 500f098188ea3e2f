/**
 * A minimal DICOM reader for windowing in the browser: the modality values (HU for CT) of one
 * frame of an uncompressed grey image.
 *
 * Dragging a window then costs one pass over the pixels instead of one server round trip per
 * step. Only what the server's pipeline (`labeling.imaging.dicom`) does for such files is done
 * here: stored values (BitsStored honoured, signed or not) -> `RescaleSlope * x +
 * RescaleIntercept`. Anything else (compressed or big-endian transfer syntaxes, colour, a Modality
 * LUT Sequence, float pixel data) raises {@link UnsupportedDicom} and the editor falls back to the
 * server's re-windowed display endpoint, so no file is ever shown differently from the server.
 */

export class UnsupportedDicom extends Error {
  override name = "UnsupportedDicom";
}

/** One frame of modality values. */
export interface DicomFrame {
  width: number;
  height: number;
  frames: number;
  frameIndex: number;
  /** `[height * width]` rescaled values (HU for CT). */
  values: Float32Array;
  /** MONOCHROME1: high values are shown dark. */
  invert: boolean;
}

const IMPLICIT_LE = "1.2.840.10008.1.2";
const EXPLICIT_LE = "1.2.840.10008.1.2.1";
// VRs whose explicit encoding has two reserved bytes and a 32-bit length.
const LONG_VRS = new Set([
  "OB",
  "OD",
  "OF",
  "OL",
  "OV",
  "OW",
  "SQ",
  "SV",
  "UC",
  "UN",
  "UR",
  "UT",
  "UV",
]);
const UNDEFINED = 0xffffffff;

const tag = (group: number, element: number): number => ((group << 16) | element) >>> 0;
const ROWS = tag(0x0028, 0x0010);
const COLUMNS = tag(0x0028, 0x0011);
const SAMPLES = tag(0x0028, 0x0002);
const PHOTOMETRIC = tag(0x0028, 0x0004);
const FRAMES = tag(0x0028, 0x0008);
const BITS_ALLOCATED = tag(0x0028, 0x0100);
const BITS_STORED = tag(0x0028, 0x0101);
const PIXEL_REPRESENTATION = tag(0x0028, 0x0103);
const INTERCEPT = tag(0x0028, 0x1052);
const SLOPE = tag(0x0028, 0x1053);
const MODALITY_LUT = tag(0x0028, 0x3000);
const PIXEL_DATA = tag(0x7fe0, 0x0010);
const FLOAT_PIXEL_DATA = tag(0x7fe0, 0x0008);
const DOUBLE_PIXEL_DATA = tag(0x7fe0, 0x0009);
const TRANSFER_SYNTAX = tag(0x0002, 0x0010);
const ITEM = tag(0xfffe, 0xe000);
const ITEM_END = tag(0xfffe, 0xe00d);
const SEQUENCE_END = tag(0xfffe, 0xe0dd);

interface Element {
  tag: number;
  vr: string;
  offset: number;
  length: number;
}

/** Reads data elements of one encoding from a byte view. */
class Reader {
  constructor(
    private readonly view: DataView,
    private readonly explicit: boolean,
  ) {}

  /** Reads the element header at `offset`; the value starts at `element.offset`. */
  header(offset: number): Element {
    const v = this.view;
    const t = tag(v.getUint16(offset, true), v.getUint16(offset + 2, true));
    if (t === ITEM || t === ITEM_END || t === SEQUENCE_END) {
      return { tag: t, vr: "", offset: offset + 8, length: v.getUint32(offset + 4, true) };
    }
    if (!this.explicit) {
      return { tag: t, vr: "", offset: offset + 8, length: v.getUint32(offset + 4, true) };
    }
    const vr = String.fromCharCode(v.getUint8(offset + 4), v.getUint8(offset + 5));
    if (LONG_VRS.has(vr)) {
      return { tag: t, vr, offset: offset + 12, length: v.getUint32(offset + 8, true) };
    }
    return { tag: t, vr, offset: offset + 8, length: v.getUint16(offset + 6, true) };
  }

  /** The offset after an undefined-length value starting at `offset` (a sequence). */
  skipUndefined(offset: number): number {
    let at = offset;
    while (at + 8 <= this.view.byteLength) {
      const el = this.header(at);
      if (el.tag === SEQUENCE_END) return el.offset;
      if (el.tag !== ITEM) throw new UnsupportedDicom("malformed sequence");
      at = el.length === UNDEFINED ? this.skipItem(el.offset) : el.offset + el.length;
    }
    throw new UnsupportedDicom("unterminated sequence");
  }

  private skipItem(offset: number): number {
    let at = offset;
    while (at + 8 <= this.view.byteLength) {
      const el = this.header(at);
      if (el.tag === ITEM_END) return el.offset;
      at =
        el.length === UNDEFINED ? this.nested(el).skipUndefined(el.offset) : el.offset + el.length;
    }
    throw new UnsupportedDicom("unterminated sequence item");
  }

  /** Explicit-VR "UN" values of undefined length are encoded implicitly (PS3.5 6.2.2). */
  nested(el: Element): Reader {
    return el.vr === "UN" ? new Reader(this.view, false) : this;
  }
}

function text(view: DataView, el: Element): string {
  let s = "";
  for (let i = 0; i < el.length; i++) s += String.fromCharCode(view.getUint8(el.offset + i));
  return s.replace(/[\0\s]+$/, "").replace(/^\s+/, "");
}

function firstNumber(view: DataView, el: Element | undefined, fallback: number): number {
  if (!el) return fallback;
  const value = Number.parseFloat(text(view, el).split("\\")[0]);
  return Number.isFinite(value) ? value : fallback;
}

function uint16(view: DataView, el: Element | undefined, fallback: number): number {
  return el && el.length >= 2 ? view.getUint16(el.offset, true) : fallback;
}

/** Walks the file meta group and the dataset, collecting the top-level elements by tag. */
function scan(view: DataView): Map<number, Element> {
  const isPart10 =
    view.byteLength > 132 && text(view, { tag: 0, vr: "", offset: 128, length: 4 }) === "DICM";
  if (!isPart10) throw new UnsupportedDicom("no DICOM part 10 header");
  const found = new Map<number, Element>();
  const meta = new Reader(view, true);
  let at = 132;
  while (at + 8 <= view.byteLength && view.getUint16(at, true) === 0x0002) {
    const el = meta.header(at);
    found.set(el.tag, el);
    at = el.offset + el.length;
  }
  const syntaxElement = found.get(TRANSFER_SYNTAX);
  const syntax = syntaxElement ? text(view, syntaxElement) : "";
  if (syntax !== IMPLICIT_LE && syntax !== EXPLICIT_LE) {
    throw new UnsupportedDicom(`transfer syntax ${syntax || "(none)"} is not read in the browser`);
  }
  const reader = new Reader(view, syntax === EXPLICIT_LE);
  while (at + 8 <= view.byteLength) {
    const el = reader.header(at);
    if (el.length === UNDEFINED) {
      if (el.tag === PIXEL_DATA) throw new UnsupportedDicom("encapsulated pixel data");
      found.set(el.tag, el);
      at = reader.nested(el).skipUndefined(el.offset);
      continue;
    }
    found.set(el.tag, el);
    if (el.tag === PIXEL_DATA) break;
    at = el.offset + el.length;
  }
  return found;
}

/**
 * Reads the modality values of one frame.
 *
 * @param frameIndex the frame to read; null for the middle one (`frames // 2`, as the server).
 * @throws UnsupportedDicom for anything the browser should leave to the server.
 */
export function readDicomFrame(buffer: ArrayBuffer, frameIndex: number | null = null): DicomFrame {
  const view = new DataView(buffer);
  let elements: Map<number, Element>;
  try {
    elements = scan(view);
  } catch (error) {
    if (error instanceof UnsupportedDicom) throw error;
    throw new UnsupportedDicom(`unreadable DICOM file: ${String(error)}`);
  }
  for (const t of [MODALITY_LUT, FLOAT_PIXEL_DATA, DOUBLE_PIXEL_DATA]) {
    if (elements.has(t)) throw new UnsupportedDicom("modality LUT or float pixel data");
  }
  const pixels = elements.get(PIXEL_DATA);
  if (!pixels) throw new UnsupportedDicom("no pixel data");
  const height = uint16(view, elements.get(ROWS), 0);
  const width = uint16(view, elements.get(COLUMNS), 0);
  const samples = uint16(view, elements.get(SAMPLES), 1);
  const photometricElement = elements.get(PHOTOMETRIC);
  const photometric = photometricElement ? text(view, photometricElement) : "MONOCHROME2";
  if (samples !== 1 || (photometric !== "MONOCHROME1" && photometric !== "MONOCHROME2")) {
    throw new UnsupportedDicom(`${photometric} images are windowed by the server`);
  }
  const bitsAllocated = uint16(view, elements.get(BITS_ALLOCATED), 16);
  const bitsStored = uint16(view, elements.get(BITS_STORED), bitsAllocated);
  const signed = uint16(view, elements.get(PIXEL_REPRESENTATION), 0) === 1;
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw new UnsupportedDicom(`${bitsAllocated}-bit pixel data`);
  }
  const frames = Math.max(1, Math.round(firstNumber(view, elements.get(FRAMES), 1)));
  const index = frameIndex ?? Math.floor(frames / 2);
  const bytesPerPixel = bitsAllocated / 8;
  const frameBytes = width * height * bytesPerPixel;
  if (width < 1 || height < 1 || index < 0 || index >= frames) {
    throw new UnsupportedDicom(`frame ${index} of a ${width}x${height}x${frames} image`);
  }
  const start = pixels.offset + index * frameBytes;
  if (start + frameBytes > view.byteLength) throw new UnsupportedDicom("truncated pixel data");
  const slope = firstNumber(view, elements.get(SLOPE), 1);
  const intercept = firstNumber(view, elements.get(INTERCEPT), 0);
  const values = new Float32Array(width * height);
  const storedMask = bitsStored >= 32 ? 0xffffffff : 2 ** bitsStored - 1;
  for (let i = 0; i < values.length; i++) {
    const raw =
      bytesPerPixel === 2 ? view.getUint16(start + 2 * i, true) : view.getUint8(start + i);
    let stored = raw & storedMask;
    if (signed) {
      // Sign-extend from BitsStored: shift the sign bit to bit 31, then back arithmetically.
      stored = ((stored << (32 - bitsStored)) >> (32 - bitsStored)) | 0;
    }
    values[i] = slope * stored + intercept;
  }
  return {
    width,
    height,
    frames,
    frameIndex: index,
    values,
    invert: photometric === "MONOCHROME1",
  };
}
