// Network side of the prompt canvas: loading the image rendition and the annotator's prompt,
// sending prompts (PNG bytes, If-Match: the version the drawing was based on), and reading the
// saved selection a queue is restricted to.

import { ApiError, api, asPage, request, requestRaw } from "../../api";
import { readDicomFrame, UnsupportedDicom } from "../../canvas/dicom";
import type { Mask } from "../../canvas/mask";
import { rleToMask } from "../../canvas/rle";
import type { PromptTransport, SaveOutcome, Snapshot } from "../../canvas/saver";
import { type DisplayWindow, windowQuery, windowToRgba } from "../../canvas/windowing";
import type { Image, ImageDetail, Paginated, Prompt, PromptConflictDetail } from "../../types";
import type { Selection } from "../review/api";

/** The annotator's own prompt for a class, or null before the first save. */
export async function loadMyPrompt(imageId: number, targetClass: string): Promise<Prompt | null> {
  try {
    return await request<Prompt>(`images/${imageId}/prompts/mine/`, {
      query: { target_class: targetClass },
    });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/** A prompt's mask (its latest version), checked against the image size. */
export async function loadPromptMask(prompt: Prompt, width: number, height: number): Promise<Mask> {
  const mask = rleToMask(await api.promptMaskRle(prompt.id, prompt.version));
  if (mask.width !== width || mask.height !== height) {
    throw new Error(
      `the stored prompt is ${mask.width}x${mask.height}, the image ${width}x${height}`,
    );
  }
  return mask;
}

/** A saved selection (its name and frozen image ids, in the selection's order). */
export function loadSelection(selectionId: number): Promise<Selection> {
  return request<Selection>(`selections/${selectionId}/`);
}

/** One page of a saved selection's images, in the selection's order. */
export async function loadSelectionImages(
  selectionId: number,
  page: { page: number; page_size: number },
): Promise<Paginated<Image>> {
  return asPage(
    await request<Image[] | Paginated<Image>>(`selections/${selectionId}/images/`, { query: page }),
  );
}

/** Sends one prompt save and classifies the answer for the autosaver. */
export async function savePrompt(
  imageId: number,
  targetClass: string,
  snapshot: Snapshot,
  baseVersion: number,
  options: { keepalive?: boolean } = {},
): Promise<SaveOutcome> {
  const query: Record<string, string | number> = { target_class: targetClass };
  if (snapshot.window) {
    query.window_center = snapshot.window.center;
    query.window_width = snapshot.window.width;
  }
  const start = performance.now();
  try {
    const response = await requestRaw(`images/${imageId}/prompts/mine/`, {
      method: "PUT",
      query,
      body: new Blob([snapshot.png as BlobPart], { type: "image/png" }),
      headers: { "Content-Type": "image/png", "If-Match": `"${baseVersion}"` },
      redirectOnAuth: !options.keepalive,
    });
    const prompt = (await response.json()) as Prompt;
    performance.mark("canvas:save", {
      detail: {
        bytes: snapshot.png.length,
        ms: performance.now() - start,
        version: prompt.version,
      },
    });
    return { kind: "saved", prompt };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 0) return { kind: "offline" };
    if (error.status === 409) {
      const detail = error.detail as PromptConflictDetail;
      // Stale against "no accepted version yet" (a draft whose prompt never got saved):
      // there is nothing to choose between, so the save starts the prompt.
      if (detail.current_version === 0 && baseVersion !== 0) {
        return savePrompt(imageId, targetClass, snapshot, 0, options);
      }
      if (!detail.current) {
        const current = await loadMyPrompt(imageId, targetClass);
        if (!current) return { kind: "failed", status: 409, message: error.message, retry: false };
        detail.current = current;
      }
      return { kind: "conflict", detail };
    }
    return {
      kind: "failed",
      status: error.status,
      message: error.message,
      // Server trouble and rate limits pass; a rejected mask or a missing right do not.
      retry: error.status >= 500 || error.status === 429,
    };
  }
}

/** The autosaver's transport for one prompt. */
export function promptTransport(imageId: number, targetClass: string): PromptTransport {
  return { save: (snapshot, base) => savePrompt(imageId, targetClass, snapshot, base) };
}

/** Fetches an image URL and decodes it without colour conversion (pixel values stay exact). */
export async function loadBitmap(url: string, signal?: AbortSignal): Promise<ImageBitmap> {
  const response = await fetch(url, { credentials: "same-origin", signal });
  if (!response.ok)
    throw new ApiError(
      response.status,
      `http_${response.status}`,
      `Loading ${url} failed (${response.status}).`,
    );
  return createImageBitmap(await response.blob(), {
    colorSpaceConversion: "none",
    premultiplyAlpha: "none",
  });
}

/**
 * The image as shown on the canvas, with window / level for grey DICOM: applied in the browser
 * from the original's modality values when the file can be read here, otherwise by re-requesting
 * the server's windowed rendition (debounced by the caller).
 */
export interface ImageDisplay {
  /** Current rendition. */
  source: CanvasImageSource;
  /** "client": windowing is instant; "server": each window is a request; null: not DICOM. */
  windowing: "client" | "server" | null;
  /** Renders another window; resolves to the new source (same canvas when client-side). */
  setWindow(window: DisplayWindow, signal?: AbortSignal): Promise<CanvasImageSource>;
  dispose(): void;
}

/** Opens the display of an image at a window (ignored for non-DICOM images). */
export async function openDisplay(
  image: ImageDetail,
  window: DisplayWindow | null,
): Promise<ImageDisplay> {
  if (image.is_dicom && window) {
    try {
      return await clientDicomDisplay(image, window);
    } catch (error) {
      if (!(error instanceof UnsupportedDicom))
        console.warn("browser windowing unavailable:", error);
    }
    const serverWindowed = (w: DisplayWindow, signal?: AbortSignal) =>
      loadBitmap(
        `${image.display_url}${image.display_url.includes("?") ? "&" : "?"}${windowQuery(w)}`,
        signal,
      );
    const display: ImageDisplay = {
      source: await serverWindowed(window),
      windowing: "server",
      async setWindow(w, signal) {
        const next = await serverWindowed(w, signal);
        if (signal?.aborted) {
          next.close();
          return display.source;
        }
        // The caller shows `next` before the next frame, so the old rendition is never drawn again.
        (display.source as ImageBitmap).close();
        display.source = next;
        return next;
      },
      dispose: () => (display.source as ImageBitmap).close(),
    };
    return display;
  }
  const bitmap = await loadBitmap(image.display_url);
  return {
    source: bitmap,
    windowing: null,
    setWindow: async () => bitmap,
    dispose: () => bitmap.close(),
  };
}

async function clientDicomDisplay(
  image: ImageDetail,
  window: DisplayWindow,
): Promise<ImageDisplay> {
  const response = await fetch(image.original_url, { credentials: "same-origin" });
  if (!response.ok) throw new UnsupportedDicom(`original answered ${response.status}`);
  const frame = readDicomFrame(await response.arrayBuffer(), image.frame_index);
  if (frame.width !== image.width || frame.height !== image.height) {
    throw new UnsupportedDicom("frame size differs from the image record");
  }
  const canvas = document.createElement("canvas");
  canvas.width = frame.width;
  canvas.height = frame.height;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new UnsupportedDicom("2D canvas unavailable");
  const pixels = ctx.createImageData(frame.width, frame.height);
  const render = (w: DisplayWindow) => {
    windowToRgba(frame.values, w, pixels.data, frame.invert);
    ctx.putImageData(pixels, 0, 0);
    return canvas;
  };
  render(window);
  return {
    source: canvas,
    windowing: "client",
    setWindow: async (w) => render(w),
    dispose: () => undefined,
  };
}

interface ModelVersionRow {
  id: number;
  is_active: boolean;
}

interface ArtifactRow {
  target_class?: string;
  prompt_version_number?: number;
  url: string;
}

async function listRows<T>(path: string, query: Record<string, string | number>): Promise<T[]> {
  const data = await request<T[] | { results: T[] }>(path, { query: { ...query, page_size: 100 } });
  return Array.isArray(data) ? data : data.results;
}

/**
 * Grey-map URLs of the project's active model version for this image: its Grad-CAM for the
 * target class and, when the annotator's prompt has one, the refined prompt t(D) (latest for the
 * prompt's current version first). Null where there is none, or the modeling API is unavailable.
 */
export async function loadModelOverlays(
  projectId: number,
  imageId: number,
  targetClass: string,
  prompt: Prompt | null,
): Promise<{ gradcam: string | null; refined: string | null }> {
  const none = { gradcam: null, refined: null };
  try {
    const versions = await listRows<ModelVersionRow>("model-versions/", { project: projectId });
    const active = versions.find((v) => v.is_active);
    if (!active) return none;
    const maps = await listRows<ArtifactRow>(`model-versions/${active.id}/explanations/`, {
      image: imageId,
      method: "gradcam",
    });
    const gradcam = (maps.find((m) => m.target_class === targetClass) ?? maps[0])?.url ?? null;
    let refined: string | null = null;
    if (prompt) {
      const rows = await listRows<ArtifactRow>(`model-versions/${active.id}/refined-prompts/`, {
        image: imageId,
        prompt: prompt.id,
      });
      refined =
        (rows.find((r) => r.prompt_version_number === prompt.version) ?? rows[rows.length - 1])
          ?.url ?? null;
    }
    return { gradcam, refined };
  } catch {
    return none;
  }
}
