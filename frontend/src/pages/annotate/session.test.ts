import { beforeEach, describe, expect, it, vi } from "vitest";
import type { CanvasEditor, EditorState } from "../../canvas/editor";
import { IMPORTANT, UNIMPORTANT } from "../../canvas/mask";
import type { ImageDetail, Project } from "../../types";
import {
  type ActionHandlers,
  annotateHref,
  chooseTargetClass,
  readTrail,
  runAction,
  visit,
} from "./session";

const project = { class_names: ["normal", "pneumonia"], positive_class: "pneumonia" } as Project;
const image = (label: string | null) => ({ label }) as ImageDetail;

describe("chooseTargetClass", () => {
  it("takes the asked class, else the label, else the positive class", () => {
    expect(chooseTargetClass("normal", image("pneumonia"), project)).toBe("normal");
    expect(chooseTargetClass("bogus", image("normal"), project)).toBe("normal");
    expect(chooseTargetClass(null, image(null), project)).toBe("pneumonia");
  });
});

describe("annotateHref", () => {
  it("keeps the queue filters and adds the class when given", () => {
    const filters = { split: "train" as const, label: "", unprompted: true };
    expect(annotateHref(5, filters, null)).toBe("/images/5/annotate?split=train&unprompted=1");
    expect(annotateHref(5, { split: "", label: "", unprompted: false }, "a b")).toBe(
      "/images/5/annotate?class=a+b",
    );
  });
});

describe("trail", () => {
  beforeEach(() => sessionStorage.clear());

  it("records each visited image once in a row", () => {
    visit(1);
    visit(1);
    visit(2);
    visit(1);
    expect(readTrail()).toEqual([1, 2, 1]);
  });
});

describe("runAction", () => {
  function fakeEditor(code = IMPORTANT) {
    const calls: string[] = [];
    const state = { code, promptVisible: true, opacity: 0.5 } as EditorState;
    const editor = new Proxy({} as CanvasEditor, {
      get: (_, name: string) =>
        name === "state"
          ? () => state
          : (...args: unknown[]) => calls.push(`${name}(${args.join(",")})`),
    });
    return { editor, calls };
  }
  const handlers = (overrides: Partial<ActionHandlers> = {}): ActionHandlers => ({
    save: vi.fn(),
    go: vi.fn(),
    toggleOverlay: vi.fn(),
    nextWindow: vi.fn(),
    toggleHelp: vi.fn(),
    closeHelp: () => false,
    isDicom: false,
    ...overrides,
  });

  it("swaps important and unimportant", () => {
    const { editor, calls } = fakeEditor(IMPORTANT);
    runAction("swap-values", editor, handlers());
    expect(calls).toEqual([`setCode(${UNIMPORTANT})`]);
  });

  it("offers the window tool only for DICOM images", () => {
    const plain = fakeEditor();
    runAction("tool-window", plain.editor, handlers());
    expect(plain.calls).toEqual([]);
    const dicom = fakeEditor();
    runAction("tool-window", dicom.editor, handlers({ isDicom: true }));
    expect(dicom.calls).toEqual(["setTool(window)"]);
  });

  it("closes the help before cancelling a shape", () => {
    const { editor, calls } = fakeEditor();
    runAction("cancel", editor, handlers({ closeHelp: () => true }));
    expect(calls).toEqual([]);
    runAction("cancel", editor, handlers());
    expect(calls).toEqual(["cancel()"]);
  });

  it("routes overlay toggles and queue moves to the page", () => {
    const on = handlers();
    const { editor } = fakeEditor();
    runAction("toggle-truth", editor, on);
    runAction("previous-image", editor, on);
    expect(on.toggleOverlay).toHaveBeenCalledWith("truth");
    expect(on.go).toHaveBeenCalledWith(-1);
  });
});
