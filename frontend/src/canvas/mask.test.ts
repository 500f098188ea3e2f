// @vitest-environment node
import { describe, expect, it } from "vitest";
import {
  applyDiff,
  cloneMask,
  countMask,
  createMask,
  IMPORTANT,
  maskFromBytes,
  masksEqual,
  MaskWriter,
  UNCLEAR,
  UNIMPORTANT,
  valueToCode,
} from "./mask";
import { maskFromRows, maskToRows } from "./test-helpers";

describe("mask", () => {
  it("starts unclear everywhere", () => {
    expect(countMask(createMask(3, 2))).toEqual({ important: 0, unimportant: 0, unclear: 6 });
  });

  it("maps tensor values to interchange bytes", () => {
    expect([valueToCode(1), valueToCode(0), valueToCode(-1)]).toEqual([255, 0, 128]);
    expect(() => valueToCode(2)).toThrow(RangeError);
  });

  it("accepts interchange bytes and rejects any other value", () => {
    const mask = maskFromBytes(2, 1, Uint8Array.of(255, 128));
    expect(masksEqual(mask, maskFromRows(["#."]))).toBe(true);
    expect(() => maskFromBytes(2, 1, Uint8Array.of(255, 17))).toThrow("mask byte 17 at pixel 1");
  });

  it("rejects an empty size", () => {
    expect(() => createMask(0, 4)).toThrow(RangeError);
  });
});

describe("MaskWriter", () => {
  it("records only pixels whose value changes", () => {
    const mask = maskFromRows(["##..", "...."]);
    const w = new MaskWriter(mask, IMPORTANT);
    expect(w.writeRun(0, 0, 4)).toBe(2);
    const diff = w.finish();
    expect(diff?.pixels).toBe(2);
    expect(Array.from(diff?.starts ?? [])).toEqual([2]);
    expect(Array.from(diff?.lengths ?? [])).toEqual([2]);
    expect(diff?.rect).toEqual({ x0: 2, y0: 0, x1: 4, y1: 1 });
  });

  it("splits runs where the previous value differs", () => {
    const mask = maskFromRows(["o.o."]);
    const w = new MaskWriter(mask, IMPORTANT);
    w.writeRun(0, 0, 4);
    const diff = w.finish();
    expect(Array.from(diff?.starts ?? [])).toEqual([0, 1, 2, 3]);
    expect(Array.from(diff?.before ?? [])).toEqual([UNIMPORTANT, UNCLEAR, UNIMPORTANT, UNCLEAR]);
  });

  it("sorts writes that arrived out of order into ascending runs", () => {
    const mask = createMask(4, 3);
    const w = new MaskWriter(mask, IMPORTANT);
    w.writeRun(2, 0, 4);
    w.writeRun(0, 0, 4);
    w.writeRun(1, 0, 4);
    const diff = w.finish();
    expect(Array.from(diff?.starts ?? [])).toEqual([0]);
    expect(Array.from(diff?.lengths ?? [])).toEqual([12]);
  });

  it("undoes and redoes its diff exactly", () => {
    const before = maskFromRows(["#o..", ".o#.", "...."]);
    const mask = cloneMask(before);
    const w = new MaskWriter(mask, UNIMPORTANT);
    w.writeRun(0, 0, 3);
    w.writeRun(1, 1, 4);
    const after = maskToRows(mask);
    const diff = w.finish();
    if (!diff) throw new Error("expected a diff");
    applyDiff(mask, diff, "undo");
    expect(maskToRows(mask)).toEqual(maskToRows(before));
    applyDiff(mask, diff, "redo");
    expect(maskToRows(mask)).toEqual(after);
  });

  it("reverts a cancelled operation", () => {
    const mask = maskFromRows(["#o..", "...."]);
    const w = new MaskWriter(mask, IMPORTANT);
    w.writeRun(0, 0, 4);
    w.writeRun(1, 0, 2);
    expect(w.revert()).toEqual({ x0: 0, y0: 0, x1: 4, y1: 2 });
    expect(maskToRows(mask)).toEqual(["#o..", "...."]);
  });

  it("reports the dirty area since the last look, then resets it", () => {
    const mask = createMask(8, 8);
    const w = new MaskWriter(mask, IMPORTANT);
    w.writeRun(1, 2, 5);
    expect(w.takeDirty()).toEqual({ x0: 2, y0: 1, x1: 5, y1: 2 });
    w.writeRun(6, 0, 1);
    expect(w.takeDirty()).toEqual({ x0: 0, y0: 6, x1: 1, y1: 7 });
    expect(w.total).toEqual({ x0: 0, y0: 1, x1: 5, y1: 7 });
  });

  it("stores a stroke on a 1024x1024 mask as runs, not a copy", () => {
    const mask = createMask(1024, 1024);
    const w = new MaskWriter(mask, IMPORTANT);
    for (let y = 100; y < 140; y++) w.writeRun(y, 100, 900);
    const diff = w.finish();
    expect(diff?.starts.length).toBe(40);
    expect(diff?.pixels).toBe(40 * 800);
  });
});
