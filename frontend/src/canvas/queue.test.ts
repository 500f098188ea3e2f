// @vitest-environment node
import { describe, expect, it } from "vitest";
import type { ImageFilters, Paginated } from "../types";
import {
  listAll,
  NO_QUEUE_FILTERS,
  neighbourIn,
  parseQueueFilters,
  type QueueFilters,
  type QueueItem,
  type QueueSource,
  queueItems,
  queueSearch,
  queueStep,
  selectionAnnotateHref,
  trailBack,
} from "./queue";

const items = (...ids: number[]): QueueItem[] => ids.map((id) => ({ id, name: `img-${id}` }));

/** An images endpoint over `all`, honouring `annotator` with `mine` and paging by page_size. */
function fakeList(all: QueueItem[], mine: number[] = []) {
  const requests: ImageFilters[] = [];
  const load = async (filters: ImageFilters): Promise<Paginated<QueueItem>> => {
    requests.push(filters);
    const source = filters.annotator ? all.filter((i) => mine.includes(i.id)) : all;
    const size = filters.page_size ?? 500;
    const page = filters.page ?? 1;
    const results = source.slice((page - 1) * size, page * size);
    return {
      count: source.length,
      next: page * size < source.length ? "more" : null,
      previous: null,
      results,
    };
  };
  return { load, requests };
}

/** A project list over `all` plus saved selections (ids in the selection's order). */
function fakeSource(
  all: QueueItem[],
  selections: Record<number, number[]>,
  options: { mine?: number[]; matching?: number[] } = {},
) {
  const project = fakeList(all, options.mine);
  const selectionRequests: [number, number, number][] = [];
  const source: QueueSource = {
    images: (filters) => {
      if (options.matching && (filters.split || filters.label) && !filters.annotator) {
        return fakeList(all.filter((i) => options.matching?.includes(i.id))).load(filters);
      }
      return project.load(filters);
    },
    selectionImages: async (id, { page, page_size }) => {
      selectionRequests.push([id, page, page_size]);
      const ordered = selections[id].map((n) => all.find((i) => i.id === n) as QueueItem);
      const results = ordered.slice((page - 1) * page_size, page * page_size);
      const next = page * page_size < ordered.length ? "more" : null;
      return { count: ordered.length, next, previous: null, results };
    },
  };
  return { source, requests: project.requests, selectionRequests };
}

const filters = (patch: Partial<QueueFilters> = {}): QueueFilters => ({
  ...NO_QUEUE_FILTERS,
  ...patch,
});

describe("queue filters", () => {
  it("round-trip through the query string", () => {
    const filters = parseQueueFilters(new URLSearchParams("split=train&label=none&unprompted=1"));
    expect(filters).toEqual({ split: "train", label: "none", unprompted: true, selection: null });
    expect(queueSearch(filters)).toBe("?split=train&label=none&unprompted=1");
  });

  it("ignore unknown splits", () => {
    expect(parseQueueFilters(new URLSearchParams("split=bogus")).split).toBe("");
  });

  it("keep a selection id", () => {
    const parsed = parseQueueFilters(new URLSearchParams("selection=7&unprompted=1"));
    expect(parsed.selection).toBe(7);
    expect(queueSearch(parsed)).toBe("?selection=7&unprompted=1");
  });

  it("ignore a selection that is not a positive id", () => {
    for (const bad of ["", "0", "-3", "abc", "1.5", "7x"]) {
      expect(parseQueueFilters(new URLSearchParams({ selection: bad })).selection).toBeNull();
    }
  });

  it("link a selection to the canvas at its first image", () => {
    expect(selectionAnnotateHref({ id: 7, image_ids: [42, 3] })).toBe(
      "/images/42/annotate?selection=7",
    );
  });
});

describe("queueItems", () => {
  it("reads every page in name order with the filters", async () => {
    const { load, requests } = fakeList(items(...Array.from({ length: 1200 }, (_, k) => k + 1)));
    const all = await listAll(load, { split: "train", ordering: "name", page_size: 500 });
    expect(all).toHaveLength(1200);
    expect(requests.map((r) => [r.page, r.split, r.ordering])).toEqual([
      [1, "train", "name"],
      [2, "train", "name"],
      [3, "train", "name"],
    ]);
  });

  it("leaves out images the annotator prompted, except the current one", async () => {
    const { source, requests } = fakeSource(items(1, 2, 3, 4, 5), {}, { mine: [2, 3, 5] });
    const queue = await queueItems(source, filters({ unprompted: true }), "ann", 3);
    expect(queue.map((i) => i.id)).toEqual([1, 3, 4]);
    expect(requests.some((r) => r.annotator === "ann")).toBe(true);
  });
});

describe("queueItems in a selection", () => {
  const all = items(1, 2, 3, 4, 5, 6);

  it("lists only the selection's images, in the selection's order", async () => {
    const { source, requests, selectionRequests } = fakeSource(all, { 7: [5, 2, 4] });
    const queue = await queueItems(source, filters({ selection: 7 }), "ann", 2);
    expect(queue.map((i) => i.id)).toEqual([5, 2, 4]);
    expect(selectionRequests).toEqual([[7, 1, 500]]);
    expect(requests).toEqual([]);
  });

  it("reads every page of a large selection", async () => {
    const big = items(...Array.from({ length: 1001 }, (_, k) => k + 1));
    const { source, selectionRequests } = fakeSource(big, { 7: big.map((i) => i.id) });
    expect(await queueItems(source, filters({ selection: 7 }), "ann", 1)).toHaveLength(1001);
    expect(selectionRequests.map(([, page]) => page)).toEqual([1, 2, 3]);
  });

  it("narrows the selection by split and label, keeping its order", async () => {
    const { source, requests } = fakeSource(all, { 7: [5, 2, 4, 1] }, { matching: [1, 4, 5] });
    const queue = await queueItems(source, filters({ selection: 7, split: "train" }), "ann", 2);
    expect(queue.map((i) => i.id)).toEqual([5, 4, 1]);
    expect(requests).toEqual([]);
  });

  it("leaves out the selection's images the annotator prompted", async () => {
    const { source } = fakeSource(all, { 7: [5, 2, 4, 1] }, { mine: [2, 4, 6] });
    const queue = await queueItems(source, filters({ selection: 7, unprompted: true }), "ann", 4);
    expect(queue.map((i) => i.id)).toEqual([5, 4, 1]);
  });
});

describe("queueStep", () => {
  const all = items(1, 2, 3, 4, 5, 6);

  it("moves next and previous inside the selection", async () => {
    const { source } = fakeSource(all, { 7: [5, 2, 4] });
    const inSelection = filters({ selection: 7 });
    expect((await queueStep(source, inSelection, "ann", 2, 1, [2])).target).toBe(4);
    expect((await queueStep(source, inSelection, "ann", 2, -1, [2])).target).toBe(5);
    expect((await queueStep(source, inSelection, "ann", 4, 1, [4])).target).toBeNull();
    expect((await queueStep(source, inSelection, "ann", 5, -1, [5])).target).toBeNull();
  });

  it("walks back the trail only over the selection's images", async () => {
    const { source } = fakeSource(all, { 7: [5, 2, 4] });
    const step = await queueStep(source, filters({ selection: 7 }), "ann", 4, -1, [2, 6, 1, 4]);
    expect(step).toEqual({ target: 2, trail: [2] });
  });

  it("goes from an image outside the selection to its first unvisited image", async () => {
    const { source } = fakeSource(all, { 7: [5, 2, 4] });
    const step = await queueStep(source, filters({ selection: 7 }), "ann", 6, 1, [5, 6]);
    expect(step.target).toBe(2);
  });

  it("walks back the trail without reading the queue outside a selection", async () => {
    const { source, requests } = fakeSource(all, {});
    const step = await queueStep(source, filters(), "ann", 3, -1, [6, 3]);
    expect(step).toEqual({ target: 6, trail: [6] });
    expect(requests).toEqual([]);
  });
});

describe("trailBack", () => {
  it("steps to the entry before the current image and cuts the trail there", () => {
    expect(trailBack([1, 2, 3], 3)).toEqual({ target: 2, trail: [1, 2] });
    expect(trailBack([1, 2, 3], 1)).toBeNull();
    expect(trailBack([1, 2], 9)).toBeNull();
  });
});

describe("neighbourIn", () => {
  const queue = items(10, 20, 30);

  it("steps forward and backward in order", () => {
    expect(neighbourIn(queue, 20, 1)?.id).toBe(30);
    expect(neighbourIn(queue, 20, -1)?.id).toBe(10);
    expect(neighbourIn(queue, 30, 1)).toBeNull();
  });

  it("goes to the first unvisited image when the current one is outside the queue", () => {
    expect(neighbourIn(queue, 99, 1, new Set([10]))?.id).toBe(20);
    expect(neighbourIn(queue, 99, -1)).toBeNull();
  });
});
