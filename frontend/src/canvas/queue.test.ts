// @vitest-environment node
import { describe, expect, it } from "vitest";
import type { ImageFilters, Paginated } from "../types";
import {
  listAll,
  neighbourIn,
  parseQueueFilters,
  type QueueItem,
  queueItems,
  queueSearch,
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

describe("queue filters", () => {
  it("round-trip through the query string", () => {
    const filters = parseQueueFilters(new URLSearchParams("split=train&label=none&unprompted=1"));
    expect(filters).toEqual({ split: "train", label: "none", unprompted: true });
    expect(queueSearch(filters)).toBe("?split=train&label=none&unprompted=1");
  });

  it("ignore unknown splits", () => {
    expect(parseQueueFilters(new URLSearchParams("split=bogus")).split).toBe("");
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
    const { load, requests } = fakeList(items(1, 2, 3, 4, 5), [2, 3, 5]);
    const queue = await queueItems(load, { split: "", label: "", unprompted: true }, "ann", 3);
    expect(queue.map((i) => i.id)).toEqual([1, 3, 4]);
    expect(requests.some((r) => r.annotator === "ann")).toBe(true);
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
