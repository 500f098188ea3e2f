import { describe, expect, it } from "vitest";
import { findNeighbours } from "./neighbours";
import type { Paginated } from "./types";

type Item = { id: number; name: string };

/** A list of `count` items (ids 1..count) served in pages of `size`; records the pages asked. */
function pager(count: number, size: number) {
  const asked: number[] = [];
  const load = async (page: number): Promise<Paginated<Item>> => {
    asked.push(page);
    const results = [];
    for (let id = (page - 1) * size + 1; id <= Math.min(count, page * size); id++) {
      results.push({ id, name: `img-${id}` });
    }
    return {
      count,
      next: page * size < count ? "more" : null,
      previous: page > 1 ? "less" : null,
      results,
    };
  };
  return { load, asked };
}

describe("findNeighbours", () => {
  it("finds both neighbours inside one page without loading others", async () => {
    const { load, asked } = pager(10, 5);
    const found = await findNeighbours(3, 1, 5, load);
    expect(found.previous).toEqual({ id: 2, name: "img-2", page: 1 });
    expect(found.next).toEqual({ id: 4, name: "img-4", page: 1 });
    expect(found.position).toBe(3);
    expect(found.count).toBe(10);
    expect(asked).toEqual([1]);
  });

  it("crosses to the adjacent pages at the edges", async () => {
    const { load } = pager(15, 5);
    const first = await findNeighbours(6, 2, 5, load);
    expect(first.previous).toEqual({ id: 5, name: "img-5", page: 1 });
    const last = await findNeighbours(10, 2, 5, load);
    expect(last.next).toEqual({ id: 11, name: "img-11", page: 3 });
  });

  it("has no previous at the start nor next at the end", async () => {
    const { load } = pager(4, 5);
    expect((await findNeighbours(1, 1, 5, load)).previous).toBeNull();
    expect((await findNeighbours(4, 1, 5, load)).next).toBeNull();
  });

  it("answers no neighbours when the image is not in the list", async () => {
    const { load } = pager(4, 5);
    const found = await findNeighbours(99, 1, 5, load);
    expect(found).toEqual({ previous: null, next: null, position: null, count: 4 });
  });
});
