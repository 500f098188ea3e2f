/**
 * PNG encoding of prompt masks (8-bit greyscale, the interchange format of METHODS.md section 1)
 * and a small decoder for 8-bit PNGs.
 *
 * Written by hand rather than through `canvas.toBlob`, because a canvas PNG is RGBA, may pass
 * through colour management, and its filters are not chosen for masks. Here every byte is exactly
 * the mask code, each row takes the filter (None, Sub or Up) with the smallest sum of absolute
 * residuals (the libpng heuristic), and deflate comes from the platform's `CompressionStream`
 * (zlib framing, as PNG requires), available in browsers and Node alike. A 1024x1024 mask of a
 * few strokes encodes to a few kilobytes.
 */

const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO 3309, as PNG chunks use) of `bytes`. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

async function runStream(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // Written concurrently with reading: awaiting the write first could stall on backpressure.
  const written = writer.write(bytes as Uint8Array<ArrayBuffer>).then(() => writer.close());
  const reader = stream.readable.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
  }
  await written;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** zlib-compresses bytes (RFC 1950). */
export function zlibDeflate(bytes: Uint8Array): Promise<Uint8Array> {
  return runStream(bytes, new CompressionStream("deflate"));
}

/** Inflates zlib-compressed bytes (RFC 1950). */
export function zlibInflate(bytes: Uint8Array): Promise<Uint8Array> {
  return runStream(bytes, new DecompressionStream("deflate"));
}

function chunk(type: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(payload, 8);
  view.setUint32(8 + payload.length, crc32(out, 4, 8 + payload.length));
  return out;
}

/**
 * Filters rows of one-byte pixels, picking None (0), Sub (1) or Up (2) per row.
 *
 * @returns `height * (width + 1)` bytes: a filter byte then the filtered row, per row.
 */
export function filterRows(pixels: Uint8Array, width: number, height: number): Uint8Array {
  const stride = width + 1;
  const out = new Uint8Array(height * stride);
  const sub = new Uint8Array(width);
  const up = new Uint8Array(width);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let costNone = 0;
    let costSub = 0;
    let costUp = 0;
    for (let x = 0; x < width; x++) {
      const v = pixels[row + x];
      const s = (v - (x > 0 ? pixels[row + x - 1] : 0)) & 0xff;
      const u = (v - (y > 0 ? pixels[row - width + x] : 0)) & 0xff;
      sub[x] = s;
      up[x] = u;
      // Residuals are signed: 255 is -1, so the cost of a byte is its distance to 0 mod 256.
      costNone += v < 128 ? v : 256 - v;
      costSub += s < 128 ? s : 256 - s;
      costUp += u < 128 ? u : 256 - u;
    }
    const base = y * stride;
    if (costUp <= costSub && costUp <= costNone) {
      out[base] = 2;
      out.set(up, base + 1);
    } else if (costSub <= costNone) {
      out[base] = 1;
      out.set(sub, base + 1);
    } else {
      out[base] = 0;
      out.set(pixels.subarray(row, row + width), base + 1);
    }
  }
  return out;
}

/**
 * Wraps already filtered scanlines (a filter byte per row) into an 8-bit, non-interlaced PNG.
 *
 * @param colourType 0 grey, 2 RGB, 4 grey + alpha, 6 RGBA.
 */
export async function assemblePng(
  width: number,
  height: number,
  colourType: 0 | 2 | 4 | 6,
  filtered: Uint8Array,
): Promise<Uint8Array> {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth; compression, filter method and interlace stay 0
  header[9] = colourType;
  const idat = await zlibDeflate(filtered);
  const parts = [
    SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", idat),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Encodes one-byte-per-pixel data as an 8-bit greyscale PNG. */
export function encodeGreyPng(
  pixels: Uint8Array,
  width: number,
  height: number,
): Promise<Uint8Array> {
  if (pixels.length !== width * height) {
    throw new RangeError(`expected ${width * height} pixels, got ${pixels.length}`);
  }
  return assemblePng(width, height, 0, filterRows(pixels, width, height));
}

/** A decoded PNG: 8 bits per sample, `channels` samples per pixel, row-major. */
export interface DecodedPng {
  width: number;
  height: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

const CHANNELS: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 4: 2, 2: 3, 6: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Reverses PNG row filters in place into `out` (bpp bytes per pixel). */
function unfilter(
  raw: Uint8Array,
  out: Uint8Array,
  rowBytes: number,
  height: number,
  bpp: number,
): void {
  for (let y = 0; y < height; y++) {
    const type = raw[y * (rowBytes + 1)];
    const src = y * (rowBytes + 1) + 1;
    const dst = y * rowBytes;
    const prev = dst - rowBytes;
    for (let x = 0; x < rowBytes; x++) {
      const a = x >= bpp ? out[dst + x - bpp] : 0;
      const b = y > 0 ? out[prev + x] : 0;
      const c = x >= bpp && y > 0 ? out[prev + x - bpp] : 0;
      const v = raw[src + x];
      switch (type) {
        case 0:
          out[dst + x] = v;
          break;
        case 1:
          out[dst + x] = (v + a) & 0xff;
          break;
        case 2:
          out[dst + x] = (v + b) & 0xff;
          break;
        case 3:
          out[dst + x] = (v + ((a + b) >> 1)) & 0xff;
          break;
        case 4:
          out[dst + x] = (v + paeth(a, b, c)) & 0xff;
          break;
        default:
          throw new Error(`PNG row ${y} has unknown filter ${type}`);
      }
    }
  }
}

/**
 * Decodes a non-interlaced 8-bit PNG (grey, grey + alpha, RGB or RGBA).
 *
 * @throws Error naming the unsupported feature for anything else (palette, 16-bit, interlaced).
 */
export async function decodePng(bytes: Uint8Array): Promise<DecodedPng> {
  for (let i = 0; i < SIGNATURE.length; i++) {
    if (bytes[i] !== SIGNATURE[i]) throw new Error("not a PNG file");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels: 1 | 2 | 3 | 4 = 1;
  const idat: Uint8Array[] = [];
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      const depth = body[8];
      const colour = body[9];
      if (depth !== 8 || !(colour in CHANNELS) || body[12] !== 0) {
        throw new Error(
          `unsupported PNG (bit depth ${depth}, colour type ${colour}, interlace ${body[12]})`,
        );
      }
      channels = CHANNELS[colour];
    } else if (type === "IDAT") {
      idat.push(body);
    } else if (type === "IEND") {
      break;
    }
    offset += 12 + length;
  }
  const joined = new Uint8Array(idat.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of idat) {
    joined.set(p, at);
    at += p.length;
  }
  const raw = await zlibInflate(joined);
  const rowBytes = width * channels;
  if (raw.length < height * (rowBytes + 1)) throw new Error("truncated PNG image data");
  const data = new Uint8Array(rowBytes * height);
  unfilter(raw, data, rowBytes, height, channels);
  return { width, height, channels, data };
}
