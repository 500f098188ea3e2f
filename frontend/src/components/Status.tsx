// Loading, error and empty states: every page shows one of these instead of a blank area.

import type { ComponentChildren } from "preact";
import { ApiError } from "../api";

export function Loading(props: { label?: string }) {
  return (
    <div class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {props.label ?? "Loading…"}
    </div>
  );
}

/** Starts a server message ("wrong username or password") with a capital letter. */
function sentence(text: string): string {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

/** A readable sentence for any thrown value. */
export function errorMessage(error: unknown): string {
  return sentence(rawMessage(error));
}

function rawMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 404) return "Not found, or you do not have access to it.";
    if (error.status === 403 && !error.isUnauthenticated) {
      return error.message || "You do not have permission to do this.";
    }
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

export function ErrorMessage(props: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <div class="alert alert-error" role="alert">
      <div>
        {props.title && <strong>{props.title} </strong>}
        {errorMessage(props.error)}
      </div>
      {props.onRetry && (
        <button type="button" class="button button-small" onClick={props.onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{props.title}</p>
      {props.children}
    </div>
  );
}
