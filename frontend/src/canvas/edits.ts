/**
 * The mask being edited and its undo history: every completed operation (a stroke, a shape, a
 * fill, a clear) goes through {@link MaskEdits.commit} as one undo step, and undo / redo replay
 * them. The editor decides when editing is allowed and redraws what changed.
 *
 * In perf mode (render.ts `PERF`) a whole-mask operation, undo or redo is measured as
 * `canvas:op`, named in `detail`.
 */

import { UndoStack } from "./history";
import { createMask, type Mask, type MaskCode, MaskWriter, type Rect, UNCLEAR } from "./mask";
import { clearAll, fillRest } from "./raster";
import { measureSince, perfNow } from "./render";

export class MaskEdits {
  mask: Mask = createMask(1, 1);
  private readonly history = new UndoStack();

  /**
   * @param edited Called with the changed area once an operation changed pixels.
   * @param unchanged Called once an operation changed nothing (its shape may still need erasing).
   */
  constructor(
    private readonly edited: (rect: Rect) => void,
    private readonly unchanged: () => void,
  ) {}

  get undoDepth(): number {
    return this.history.undoDepth;
  }

  get redoDepth(): number {
    return this.history.redoDepth;
  }

  /** Replaces the mask (a loaded prompt, the other version of a conflict); forgets the history. */
  replace(mask: Mask): void {
    this.mask = mask;
    this.history.clear();
  }

  undo(): void {
    const start = perfNow();
    const rect = this.history.undo(this.mask);
    if (rect) this.edited(rect);
    measureSince("canvas:op", start, "undo");
  }

  redo(): void {
    const start = perfNow();
    const rect = this.history.redo(this.mask);
    if (rect) this.edited(rect);
    measureSince("canvas:op", start, "redo");
  }

  /** Every unclear pixel takes `code` (nothing to do with the eraser). */
  fillRest(code: MaskCode): void {
    if (code === UNCLEAR) return;
    const start = perfNow();
    const writer = new MaskWriter(this.mask, code);
    fillRest(writer);
    this.commit(writer, "fill-rest", start);
  }

  /** Every pixel back to unclear, as one undoable step. */
  clear(): void {
    const start = perfNow();
    const writer = new MaskWriter(this.mask, UNCLEAR);
    clearAll(writer);
    this.commit(writer, "clear", start);
  }

  /** Records a finished operation as one undo step (`name` and `start` measure it). */
  commit(writer: MaskWriter, name?: string, start = 0): void {
    const diff = writer.finish();
    if (diff) {
      this.history.push(diff);
      this.edited(diff.rect);
    } else {
      this.unchanged();
    }
    if (name) measureSince("canvas:op", start, name);
  }
}
