// The DICOM display window of the canvas: the value shown in the controls, the one the next save
// carries, and re-rendering the image when it changes (every frame when windowed in the browser,
// debounced requests when the server windows the file).

import type { RefObject } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { CanvasEditor } from "../../canvas/editor";
import type { DisplayWindow } from "../../canvas/windowing";
import { errorMessage } from "../../components/Status";
import type { ImageDetail } from "../../types";
import type { ImageDisplay } from "./io";

/** Quiet period before asking the server for another rendition while dragging. */
const SERVER_DEBOUNCE_MS = 150;

export interface DisplayWindowState {
  /** The window shown (null: not DICOM, or not loaded yet). */
  value: DisplayWindow | null;
  /** Always the latest window, for callbacks that outlive a render. */
  ref: RefObject<DisplayWindow | null>;
  /** Shows another window; `final` skips the debounce (a preset, the end of a drag). */
  apply: (next: DisplayWindow, final: boolean) => void;
  /** Records the window the image was first rendered with (no re-rendering). */
  init: (window: DisplayWindow | null) => void;
}

export function useDisplayWindow(
  image: ImageDetail,
  editorRef: RefObject<CanvasEditor | null>,
  displayRef: RefObject<ImageDisplay | null>,
  onError: (message: string) => void,
): DisplayWindowState {
  const [value, setValue] = useState<DisplayWindow | null>(null);
  const ref = useRef<DisplayWindow | null>(null);
  const pending = useRef({ timer: 0, frame: 0, abort: null as AbortController | null });

  useEffect(
    () => () => {
      cancelAnimationFrame(pending.current.frame);
      clearTimeout(pending.current.timer);
      pending.current.abort?.abort();
    },
    [],
  );

  const apply = (next: DisplayWindow, final: boolean) => {
    ref.current = next;
    setValue(next);
    const display = displayRef.current;
    const editor = editorRef.current;
    if (!display?.windowing || !editor) return;
    const p = pending.current;
    if (display.windowing === "client") {
      if (p.frame) return;
      p.frame = requestAnimationFrame(async () => {
        p.frame = 0;
        if (ref.current)
          editor.setImage(await display.setWindow(ref.current), image.width, image.height);
      });
      return;
    }
    clearTimeout(p.timer);
    p.timer = window.setTimeout(
      async () => {
        p.abort?.abort();
        const abort = new AbortController();
        p.abort = abort;
        try {
          editor.setImage(await display.setWindow(next, abort.signal), image.width, image.height);
        } catch (error) {
          if (!abort.signal.aborted)
            onError(`The window could not be applied: ${errorMessage(error)}`);
        }
      },
      final ? 0 : SERVER_DEBOUNCE_MS,
    );
  };

  const init = (initial: DisplayWindow | null) => {
    ref.current = initial;
    setValue(initial);
  };

  return { value, ref, apply, init };
}
