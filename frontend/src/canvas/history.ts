/**
 * Undo / redo of whole operations (a brush stroke, a fill, a clear), never pixel by pixel.
 *
 * The stack holds {@link MaskDiff}s (run-length changes), not mask copies, so hundreds of steps on
 * a 2048x2048 mask fit in a few megabytes. It keeps at least `minSteps` steps whatever their
 * size and drops the oldest beyond `maxSteps` or beyond `maxBytes`.
 */

import { applyDiff, diffBytes, type Mask, type MaskDiff, type Rect } from "./mask";

/** Limits of an {@link UndoStack}. */
export interface UndoLimits {
  /** Steps always kept, whatever their size. */
  minSteps: number;
  /** Hard cap on steps. */
  maxSteps: number;
  /** Memory budget beyond `minSteps`. */
  maxBytes: number;
}

export const DEFAULT_UNDO_LIMITS: UndoLimits = {
  minSteps: 100,
  maxSteps: 500,
  maxBytes: 64 * 1024 * 1024,
};

export class UndoStack {
  private readonly limits: UndoLimits;
  private done: MaskDiff[] = [];
  private undone: MaskDiff[] = [];
  private bytes = 0;

  constructor(limits: Partial<UndoLimits> = {}) {
    this.limits = { ...DEFAULT_UNDO_LIMITS, ...limits };
  }

  /** Steps that can be undone. */
  get undoDepth(): number {
    return this.done.length;
  }

  /** Steps that can be redone. */
  get redoDepth(): number {
    return this.undone.length;
  }

  /** Records an operation that was just applied; clears the redo branch. */
  push(diff: MaskDiff): void {
    this.done.push(diff);
    this.bytes += diffBytes(diff);
    for (const d of this.undone) this.bytes -= diffBytes(d);
    this.undone = [];
    this.trim();
  }

  /** Reverts the latest operation; returns the area to redraw, or null when nothing to undo. */
  undo(mask: Mask): Rect | null {
    const diff = this.done.pop();
    if (!diff) return null;
    applyDiff(mask, diff, "undo");
    this.undone.push(diff);
    return diff.rect;
  }

  /** Re-applies the latest undone operation; returns the area to redraw, or null. */
  redo(mask: Mask): Rect | null {
    const diff = this.undone.pop();
    if (!diff) return null;
    applyDiff(mask, diff, "redo");
    this.done.push(diff);
    return diff.rect;
  }

  /** Forgets everything (another mask was loaded). */
  clear(): void {
    this.done = [];
    this.undone = [];
    this.bytes = 0;
  }

  private trim(): void {
    const { minSteps, maxSteps, maxBytes } = this.limits;
    while (this.done.length > minSteps && (this.done.length > maxSteps || this.bytes > maxBytes)) {
      const dropped = this.done.shift() as MaskDiff;
      this.bytes -= diffBytes(dropped);
    }
  }
}
