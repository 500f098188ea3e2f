"""Shared types of the imaging package and the guard around process-wide library state.

Pillow and the ``warnings`` module keep their configuration in module globals. Decoding needs
to change some of it for the duration of one call (the decompression-bomb limit, strict
truncation, warnings recorded instead of raised), so every such change happens under one
process-wide lock and is restored before the lock is released. Decoding calls therefore run one
at a time per process; that is cheap next to the cost of a leaked global.
"""

from __future__ import annotations

import logging
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFile

logger = logging.getLogger("labeling.imaging")

DEFAULT_MAX_PIXELS = 64 * 1024 * 1024

_STATE_LOCK = threading.RLock()
_REASON_LIMIT = 300


class ImageRejected(ValueError):
    """A file that cannot be imported; ``str(exc)`` is the reason shown to the user."""


@dataclass(frozen=True)
class DecodedImage:
    """One decoded image (or one DICOM frame) ready for display.

    Attributes:
        display: uint8 ``[H, W]`` (grey) or ``[H, W, 3]`` (RGB), the display rendition.
        format: ``"png"``, ``"jpeg"``, ``"tiff"`` or ``"dicom"``.
        metadata: JSON-safe facts about the source (keys listed in ``decode_image``).
        frame_index: the DICOM frame used; ``None`` for raster formats.
        window: ``(center, width)`` used for the display rendition of grey DICOM, else ``None``.
    """

    display: np.ndarray
    format: str
    metadata: dict[str, object] = field(default_factory=dict)
    frame_index: int | None = None
    window: tuple[float, float] | None = None

    @property
    def width(self) -> int:
        """Number of pixel columns."""
        return int(self.display.shape[1])

    @property
    def height(self) -> int:
        """Number of pixel rows."""
        return int(self.display.shape[0])


def describe_error(exc: BaseException) -> str:
    """Return a one-line, bounded description of a library exception for a user-facing reason."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > _REASON_LIMIT:
        text = text[: _REASON_LIMIT - 3] + "..."
    return text


@contextmanager
def rejecting(reason: str) -> Iterator[None]:
    """Turn any exception raised inside the block into ``ImageRejected("<reason>: <detail>")``.

    Third-party decoders raise many exception types (ValueError, KeyError, struct.error,
    RuntimeError, NotImplementedError, ...); callers of this package only ever see one. Decoders
    written in Rust (pylibjpeg-rle) report a panic on corrupt input as pyo3's ``PanicException``,
    which derives from ``BaseException``, so everything but interpreter exits is caught.
    """
    try:
        yield
    except (ImageRejected, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        raise ImageRejected(f"{reason}: {describe_error(exc)}") from exc


@contextmanager
def quiet_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning raised inside the block instead of showing or raising it.

    Decoders (pydicom in particular) warn about harmless irregularities; under a strict warnings
    filter (``-W error``) those would otherwise turn a readable file into an exception. The
    recorded warnings are logged at debug level and returned to the caller for inspection.

    Yields:
        The list that collects the recorded warnings.
    """
    with _STATE_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    for item in caught:
        logger.debug("decoder warning: %s: %s", item.category.__name__, item.message)


@contextmanager
def pillow_limits(max_pixels: int) -> Iterator[list[warnings.WarningMessage]]:
    """Set Pillow's decompression-bomb limit and strict truncation for the block, then restore.

    Pillow reads ``Image.MAX_IMAGE_PIXELS`` when an image is opened (a warning above it, an
    error above twice it) and ``ImageFile.LOAD_TRUNCATED_IMAGES`` when pixels are loaded; both
    are process-wide, hence the lock held by ``quiet_warnings``.

    Args:
        max_pixels: the largest accepted width * height.

    Yields:
        The recorded warnings (a ``DecompressionBombWarning`` among them means too many pixels).
    """
    with quiet_warnings() as caught:
        saved = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
        Image.MAX_IMAGE_PIXELS = max_pixels
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield caught
        finally:
            Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = saved


def saw_decompression_bomb(caught: list[warnings.WarningMessage]) -> bool:
    """Whether Pillow warned that an image exceeds the pixel limit."""
    return any(issubclass(item.category, Image.DecompressionBombWarning) for item in caught)


def check_pixel_count(width: int, height: int, max_pixels: int, what: str = "image") -> None:
    """Reject an image whose declared size exceeds ``max_pixels`` before any pixel is decoded.

    Raises:
        ImageRejected: when ``width * height > max_pixels`` or a side is not positive.
    """
    if width <= 0 or height <= 0:
        raise ImageRejected(f"the {what} has an invalid size {width}x{height}")
    if width * height > max_pixels:
        raise ImageRejected(
            f"the {what} is {width}x{height} ({width * height} pixels); "
            f"at most {max_pixels} pixels are accepted"
        )


def to_json_number(value: object) -> float | int | None:
    """Convert a DICOM numeric value (DS, IS, numpy scalar) to a JSON-safe number or ``None``."""
    if value is None or value == "":
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return int(number) if isinstance(value, int) and not isinstance(value, bool) else number


def scale_to_uint8(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map ``[low, high]`` linearly onto ``[0, 255]`` (clipped, rounded); NaN becomes 0.

    Args:
        values: any real array.
        low: value shown black.
        high: value shown white; must be greater than ``low``.
    """
    scaled = (np.asarray(values, dtype=np.float64) - low) * (255.0 / (high - low))
    return np.rint(np.clip(np.nan_to_num(scaled, nan=0.0), 0, 255)).astype(np.uint8)
