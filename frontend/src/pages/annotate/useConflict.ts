// A save conflict of the prompt canvas: another tab or person saved this prompt since the drawing
// began. The editor is read only while the annotator compares both versions and keeps one.

import type { RefObject } from "preact";
import { useState } from "preact/hooks";
import type { CanvasEditor } from "../../canvas/editor";
import { cloneMask, type Mask } from "../../canvas/mask";
import type { AutoSaver } from "../../canvas/saver";
import type { DisplayWindow } from "../../canvas/windowing";
import { errorMessage } from "../../components/Status";
import type { ImageDetail, PromptConflictDetail } from "../../types";
import { loadPromptMask } from "./io";
import { promptWindow } from "./session";

export interface ConflictState {
  detail: PromptConflictDetail;
  /** The drawing in this tab when the conflict arose. */
  mine: Mask;
  /** The saved version, once loaded. */
  theirs: Mask | null;
  busy: boolean;
}

export interface ConflictContext {
  image: ImageDetail;
  canEdit: boolean;
  editorRef: RefObject<CanvasEditor | null>;
  saverRef: RefObject<AutoSaver | null>;
  applyWindow: (window: DisplayWindow, done: boolean) => void;
  setVersion: (version: number) => void;
  setNotice: (notice: string) => void;
}

export interface Conflict {
  /** The conflict being resolved, or null. */
  conflict: ConflictState | null;
  /** Opens the comparison (the autosaver's `onConflict`). */
  open: (detail: PromptConflictDetail) => void;
  keepMine: () => Promise<void>;
  takeTheirs: () => Promise<void>;
}

/** The conflict being resolved (null when none) and the ways out of it. */
export function useConflict(context: ConflictContext): Conflict {
  const { image, canEdit, editorRef, saverRef } = context;
  const [conflict, setConflict] = useState<ConflictState | null>(null);

  const open = (detail: PromptConflictDetail): void => {
    const editor = editorRef.current;
    if (!editor) return;
    editor.setReadOnly(true);
    setConflict({ detail, mine: cloneMask(editor.getMask()), theirs: null, busy: false });
    loadPromptMask(detail.current, image.width, image.height).then(
      (theirs) => setConflict((c) => (c && c.detail === detail ? { ...c, theirs } : c)),
      (error: unknown) =>
        context.setNotice(`The other version could not be loaded: ${errorMessage(error)}`),
    );
  };

  const keepMine = async (): Promise<void> => {
    const c = conflict;
    const saver = saverRef.current;
    if (!c || !saver) return;
    setConflict({ ...c, busy: true });
    await saver.keepMine(c.detail.current_version);
    setConflict(null);
    editorRef.current?.setReadOnly(!canEdit);
  };

  const takeTheirs = async (): Promise<void> => {
    const c = conflict;
    const saver = saverRef.current;
    const editor = editorRef.current;
    if (!c?.theirs || !saver || !editor) return;
    editor.setMask(c.theirs);
    await saver.takeTheirs(c.detail.current.version);
    context.setVersion(c.detail.current.version);
    const theirWindow = promptWindow(c.detail.current);
    if (image.is_dicom && theirWindow) context.applyWindow(theirWindow, true);
    setConflict(null);
    editor.setReadOnly(!canEdit);
  };

  return { conflict, open, keepMine, takeTheirs };
}
