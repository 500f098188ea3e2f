import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { useSession } from "../auth";
import { errorMessage } from "../components/Status";
import { useTitle } from "../hooks";
import type { PageProps } from "../router";
import { navigate } from "../router";

/** Only in-app paths are followed after sign-in (never another origin). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/login")) {
    return "/";
  }
  return next;
}

export function LoginPage(props: PageProps) {
  useTitle("Sign in");
  const { user, setUser } = useSession();
  const next = safeNext(props.query.get("next"));
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (user) navigate(next, { replace: true });
  }, [user]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api.login(username.trim(), password);
      setUser(answer.user);
      navigate(next, { replace: true });
    } catch (reason) {
      setError(errorMessage(reason));
      setBusy(false);
    }
  };

  return (
    <main id="main" class="login">
      <form class="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <div class="login-brand" aria-hidden="true">
          <svg viewBox="0 0 24 24" width="36" height="36">
            <circle cx="12" cy="12" r="10" fill="none" stroke="currentColor" stroke-width="2" />
            <circle cx="12" cy="12" r="4" fill="currentColor" />
          </svg>
        </div>
        <h1 id="login-title">Sign in to Sightline</h1>
        <p class="muted">Steer image classifiers with attention prompts.</p>
        {error && (
          <p class="alert alert-error" role="alert">
            {error}
          </p>
        )}
        <label class="field">
          <span>Username</span>
          <input
            name="username"
            autocomplete="username"
            required
            autoFocus
            value={username}
            onInput={(event) => setUsername(event.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
          />
        </label>
        <button type="submit" class="button button-primary button-block" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
