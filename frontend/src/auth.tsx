// The signed-in user, loaded once from auth/me/ and shared with every page through a context.

import type { ComponentChildren } from "preact";
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { User } from "./types";

export interface Session {
  /** The signed-in user, or null before sign-in. */
  user: User | null;
  /** Records the user after a successful sign-in (or null after sign-out). */
  setUser: (user: User | null) => void;
}

const SessionContext = createContext<Session>({ user: null, setUser: () => {} });

export function SessionProvider(props: { value: Session; children: ComponentChildren }) {
  return <SessionContext.Provider value={props.value}>{props.children}</SessionContext.Provider>;
}

/** The current session (user and setter). */
export function useSession(): Session {
  return useContext(SessionContext);
}
