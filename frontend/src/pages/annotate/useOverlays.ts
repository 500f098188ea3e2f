// State of the overlay toggles (Grad-CAM, refined prompt, ground truth): which have a URL, which
// are shown, loading and errors. A layer is fetched and colour-mapped the first time it is shown.

import type { RefObject } from "preact";
import { useRef, useState } from "preact/hooks";
import type { CanvasEditor } from "../../canvas/editor";
import { loadOverlay } from "../../canvas/overlays";
import { errorMessage } from "../../components/Status";
import type { ImageDetail, Project } from "../../types";
import { overlaySources } from "./session";
import type { OverlayToggle } from "./Tools";

export interface Overlays {
  list: OverlayToggle[];
  toggle: (key: string) => void;
  /** Gives layers without a URL yet the ones found (a null keeps the toggle hidden). */
  setUrls: (urls: Record<string, string | null>) => void;
}

export function useOverlays(
  image: ImageDetail,
  project: Project,
  editorRef: RefObject<CanvasEditor | null>,
): Overlays {
  const [list, setList] = useState<OverlayToggle[]>(() =>
    overlaySources(image, project).map((o) => ({
      ...o,
      visible: false,
      loading: false,
      error: null,
    })),
  );
  const loaded = useRef(new Set<string>());
  const update = (key: string, patch: Partial<OverlayToggle>) =>
    setList((items) => items.map((o) => (o.key === key ? { ...o, ...patch } : o)));

  const toggle = (key: string) => {
    const editor = editorRef.current;
    const overlay = list.find((o) => o.key === key);
    if (!editor || !overlay?.url) return;
    const visible = !overlay.visible;
    if (loaded.current.has(key)) {
      update(key, { visible });
      editor.setOverlayVisible(key, visible);
      return;
    }
    if (!visible) return update(key, { visible });
    loaded.current.add(key);
    update(key, { visible, loading: true, error: null });
    loadOverlay(overlay.url, image.width, image.height, overlay.kind).then(
      (canvas) => {
        editor.setOverlay(key, canvas, true);
        update(key, { loading: false });
      },
      (error: unknown) => {
        loaded.current.delete(key);
        update(key, { loading: false, visible: false, error: errorMessage(error) });
      },
    );
  };

  const setUrls = (urls: Record<string, string | null>) =>
    setList((items) => items.map((o) => (!o.url && urls[o.key] ? { ...o, url: urls[o.key] } : o)));

  return { list, toggle, setUrls };
}
