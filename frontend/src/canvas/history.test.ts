// @vitest-environment node
import { describe, expect, it } from "vitest";
import { UndoStack } from "./history";
import { createMask, IMPORTANT, type Mask, type MaskDiff, MaskWriter, UNIMPORTANT } from "./mask";
import { paintSegment } from "./raster";
import { maskToRows } from "./test-helpers";

function stroke(mask: Mask, code: typeof IMPORTANT | typeof UNIMPORTANT, y: number): MaskDiff {
  const w = new MaskWriter(mask, code);
  // Several pointer samples make one stroke: undo must take all of them back at once.
  paintSegment(w, { x: 0.5, y: y + 0.5 }, { x: 2.5, y: y + 0.5 }, 0.5);
  paintSegment(w, { x: 2.5, y: y + 0.5 }, { x: 4.5, y: y + 0.5 }, 0.5);
  const diff = w.finish();
  if (!diff) throw new Error("stroke changed nothing");
  return diff;
}

describe("UndoStack", () => {
  it("undoes a whole stroke in one step and redoes it", () => {
    const mask = createMask(5, 3);
    const history = new UndoStack();
    history.push(stroke(mask, IMPORTANT, 0));
    history.push(stroke(mask, UNIMPORTANT, 1));
    expect(maskToRows(mask)).toEqual(["#####", "ooooo", "....."]);
    expect(history.undo(mask)).toEqual({ x0: 0, y0: 1, x1: 5, y1: 2 });
    expect(maskToRows(mask)).toEqual(["#####", ".....", "....."]);
    history.redo(mask);
    expect(maskToRows(mask)).toEqual(["#####", "ooooo", "....."]);
  });

  it("restores the value a stroke painted over", () => {
    const mask = createMask(5, 1);
    const history = new UndoStack();
    history.push(stroke(mask, IMPORTANT, 0));
    history.push(stroke(mask, UNIMPORTANT, 0));
    history.undo(mask);
    expect(maskToRows(mask)).toEqual(["#####"]);
  });

  it("drops the redo branch when a new stroke is made", () => {
    const mask = createMask(5, 3);
    const history = new UndoStack();
    history.push(stroke(mask, IMPORTANT, 0));
    history.undo(mask);
    history.push(stroke(mask, IMPORTANT, 2));
    expect(history.redoDepth).toBe(0);
    expect(history.redo(mask)).toBeNull();
  });

  it("keeps at least 100 steps", () => {
    const mask = createMask(5, 200);
    const history = new UndoStack({ maxSteps: 100, maxBytes: 1 });
    for (let y = 0; y < 150; y++) history.push(stroke(mask, IMPORTANT, y));
    expect(history.undoDepth).toBe(100);
    for (let k = 0; k < 100; k++) history.undo(mask);
    // The 50 oldest strokes fell off the stack and stay; the 100 newest are undone.
    expect(maskToRows(mask)[49]).toBe("#####");
    expect(maskToRows(mask)[50]).toBe(".....");
    expect(history.undo(mask)).toBeNull();
  });

  it("drops old steps beyond its memory budget once past the minimum", () => {
    const mask = createMask(5, 40);
    const history = new UndoStack({ minSteps: 10, maxSteps: 1000, maxBytes: 1 });
    for (let y = 0; y < 30; y++) history.push(stroke(mask, IMPORTANT, y));
    expect(history.undoDepth).toBe(10);
  });
});
