import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ApiError,
  api,
  apiUrl,
  readCookie,
  request,
  requestBlob,
  setUnauthenticatedHandler,
} from "./api";

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
});

describe("apiUrl", () => {
  it("prefixes the API root and drops empty query values", () => {
    expect(
      apiUrl("projects/1/images/", { split: "train", label: "", page: 2, search: undefined }),
    ).toBe("/api/v1/projects/1/images/?split=train&page=2");
  });

  it("keeps absolute URLs as they are", () => {
    expect(apiUrl("/api/v1/images/3/display/", { window_center: 40 })).toBe(
      "/api/v1/images/3/display/?window_center=40",
    );
  });
});

describe("readCookie", () => {
  it("finds a cookie among others", () => {
    expect(readCookie("csrftoken", "sessionid=abc; csrftoken=tok%3D1; other=x")).toBe("tok=1");
    expect(readCookie("missing", "a=b")).toBeNull();
  });
});

describe("request", () => {
  it("sends the CSRF token on unsafe methods", async () => {
    document.cookie = "csrftoken=secret-token; path=/";
    const fetchMock = vi.fn(async () => jsonResponse(200, { ok: true }));
    vi.stubGlobal("fetch", fetchMock);
    await request("projects/", { json: { name: "x" } });
    const init = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    const headers = init[1].headers as Record<string, string>;
    expect(init[1].method).toBe("POST");
    expect(headers["X-CSRFToken"]).toBe("secret-token");
    expect(headers["Content-Type"]).toBe("application/json");
    expect(init[1].body).toBe('{"name":"x"}');
  });

  it("sends no CSRF token on GET", async () => {
    document.cookie = "csrftoken=secret-token; path=/";
    const fetchMock = vi.fn(async () => jsonResponse(200, []));
    vi.stubGlobal("fetch", fetchMock);
    await request("projects/");
    const init = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect((init[1].headers as Record<string, string>)["X-CSRFToken"]).toBeUndefined();
  });

  it("turns the error shape into an ApiError", async () => {
    const body = { error: { code: "conflict", message: "stale", detail: { current_version: 3 } } };
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => jsonResponse(409, body)),
    );
    const error = await request("images/1/prompts/mine/", { method: "PUT", json: {} }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 409,
      code: "conflict",
      message: "stale",
      detail: { current_version: 3 },
    });
  });

  it("describes a non-JSON failure by its status", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response("<html>bad gateway</html>", { status: 502 })),
    );
    const error = await request("projects/").catch((e: Error) => e);
    expect(error).toMatchObject({ status: 502, code: "http_502" });
    expect((error as Error).message).toContain("502");
  });

  it("reports an unreachable server as a network error", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))),
    );
    const error = await request("projects/").catch((e: Error) => e);
    expect(error).toMatchObject({ status: 0, code: "network_error" });
  });

  it("calls the sign-in handler on not_authenticated", async () => {
    const handler = vi.fn();
    setUnauthenticatedHandler(handler);
    const body = { error: { code: "not_authenticated", message: "Sign in.", detail: null } };
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => jsonResponse(403, body)),
    );
    await request("projects/").catch(() => undefined);
    expect(handler).toHaveBeenCalledOnce();
  });

  it("does not send the user to sign in on a permission error", async () => {
    const handler = vi.fn();
    setUnauthenticatedHandler(handler);
    const body = { error: { code: "permission_denied", message: "Admins only.", detail: null } };
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => jsonResponse(403, body)),
    );
    const error = await request("projects/1/images/", { body: new FormData() }).catch((e) => e);
    expect(handler).not.toHaveBeenCalled();
    expect(error).toMatchObject({ status: 403, code: "permission_denied" });
  });

  it("answers null for 204 No Content", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(null, { status: 204 })),
    );
    expect(await request("auth/logout/", { method: "POST" })).toBeNull();
  });
});

describe("requestBlob", () => {
  it("returns binary bodies", async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    vi.stubGlobal(
      "fetch",
      vi.fn(
        async () => new Response(png, { status: 200, headers: { "Content-Type": "image/png" } }),
      ),
    );
    const blob = await requestBlob("images/1/display/");
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(png);
  });
});

describe("api.uploadImages", () => {
  it("returns the rejections of an upload that created nothing", async () => {
    const body = { created: [], rejected: [{ file: "a.txt", reason: "not an image" }] };
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => jsonResponse(400, body)),
    );
    const result = await api.uploadImages(1, [new File(["x"], "a.txt")]);
    expect(result).toEqual(body);
  });

  it("posts every file under the `files` field with label and split", async () => {
    const fetchMock = vi.fn(async () => jsonResponse(201, { created: [], rejected: [] }));
    vi.stubGlobal("fetch", fetchMock);
    await api.uploadImages(1, [new File(["a"], "a.png"), new File(["b"], "b.png")], {
      label: "positive",
      split: "val",
    });
    const form = (fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1].body as FormData;
    expect(form.getAll("files").map((f) => (f as File).name)).toEqual(["a.png", "b.png"]);
    expect(form.get("label")).toBe("positive");
    expect(form.get("split")).toBe("val");
  });
});
