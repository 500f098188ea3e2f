// Attention maps over images: a colour map for 8-bit grey maps and the canvas composition.

/** Colour of a map value in [0, 255]: dark blue (no attention) through cyan, yellow to red
 * (a "jet"-like ramp, piecewise linear so it is easy to check). */
export function heatColour(value: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, value / 255));
  const ramp = (centre: number) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - centre))));
  return [ramp(3), ramp(2), ramp(1)];
}

/** Colours a grey map (RGBA pixels, the red channel read as the value) in place. */
export function colourise(pixels: Uint8ClampedArray): Uint8ClampedArray {
  for (let i = 0; i < pixels.length; i += 4) {
    const [r, g, b] = heatColour(pixels[i]);
    pixels[i] = r;
    pixels[i + 1] = g;
    pixels[i + 2] = b;
    pixels[i + 3] = 255;
  }
  return pixels;
}

/** Loads an image URL (same origin, session cookie) as a decoded HTMLImageElement. */
export function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`could not load ${url}`));
    image.src = url;
  });
}

/** Draws `image` and, at `opacity` in [0, 1], the colourised `map` over it on `canvas`. */
export function drawOverlay(
  canvas: HTMLCanvasElement,
  image: HTMLImageElement,
  map: HTMLImageElement | null,
  opacity: number,
): void {
  const width = image.naturalWidth;
  const height = image.naturalHeight;
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  if (!context) return;
  context.globalAlpha = 1;
  context.drawImage(image, 0, 0);
  if (!map || opacity <= 0) return;
  const scratch = document.createElement("canvas");
  scratch.width = width;
  scratch.height = height;
  const scratchContext = scratch.getContext("2d");
  if (!scratchContext) return;
  scratchContext.drawImage(map, 0, 0, width, height);
  const data = scratchContext.getImageData(0, 0, width, height);
  colourise(data.data);
  scratchContext.putImageData(data, 0, 0);
  context.globalAlpha = opacity;
  context.drawImage(scratch, 0, 0);
  context.globalAlpha = 1;
}
