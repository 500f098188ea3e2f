// @vitest-environment node
import { describe, expect, it } from "vitest";
import { MaskEdits } from "./edits";
import { IMPORTANT, MaskWriter, type Rect, UNCLEAR, UNIMPORTANT } from "./mask";
import { fillRect } from "./raster";
import { maskFromRows, maskToRows } from "./test-helpers";

function setup(rows: string[]) {
  const calls: (Rect | "unchanged")[] = [];
  const edits = new MaskEdits(
    (rect) => calls.push(rect),
    () => calls.push("unchanged"),
  );
  edits.replace(maskFromRows(rows));
  return { edits, calls };
}

describe("MaskEdits", () => {
  it("records a committed shape as one undo step and reports its area", () => {
    const { edits, calls } = setup(["....", "...."]);
    const writer = new MaskWriter(edits.mask, IMPORTANT);
    fillRect(writer, { x: 1, y: 0 }, { x: 2, y: 1 });
    edits.commit(writer);
    expect(maskToRows(edits.mask)).toEqual([".##.", ".##."]);
    expect(calls).toEqual([{ x0: 1, y0: 0, x1: 3, y1: 2 }]);
    edits.undo();
    expect(maskToRows(edits.mask)).toEqual(["....", "...."]);
    expect([edits.undoDepth, edits.redoDepth]).toEqual([0, 1]);
    edits.redo();
    expect(maskToRows(edits.mask)).toEqual([".##.", ".##."]);
  });

  it("reports an operation that changed nothing without adding a step", () => {
    const { edits, calls } = setup(["##"]);
    edits.commit(new MaskWriter(edits.mask, IMPORTANT));
    expect(calls).toEqual(["unchanged"]);
    expect(edits.undoDepth).toBe(0);
  });

  it("fills the rest with a value, never with unclear, and clears in one step", () => {
    const { edits } = setup(["#..o"]);
    edits.fillRest(UNCLEAR);
    expect(edits.undoDepth).toBe(0);
    edits.fillRest(UNIMPORTANT);
    expect(maskToRows(edits.mask)).toEqual(["#ooo"]);
    edits.clear();
    expect(maskToRows(edits.mask)).toEqual(["...."]);
    expect(edits.undoDepth).toBe(2);
  });

  it("forgets the history when the mask is replaced", () => {
    const { edits } = setup(["."]);
    edits.fillRest(IMPORTANT);
    edits.replace(maskFromRows([".."]));
    expect([edits.undoDepth, edits.redoDepth]).toEqual([0, 0]);
  });
});
