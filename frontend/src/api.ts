// Typed client of the REST API v1: JSON and binary (PNG) bodies, the CSRF header on unsafe
// methods, and one error type (ApiError) built from the `{error: {code, message, detail}}` shape.
//
// Use `request<T>()` for JSON, `requestBlob()` for binary answers, and `requestRaw()` when the
// response headers matter (for example the ETag of a prompt save). Typed endpoint wrappers live in
// `api` at the bottom of this file.

import type {
  ImageDetail,
  Image,
  ImageFilters,
  ImageUpdate,
  ImportResult,
  Member,
  Paginated,
  Project,
  ProjectCreate,
  Prompt,
  PromptVersion,
  RleMask,
  UploadResult,
  User,
} from "./types";

export const API_ROOT = "/api/v1/";

/** An API failure: the HTTP status plus the error body's code, message and detail. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: unknown;

  constructor(status: number, code: string, message: string, detail: unknown = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
  }

  /** True when the session is missing or expired (the user must sign in again). */
  get isUnauthenticated(): boolean {
    return (
      this.status === 401 ||
      (this.status === 403 &&
        (this.code === "not_authenticated" || this.code === "authentication_failed"))
    );
  }
}

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Record<string, QueryValue>;
  /** A value sent as JSON. */
  json?: unknown;
  /** A raw body (FormData for multipart, Blob for PNG bytes); its content type is kept. */
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** When false, an unauthenticated answer is thrown instead of sending the user to sign in. */
  redirectOnAuth?: boolean;
}

type UnauthenticatedHandler = () => void;

let onUnauthenticated: UnauthenticatedHandler = () => {
  const next = window.location.pathname + window.location.search;
  if (window.location.pathname !== "/login") {
    window.location.assign(`/login?next=${encodeURIComponent(next)}`);
  }
};

/** Replaces what happens when the API answers 401/403 `not_authenticated` (the app routes it). */
export function setUnauthenticatedHandler(handler: UnauthenticatedHandler): void {
  onUnauthenticated = handler;
}

/** Reads a cookie by name; Django puts the CSRF token in `csrftoken`. */
export function readCookie(name: string, cookies: string = document.cookie): string | null {
  for (const part of cookies.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** Builds an API URL from a path relative to /api/v1/ (or an absolute URL) and a query. */
export function apiUrl(path: string, query?: Record<string, QueryValue>): string {
  const base = /^(https?:)?\//.test(path) ? path : API_ROOT + path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  if (!qs) return base;
  return base + (base.includes("?") ? "&" : "?") + qs;
}

/** Turns a failed response into an ApiError, whatever its body (JSON error shape, HTML, empty). */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // A proxy's HTML page or an empty body: fall back to the status line below.
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; detail?: unknown } })
    ?.error;
  if (error && typeof error === "object") {
    return new ApiError(
      response.status,
      typeof error.code === "string" ? error.code : `http_${response.status}`,
      typeof error.message === "string" && error.message ? error.message : statusMessage(response),
      error.detail ?? null,
    );
  }
  return new ApiError(response.status, `http_${response.status}`, statusMessage(response), body);
}

function statusMessage(response: Response): string {
  const text = response.statusText ? ` ${response.statusText}` : "";
  return `The server answered ${response.status}${text}.`;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Sends a request and returns the Response when it succeeded; throws ApiError otherwise. */
export async function requestRaw(path: string, options: RequestOptions = {}): Promise<Response> {
  const method = options.method ?? (options.json !== undefined || options.body ? "POST" : "GET");
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  let body: BodyInit | undefined = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  if (UNSAFE.has(method)) {
    const token = readCookie("csrftoken");
    if (token) headers["X-CSRFToken"] = token;
  }
  let response: Response;
  try {
    response = await fetch(apiUrl(path, options.query), {
      method,
      headers,
      body,
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError(
      0,
      "network_error",
      "The server could not be reached. Check the connection.",
    );
  }
  if (response.ok) return response;
  const error = await errorFromResponse(response);
  if (error.isUnauthenticated && options.redirectOnAuth !== false) onUnauthenticated();
  throw error;
}

/** Sends a request and parses the JSON answer (`null` for 204 No Content). */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await requestRaw(path, options);
  if (response.status === 204) return null as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** Sends a request and returns the binary answer (a PNG rendition, a mask, an archive). */
export async function requestBlob(path: string, options: RequestOptions = {}): Promise<Blob> {
  const response = await requestRaw(path, {
    ...options,
    headers: { Accept: "*/*", ...options.headers },
  });
  return response.blob();
}

/** Accepts a list answer whether or not the server paginated it. */
export function asList<T>(data: T[] | Paginated<T>): T[] {
  return Array.isArray(data) ? data : data.results;
}

/** Accepts a list answer as a page, wrapping a bare array into a single page. */
export function asPage<T>(data: T[] | Paginated<T>): Paginated<T> {
  return Array.isArray(data)
    ? { count: data.length, next: null, previous: null, results: data }
    : data;
}

function filtersQuery(filters: ImageFilters): Record<string, QueryValue> {
  return { ...filters };
}

/** Typed wrappers of the endpoints the pages use. */
export const api = {
  login: (username: string, password: string) =>
    request<{ user: User }>("auth/login/", {
      json: { username, password },
      redirectOnAuth: false,
    }),
  logout: () => request<null>("auth/logout/", { method: "POST", redirectOnAuth: false }),
  me: (options: { redirectOnAuth?: boolean } = {}) => request<{ user: User }>("auth/me/", options),

  projects: async (query: { page?: number; page_size?: number } = {}) =>
    asPage(await request<Project[] | Paginated<Project>>("projects/", { query })),
  project: (id: number | string) => request<Project>(`projects/${id}/`),
  createProject: (data: ProjectCreate) => request<Project>("projects/", { json: data }),
  members: async (id: number | string) =>
    asList(await request<Member[] | Paginated<Member>>(`projects/${id}/members/`)),

  images: async (projectId: number | string, filters: ImageFilters = {}, signal?: AbortSignal) =>
    asPage(
      await request<Image[] | Paginated<Image>>(`projects/${projectId}/images/`, {
        query: filtersQuery(filters),
        signal,
      }),
    ),
  image: (id: number | string) => request<ImageDetail>(`images/${id}/`),
  updateImage: (id: number | string, data: ImageUpdate) =>
    request<ImageDetail>(`images/${id}/`, { method: "PATCH", json: data }),
  uploadImages: async (
    projectId: number | string,
    files: File[],
    options: { label?: string; split?: string } = {},
  ): Promise<UploadResult> => {
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    if (options.label) form.append("label", options.label);
    if (options.split) form.append("split", options.split);
    try {
      return await request<UploadResult>(`projects/${projectId}/images/`, { body: form });
    } catch (error) {
      // 400 "nothing was created" carries the same body as a success: show its rejections.
      const detail = error instanceof ApiError ? (error.detail as Partial<UploadResult>) : null;
      if (error instanceof ApiError && Array.isArray(detail?.rejected)) {
        return { created: detail.created ?? [], rejected: detail.rejected };
      }
      throw error;
    }
  },
  importArchive: (projectId: number | string, file: File) => {
    const form = new FormData();
    form.append("file", file, file.name);
    return request<ImportResult>(`projects/${projectId}/imports/`, { body: form });
  },
  exportUrl: (projectId: number | string) => apiUrl(`projects/${projectId}/export/`),

  prompts: async (imageId: number | string) =>
    asList(await request<Prompt[] | Paginated<Prompt>>(`images/${imageId}/prompts/`)),
  promptHistory: async (promptId: number | string) =>
    asList(
      await request<PromptVersion[] | Paginated<PromptVersion>>(`prompts/${promptId}/history/`),
    ),
  promptMaskRle: (promptId: number | string, version?: number) =>
    request<RleMask>(`prompts/${promptId}/mask/`, { query: { format: "rle", version } }),
};
