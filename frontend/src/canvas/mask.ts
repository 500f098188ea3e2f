/**
 * The attention prompt D held in the browser, and the recording of changes to it.
 *
 * A mask is one byte per image pixel, row-major, using the interchange codes of METHODS.md
 * section 1 directly (255 important, 0 unimportant, 128 unclear), so saving needs no conversion
 * and a fresh mask is "unclear" everywhere.
 *
 * Every editing operation writes a single code, so a pixel changes at most once per operation
 * and only its value before the operation needs remembering: {@link MaskWriter} records
 * `(index, old code)` pairs while painting and {@link MaskWriter.finish} turns them into a
 * compact run-length {@link MaskDiff} for the undo stack.
 */

/** Interchange byte of an important pixel (D = +1). */
export const IMPORTANT = 255;
/** Interchange byte of an unimportant pixel (D = 0). */
export const UNIMPORTANT = 0;
/** Interchange byte of a pixel nobody painted (D = -1). */
export const UNCLEAR = 128;

/** One of the three mask bytes. */
export type MaskCode = typeof IMPORTANT | typeof UNIMPORTANT | typeof UNCLEAR;

/** Whether a byte is one of the three mask codes. */
export function isMaskCode(value: number): value is MaskCode {
  return value === IMPORTANT || value === UNIMPORTANT || value === UNCLEAR;
}

/** The tensor value of a code: +1, 0 or -1. */
export function codeToValue(code: MaskCode): 1 | 0 | -1 {
  return code === IMPORTANT ? 1 : code === UNIMPORTANT ? 0 : -1;
}

/** The code of a tensor value; throws for anything but -1, 0 and 1. */
export function valueToCode(value: number): MaskCode {
  if (value === 1) return IMPORTANT;
  if (value === 0) return UNIMPORTANT;
  if (value === -1) return UNCLEAR;
  throw new RangeError(`mask value ${value} is not one of -1, 0, 1`);
}

/** A prompt mask at image resolution. */
export interface Mask {
  readonly width: number;
  readonly height: number;
  /** [height * width] row-major, every byte in {0, 128, 255}. */
  readonly data: Uint8Array;
}

/** An axis-aligned pixel rectangle, `x0`/`y0` inclusive, `x1`/`y1` exclusive. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A mask of the given size, unclear everywhere. */
export function createMask(width: number, height: number): Mask {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid mask size ${width}x${height}`);
  }
  return { width, height, data: new Uint8Array(width * height).fill(UNCLEAR) };
}

/** An independent copy of a mask. */
export function cloneMask(mask: Mask): Mask {
  return { width: mask.width, height: mask.height, data: mask.data.slice() };
}

/** The empty rectangle (x0 > x1), the neutral element of {@link unionRect}. */
export function emptyRect(): Rect {
  return { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
}

/** Whether a rectangle contains no pixel. */
export function isEmptyRect(rect: Rect): boolean {
  return rect.x0 >= rect.x1 || rect.y0 >= rect.y1;
}

/** The smallest rectangle containing both (the empty rectangle is ignored). */
export function unionRect(a: Rect, b: Rect): Rect {
  if (isEmptyRect(a)) return { ...b };
  if (isEmptyRect(b)) return { ...a };
  return {
    x0: Math.min(a.x0, b.x0),
    y0: Math.min(a.y0, b.y0),
    x1: Math.max(a.x1, b.x1),
    y1: Math.max(a.y1, b.y1),
  };
}

/** Pixel counts per meaning, as the API reports them. */
export interface MaskCounts {
  important: number;
  unimportant: number;
  unclear: number;
}

/** How many pixels carry each meaning. */
export function countMask(mask: Mask): MaskCounts {
  let important = 0;
  let unimportant = 0;
  const { data } = mask;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === IMPORTANT) important++;
    else if (v === UNIMPORTANT) unimportant++;
  }
  return { important, unimportant, unclear: data.length - important - unimportant };
}

/**
 * The change one operation made: runs of consecutive pixel indices that all held the same code
 * before and all hold `after` now. Replaying the runs backwards or forwards is undo and redo.
 */
export interface MaskDiff {
  /** First pixel index of each run, ascending. */
  readonly starts: Uint32Array;
  /** Length of each run (>= 1). */
  readonly lengths: Uint32Array;
  /** Code every pixel of the run held before the operation. */
  readonly before: Uint8Array;
  /** Code the operation wrote. */
  readonly after: MaskCode;
  /** Bounding box of the changed pixels (for partial redraws). */
  readonly rect: Rect;
  /** Number of changed pixels. */
  readonly pixels: number;
}

/** Approximate memory a diff occupies, for bounding the undo stack. */
export function diffBytes(diff: MaskDiff): number {
  return diff.starts.byteLength + diff.lengths.byteLength + diff.before.byteLength + 64;
}

/** Writes the `after` code (redo) or the recorded `before` codes (undo) back into the mask. */
export function applyDiff(mask: Mask, diff: MaskDiff, direction: "undo" | "redo"): void {
  const { data } = mask;
  for (let r = 0; r < diff.starts.length; r++) {
    const start = diff.starts[r];
    const end = start + diff.lengths[r];
    data.fill(direction === "undo" ? diff.before[r] : diff.after, start, end);
  }
}

/**
 * Paints one code into a mask and remembers the previous value of every pixel it changes.
 *
 * Changes are recorded as runs as they happen (consecutive indices, same previous code), so a
 * fill of millions of pixels costs a few hundred runs, not millions of entries. A writer is used
 * for one operation (one stroke, one fill); the editor reads {@link takeDirty} after each call to
 * redraw only what changed.
 */
export class MaskWriter {
  readonly mask: Mask;
  readonly code: MaskCode;
  private starts = new Uint32Array(256);
  private lengths = new Uint32Array(256);
  private befores = new Uint8Array(256);
  /** Closed runs in the arrays above. */
  private runs = 0;
  /** The open run: `[openStart, openEnd)` all held `openCode` before. */
  private openStart = -1;
  private openEnd = -1;
  private openCode = 0;
  private sorted = true;
  private count = 0;
  /** Everything changed since the writer started. */
  readonly total: Rect = emptyRect();
  /** Everything changed since the last {@link takeDirty}. */
  private dirty: Rect = emptyRect();

  constructor(mask: Mask, code: MaskCode) {
    this.mask = mask;
    this.code = code;
  }

  /** Number of pixels changed so far. */
  get changed(): number {
    return this.count;
  }

  /**
   * Writes the code into pixels `[x0, x1)` of row `y` (clipped to the mask).
   *
   * @returns the number of pixels that changed.
   */
  writeRun(y: number, x0: number, x1: number): number {
    const { width, height } = this.mask;
    if (y < 0 || y >= height) return 0;
    const a = Math.max(0, x0);
    const b = Math.min(width, x1);
    if (a >= b) return 0;
    return this.writeSpan(y, y * width + a, y * width + b, -1);
  }

  /**
   * Writes the code into every pixel that currently holds `from` ("fill the rest" of the unclear
   * pixels), in one linear pass.
   *
   * @returns the number of pixels that changed.
   */
  replaceAll(from: MaskCode): number {
    if (from === this.code) return 0;
    const { width, height } = this.mask;
    let changed = 0;
    for (let y = 0; y < height; y++)
      changed += this.writeSpan(y, y * width, y * width + width, from);
    return changed;
  }

  /** Writes the code into one pixel index (no bounds check beyond the array's). */
  writeIndex(i: number): boolean {
    const y = Math.floor(i / this.mask.width);
    return this.writeSpan(y, i, i + 1, -1) === 1;
  }

  /** The rectangle changed since the previous call, and resets it. */
  takeDirty(): Rect {
    const d = this.dirty;
    this.dirty = emptyRect();
    return d;
  }

  /** Reverts every change this writer made (a cancelled stroke), returning the touched area. */
  revert(): Rect {
    this.close();
    const { data } = this.mask;
    for (let r = 0; r < this.runs; r++) {
      data.fill(this.befores[r], this.starts[r], this.starts[r] + this.lengths[r]);
    }
    this.runs = 0;
    this.count = 0;
    return { ...this.total };
  }

  /** The operation's diff, or null when it changed nothing. The writer must not be reused. */
  finish(): MaskDiff | null {
    this.close();
    if (this.runs === 0) return null;
    let order = Array.from({ length: this.runs }, (_, k) => k);
    // Fills write in order; only brush strokes and flood fills need their runs sorted.
    if (!this.sorted) order = order.sort((p, q) => this.starts[p] - this.starts[q]);
    const starts: number[] = [];
    const lengths: number[] = [];
    const before: number[] = [];
    for (const k of order) {
      const last = starts.length - 1;
      // Runs written by separate calls may touch: merge them.
      if (
        last >= 0 &&
        starts[last] + lengths[last] === this.starts[k] &&
        before[last] === this.befores[k]
      ) {
        lengths[last] += this.lengths[k];
        continue;
      }
      starts.push(this.starts[k]);
      lengths.push(this.lengths[k]);
      before.push(this.befores[k]);
    }
    return {
      starts: Uint32Array.from(starts),
      lengths: Uint32Array.from(lengths),
      before: Uint8Array.from(before),
      after: this.code,
      rect: { ...this.total },
      pixels: this.count,
    };
  }

  /**
   * Writes pixels `[begin, end)` of row `y` that differ from the code (and hold `only`, unless it
   * is -1), extending or opening runs.
   */
  private writeSpan(y: number, begin: number, end: number, only: number): number {
    const { data, width } = this.mask;
    const code = this.code;
    let changed = 0;
    let first = -1;
    let last = -1;
    let i = begin;
    while (i < end) {
      const old = data[i];
      if (old === code || (only >= 0 && old !== only)) {
        i++;
        continue;
      }
      // A stretch of equal pixels becomes one run and one native fill.
      let j = i + 1;
      while (j < end && data[j] === old) j++;
      data.fill(code, i, j);
      if (i === this.openEnd && old === this.openCode) {
        this.openEnd = j;
      } else {
        this.close();
        if (i < this.openStart) this.sorted = false;
        this.openStart = i;
        this.openEnd = j;
        this.openCode = old;
      }
      if (first < 0) first = i;
      last = j - 1;
      changed += j - i;
      i = j;
    }
    if (changed > 0) {
      this.count += changed;
      const row = y * width;
      this.touch(first - row, y, last - row + 1, y + 1);
    }
    return changed;
  }

  /** Moves the open run into the arrays. */
  private close(): void {
    if (this.openEnd <= this.openStart) return;
    if (this.runs === this.starts.length) {
      const grow = <T extends Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts, (n) => new Uint32Array(n));
      this.lengths = grow(this.lengths, (n) => new Uint32Array(n));
      this.befores = grow(this.befores, (n) => new Uint8Array(n));
    }
    this.starts[this.runs] = this.openStart;
    this.lengths[this.runs] = this.openEnd - this.openStart;
    this.befores[this.runs] = this.openCode;
    this.runs++;
    // Keep openStart: later runs starting before it mean the runs are out of order.
    this.openEnd = this.openStart;
  }

  private touch(x0: number, y0: number, x1: number, y1: number): void {
    const t = this.total;
    t.x0 = Math.min(t.x0, x0);
    t.y0 = Math.min(t.y0, y0);
    t.x1 = Math.max(t.x1, x1);
    t.y1 = Math.max(t.y1, y1);
    const d = this.dirty;
    d.x0 = Math.min(d.x0, x0);
    d.y0 = Math.min(d.y0, y0);
    d.x1 = Math.max(d.x1, x1);
    d.y1 = Math.max(d.y1, y1);
  }
}

/**
 * A mask from interchange bytes (a decoded grey PNG), checked.
 *
 * @throws RangeError naming the first byte that is not 0, 128 or 255.
 */
export function maskFromBytes(width: number, height: number, bytes: Uint8Array): Mask {
  if (bytes.length !== width * height) {
    throw new RangeError(`expected ${width * height} mask bytes, got ${bytes.length}`);
  }
  for (let i = 0; i < bytes.length; i++) {
    if (!isMaskCode(bytes[i]))
      throw new RangeError(`mask byte ${bytes[i]} at pixel ${i} is not 0, 128 or 255`);
  }
  return { width, height, data: bytes.slice() };
}

/** Whether two masks hold the same pixels. */
export function masksEqual(a: Mask, b: Mask): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}
