// Previous / next image within the grid's current filtered list, across page boundaries.

import type { Paginated } from "./types";

export interface Neighbour {
  id: number;
  name: string;
  /** The grid page the neighbour is on (its link carries it, so the chain continues). */
  page: number;
}

export interface Neighbours {
  previous: Neighbour | null;
  next: Neighbour | null;
  /** 1-based position in the filtered list and its length, when the image is in it. */
  position: number | null;
  count: number;
}

type Item = { id: number; name: string };

/**
 * Finds the image's neighbours from its grid page and, when it sits on a page edge, the adjacent
 * page (`loadPage` is called at most once per direction).
 */
export async function findNeighbours(
  imageId: number,
  page: number,
  pageSize: number,
  loadPage: (page: number) => Promise<Paginated<Item>>,
): Promise<Neighbours> {
  const current = await loadPage(page);
  const index = current.results.findIndex((item) => item.id === imageId);
  if (index < 0) return { previous: null, next: null, position: null, count: current.count };
  const at = (item: Item | undefined, onPage: number): Neighbour | null =>
    item ? { id: item.id, name: item.name, page: onPage } : null;

  let previous = at(current.results[index - 1], page);
  if (!previous && page > 1) {
    const before = await loadPage(page - 1);
    previous = at(before.results[before.results.length - 1], page - 1);
  }
  let next = at(current.results[index + 1], page);
  if (!next && current.next) {
    const after = await loadPage(page + 1);
    next = at(after.results[0], page + 1);
  }
  return { previous, next, position: (page - 1) * pageSize + index + 1, count: current.count };
}
