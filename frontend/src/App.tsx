// The application shell: loads the session, picks the route, guards signed-in pages, and
// catches render errors so a failure never leaves a blank page.

import type { ComponentChildren } from "preact";
import { Component } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, api, setUnauthenticatedHandler } from "./api";
import { SessionProvider } from "./auth";
import { ErrorMessage, Loading } from "./components/Status";
import { NotFoundPage } from "./pages/NotFoundPage";
import type { Route } from "./router";
import { findRoute, navigate, useLocation } from "./router";
import type { User } from "./types";

type SessionState =
  | { status: "loading" }
  | { status: "ready"; user: User | null }
  | { status: "failed"; error: unknown };

function loginHref(): string {
  const here = window.location.pathname + window.location.search;
  return here === "/" ? "/login" : `/login?next=${encodeURIComponent(here)}`;
}

export function App(props: { routes: Route[] }) {
  const location = useLocation();
  const [session, setSession] = useState<SessionState>({ status: "loading" });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      setSession({ status: "ready", user: null });
      if (window.location.pathname !== "/login") navigate(loginHref(), { replace: true });
    });
    api.me({ redirectOnAuth: false }).then(
      (answer) => setSession({ status: "ready", user: answer.user }),
      (error: unknown) => {
        if (error instanceof ApiError && error.isUnauthenticated)
          setSession({ status: "ready", user: null });
        else setSession({ status: "failed", error });
      },
    );
  }, [attempt]);

  const user = session.status === "ready" ? session.user : null;
  const sessionValue = useMemo(
    () => ({ user, setUser: (next: User | null) => setSession({ status: "ready", user: next }) }),
    [user],
  );
  const match = findRoute(props.routes, location.pathname);
  // Anonymous visitors of any non-public path (unknown ones too) are sent to sign in first.
  const needsLogin = session.status === "ready" && !user && !match?.route.public;

  useEffect(() => {
    if (needsLogin) navigate(loginHref(), { replace: true });
  }, [needsLogin]);

  let content: ComponentChildren;
  if (session.status === "loading") {
    content = <Loading />;
  } else if (session.status === "failed") {
    content = (
      <main id="main" class="content">
        <ErrorMessage
          error={session.error}
          onRetry={() => setAttempt((n) => n + 1)}
          title="Sightline could not start."
        />
      </main>
    );
  } else if (needsLogin) {
    content = <Loading label="Redirecting to sign in…" />;
  } else if (!match) {
    content = <NotFoundPage />;
  } else {
    const Page = match.route.component;
    content = <Page params={match.params} query={new URLSearchParams(location.search)} />;
  }
  return (
    <SessionProvider value={sessionValue}>
      <ErrorBoundary resetKey={location.pathname + location.search}>{content}</ErrorBoundary>
    </SessionProvider>
  );
}

interface BoundaryProps {
  resetKey: string;
  children: ComponentChildren;
}

/** Shows an error message instead of a blank page when a page throws while rendering. */
class ErrorBoundary extends Component<BoundaryProps, { error: unknown; key: string }> {
  override state = { error: null as unknown, key: "" };

  override componentDidCatch(error: unknown) {
    console.error(error);
    this.setState({ error, key: this.props.resetKey });
  }

  override render() {
    const failed = this.state.error !== null && this.state.key === this.props.resetKey;
    if (!failed) return this.props.children;
    return (
      <main id="main" class="content">
        <ErrorMessage
          error={this.state.error}
          title="This page failed."
          onRetry={() => window.location.reload()}
        />
      </main>
    );
  }
}
