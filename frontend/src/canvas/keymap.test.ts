// @vitest-environment node
import { describe, expect, it } from "vitest";
import { actionFor, BINDINGS, chordLabel, type KeyInput } from "./keymap";

const press = (key: string, mods: Partial<KeyInput> = {}): KeyInput => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});

describe("keymap", () => {
  it("reaches every binding's action from each of its chords (nothing shadowed)", () => {
    for (const binding of BINDINGS) {
      for (const chord of binding.chords) {
        const input = press(
          chord.shift && chord.key.length === 1 ? chord.key.toUpperCase() : chord.key,
          {
            ctrlKey: Boolean(chord.ctrl),
            altKey: Boolean(chord.alt),
            shiftKey: Boolean(chord.shift),
          },
        );
        expect(actionFor(input), chordLabel(chord)).toBe(binding.action);
      }
    }
  });

  it("tells undo from redo", () => {
    expect(actionFor(press("z", { ctrlKey: true }))).toBe("undo");
    expect(actionFor(press("Z", { ctrlKey: true, shiftKey: true }))).toBe("redo");
    expect(actionFor(press("z", { metaKey: true }))).toBe("undo");
    expect(actionFor(press("y", { ctrlKey: true }))).toBe("redo");
  });

  it("tells flood fill from fill-the-rest", () => {
    expect(actionFor(press("f"))).toBe("tool-fill");
    expect(actionFor(press("F", { shiftKey: true }))).toBe("fill-rest");
  });

  it("ignores plain letters with ctrl held (browser shortcuts stay)", () => {
    expect(actionFor(press("b", { ctrlKey: true }))).toBeNull();
  });

  it("opens the help with ? whatever shift does on the layout", () => {
    expect(actionFor(press("?", { shiftKey: true }))).toBe("help");
  });
});
