import { describe, expect, it } from "vitest";
import { DEFAULT_PAGE_SIZE, apiFilters, gridSearch, parseGridState } from "./filters";

describe("grid state in the URL", () => {
  it("reads every filter from the query", () => {
    const state = parseGridState(
      new URLSearchParams(
        "split=val&label=none&has_prompt=false&search=chest&ordering=-name&page=2&page_size=96",
      ),
    );
    expect(state).toEqual({
      split: "val",
      label: "none",
      hasPrompt: "false",
      search: "chest",
      ordering: "-name",
      page: 2,
      pageSize: 96,
    });
  });

  it("falls back to defaults for malformed values", () => {
    const state = parseGridState(
      new URLSearchParams("split=bogus&has_prompt=maybe&page=-1&page_size=x&ordering=id"),
    );
    expect(state.split).toBe("");
    expect(state.hasPrompt).toBe("");
    expect(state.page).toBe(1);
    expect(state.pageSize).toBe(DEFAULT_PAGE_SIZE);
    expect(state.ordering).toBe("name");
  });

  it("caps the page size at the API maximum", () => {
    expect(parseGridState(new URLSearchParams("page_size=5000")).pageSize).toBe(500);
  });

  it("round-trips through the query string, leaving defaults out", () => {
    const query = "?split=train&has_prompt=true&page=4";
    const state = parseGridState(new URLSearchParams(query));
    expect(gridSearch(state)).toBe(query);
    expect(gridSearch(parseGridState(new URLSearchParams("")))).toBe("");
  });
});

describe("apiFilters", () => {
  it("turns the grid state into the image list query", () => {
    const state = parseGridState(
      new URLSearchParams("split=test&label=positive&has_prompt=true&search=%20ab%20"),
    );
    expect(apiFilters(state)).toEqual({
      split: "test",
      label: "positive",
      has_prompt: true,
      search: "ab",
      ordering: "name",
      page: 1,
      page_size: DEFAULT_PAGE_SIZE,
    });
  });

  it("omits filters that are not set", () => {
    expect(apiFilters(parseGridState(new URLSearchParams("")))).toEqual({
      ordering: "name",
      page: 1,
      page_size: DEFAULT_PAGE_SIZE,
    });
  });
});
