// The strip under the canvas: pixel under the pointer with its value, zoom controls.

import type { CanvasEditor, EditorState } from "../../canvas/editor";
import { IMPORTANT, UNIMPORTANT } from "../../canvas/mask";

const VALUE_NAME = (code: number) =>
  code === IMPORTANT ? "important" : code === UNIMPORTANT ? "unimportant" : "unclear";

export function StageBar(props: {
  state: EditorState;
  editor: CanvasEditor;
  width: number;
  height: number;
}) {
  const { state, editor } = props;
  const cursor = state.cursor;
  return (
    <div class="stage-bar">
      <span class="stage-cursor mono" data-testid="cursor">
        {cursor ? (
          <>
            x {cursor.x}, y {cursor.y} ·{" "}
            <span class={`value-text value-text-${VALUE_NAME(cursor.code)}`}>
              {VALUE_NAME(cursor.code)}
            </span>
          </>
        ) : (
          `${props.width} × ${props.height}`
        )}
      </span>
      {state.polygonPoints > 0 && (
        <span class="stage-hint">
          {state.polygonPoints} points · Enter or double-click closes · Esc cancels
        </span>
      )}
      <span class="stage-zoom">
        <button
          type="button"
          class="icon-button"
          onClick={() => editor.zoomBy(0.8)}
          aria-label="Zoom out"
          title="Zoom out (-)"
        >
          −
        </button>
        <output class="mono" data-testid="zoom">
          {Math.round(state.scale * 100)}%
        </output>
        <button
          type="button"
          class="icon-button"
          onClick={() => editor.zoomBy(1.25)}
          aria-label="Zoom in"
          title="Zoom in (+)"
        >
          +
        </button>
        <button
          type="button"
          class="button button-small button-dark"
          onClick={() => editor.fit()}
          title="Fit to screen (0)"
          data-testid="fit"
        >
          Fit
        </button>
      </span>
    </div>
  );
}
