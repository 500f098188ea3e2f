// Non-visual parts of the annotate page: the draft store, the trail of visited images, queue
// moves, overlay sources, and the mapping from keyboard actions to editor calls.

import { api } from "../../api";
import type { CanvasEditor, Tool } from "../../canvas/editor";
import { defaultDraftStore, type Draft, sendPendingDrafts } from "../../canvas/drafts";
import type { Action } from "../../canvas/keymap";
import {
  IMPORTANT,
  type Mask,
  maskFromBytes,
  masksEqual,
  UNCLEAR,
  UNIMPORTANT,
} from "../../canvas/mask";
import type { OverlaySource } from "../../canvas/overlays";
import { decodePng } from "../../canvas/png";
import { type QueueFilters, type QueueSource, queueSearch, queueStep } from "../../canvas/queue";
import type { DisplayWindow } from "../../canvas/windowing";
import type { ImageDetail, Project, Prompt, User } from "../../types";
import { loadSelectionImages, savePrompt } from "./io";

/** Unsent edits, shared by every prompt of this browser (IndexedDB). */
export const drafts = defaultDraftStore();

const TRAIL_KEY = "sightline.annotate.trail";

/** Images visited in this tab, oldest first (the "previous" of the queue). */
export function readTrail(): number[] {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(TRAIL_KEY) ?? "[]");
    return Array.isArray(value) ? value.filter((n): n is number => typeof n === "number") : [];
  } catch {
    return [];
  }
}

export function writeTrail(trail: number[]): void {
  sessionStorage.setItem(TRAIL_KEY, JSON.stringify(trail.slice(-500)));
}

/** Appends an image to the trail unless it is already the last one. */
export function visit(imageId: number): void {
  const trail = readTrail();
  if (trail[trail.length - 1] !== imageId) writeTrail([...trail, imageId]);
}

/**
 * The image to open for "next" (1) or "previous" (-1) (see `queueStep`), keeping the tab's trail
 * in step. Null at the end of the queue.
 */
export async function queueTarget(
  image: ImageDetail,
  project: Project,
  user: User,
  filters: QueueFilters,
  direction: 1 | -1,
): Promise<number | null> {
  const source: QueueSource = {
    images: (f) => api.images(project.id, f),
    selectionImages: loadSelectionImages,
  };
  const trail = readTrail();
  const step = await queueStep(source, filters, user.username, image.id, direction, trail);
  if (step.trail !== trail) writeTrail([...step.trail]);
  return step.target;
}

/** The class a prompt is drawn for: asked for, else the image's label, else the positive class. */
export function chooseTargetClass(
  asked: string | null,
  image: ImageDetail,
  project: Project,
): string {
  if (asked && project.class_names.includes(asked)) return asked;
  if (image.label && project.class_names.includes(image.label)) return image.label;
  return project.positive_class;
}

/** The annotate URL of an image with the queue filters (and a target class, if given). */
export function annotateHref(
  imageId: number,
  filters: QueueFilters,
  targetClass: string | null,
): string {
  const params = new URLSearchParams(queueSearch(filters));
  if (targetClass) params.set("class", targetClass);
  const qs = params.toString();
  return `/images/${imageId}/annotate${qs ? `?${qs}` : ""}`;
}

/**
 * The overlay layers. Model maps start without a URL (toggle hidden) and get one once the active
 * model version's artifacts are looked up; the ground truth is for reviewers and admins.
 */
export function overlaySources(image: ImageDetail, project: Project): OverlaySource[] {
  const mayReview = project.my_role === "admin" || project.my_role === "reviewer";
  return [
    { key: "gradcam", label: "Grad-CAM (active model)", shortcut: "G", url: null, kind: "heatmap" },
    { key: "refined", label: "Refined prompt t(D)", shortcut: "T", url: null, kind: "heatmap" },
    {
      key: "truth",
      label: "Ground truth",
      shortcut: "K",
      url: mayReview && image.has_explanation ? `/api/v1/images/${image.id}/explanation/` : null,
      kind: "outline",
    },
  ];
}

/** The window a prompt was drawn with, if it has one. */
export function promptWindow(prompt: Prompt | null): DisplayWindow | null {
  return prompt && prompt.window_center !== null && prompt.window_width !== null
    ? { center: prompt.window_center, width: prompt.window_width }
    : null;
}

/**
 * The unsent draft of a prompt, when it differs from what the server holds (`current`); a draft
 * that is unreadable, of another size, or already saved is removed.
 */
export async function pendingDraft(
  key: string,
  current: Mask,
): Promise<{ draft: Draft; mask: Mask } | null> {
  const draft = await drafts.get(key).catch(() => undefined);
  if (!draft) return null;
  try {
    const decoded = await decodePng(draft.png);
    const mask = maskFromBytes(decoded.width, decoded.height, decoded.data);
    if (
      mask.width === current.width &&
      mask.height === current.height &&
      !masksEqual(mask, current)
    ) {
      return { draft, mask };
    }
  } catch {
    // Unreadable: nothing to restore.
  }
  await drafts.delete(key).catch(() => undefined);
  return null;
}

/** Sends the user's drafts of other images (left there while offline). */
export function sendOtherDrafts(user: User, skipKey: string): void {
  const send = async (imageId: number, cls: string, draft: Draft) =>
    (await savePrompt(imageId, cls, { png: draft.png, window: draft.window }, draft.baseVersion))
      .kind === "saved";
  void sendPendingDrafts(drafts, user.id, send, skipKey).catch(() => undefined);
}

/** What keyboard actions need besides the editor. */
export interface ActionHandlers {
  save: () => void;
  go: (direction: 1 | -1) => void;
  toggleOverlay: (key: string) => void;
  nextWindow: () => void;
  toggleHelp: () => void;
  /** Escape: closes the help when open; true when it did. */
  closeHelp: () => boolean;
  isDicom: boolean;
}

const TOOLS: Partial<Record<Action, Tool>> = {
  "tool-brush": "brush",
  "tool-polygon": "polygon",
  "tool-fill": "fill",
  "tool-rect": "rect",
};

const OVERLAY_KEYS: Partial<Record<Action, string>> = {
  "toggle-gradcam": "gradcam",
  "toggle-refined": "refined",
  "toggle-truth": "truth",
};

/** Performs a keyboard action. */
export function runAction(action: Action, editor: CanvasEditor, on: ActionHandlers): void {
  const state = editor.state();
  const tool = TOOLS[action];
  if (tool) return editor.setTool(tool);
  const overlay = OVERLAY_KEYS[action];
  if (overlay) return on.toggleOverlay(overlay);
  switch (action) {
    case "value-important":
      return editor.setCode(IMPORTANT);
    case "value-unimportant":
      return editor.setCode(UNIMPORTANT);
    case "value-unclear":
      return editor.setCode(UNCLEAR);
    case "swap-values":
      return editor.setCode(state.code === IMPORTANT ? UNIMPORTANT : IMPORTANT);
    case "tool-window":
      return on.isDicom ? editor.setTool("window") : undefined;
    case "fill-rest":
      return editor.fillRest();
    case "clear":
      return editor.clear();
    case "brush-smaller":
      return editor.stepBrush(-1);
    case "brush-larger":
      return editor.stepBrush(1);
    case "undo":
      return editor.undo();
    case "redo":
      return editor.redo();
    case "save":
      return on.save();
    case "next-image":
      return on.go(1);
    case "previous-image":
      return on.go(-1);
    case "toggle-prompt":
      return editor.setPromptVisible(!state.promptVisible);
    case "opacity-down":
      return editor.setOpacity(state.opacity - 0.1);
    case "opacity-up":
      return editor.setOpacity(state.opacity + 0.1);
    case "fit":
      return editor.fit();
    case "zoom-in":
      return editor.zoomBy(1.25);
    case "zoom-out":
      return editor.zoomBy(0.8);
    case "next-window":
      return on.nextWindow();
    case "help":
      return on.toggleHelp();
    case "cancel":
      return void (on.closeHelp() || editor.cancel());
    case "commit":
      return editor.commitPolygon();
    default:
      return undefined;
  }
}
