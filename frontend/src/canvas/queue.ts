/**
 * The annotation queue: the next (or previous) image to prompt, within filters kept in the URL.
 *
 * "Unprompted" means *without a prompt by the current annotator*: the images list API filters by
 * `annotator` (images that have a prompt by a user) but has no negation, so the queue lists the
 * filtered images, lists the same filter with `annotator=<me>`, and subtracts. (The API's
 * `has_prompt=false` would mean "nobody prompted it", which hides images a colleague did.)
 * The order is the list's `name` order, so moving on is predictable and shared across tabs.
 */

import type { ImageFilters, Paginated, Split } from "../types";
import { SPLITS } from "../types";

/** Queue filters, stored in the annotate page's query string. */
export interface QueueFilters {
  split: Split | "";
  /** A class name, "none" for unlabelled, or "" for any. */
  label: string;
  /** Only images without a prompt by the current annotator. */
  unprompted: boolean;
}

/** One entry of the images list. */
export interface QueueItem {
  id: number;
  name: string;
}

/** Loads one page of the images list with the given API filters. */
export type LoadImages = (filters: ImageFilters) => Promise<Paginated<QueueItem>>;

const PAGE_SIZE = 500;

/** Reads the queue filters from a query string; unknown values mean "any". */
export function parseQueueFilters(query: URLSearchParams): QueueFilters {
  const split = query.get("split") ?? "";
  return {
    split: (SPLITS as readonly string[]).includes(split) ? (split as Split) : "",
    label: query.get("label") ?? "",
    unprompted: query.get("unprompted") === "1",
  };
}

/** The query string of queue filters ("" or "?split=train&..."). */
export function queueSearch(filters: QueueFilters): string {
  const params = new URLSearchParams();
  if (filters.split) params.set("split", filters.split);
  if (filters.label) params.set("label", filters.label);
  if (filters.unprompted) params.set("unprompted", "1");
  const qs = params.toString();
  return qs ? `?${qs}` : "";
}

function baseFilters(filters: QueueFilters): ImageFilters {
  const api: ImageFilters = { ordering: "name", page_size: PAGE_SIZE };
  if (filters.split) api.split = filters.split;
  if (filters.label) api.label = filters.label;
  return api;
}

/** Every item of a filtered list, page by page. */
export async function listAll(load: LoadImages, filters: ImageFilters): Promise<QueueItem[]> {
  const items: QueueItem[] = [];
  for (let page = 1; ; page++) {
    const answer = await load({ ...filters, page });
    items.push(...answer.results.map((item) => ({ id: item.id, name: item.name })));
    if (!answer.next || answer.results.length === 0) return items;
  }
}

/** The queue in order: filtered images, minus those the annotator prompted (except `keep`). */
export async function queueItems(
  load: LoadImages,
  filters: QueueFilters,
  username: string,
  keep: number,
): Promise<QueueItem[]> {
  const base = baseFilters(filters);
  const items = await listAll(load, base);
  if (!filters.unprompted) return items;
  const mine = new Set((await listAll(load, { ...base, annotator: username })).map((i) => i.id));
  return items.filter((item) => item.id === keep || !mine.has(item.id));
}

/**
 * The image after (direction 1) or before (-1) `currentId` in the queue.
 *
 * When the current image is not in the queue (it matches no filter), "next" is the first queued
 * image not yet visited in this session and "previous" is null (the caller's trail applies).
 */
export function neighbourIn(
  items: readonly QueueItem[],
  currentId: number,
  direction: 1 | -1,
  visited: ReadonlySet<number> = new Set(),
): QueueItem | null {
  const index = items.findIndex((item) => item.id === currentId);
  if (index >= 0) return items[index + direction] ?? null;
  if (direction === -1) return null;
  return items.find((item) => !visited.has(item.id)) ?? null;
}
