import { describe, expect, it } from "vitest";
import type { Route } from "./router";
import { findRoute, matchPath, setQuery } from "./router";

const Dummy = () => null;

describe("matchPath", () => {
  it("extracts named parameters", () => {
    expect(matchPath("/images/:id/annotate", "/images/12/annotate")).toEqual({ id: "12" });
  });

  it("ignores a trailing slash", () => {
    expect(matchPath("/projects/:id", "/projects/3/")).toEqual({ id: "3" });
  });

  it("rejects paths of another length", () => {
    expect(matchPath("/images/:id", "/images/12/annotate")).toBeNull();
  });

  it("rejects different literal segments", () => {
    expect(matchPath("/projects/:id", "/images/3")).toBeNull();
  });

  it("decodes parameters", () => {
    expect(matchPath("/x/:name", "/x/a%20b")).toEqual({ name: "a b" });
  });

  it("matches the root only at the root", () => {
    expect(matchPath("/", "/")).toEqual({});
    expect(matchPath("/", "/projects")).toBeNull();
  });
});

describe("findRoute", () => {
  const routes: Route[] = [
    { path: "/images/:id", component: Dummy },
    { path: "/images/:id/annotate", component: Dummy },
  ];

  it("picks the route whose pattern matches the whole path", () => {
    expect(findRoute(routes, "/images/4/annotate")?.route).toBe(routes[1]);
  });

  it("answers null when nothing matches", () => {
    expect(findRoute(routes, "/nowhere")).toBeNull();
  });
});

describe("setQuery", () => {
  it("sets and removes query values, keeping the path", () => {
    window.history.replaceState(null, "", "/projects/1?split=train&page=3");
    setQuery({ page: undefined, label: "positive" });
    expect(window.location.pathname).toBe("/projects/1");
    expect(new URLSearchParams(window.location.search).get("page")).toBeNull();
    expect(new URLSearchParams(window.location.search).get("label")).toBe("positive");
    expect(new URLSearchParams(window.location.search).get("split")).toBe("train");
  });
});
