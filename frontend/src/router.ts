// A small history-API router: path patterns with `:name` parameters, a location hook, and
// programmatic navigation. The route table itself lives in routes.ts.

import type { ComponentType } from "preact";
import { createElement } from "preact";
import { useEffect, useState } from "preact/hooks";

/** What every page component receives. */
export interface PageProps {
  /** Path parameters by name, e.g. `{ id: "12" }` for `/images/:id` at `/images/12`. */
  params: Record<string, string>;
  /** The query string of the current URL. */
  query: URLSearchParams;
}

export type PageComponent = ComponentType<PageProps>;

export interface Route {
  /** A path pattern: literal segments and `:name` parameters, e.g. `/images/:id/annotate`. */
  path: string;
  component: PageComponent;
  /** Public routes render without a signed-in user (the sign-in page). */
  public?: boolean;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** Matches a pathname against one pattern; returns its decoded parameters or null. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  const split = (value: string) => value.split("/").filter(Boolean);
  const want = split(pattern);
  const have = split(pathname);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i];
    if (segment.startsWith(":")) {
      try {
        params[segment.slice(1)] = decodeURIComponent(have[i]);
      } catch {
        return null;
      }
    } else if (segment !== have[i]) {
      return null;
    }
  }
  return params;
}

/** The first route whose pattern matches the pathname. */
export function findRoute(routes: readonly Route[], pathname: string): RouteMatch | null {
  for (const route of routes) {
    const params = matchPath(route.path, pathname);
    if (params) return { route, params };
  }
  return null;
}

const NAVIGATE_EVENT = "sightline:navigate";

/** Goes to an in-app URL without reloading the page. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const current = window.location.pathname + window.location.search + window.location.hash;
  if (to !== current) {
    if (options.replace) window.history.replaceState(null, "", to);
    else window.history.pushState(null, "", to);
  }
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
  if (!options.replace) window.scrollTo(0, 0);
}

/** Updates the query string of the current page (empty values are removed). */
export function setQuery(
  values: Record<string, string | number | boolean | null | undefined>,
  options: { replace?: boolean } = {},
): void {
  const params = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null || value === "") params.delete(key);
    else params.set(key, String(value));
  }
  const qs = params.toString();
  const to = window.location.pathname + (qs ? `?${qs}` : "");
  const current = window.location.pathname + window.location.search;
  if (to === current) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

export interface Location {
  pathname: string;
  search: string;
}

function readLocation(): Location {
  return { pathname: window.location.pathname, search: window.location.search };
}

/** The current location; re-renders on back/forward and on navigate(). */
export function useLocation(): Location {
  const [location, setLocation] = useState<Location>(readLocation);
  useEffect(() => {
    const update = () => setLocation(readLocation());
    window.addEventListener("popstate", update);
    window.addEventListener(NAVIGATE_EVENT, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  return location;
}

/**
 * Wraps a dynamically imported page so its code loads only when the route is first visited:
 * `{ path: "/x", component: lazyPage(() => import("./pages/x")) }` where the module's default
 * export is the page component.
 */
export function lazyPage(load: () => Promise<{ default: PageComponent }>): PageComponent {
  let loaded: PageComponent | null = null;
  let pending: Promise<void> | null = null;
  return function LazyPage(props: PageProps) {
    const [, setReady] = useState(0);
    const [failed, setFailed] = useState<unknown>(null);
    useEffect(() => {
      if (loaded) return;
      pending ??= load().then((module) => {
        loaded = module.default;
      });
      pending.then(
        () => setReady((n) => n + 1),
        (error: unknown) => {
          pending = null;
          setFailed(error);
        },
      );
    }, []);
    if (failed) {
      return createElement(
        "div",
        { class: "page" },
        createElement(
          "p",
          { class: "alert alert-error", role: "alert" },
          "This page failed to load. Reload to try again.",
        ),
      );
    }
    if (!loaded) return createElement("div", { class: "loading", role: "status" }, "Loading…");
    return createElement(loaded, props);
  };
}
