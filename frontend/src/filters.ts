// The image grid's filters live in the URL query so that a filtered view can be bookmarked,
// shared and restored with back/forward. These pure functions convert between the two.

import type { ImageFilters, Split } from "./types";
import { SPLITS } from "./types";

export type Ordering = NonNullable<ImageFilters["ordering"]>;

export const DEFAULT_PAGE_SIZE = 48;
export const DEFAULT_ORDERING: Ordering = "name";
export const ORDERINGS: readonly Ordering[] = ["name", "-name", "-created_at", "created_at"];
export const MAX_PAGE_SIZE = 500;

export interface GridState {
  split: Split | "";
  /** A class name, "none" for unlabelled, or "" for any. */
  label: string;
  hasPrompt: "" | "true" | "false";
  search: string;
  ordering: Ordering;
  page: number;
  pageSize: number;
}

/** The query keys of the grid state, in the order they appear in URLs. */
export const GRID_KEYS = [
  "split",
  "label",
  "has_prompt",
  "search",
  "ordering",
  "page",
  "page_size",
] as const;

function positiveInt(value: string | null, fallback: number, max: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, max) : fallback;
}

/** Reads the grid state from a URL query; unknown or malformed values fall back to defaults. */
export function parseGridState(query: URLSearchParams): GridState {
  const split = query.get("split") ?? "";
  const hasPrompt = query.get("has_prompt") ?? "";
  const ordering = query.get("ordering") ?? "";
  return {
    split: (SPLITS as readonly string[]).includes(split) ? (split as Split) : "",
    label: query.get("label") ?? "",
    hasPrompt: hasPrompt === "true" || hasPrompt === "false" ? hasPrompt : "",
    search: query.get("search") ?? "",
    ordering: (ORDERINGS as readonly string[]).includes(ordering)
      ? (ordering as Ordering)
      : DEFAULT_ORDERING,
    page: positiveInt(query.get("page"), 1, Number.MAX_SAFE_INTEGER),
    pageSize: positiveInt(query.get("page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
  };
}

/** The URL query values of a grid state; defaults are left out to keep URLs short. */
export function gridQuery(state: GridState): Record<string, string | undefined> {
  return {
    split: state.split || undefined,
    label: state.label || undefined,
    has_prompt: state.hasPrompt || undefined,
    search: state.search.trim() || undefined,
    ordering: state.ordering !== DEFAULT_ORDERING ? state.ordering : undefined,
    page: state.page > 1 ? String(state.page) : undefined,
    page_size: state.pageSize !== DEFAULT_PAGE_SIZE ? String(state.pageSize) : undefined,
  };
}

/** The grid state as a query string ("" or "?split=train&..."). */
export function gridSearch(state: GridState): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(gridQuery(state))) {
    if (value !== undefined) params.set(key, value);
  }
  const qs = params.toString();
  return qs ? `?${qs}` : "";
}

/** The API filters of a grid state (the image list endpoint's query). */
export function apiFilters(state: GridState): ImageFilters {
  const filters: ImageFilters = {
    ordering: state.ordering,
    page: state.page,
    page_size: state.pageSize,
  };
  if (state.split) filters.split = state.split;
  if (state.label) filters.label = state.label;
  if (state.hasPrompt) filters.has_prompt = state.hasPrompt === "true";
  if (state.search.trim()) filters.search = state.search.trim();
  return filters;
}

/** True when any filter (not paging) narrows the list. */
export function isFiltered(state: GridState): boolean {
  return Boolean(state.split || state.label || state.hasPrompt || state.search.trim());
}
