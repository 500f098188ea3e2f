/**
 * The annotation queue: the next (or previous) image to prompt, within filters kept in the URL.
 *
 * "Unprompted" means *without a prompt by the current annotator*: the images list API filters by
 * `annotator` (images that have a prompt by a user) but has no negation, so the queue lists the
 * filtered images, lists the same filter with `annotator=<me>`, and subtracts. (The API's
 * `has_prompt=false` would mean "nobody prompted it", which hides images a colleague did.)
 * The order is the list's `name` order, so moving on is predictable and shared across tabs.
 *
 * With `selection=<id>` the queue is that saved selection's images in the selection's order
 * (`selections/<id>/images/`), narrowed by the other filters, and previous / next never leave it.
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
  /** A saved selection the queue is restricted to, or null for the whole project. */
  selection: number | null;
}

/** No filter: every image of the project. */
export const NO_QUEUE_FILTERS: Readonly<QueueFilters> = {
  split: "",
  label: "",
  unprompted: false,
  selection: null,
};

/** One entry of the images list. */
export interface QueueItem {
  id: number;
  name: string;
}

/** Loads one page of the images list with the given API filters. */
export type LoadImages = (filters: ImageFilters) => Promise<Paginated<QueueItem>>;

/** Where the queue reads its images from. */
export interface QueueSource {
  /** One page of the project's images list. */
  images: LoadImages;
  /** One page of a saved selection's images, in the selection's order. */
  selectionImages: (
    selectionId: number,
    page: { page: number; page_size: number },
  ) => Promise<Paginated<QueueItem>>;
}

const PAGE_SIZE = 500;

/** Reads the queue filters from a query string; unknown values mean "any". */
export function parseQueueFilters(query: URLSearchParams): QueueFilters {
  const split = query.get("split") ?? "";
  const selection = query.get("selection") ?? "";
  return {
    split: (SPLITS as readonly string[]).includes(split) ? (split as Split) : "",
    label: query.get("label") ?? "",
    unprompted: query.get("unprompted") === "1",
    selection: /^[1-9]\d{0,15}$/.test(selection) ? Number(selection) : null,
  };
}

/** The query string of queue filters ("" or "?split=train&..."). */
export function queueSearch(filters: QueueFilters): string {
  const params = new URLSearchParams();
  if (filters.selection !== null) params.set("selection", String(filters.selection));
  if (filters.split) params.set("split", filters.split);
  if (filters.label) params.set("label", filters.label);
  if (filters.unprompted) params.set("unprompted", "1");
  const qs = params.toString();
  return qs ? `?${qs}` : "";
}

/** The canvas URL that opens a selection's queue at its first image. */
export function selectionAnnotateHref(selection: { id: number; image_ids: number[] }): string {
  const search = queueSearch({ ...NO_QUEUE_FILTERS, selection: selection.id });
  return `/images/${selection.image_ids[0]}/annotate${search}`;
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

/** Every image of a saved selection, in the selection's order. */
export function selectionItems(source: QueueSource, selectionId: number): Promise<QueueItem[]> {
  const load: LoadImages = (f) =>
    source.selectionImages(selectionId, { page: f.page ?? 1, page_size: PAGE_SIZE });
  return listAll(load, {});
}

/**
 * The queue before the "unprompted" filter: the selection narrowed by split and label, or the
 * filtered project list. `selected` saves reloading a selection the caller already holds.
 */
async function candidates(
  source: QueueSource,
  filters: QueueFilters,
  selected?: readonly QueueItem[],
): Promise<QueueItem[]> {
  const base = baseFilters(filters);
  if (filters.selection === null) return listAll(source.images, base);
  const items = [...(selected ?? (await selectionItems(source, filters.selection)))];
  if (!filters.split && !filters.label) return items;
  const matching = new Set((await listAll(source.images, base)).map((i) => i.id));
  return items.filter((item) => matching.has(item.id));
}

/** The queue in order: filtered images, minus those the annotator prompted (except `keep`). */
export async function queueItems(
  source: QueueSource,
  filters: QueueFilters,
  username: string,
  keep: number,
  selected?: readonly QueueItem[],
): Promise<QueueItem[]> {
  const items = await candidates(source, filters, selected);
  if (!filters.unprompted) return items;
  const mine = await listAll(source.images, { ...baseFilters(filters), annotator: username });
  const prompted = new Set(mine.map((i) => i.id));
  return items.filter((item) => item.id === keep || !prompted.has(item.id));
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

/**
 * A step back along the tab's trail of visited images: the latest image before `currentId`
 * that `allowed` accepts, and the trail cut just after it. Null when there is none.
 */
export function trailBack(
  trail: readonly number[],
  currentId: number,
  allowed: (id: number) => boolean = () => true,
): { target: number; trail: number[] } | null {
  for (let i = trail.lastIndexOf(currentId) - 1; i >= 0; i--) {
    if (allowed(trail[i])) return { target: trail[i], trail: trail.slice(0, i + 1) };
  }
  return null;
}

/**
 * The image to open for "next" (1) or "previous" (-1), and the trail to keep: previous walks
 * back the trail first (an image prompted a moment ago has left an "unprompted" queue), then the
 * queue's neighbour. Inside a selection both only ever reach the selection's images.
 */
export async function queueStep(
  source: QueueSource,
  filters: QueueFilters,
  username: string,
  currentId: number,
  direction: 1 | -1,
  trail: readonly number[],
): Promise<{ target: number | null; trail: readonly number[] }> {
  const selected =
    filters.selection === null ? undefined : await selectionItems(source, filters.selection);
  if (direction === -1) {
    const inSelection = selected && new Set(selected.map((i) => i.id));
    const back = trailBack(trail, currentId, inSelection ? (id) => inSelection.has(id) : undefined);
    if (back) return back;
  }
  const items = await queueItems(source, filters, username, currentId, selected);
  const target = neighbourIn(items, currentId, direction, new Set(trail))?.id ?? null;
  return { target, trail };
}
