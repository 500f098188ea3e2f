// An image with an attention map drawn over it; the opacity is controlled by the caller.

import { useEffect, useRef, useState } from "preact/hooks";
import { drawOverlay, loadImage } from "./overlay";

export interface MapOverlayProps {
  imageUrl: string;
  mapUrl: string | null;
  /** Opacity of the map in [0, 1]. */
  opacity: number;
  label: string;
  /** Largest displayed side in CSS pixels (small images are scaled up, pixelated). */
  size?: number;
  testId?: string;
}

export function MapOverlay(props: MapOverlayProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [images, setImages] = useState<{ image: HTMLImageElement; map: HTMLImageElement | null } | null>(null);
  const [failed, setFailed] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setImages(null);
    setFailed(null);
    Promise.all([loadImage(props.imageUrl), props.mapUrl ? loadImage(props.mapUrl) : Promise.resolve(null)]).then(
      ([image, map]) => live && setImages({ image, map }),
      (error: Error) => live && setFailed(error.message),
    );
    return () => {
      live = false;
    };
  }, [props.imageUrl, props.mapUrl]);

  useEffect(() => {
    if (images && canvas.current) drawOverlay(canvas.current, images.image, images.map, props.opacity);
  }, [images, props.opacity]);

  const size = props.size ?? 420;
  const scale = images ? size / Math.max(images.image.naturalWidth, images.image.naturalHeight) : 1;
  return (
    <div class="map-overlay" style={{ width: `${size}px`, height: `${size}px` }} data-testid={props.testId}>
      {failed && <p class="muted">The image or its map could not be loaded.</p>}
      {!failed && !images && <span class="spinner" aria-hidden="true" />}
      <canvas
        ref={canvas}
        role="img"
        aria-label={props.label}
        hidden={!images}
        style={
          images
            ? {
                width: `${Math.round(images.image.naturalWidth * scale)}px`,
                height: `${Math.round(images.image.naturalHeight * scale)}px`,
              }
            : undefined
        }
      />
    </div>
  );
}

/** The opacity slider of a map overlay (0-100 %). */
export function OpacityControl(props: { value: number; onChange: (value: number) => void }) {
  return (
    <label class="field field-inline opacity-control">
      <span>Map opacity</span>
      <input
        type="range"
        min={0}
        max={100}
        step={5}
        value={Math.round(props.value * 100)}
        onInput={(event) => props.onChange(Number((event.target as HTMLInputElement).value) / 100)}
      />
      <output>{Math.round(props.value * 100)}%</output>
    </label>
  );
}
