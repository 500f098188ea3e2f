import { LabelBadge, PromptBadge, SplitBadge } from "../../components/Badges";
import { Link } from "../../components/Link";
import type { Image } from "../../types";

/** Thumbnail cards; each links to the image page, carrying the grid's query for prev/next. */
export function ImageGrid(props: { images: Image[]; classNames: string[]; linkSearch: string }) {
  return (
    <ul class="image-grid" aria-label="Images" data-testid="image-grid">
      {props.images.map((image) => (
        <li class="image-card" key={image.id} data-image-id={image.id}>
          <Link href={`/images/${image.id}${props.linkSearch}`} class="image-card-link">
            <div class="thumb">
              <img
                src={image.thumbnail_url}
                alt=""
                loading="lazy"
                class={Math.max(image.width, image.height) < 128 ? "pixelated" : undefined}
                decoding="async"
                width={thumbSize(image).width}
                height={thumbSize(image).height}
              />
              {image.is_dicom && <span class="thumb-tag">DICOM</span>}
            </div>
            <span class="image-name" title={image.name}>
              {image.name}
            </span>
          </Link>
          <div class="image-badges">
            <LabelBadge label={image.label} classNames={props.classNames} />
            <SplitBadge split={image.split} />
            <PromptBadge count={image.prompt_count} />
          </div>
        </li>
      ))}
    </ul>
  );
}

/** The thumbnail's size (longest side 256), so the layout does not jump while images load. */
export function thumbSize(image: Pick<Image, "width" | "height">): {
  width: number;
  height: number;
} {
  const longest = Math.max(image.width, image.height, 1);
  const scale = Math.min(1, 256 / longest);
  return {
    width: Math.max(1, Math.round(image.width * scale)),
    height: Math.max(1, Math.round(image.height * scale)),
  };
}
