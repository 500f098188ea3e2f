// The prompt canvas of one image and target class: wires the editor (canvas/editor.ts), the
// autosaver (canvas/saver.ts), the display (window / level) and the queue to the page's panels
// and keys. Mounted once per (image, class): moving on remounts it, so nothing leaks between
// images.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { draftKey } from "../../canvas/drafts";
import { CanvasEditor, type EditorState } from "../../canvas/editor";
import { actionFor, isTyping } from "../../canvas/keymap";
import { encodeGreyPng } from "../../canvas/png";
import type { QueueFilters } from "../../canvas/queue";
import { AutoSaver, type SaveStatus } from "../../canvas/saver";
import { windowPresets } from "../../canvas/windowing";
import { errorMessage } from "../../components/Status";
import { navigate } from "../../router";
import type { ImageDetail, Project, User } from "../../types";
import { ConflictDialog, HelpOverlay } from "./Dialogs";
import {
  type ImageDisplay,
  loadModelOverlays,
  loadMyPrompt,
  loadPromptMask,
  openDisplay,
  promptTransport,
} from "./io";
import {
  annotateHref,
  drafts,
  pendingDraft,
  promptWindow,
  queueTarget,
  runAction,
  sendOtherDrafts,
  visit,
} from "./session";
import { SaveIndicator, SidePanel } from "./Side";
import { StageBar } from "./StageBar";
import { ToolPanel, WindowControls } from "./Tools";
import { useConflict } from "./useConflict";
import { useDisplayWindow } from "./useDisplayWindow";
import { useOverlays } from "./useOverlays";

export interface WorkspaceProps {
  image: ImageDetail;
  project: Project;
  user: User;
  targetClass: string;
  filters: QueueFilters;
  /** A row above the columns (the selection being worked through), if any. */
  header?: ComponentChildren;
}

export function Workspace(props: WorkspaceProps) {
  const { image, project, user, targetClass } = props;
  const canEdit = project.my_role === "admin" || project.my_role === "annotator";
  const projectWindow = { center: project.window_center, width: project.window_width };
  const presets = windowPresets(projectWindow);

  const stageRef = useRef<HTMLDivElement>(null);
  const editorRef = useRef<CanvasEditor | null>(null);
  const saverRef = useRef<AutoSaver | null>(null);
  const displayRef = useRef<ImageDisplay | null>(null);

  const [editorState, setEditorState] = useState<EditorState | null>(null);
  const [status, setStatus] = useState<SaveStatus>("saved");
  const [version, setVersion] = useState(0);
  const [savedBytes, setSavedBytes] = useState(0);
  const [phase, setPhase] = useState<"loading" | "ready" | "failed">("loading");
  const [failure, setFailure] = useState<unknown>(null);
  const [help, setHelp] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [navigating, setNavigating] = useState(false);
  const [queueMessage, setQueueMessage] = useState<string | null>(null);
  const overlays = useOverlays(image, project, editorRef);
  const displayWindow = useDisplayWindow(image, editorRef, displayRef, setNotice);
  const windowRef = displayWindow.ref;
  const applyWindow = displayWindow.apply;

  const { conflict, ...resolve } = useConflict({
    image,
    canEdit,
    editorRef,
    saverRef,
    applyWindow,
    setVersion,
    setNotice,
  });

  const key = draftKey(user.id, image.id, targetClass);

  /** Puts back edits this browser holds but the server does not, and sends them. */
  const restoreDraft = async (editor: CanvasEditor, saver: AutoSaver): Promise<void> => {
    const pending = await pendingDraft(key, editor.getMask());
    if (!pending) return;
    editor.setMask(pending.mask);
    saver.baseVersion = pending.draft.baseVersion;
    if (pending.draft.window && image.is_dicom) applyWindow(pending.draft.window, true);
    setNotice("Changes not yet sent from this browser were restored and are being saved.");
    saver.edited();
    void saver.flush();
  };

  useEffect(() => {
    const stage = stageRef.current;
    if (!stage) return;
    let disposed = false;
    const editor = new CanvasEditor(stage, {
      onState: setEditorState,
      onEdit: () => saverRef.current?.edited(),
      onWindowDrag: (w, done) => applyWindow(w, done),
      currentWindow: () => windowRef.current,
    });
    editorRef.current = editor;
    editor.setReadOnly(true);
    (async () => {
      const prompt = await loadMyPrompt(image.id, targetClass);
      const imageWindow =
        image.window_center !== null && image.window_width !== null
          ? { center: image.window_center, width: image.window_width }
          : null;
      const initialWindow = image.is_dicom
        ? (promptWindow(prompt) ?? imageWindow ?? projectWindow)
        : null;
      const [display, mask] = await Promise.all([
        openDisplay(image, initialWindow),
        prompt ? loadPromptMask(prompt, image.width, image.height) : Promise.resolve(null),
      ]);
      if (disposed) {
        display.dispose();
        return;
      }
      displayRef.current = display;
      displayWindow.init(initialWindow);
      editor.setImage(display.source, image.width, image.height);
      if (mask) editor.setMask(mask);
      const saver = new AutoSaver({
        key,
        baseVersion: prompt?.version ?? 0,
        transport: promptTransport(image.id, targetClass),
        drafts,
        // The window in use when a save is sent goes with it; a window change alone saves nothing.
        snapshot: async () => ({
          png: await encodeGreyPng(editor.getMask().data, image.width, image.height),
          window: windowRef.current,
        }),
        onStatus: setStatus,
        onSaved: (saved) => {
          setVersion(saved.version);
          setSavedBytes(saver.lastSavedBytes);
        },
        onConflict: (detail) => resolve.open(detail),
        isOnline: () => navigator.onLine,
      });
      saverRef.current = saver;
      setVersion(prompt?.version ?? 0);
      editor.setReadOnly(!canEdit);
      setPhase("ready");
      void loadModelOverlays(project.id, image.id, targetClass, prompt).then((urls) => {
        if (!disposed) overlays.setUrls(urls);
      });
      if (canEdit) {
        await restoreDraft(editor, saver);
        sendOtherDrafts(user, key);
      }
    })().catch((error: unknown) => {
      if (disposed) return;
      setFailure(error);
      setPhase("failed");
    });
    return () => {
      disposed = true;
      const saver = saverRef.current;
      // Leaving the image saves; the saver outlives the page until its last request ends.
      if (saver) void saver.flush().finally(() => saver.dispose());
      displayRef.current?.dispose();
      editor.destroy();
    };
  }, []);

  useEffect(() => {
    visit(image.id);
    const online = () => {
      saverRef.current?.connectionRestored();
      sendOtherDrafts(user, key);
    };
    const beforeUnload = (e: BeforeUnloadEvent) => {
      const saver = saverRef.current;
      if (saver?.dirty && saver.status !== "offline") {
        void saver.flush();
        e.preventDefault();
      }
    };
    const hidden = () => {
      if (document.visibilityState === "hidden") void saverRef.current?.flush();
    };
    window.addEventListener("online", online);
    window.addEventListener("beforeunload", beforeUnload);
    document.addEventListener("visibilitychange", hidden);
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("beforeunload", beforeUnload);
      document.removeEventListener("visibilitychange", hidden);
    };
  }, []);

  /** Saves, then opens the next or previous image of the queue. */
  const go = async (direction: 1 | -1) => {
    if (navigating) return;
    setNavigating(true);
    setQueueMessage(null);
    try {
      await saverRef.current?.flush();
      const target = await queueTarget(image, project, user, props.filters, direction);
      if (target === null) {
        const within = props.filters.selection === null ? "queue" : "selection";
        setQueueMessage(
          direction === 1
            ? `No more images in the ${within} with these filters.`
            : "This is the first image.",
        );
      } else {
        navigate(annotateHref(target, props.filters, null));
      }
    } catch (error) {
      setQueueMessage(`The queue could not be read: ${errorMessage(error)}`);
    } finally {
      setNavigating(false);
    }
  };

  const changeClass = async (name: string) => {
    await saverRef.current?.flush();
    navigate(annotateHref(image.id, props.filters, name));
  };

  const nextWindow = () => {
    const current = windowRef.current;
    if (!image.is_dicom || !current) return;
    const index = presets.findIndex(
      (p) => p.center === current.center && p.width === current.width,
    );
    const next = presets[(index + 1) % presets.length];
    applyWindow({ center: next.center, width: next.width }, true);
  };

  const keyHandler = useRef<(e: KeyboardEvent) => void>(() => undefined);
  keyHandler.current = (e: KeyboardEvent) => {
    if (isTyping(e.target) || conflict || phase !== "ready") return;
    const action = actionFor(e);
    if (!action) return;
    if (help && action !== "help" && action !== "cancel") return;
    e.preventDefault();
    const editor = editorRef.current;
    if (!editor) return;
    runAction(action, editor, {
      save: () => void saverRef.current?.flush(),
      go: (direction) => void go(direction),
      toggleOverlay: overlays.toggle,
      nextWindow,
      toggleHelp: () => setHelp((open) => !open),
      closeHelp: () => {
        if (help) setHelp(false);
        return help;
      },
      isDicom: image.is_dicom,
    });
  };
  useEffect(() => {
    const listener = (e: KeyboardEvent) => keyHandler.current(e);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);

  const editor = editorRef.current;
  const saver = saverRef.current;
  return (
    <div class="annotate" data-phase={phase}>
      {props.header}
      {editorState && editor ? (
        <ToolPanel
          state={editorState}
          isDicom={image.is_dicom}
          overlays={overlays.list}
          onCode={(c) => editor.setCode(c)}
          onTool={(t) => editor.setTool(t)}
          onBrushSize={(s) => editor.setBrushSize(s)}
          onOpacity={(o) => editor.setOpacity(o)}
          onFillRest={() => editor.fillRest()}
          onClear={() => editor.clear()}
          onUndo={() => editor.undo()}
          onRedo={() => editor.redo()}
          onTogglePrompt={() => editor.setPromptVisible(!editorState.promptVisible)}
          onToggleOverlay={overlays.toggle}
        />
      ) : (
        <aside class="annotate-tools" aria-label="Tools" />
      )}
      <section class="annotate-stage-wrap" aria-label="Canvas">
        <div class="annotate-stage" ref={stageRef} data-testid="stage" />
        {phase === "loading" && (
          <div class="stage-message" role="status">
            Loading image and prompt…
          </div>
        )}
        {phase === "failed" && (
          <div class="stage-message stage-error" role="alert">
            This image could not be opened: {errorMessage(failure)}
          </div>
        )}
        {editorState && editor && (
          <StageBar state={editorState} editor={editor} width={image.width} height={image.height} />
        )}
      </section>
      <SidePanel
        image={image}
        project={project}
        targetClass={targetClass}
        onTargetClass={(name) => void changeClass(name)}
        display={
          image.is_dicom &&
          displayWindow.value && (
            <WindowControls
              window={displayWindow.value}
              presets={presets}
              windowing={displayRef.current?.windowing ?? null}
              onWindow={(w) => applyWindow(w, true)}
            />
          )
        }
        save={
          <SaveIndicator
            status={status}
            version={version}
            bytes={savedBytes}
            error={saver?.lastError ?? null}
            readOnly={!canEdit}
          />
        }
        filters={props.filters}
        onFilters={(filters) =>
          navigate(annotateHref(image.id, filters, targetClass), { replace: true })
        }
        onPrevious={() => void go(-1)}
        onNext={() => void go(1)}
        navigating={navigating}
        queueMessage={queueMessage}
        onHelp={() => setHelp(true)}
        notice={
          notice && (
            <p class="hint notice" role="status">
              {notice}{" "}
              <button type="button" class="link-button" onClick={() => setNotice(null)}>
                Dismiss
              </button>
            </p>
          )
        }
      />
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
      {conflict && (
        <ConflictDialog
          image={displayRef.current?.source ?? null}
          mine={conflict.mine}
          theirs={conflict.theirs}
          current={conflict.detail.current}
          busy={conflict.busy}
          onKeepMine={() => void resolve.keepMine()}
          onTakeTheirs={() => void resolve.takeTheirs()}
        />
      )}
    </div>
  );
}
