/**
 * Keyboard bindings of the prompt canvas: one table drives both the key handler and the help
 * overlay, so the help can never disagree with the keys. Also which focused elements keep keys
 * for themselves (a text field types, a button takes the space bar).
 */

export type Action =
  | "value-important"
  | "value-unimportant"
  | "value-unclear"
  | "swap-values"
  | "tool-brush"
  | "tool-polygon"
  | "tool-fill"
  | "tool-rect"
  | "tool-window"
  | "fill-rest"
  | "clear"
  | "brush-smaller"
  | "brush-larger"
  | "undo"
  | "redo"
  | "next-image"
  | "previous-image"
  | "save"
  | "toggle-prompt"
  | "toggle-gradcam"
  | "toggle-refined"
  | "toggle-truth"
  | "opacity-down"
  | "opacity-up"
  | "fit"
  | "zoom-in"
  | "zoom-out"
  | "next-window"
  | "help"
  | "cancel"
  | "commit";

/** A key with modifiers; `shift` undefined means "either" (for keys shift changes, like "?"). */
export interface Chord {
  key: string;
  ctrl?: boolean;
  alt?: boolean;
  shift?: boolean;
}

export interface Binding {
  action: Action;
  chords: Chord[];
  label: string;
  group: "Paint" | "Tools" | "History" | "Images" | "View" | "Overlays";
}

/** Ordered: a binding with a shift modifier comes before the same key without. */
export const BINDINGS: readonly Binding[] = [
  { action: "value-important", chords: [{ key: "1" }], label: "Paint important", group: "Paint" },
  {
    action: "value-unimportant",
    chords: [{ key: "2" }],
    label: "Paint unimportant",
    group: "Paint",
  },
  {
    action: "value-unclear",
    chords: [{ key: "3" }, { key: "e", shift: false }],
    label: "Eraser (back to unclear)",
    group: "Paint",
  },
  {
    action: "swap-values",
    chords: [{ key: "x", shift: false }],
    label: "Swap important / unimportant",
    group: "Paint",
  },
  { action: "brush-smaller", chords: [{ key: "[" }], label: "Smaller brush", group: "Paint" },
  { action: "brush-larger", chords: [{ key: "]" }], label: "Larger brush", group: "Paint" },
  { action: "tool-brush", chords: [{ key: "b", shift: false }], label: "Brush", group: "Tools" },
  {
    action: "tool-polygon",
    chords: [{ key: "l", shift: false }],
    label: "Polygon / lasso fill (click points, or drag)",
    group: "Tools",
  },
  {
    action: "fill-rest",
    chords: [{ key: "f", shift: true }],
    label: "Fill the rest (all unclear pixels)",
    group: "Tools",
  },
  {
    action: "tool-fill",
    chords: [{ key: "f", shift: false }],
    label: "Flood fill a connected region",
    group: "Tools",
  },
  { action: "tool-rect", chords: [{ key: "r", shift: false }], label: "Rectangle", group: "Tools" },
  {
    action: "next-window",
    chords: [{ key: "w", shift: true }],
    label: "Next window preset (DICOM)",
    group: "View",
  },
  {
    action: "tool-window",
    chords: [{ key: "w", shift: false }],
    label: "Window / level: drag (DICOM)",
    group: "Tools",
  },
  {
    action: "clear",
    chords: [
      { key: "Delete", shift: true },
      { key: "Backspace", shift: true },
    ],
    label: "Clear the prompt",
    group: "Tools",
  },
  { action: "commit", chords: [{ key: "Enter" }], label: "Close the polygon", group: "Tools" },
  {
    action: "cancel",
    chords: [{ key: "Escape" }],
    label: "Cancel the shape / close dialogs",
    group: "Tools",
  },
  {
    action: "redo",
    chords: [
      { key: "z", ctrl: true, shift: true },
      { key: "y", ctrl: true },
    ],
    label: "Redo",
    group: "History",
  },
  {
    action: "undo",
    chords: [{ key: "z", ctrl: true, shift: false }],
    label: "Undo (whole strokes)",
    group: "History",
  },
  { action: "save", chords: [{ key: "s", ctrl: true }], label: "Save now", group: "History" },
  {
    action: "next-image",
    chords: [{ key: "n", shift: false }],
    label: "Next image in the queue",
    group: "Images",
  },
  {
    action: "previous-image",
    chords: [{ key: "p", shift: false }],
    label: "Previous image",
    group: "Images",
  },
  {
    action: "toggle-prompt",
    chords: [{ key: "m", shift: false }],
    label: "Show / hide the prompt",
    group: "Overlays",
  },
  {
    action: "toggle-gradcam",
    chords: [{ key: "g", shift: false }],
    label: "Grad-CAM of the active model",
    group: "Overlays",
  },
  {
    action: "toggle-refined",
    chords: [{ key: "t", shift: false }],
    label: "Refined prompt t(D)",
    group: "Overlays",
  },
  {
    action: "toggle-truth",
    chords: [{ key: "k", shift: false }],
    label: "Ground-truth explanation",
    group: "Overlays",
  },
  {
    action: "opacity-down",
    chords: [{ key: "," }],
    label: "Less opaque prompt",
    group: "Overlays",
  },
  { action: "opacity-up", chords: [{ key: "." }], label: "More opaque prompt", group: "Overlays" },
  { action: "fit", chords: [{ key: "0" }], label: "Fit to screen", group: "View" },
  {
    action: "zoom-in",
    chords: [{ key: "=" }, { key: "+" }],
    label: "Zoom in (or wheel)",
    group: "View",
  },
  { action: "zoom-out", chords: [{ key: "-" }], label: "Zoom out (or wheel)", group: "View" },
  {
    action: "help",
    chords: [{ key: "?" }, { key: "h", shift: false }],
    label: "This help",
    group: "View",
  },
];

/** The part of a KeyboardEvent the matcher reads. */
export interface KeyInput {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

function matches(chord: Chord, input: KeyInput): boolean {
  const ctrl = input.ctrlKey || input.metaKey;
  if (Boolean(chord.ctrl) !== ctrl || Boolean(chord.alt) !== input.altKey) return false;
  if (chord.shift !== undefined && chord.shift !== input.shiftKey) return false;
  return chord.key.length === 1
    ? chord.key.toLowerCase() === input.key.toLowerCase()
    : chord.key === input.key;
}

/** The action bound to a key press, or null. */
export function actionFor(input: KeyInput): Action | null {
  for (const binding of BINDINGS) {
    if (binding.chords.some((chord) => matches(chord, input))) return binding.action;
  }
  return null;
}

const isMac = (): boolean =>
  typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);

/** How a chord is written in the help ("Ctrl+Shift+Z", "⌘+S" on macOS). */
export function chordLabel(chord: Chord): string {
  const parts: string[] = [];
  if (chord.ctrl) parts.push(isMac() ? "⌘" : "Ctrl");
  if (chord.alt) parts.push(isMac() ? "⌥" : "Alt");
  if (chord.shift) parts.push("Shift");
  const names: Record<string, string> = {
    Delete: "Del",
    Backspace: "⌫",
    Escape: "Esc",
    " ": "Space",
  };
  parts.push(names[chord.key] ?? (chord.key.length === 1 ? chord.key.toUpperCase() : chord.key));
  return parts.join("+");
}

/** Whether an element handles the space bar itself (buttons, fields, links). */
export function isInteractive(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return (
    target.isContentEditable ||
    ["BUTTON", "INPUT", "SELECT", "TEXTAREA", "A"].includes(target.tagName)
  );
}

/** Whether a key event comes from a text field (keys then type instead of acting). */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  if (target.isContentEditable || tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target as HTMLInputElement).type;
  return !["checkbox", "radio", "range", "button", "submit"].includes(type);
}
