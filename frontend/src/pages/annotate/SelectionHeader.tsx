// The workspace header shown while the queue is restricted to a saved selection: which selection,
// where the current image stands in it, and a way back to the whole project's queue.

import { Link } from "../../components/Link";
import { errorMessage } from "../../components/Status";
import type { Selection } from "../review/api";

export interface SelectionHeaderProps {
  selectionId: number;
  /** The selection once loaded (undefined while loading or after an error). */
  selection: Selection | undefined;
  error: unknown;
  imageId: number;
  /** The same image's canvas without the selection. */
  leaveHref: string;
}

export function SelectionHeader(props: SelectionHeaderProps) {
  const { selection } = props;
  const position = selection ? selection.image_ids.indexOf(props.imageId) : -1;
  let detail: string;
  if (props.error) detail = `It could not be loaded: ${errorMessage(props.error)}`;
  else if (!selection) detail = "Loading…";
  else if (position < 0) detail = `This image is not one of its ${selection.count} images.`;
  else detail = `Image ${position + 1} of ${selection.count}`;
  return (
    <header
      class="annotate-header"
      aria-label="Selection"
      data-testid="selection-header"
      data-selection={props.selectionId}
    >
      <span class="annotate-header-title">
        Selection <strong>{selection?.name ?? `#${props.selectionId}`}</strong>
      </span>
      <span class="muted">{detail}</span>
      <Link
        href={props.leaveHref}
        class="button button-small button-ghost"
        data-testid="leave-selection"
      >
        Leave selection
      </Link>
    </header>
  );
}
