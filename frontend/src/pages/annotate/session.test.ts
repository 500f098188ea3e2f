import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CanvasEditor, EditorState } from "../../canvas/editor";
import { IMPORTANT, UNIMPORTANT } from "../../canvas/mask";
import { NO_QUEUE_FILTERS } from "../../canvas/queue";
import type { ImageDetail, Project, User } from "../../types";
import {
  type ActionHandlers,
  annotateHref,
  chooseTargetClass,
  queueTarget,
  readTrail,
  runAction,
  visit,
  writeTrail,
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
    const filters = { ...NO_QUEUE_FILTERS, split: "train" as const, unprompted: true };
    expect(annotateHref(5, filters, null)).toBe("/images/5/annotate?split=train&unprompted=1");
    expect(annotateHref(5, NO_QUEUE_FILTERS, "a b")).toBe("/images/5/annotate?class=a+b");
  });

  it("keeps the selection", () => {
    expect(annotateHref(5, { ...NO_QUEUE_FILTERS, selection: 7 }, null)).toBe(
      "/images/5/annotate?selection=7",
    );
  });
});

describe("queueTarget in a selection", () => {
  const user = { id: 1, username: "rev" } as User;
  const inSelection = { ...NO_QUEUE_FILTERS, selection: 7 };
  const page = (ids: number[]) => ({
    count: ids.length,
    next: null,
    previous: null,
    results: ids.map((id) => ({ id, name: `img-${id}` })),
  });

  /** The API: selection 7 holds images 30, 10, 20 in that order; the project holds more. */
  function stubApi(): string[] {
    const urls: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        urls.push(url);
        const inSelection = url.startsWith("/api/v1/selections/7/images/");
        const ids = inSelection ? [30, 10, 20] : [10, 20, 30, 40];
        return new Response(JSON.stringify(page(ids)), {
          status: 200,
          headers: { "Content-Type": "application/json" },
        });
      }),
    );
    return urls;
  }

  beforeEach(() => sessionStorage.clear());
  afterEach(() => vi.unstubAllGlobals());

  it("reads the selection's images and moves on in the selection's order", async () => {
    const urls = stubApi();
    writeTrail([30, 10]);
    expect(await queueTarget({ id: 10 } as ImageDetail, project, user, inSelection, 1)).toBe(20);
    expect(urls).toEqual(["/api/v1/selections/7/images/?page=1&page_size=500"]);
  });

  it("does not step back onto an image outside the selection", async () => {
    stubApi();
    writeTrail([40, 30]);
    expect(await queueTarget({ id: 30 } as ImageDetail, project, user, inSelection, -1)).toBeNull();
    writeTrail([30, 40, 10]);
    expect(await queueTarget({ id: 10 } as ImageDetail, project, user, inSelection, -1)).toBe(30);
    expect(readTrail()).toEqual([30]);
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
