// The prompt canvas of one image and target class: wires the editor (canvas/editor.ts), the
// autosaver (canvas/saver.ts), the display (window / level) and the queue to the page's panels
// and keys. Mounted once per (image, class): moving on remounts it, so nothing leaks between
// images.

import { useEffect, useRef, useState } from "preact/hooks";
import { CanvasEditor, type EditorState, isTyping, type Tool } from "../../canvas/editor";
import { defaultDraftStore, type Draft, draftKey, sendPendingDrafts } from "../../canvas/drafts";
import { type Action, actionFor } from "../../canvas/keymap";
import { cloneMask, IMPORTANT, type Mask, maskFromBytes, masksEqual, UNCLEAR, UNIMPORTANT } from "../../canvas/mask";
import { loadOverlay, type OverlaySource } from "../../canvas/overlays";
import { decodePng, encodeGreyPng } from "../../canvas/png";
import { type QueueFilters, neighbourIn, queueItems, queueSearch } from "../../canvas/queue";
import { AutoSaver, type SaveStatus } from "../../canvas/saver";
import { type DisplayWindow, windowPresets } from "../../canvas/windowing";
import { api } from "../../api";
import { errorMessage } from "../../components/Status";
import { navigate } from "../../router";
import type { ImageDetail, Project, Prompt, PromptConflictDetail, User } from "../../types";
import { ConflictDialog, HelpOverlay } from "./Dialogs";
import { type ImageDisplay, loadMyPrompt, loadPromptMask, openDisplay, promptTransport, savePrompt } from "./io";
import { SaveIndicator, SidePanel } from "./Side";
import { type OverlayToggle, ToolPanel, WindowControls } from "./Tools";
import { StageBar } from "./StageBar";

export interface WorkspaceProps {
  image: ImageDetail;
  project: Project;
  user: User;
  targetClass: string;
  filters: QueueFilters;
}

const drafts = defaultDraftStore();
const TRAIL_KEY = "sightline.annotate.trail";

function readTrail(): number[] {
  try {
    const value = JSON.parse(sessionStorage.getItem(TRAIL_KEY) ?? "[]");
    return Array.isArray(value) ? value.filter((n) => typeof n === "number") : [];
  } catch {
    return [];
  }
}

function writeTrail(trail: number[]): void {
  sessionStorage.setItem(TRAIL_KEY, JSON.stringify(trail.slice(-500)));
}

/** Optional grey-map URLs a later jobs API attaches to the image detail. */
function optionalUrl(image: ImageDetail, field: string): string | null {
  const value = (image as unknown as Record<string, unknown>)[field];
  return typeof value === "string" && value ? value : null;
}

function overlaySources(image: ImageDetail, project: Project): OverlaySource[] {
  const mayReview = project.my_role === "admin" || project.my_role === "reviewer";
  return [
    { key: "gradcam", label: "Grad-CAM (active model)", shortcut: "G", url: optionalUrl(image, "gradcam_url"), kind: "heatmap" },
    { key: "refined", label: "Refined prompt t(D)", shortcut: "T", url: optionalUrl(image, "refined_prompt_url"), kind: "heatmap" },
    {
      key: "truth",
      label: "Ground truth",
      shortcut: "K",
      url: mayReview && image.has_explanation ? `/api/v1/images/${image.id}/explanation/` : null,
      kind: "outline",
    },
  ];
}

function promptWindow(prompt: Prompt | null): DisplayWindow | null {
  return prompt && prompt.window_center !== null && prompt.window_width !== null
    ? { center: prompt.window_center, width: prompt.window_width }
    : null;
}

interface ConflictState {
  detail: PromptConflictDetail;
  mine: Mask;
  theirs: Mask | null;
  busy: boolean;
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
  const windowRef = useRef<DisplayWindow | null>(null);
  const windowRequest = useRef<{ timer: number; abort: AbortController | null; frame: number }>({ timer: 0, abort: null, frame: 0 });

  const [editorState, setEditorState] = useState<EditorState | null>(null);
  const [status, setStatus] = useState<SaveStatus>("saved");
  const [version, setVersion] = useState(0);
  const [savedBytes, setSavedBytes] = useState(0);
  const [phase, setPhase] = useState<"loading" | "ready" | "failed">("loading");
  const [failure, setFailure] = useState<unknown>(null);
  const [window_, setWindow] = useState<DisplayWindow | null>(null);
  const [overlays, setOverlays] = useState<OverlayToggle[]>(() =>
    overlaySources(image, project).map((o) => ({ ...o, visible: false, loading: false, error: null })),
  );
  const [conflict, setConflict] = useState<ConflictState | null>(null);
  const [help, setHelp] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [navigating, setNavigating] = useState(false);
  const [queueMessage, setQueueMessage] = useState<string | null>(null);
  const loadedOverlays = useRef(new Set<string>());

  const key = draftKey(user.id, image.id, targetClass);

  /** Shows another window: instantly in the browser, or debounced from the server. */
  const applyWindow = (next: DisplayWindow, final: boolean) => {
    windowRef.current = next;
    setWindow(next);
    const display = displayRef.current;
    const editor = editorRef.current;
    if (!display || !editor || !display.windowing) return;
    const pending = windowRequest.current;
    if (display.windowing === "client") {
      if (pending.frame) return;
      pending.frame = requestAnimationFrame(async () => {
        pending.frame = 0;
        const current = windowRef.current;
        if (current) editor.setImage(await display.setWindow(current), image.width, image.height);
      });
      return;
    }
    clearTimeout(pending.timer);
    pending.timer = window.setTimeout(
      async () => {
        pending.abort?.abort();
        const abort = new AbortController();
        pending.abort = abort;
        try {
          editor.setImage(await display.setWindow(next, abort.signal), image.width, image.height);
        } catch (error) {
          if (!abort.signal.aborted) setNotice(`The window could not be applied: ${errorMessage(error)}`);
        }
      },
      final ? 0 : 150,
    );
  };

  const openConflict = (detail: PromptConflictDetail) => {
    const editor = editorRef.current;
    if (!editor) return;
    editor.setReadOnly(true);
    setConflict({ detail, mine: cloneMask(editor.getMask()), theirs: null, busy: false });
    loadPromptMask(detail.current, image.width, image.height).then(
      (theirs) => setConflict((c) => (c && c.detail === detail ? { ...c, theirs } : c)),
      (error: unknown) => setNotice(`The other version could not be loaded: ${errorMessage(error)}`),
    );
  };

  const restoreDraft = async (editor: CanvasEditor, saver: AutoSaver): Promise<void> => {
    const draft = await drafts.get(key).catch(() => undefined);
    if (!draft) return;
    let mask: Mask;
    try {
      const decoded = await decodePng(draft.png);
      mask = maskFromBytes(decoded.width, decoded.height, decoded.data);
    } catch {
      await drafts.delete(key);
      return;
    }
    if (mask.width !== image.width || mask.height !== image.height || masksEqual(mask, editor.getMask())) {
      await drafts.delete(key);
      return;
    }
    editor.setMask(mask);
    saver.baseVersion = draft.baseVersion;
    if (draft.window && image.is_dicom) applyWindow(draft.window, true);
    setNotice("Changes not yet sent from this browser were restored and are being saved.");
    saver.edited();
    void saver.flush();
  };

  const sendOtherDrafts = () => {
    const send = async (imageId: number, cls: string, draft: Draft) =>
      (await savePrompt(imageId, cls, { png: draft.png, window: draft.window }, draft.baseVersion)).kind === "saved";
    void sendPendingDrafts(drafts, user.id, send, key).catch(() => undefined);
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
      const imageWindow = image.window_center !== null && image.window_width !== null ? { center: image.window_center, width: image.window_width } : null;
      const initialWindow = image.is_dicom ? (promptWindow(prompt) ?? imageWindow ?? projectWindow) : null;
      const [display, mask] = await Promise.all([
        openDisplay(image, initialWindow),
        prompt ? loadPromptMask(prompt, image.width, image.height) : Promise.resolve(null),
      ]);
      if (disposed) {
        display.dispose();
        return;
      }
      displayRef.current = display;
      windowRef.current = initialWindow;
      setWindow(initialWindow);
      editor.setImage(display.source, image.width, image.height);
      if (mask) editor.setMask(mask);
      const saver = new AutoSaver({
        key,
        baseVersion: prompt?.version ?? 0,
        transport: promptTransport(image.id, targetClass),
        drafts,
        snapshot: async () => ({ png: await encodeGreyPng(editor.getMask().data, image.width, image.height), window: windowRef.current }),
        onStatus: setStatus,
        onSaved: (saved) => {
          setVersion(saved.version);
          setSavedBytes(saver.lastSavedBytes);
        },
        onConflict: (detail) => openConflict(detail),
        isOnline: () => navigator.onLine,
      });
      saverRef.current = saver;
      setVersion(prompt?.version ?? 0);
      editor.setReadOnly(!canEdit);
      setPhase("ready");
      if (canEdit) {
        await restoreDraft(editor, saver);
        sendOtherDrafts();
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
      cancelAnimationFrame(windowRequest.current.frame);
      clearTimeout(windowRequest.current.timer);
      displayRef.current?.dispose();
      editor.destroy();
    };
  }, []);

  useEffect(() => {
    const trail = readTrail();
    if (trail[trail.length - 1] !== image.id) writeTrail([...trail, image.id]);
    const online = () => {
      saverRef.current?.connectionRestored();
      sendOtherDrafts();
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

  const keepMine = async () => {
    const c = conflict;
    const saver = saverRef.current;
    if (!c || !saver) return;
    setConflict({ ...c, busy: true });
    await saver.keepMine(c.detail.current_version);
    setConflict(null);
    editorRef.current?.setReadOnly(!canEdit);
  };

  const takeTheirs = async () => {
    const c = conflict;
    const saver = saverRef.current;
    const editor = editorRef.current;
    if (!c?.theirs || !saver || !editor) return;
    editor.setMask(c.theirs);
    await saver.takeTheirs(c.detail.current.version);
    setVersion(c.detail.current.version);
    const theirWindow = promptWindow(c.detail.current);
    if (image.is_dicom && theirWindow) applyWindow(theirWindow, true);
    setConflict(null);
    editor.setReadOnly(!canEdit);
  };

  const toggleOverlay = (overlayKey: string) => {
    const editor = editorRef.current;
    const overlay = overlays.find((o) => o.key === overlayKey);
    if (!editor || !overlay?.url) return;
    const visible = !overlay.visible;
    setOverlays((list) => list.map((o) => (o.key === overlayKey ? { ...o, visible, loading: visible && o.error === null && !o.loading && !loadedOverlays.current.has(o.key) } : o)));
    if (loadedOverlays.current.has(overlayKey)) {
      editor.setOverlayVisible(overlayKey, visible);
      return;
    }
    if (!visible) return;
    loadedOverlays.current.add(overlayKey);
    loadOverlay(overlay.url, image.width, image.height, overlay.kind).then(
      (canvas) => {
        editor.setOverlay(overlayKey, canvas, true);
        setOverlays((list) => list.map((o) => (o.key === overlayKey ? { ...o, loading: false } : o)));
      },
      (error: unknown) => {
        loadedOverlays.current.delete(overlayKey);
        setOverlays((list) => list.map((o) => (o.key === overlayKey ? { ...o, loading: false, visible: false, error: errorMessage(error) } : o)));
      },
    );
  };
  /** Saves, then opens the next or previous image of the queue. */
  const go = async (direction: 1 | -1) => {
    if (navigating) return;
    setNavigating(true);
    setQueueMessage(null);
    try {
      await saverRef.current?.flush();
      const trail = readTrail();
      const here = trail.lastIndexOf(image.id);
      let target: number | null = null;
      if (direction === -1 && here > 0) {
        target = trail[here - 1];
        writeTrail(trail.slice(0, here));
      } else {
        const items = await queueItems((f) => api.images(project.id, f), props.filters, user.username, image.id);
        target = neighbourIn(items, image.id, direction, new Set(trail))?.id ?? null;
      }
      if (target === null) {
        setQueueMessage(direction === 1 ? "No more images in the queue with these filters." : "This is the first image.");
        return;
      }
      navigate(`/images/${target}/annotate${withClass(queueSearch(props.filters), null)}`);
    } catch (error) {
      setQueueMessage(`The queue could not be read: ${errorMessage(error)}`);
    } finally {
      setNavigating(false);
    }
  };

  const changeClass = async (name: string) => {
    await saverRef.current?.flush();
    navigate(`/images/${image.id}/annotate${withClass(queueSearch(props.filters), name)}`);
  };

  const changeFilters = (filters: QueueFilters) => {
    navigate(`/images/${image.id}/annotate${withClass(queueSearch(filters), targetClass)}`, { replace: true });
  };

  const dispatch = (action: Action) => {
    const editor = editorRef.current;
    if (!editor) return;
    const state = editor.state();
    const tools: Partial<Record<Action, Tool>> = { "tool-brush": "brush", "tool-polygon": "polygon", "tool-fill": "fill", "tool-rect": "rect" };
    switch (action) {
      case "value-important": return editor.setCode(IMPORTANT);
      case "value-unimportant": return editor.setCode(UNIMPORTANT);
      case "value-unclear": return editor.setCode(UNCLEAR);
      case "swap-values": return editor.setCode(state.code === IMPORTANT ? UNIMPORTANT : IMPORTANT);
      case "tool-brush": case "tool-polygon": case "tool-fill": case "tool-rect":
        return editor.setTool(tools[action] as Tool);
      case "tool-window": return image.is_dicom ? editor.setTool("window") : undefined;
      case "fill-rest": return editor.fillRest();
      case "clear": return editor.clear();
      case "brush-smaller": return editor.stepBrush(-1);
      case "brush-larger": return editor.stepBrush(1);
      case "undo": return editor.undo();
      case "redo": return editor.redo();
      case "save": return void saverRef.current?.flush();
      case "next-image": return void go(1);
      case "previous-image": return void go(-1);
      case "toggle-prompt": return editor.setPromptVisible(!state.promptVisible);
      case "toggle-gradcam": return toggleOverlay("gradcam");
      case "toggle-refined": return toggleOverlay("refined");
      case "toggle-truth": return toggleOverlay("truth");
      case "opacity-down": return editor.setOpacity(state.opacity - 0.1);
      case "opacity-up": return editor.setOpacity(state.opacity + 0.1);
      case "fit": return editor.fit();
      case "zoom-in": return editor.zoomBy(1.25);
      case "zoom-out": return editor.zoomBy(0.8);
      case "next-window": {
        const current = windowRef.current;
        if (!image.is_dicom || !current) return;
        const index = presets.findIndex((p) => p.center === current.center && p.width === current.width);
        const next = presets[(index + 1) % presets.length];
        return applyWindow({ center: next.center, width: next.width }, true);
      }
      case "help": return setHelp((open) => !open);
      case "cancel": return help ? setHelp(false) : editor.cancel();
      case "commit": return editor.commitPolygon();
    }
  };

  const keyHandler = useRef<(e: KeyboardEvent) => void>(() => undefined);
  keyHandler.current = (e: KeyboardEvent) => {
    if (isTyping(e.target) || conflict || phase !== "ready") return;
    const action = actionFor(e);
    if (!action) return;
    if (help && action !== "help" && action !== "cancel") return;
    e.preventDefault();
    dispatch(action);
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
      {editorState && editor ? (
        <ToolPanel
          state={editorState}
          isDicom={image.is_dicom}
          overlays={overlays}
          onCode={(c) => editor.setCode(c)}
          onTool={(t) => editor.setTool(t)}
          onBrushSize={(s) => editor.setBrushSize(s)}
          onOpacity={(o) => editor.setOpacity(o)}
          onFillRest={() => editor.fillRest()}
          onClear={() => editor.clear()}
          onUndo={() => editor.undo()}
          onRedo={() => editor.redo()}
          onTogglePrompt={() => editor.setPromptVisible(!editorState.promptVisible)}
          onToggleOverlay={toggleOverlay}
        />
      ) : (
        <aside class="annotate-tools" aria-label="Tools" />
      )}
      <section class="annotate-stage-wrap" aria-label="Canvas">
        <div class="annotate-stage" ref={stageRef} data-testid="stage" />
        {phase === "loading" && <div class="stage-message" role="status">Loading image and prompt…</div>}
        {phase === "failed" && (
          <div class="stage-message stage-error" role="alert">
            This image could not be opened: {errorMessage(failure)}
          </div>
        )}
        {editorState && editor && <StageBar state={editorState} editor={editor} width={image.width} height={image.height} />}
      </section>
      <SidePanel
        image={image}
        project={project}
        targetClass={targetClass}
        onTargetClass={(name) => void changeClass(name)}
        display={
          image.is_dicom &&
          window_ && <WindowControls window={window_} presets={presets} windowing={displayRef.current?.windowing ?? null} onWindow={(w) => applyWindow(w, true)} />
        }
        save={<SaveIndicator status={status} version={version} bytes={savedBytes} error={saver?.lastError ?? null} readOnly={!canEdit} />}
        filters={props.filters}
        onFilters={changeFilters}
        onPrevious={() => void go(-1)}
        onNext={() => void go(1)}
        navigating={navigating}
        queueMessage={queueMessage}
        onHelp={() => setHelp(true)}
        notice={notice && (
          <p class="hint notice" role="status">
            {notice}{" "}
            <button type="button" class="link-button" onClick={() => setNotice(null)}>
              Dismiss
            </button>
          </p>
        )}
      />
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
      {conflict && (
        <ConflictDialog
          image={displayRef.current?.source ?? null}
          mine={conflict.mine}
          theirs={conflict.theirs}
          current={conflict.detail.current}
          busy={conflict.busy}
          onKeepMine={() => void keepMine()}
          onTakeTheirs={() => void takeTheirs()}
        />
      )}
    </div>
  );
}

/** A queue query string with the target class added (or left out when null). */
function withClass(search: string, targetClass: string | null): string {
  const params = new URLSearchParams(search);
  if (targetClass) params.set("class", targetClass);
  const qs = params.toString();
  return qs ? `?${qs}` : "";
}
