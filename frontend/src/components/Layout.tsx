// The page frame: header with the breadcrumb (Projects › project › image), the signed-in user and
// sign out; then the page content. Every signed-in page renders inside <Layout>.

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api";
import { useSession } from "../auth";
import { navigate } from "../router";
import { Link } from "./Link";

export interface Crumb {
  label: string;
  /** Omitted for the current page (the last crumb). */
  href?: string;
}

export interface LayoutProps {
  /** Breadcrumb after the "Projects" root, e.g. [{label: project.name, href}, {label: image.name}]. */
  crumbs?: Crumb[];
  /** Uses the full window width (for canvases) instead of the centred column. */
  wide?: boolean;
  children: ComponentChildren;
}

export function Layout(props: LayoutProps) {
  const crumbs: Crumb[] = [{ label: "Projects", href: "/" }, ...(props.crumbs ?? [])];
  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class={props.wide ? "topbar-inner wide" : "topbar-inner"}>
          <Link href="/" class="brand" aria-label="Sightline home">
            <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
              <circle cx="12" cy="12" r="10" fill="none" stroke="currentColor" stroke-width="2" />
              <circle cx="12" cy="12" r="4" fill="currentColor" />
            </svg>
            <span>Sightline</span>
          </Link>
          <nav class="breadcrumb" aria-label="Breadcrumb">
            <ol>
              {crumbs.map((crumb, index) => {
                const last = index === crumbs.length - 1;
                return (
                  <li key={index}>
                    {crumb.href && !last ? (
                      <Link href={crumb.href}>{crumb.label}</Link>
                    ) : (
                      <span aria-current={last ? "page" : undefined}>{crumb.label}</span>
                    )}
                  </li>
                );
              })}
            </ol>
          </nav>
          <UserMenu />
        </div>
      </header>
      <main id="main" class={props.wide ? "content wide" : "content"}>
        {props.children}
      </main>
    </div>
  );
}

function UserMenu() {
  const { user, setUser } = useSession();
  const [busy, setBusy] = useState(false);
  if (!user) return null;
  const signOut = async () => {
    setBusy(true);
    try {
      await api.logout();
    } catch {
      // Signing out of an already expired session is still signing out.
    }
    setUser(null);
    navigate("/login");
  };
  return (
    <div class="user-menu">
      <span class="user-name" title="Signed in">
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
          <circle cx="8" cy="5" r="3" fill="currentColor" />
          <path d="M2 15c0-3.3 2.7-5 6-5s6 1.7 6 5z" fill="currentColor" />
        </svg>
        <span data-testid="current-user">{user.username}</span>
      </span>
      <button
        type="button"
        class="button button-ghost button-small"
        onClick={signOut}
        disabled={busy}
      >
        Sign out
      </button>
    </div>
  );
}
