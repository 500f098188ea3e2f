"""PNG, JPEG and TIFF decoding through Pillow, PNG encoding and thumbnails.

Decoding normalises every Pillow mode to 8-bit grey (``L``) or RGB:

* ``1``, ``L``: grey as stored (``1`` becomes 0/255).
* ``I;16*``, ``I``, ``F`` (16-bit and deeper grey): scaled linearly from the data's own minimum
  (black) to its maximum (white); a constant image keeps its level clipped to ``[0, 255]``
  (16-bit levels first divided by 257).
* ``LA``, ``RGBA``, ``PA`` and palettes with transparency: colour multiplied by alpha, i.e.
  composited on black, and the alpha channel dropped.
* ``P`` (palette), ``CMYK``, ``YCbCr``, ``LAB``, ``HSV``, ``RGBX``: converted to RGB by Pillow
  (no colour management: embedded ICC profiles are ignored).

The EXIF orientation tag is applied, so ``display`` is upright; ``metadata["exif_orientation"]``
keeps the stored tag. Only the first page of a multi-page TIFF is used.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps

from labeling.imaging.core import (
    DecodedImage,
    ImageRejected,
    check_pixel_count,
    describe_error,
    pillow_limits,
    saw_decompression_bomb,
    scale_to_uint8,
)

PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF"}
_EXIF_ORIENTATION = 0x0112
_DEEP_GREY_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
_ALPHA_MODES = frozenset({"LA", "La", "RGBA", "RGBa", "PA"})
_CONVERTIBLE_MODES = frozenset({"CMYK", "YCbCr", "LAB", "HSV", "RGBX"})


def decode_raster(data: bytes, fmt: str, *, max_pixels: int) -> DecodedImage:
    """Decode PNG, JPEG or TIFF bytes into an upright 8-bit display image.

    Args:
        data: the file content.
        fmt: ``"png"``, ``"jpeg"`` or ``"tiff"`` (as returned by ``sniff_format``).
        max_pixels: the largest accepted width * height, checked before pixels are decoded.

    Returns:
        The decoded image; metadata keys: ``source_mode``, ``exif_orientation``, ``page_count``.

    Raises:
        ImageRejected: corrupt or truncated data, too many pixels, unsupported pixel mode.
    """
    name = PILLOW_FORMATS[fmt]
    with pillow_limits(max_pixels) as caught:
        try:
            with Image.open(io.BytesIO(data), formats=[name]) as image:
                check_pixel_count(*image.size, max_pixels)
                if saw_decompression_bomb(caught):
                    raise ImageRejected(f"the {name} image exceeds the pixel limit")
                image.load()
                orientation = _exif_orientation(image)
                upright = _apply_orientation(image, orientation)
                metadata: dict[str, object] = {
                    "source_mode": image.mode,
                    "exif_orientation": orientation,
                    "page_count": int(getattr(image, "n_frames", 1)),
                }
                display = _to_display(upright)
        except ImageRejected:
            raise
        except Image.DecompressionBombError:
            raise ImageRejected(
                f"the {name} image has more than {max_pixels} pixels (decompression bomb guard)"
            ) from None
        except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error...
            raise ImageRejected(
                f"the file is not a readable {name} image: {describe_error(exc)}"
            ) from exc
    return DecodedImage(display=display, format=fmt, metadata=metadata)


def _exif_orientation(image: Image.Image) -> int | None:
    """The stored EXIF orientation (1-8), or ``None`` when absent or unreadable."""
    try:
        value = image.getexif().get(_EXIF_ORIENTATION)
    except Exception:  # a broken EXIF block must not make a readable image unusable
        return None
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else None


def _apply_orientation(image: Image.Image, orientation: int | None) -> Image.Image:
    """Return the image turned upright according to its EXIF orientation."""
    if orientation in (None, 1):
        return image
    transposed = ImageOps.exif_transpose(image)
    return image if transposed is None else transposed


def _to_display(image: Image.Image) -> np.ndarray:
    """Convert any supported Pillow image to uint8 ``[H, W]`` or ``[H, W, 3]``."""
    mode = image.mode
    if mode == "L":
        return np.asarray(image, dtype=np.uint8).copy()
    if mode == "1":
        return np.asarray(image.convert("L"), dtype=np.uint8).copy()
    if mode == "RGB":
        return np.asarray(image, dtype=np.uint8).copy()
    if mode in _DEEP_GREY_MODES:
        return _deep_grey_to_uint8(np.asarray(image), sixteen_bit=mode.startswith("I;16"))
    if mode == "P":
        has_alpha = "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        return _to_display(image)
    if mode in _ALPHA_MODES:
        return _composite_on_black(image)
    if mode in _CONVERTIBLE_MODES:
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    raise ImageRejected(f"unsupported pixel mode {mode!r}")


def _composite_on_black(image: Image.Image) -> np.ndarray:
    """Multiply colour by alpha (composite on black) and drop the alpha channel."""
    if image.mode in ("La", "RGBa"):  # already premultiplied
        return np.asarray(image.convert("L" if image.mode == "La" else "RGB")).copy()
    if image.mode == "PA":
        image = image.convert("RGBA")
    pixels = np.asarray(image, dtype=np.uint16)  # [H, W, 2] (LA) or [H, W, 4] (RGBA)
    colour, alpha = pixels[..., :-1], pixels[..., -1:]
    blended = ((colour * alpha + 127) // 255).astype(np.uint8)
    return blended[..., 0].copy() if image.mode == "LA" else blended


def _deep_grey_to_uint8(values: np.ndarray, *, sixteen_bit: bool) -> np.ndarray:
    """Scale 16-bit, 32-bit or float grey to 8 bits by the data's own range."""
    values = values.astype(np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(values.shape, dtype=np.uint8)
    low, high = float(finite.min()), float(finite.max())
    if high > low:
        return scale_to_uint8(values, low, high)
    level = low / 257.0 if sixteen_bit else low
    return np.full(values.shape, np.uint8(np.clip(round(level), 0, 255)), dtype=np.uint8)


def encode_png(array: np.ndarray) -> bytes:
    """Encode uint8 ``[H, W]`` (grey) or ``[H, W, 3]`` (RGB) as PNG (zlib level 6).

    Raises:
        ValueError: another dtype or shape.
    """
    array = _checked_display(array)
    image = Image.fromarray(array, mode="L" if array.ndim == 2 else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _checked_display(array: np.ndarray) -> np.ndarray:
    """Return ``array`` as a contiguous uint8 [H, W] or [H, W, 3] array, or raise ValueError."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {array.dtype}")
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)) or 0 in array.shape:
        raise ValueError(f"expected an [H, W] or [H, W, 3] image, got shape {array.shape}")
    return np.ascontiguousarray(array)


def make_thumbnail(display: np.ndarray, size: int = 256) -> bytes:
    """Downscale a display image so that its longest side is at most ``size``; return PNG bytes.

    The aspect ratio is kept (each side rounded, at least 1 pixel); images already small enough
    are not enlarged. Resampling is Lanczos (antialiased).

    Raises:
        ValueError: ``size < 1`` or a display array ``encode_png`` refuses.
    """
    if size < 1:
        raise ValueError(f"thumbnail size must be positive, got {size}")
    image = Image.fromarray(_checked_display(display))
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    return encode_png(np.asarray(image))
