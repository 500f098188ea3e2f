"""DICOM decoding with pydicom 3: Hounsfield units, windowing and the 8-bit display rendition.

Pipeline for grey images (MONOCHROME1/2), METHODS.md section 1: stored values ->
``RescaleSlope * x + RescaleIntercept`` (the Modality LUT Sequence when the file has one instead)
-> window ``(center, width)`` -> uint8. The window is the caller's (the project's) if given, else
the file's first WindowCenter/WindowWidth pair, else the frame's full data range. The windowing
function is always the LINEAR one of DICOM PS3.3 C.11.2.1.2.1 (a file's VOILUTFunction of
LINEAR_EXACT or SIGMOID and its VOI LUT Sequence are not applied). MONOCHROME1 displays are
inverted after windowing so that low values appear white, as the standard prescribes.

Enhanced (multi-frame) objects carry rescale, window and pixel spacing in functional groups; they
are looked up per frame, then in the shared groups, then at the top level.

Colour images (RGB, YBR_*) are converted to RGB by pydicom and scaled from BitsStored to 8 bits
without windowing; PALETTE COLOR images go through their palette. Every failure surfaces as
``ImageRejected`` with a reason; warnings are recorded and logged, never raised.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_modality_lut, get_decoder, iter_pixels
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from labeling.imaging.core import (
    DEFAULT_MAX_PIXELS,
    DecodedImage,
    ImageRejected,
    check_pixel_count,
    quiet_warnings,
    rejecting,
    scale_to_uint8,
    to_json_number,
)

_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
_GREY = frozenset({"MONOCHROME1", "MONOCHROME2"})
# frames="all" may decode at most this many times max_pixels in total (uint8 displays).
_ALL_FRAMES_PIXEL_FACTOR = 4
_NATIVE_SYNTAX = {
    (True, True): ImplicitVRLittleEndian,
    (False, True): ExplicitVRLittleEndian,
    (False, False): ExplicitVRBigEndian,
}


@dataclass(frozen=True)
class _Source:
    """A parsed dataset whose pixel data passed the structural checks."""

    ds: Dataset
    rows: int
    columns: int
    frames: int
    samples: int
    photometric: str
    transfer_syntax: UID

    @property
    def is_grey(self) -> bool:
        return self.samples == 1 and self.photometric != "PALETTE COLOR"


def apply_window(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """Apply the LINEAR window of DICOM PS3.3 C.11.2.1.2.1 and return uint8 ``[0, 255]``.

    With ``c = center`` and ``w = width``: ``x <= c - 0.5 - (w - 1) / 2`` -> 0;
    ``x > c - 0.5 + (w - 1) / 2`` -> 255; otherwise
    ``((x - (c - 0.5)) / (w - 1) + 0.5) * 255``, rounded to the nearest integer (halves to even).
    NaN maps to 0. The input is not modified.

    Args:
        values: real-valued array of any shape (HU for CT).
        center: window center.
        width: window width, at least 1 as the standard requires.

    Raises:
        ValueError: ``width < 1`` or a non-finite center/width.
    """
    center, width = float(center), float(width)
    if not (np.isfinite(center) and np.isfinite(width)) or width < 1:
        raise ValueError(f"window width must be a finite number >= 1, got ({center}, {width})")
    values = np.asarray(values, dtype=np.float64)
    if width == 1:  # the formula degenerates to a threshold at c - 0.5
        return np.where(values > center - 0.5, 255, 0).astype(np.uint8)
    scaled = ((values - (center - 0.5)) / (width - 1) + 0.5) * 255.0
    return np.rint(np.clip(np.nan_to_num(scaled, nan=0.0), 0, 255)).astype(np.uint8)


def read_dicom_hu(
    data: bytes, *, frame: int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[np.ndarray, dict[str, object]]:
    """Return the modality values (HU for CT) of one frame of a grey DICOM file.

    Args:
        data: the file content.
        frame: 0-based frame index; ``None`` means the middle frame (``n // 2``).
        max_pixels: the largest accepted Rows * Columns.

    Returns:
        float32 ``[H, W]`` values after rescale, and the metadata described in ``decode_image``.

    Raises:
        ImageRejected: unreadable file, colour image, frame out of range.
    """
    with quiet_warnings():
        source = _open(data, max_pixels=max_pixels)
        if not source.is_grey:
            raise ImageRejected(
                f"a {source.photometric} (colour) DICOM image has no modality values"
            )
        index = source.frames // 2 if frame is None else frame
        if not 0 <= index < source.frames:
            raise ImageRejected(f"frame {index} does not exist (the file has {source.frames})")
        raw = next(_decode_frames(source, [index]))
        return _modality_values(source, raw, index), _metadata(source, index)


def decode_dicom(
    data: bytes,
    *,
    window: tuple[float, float] | None = None,
    frames: Literal["middle", "all"] = "middle",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> list[DecodedImage]:
    """Decode a DICOM file into display images (one, or one per frame); see ``decode_image``."""
    if window is not None:
        apply_window(np.zeros(1), *window)  # a bad project window is a caller error: ValueError
    with quiet_warnings():
        source = _open(data, max_pixels=max_pixels)
        if frames == "middle":
            indices = [source.frames // 2]
        else:
            total = source.rows * source.columns * source.frames
            if total > max_pixels * _ALL_FRAMES_PIXEL_FACTOR:
                raise ImageRejected(
                    f"the DICOM file has {source.frames} frames of {source.columns}x"
                    f"{source.rows} ({total} pixels); too many to decode every frame"
                )
            indices = list(range(source.frames))
        decoded = []
        for index, raw in zip(indices, _decode_frames(source, indices), strict=True):
            decoded.append(_render(source, raw, index, window))
        return decoded


def _open(data: bytes, *, max_pixels: int) -> _Source:
    """Parse the dataset and check that its pixel data can be decoded."""
    with rejecting("not a readable DICOM file"):
        # Without the "DICM" preamble the file was accepted for its .dcm name: parse leniently.
        ds = dcmread(io.BytesIO(data), force=data[128:132] != b"DICM")
    if not any(keyword in ds for keyword in _PIXEL_KEYWORDS):
        raise ImageRejected(f"the DICOM file has no pixel data{_sop_class_hint(ds)}")
    missing = [keyword for keyword in ("Rows", "Columns", "BitsAllocated") if keyword not in ds]
    if missing:
        raise ImageRejected(f"the DICOM image lacks required attributes: {', '.join(missing)}")
    with rejecting("invalid DICOM image attributes"):
        rows, columns = int(ds.Rows), int(ds.Columns)
        frames = max(int(ds.get("NumberOfFrames") or 1), 1)
        samples = int(ds.get("SamplesPerPixel") or 1)
        default_photometric = "MONOCHROME2" if samples == 1 else "RGB"
        photometric = str(ds.get("PhotometricInterpretation") or default_photometric).strip()
    check_pixel_count(columns, rows, max_pixels, "DICOM image")
    syntax = _transfer_syntax(ds)
    return _Source(ds, rows, columns, frames, samples, photometric, syntax)


def _sop_class_hint(ds: Dataset) -> str:
    """`` (SOP class: ...)`` naming what the object is (a report, a DICOMDIR...), or ``""``."""
    meta = getattr(ds, "file_meta", None)
    try:
        uid = ds.get("SOPClassUID") or getattr(meta, "MediaStorageSOPClassUID", None)
        return f" (SOP class: {UID(str(uid)).name})" if uid else ""
    except Exception:  # the hint is optional; the rejection stands without it
        return ""


def _transfer_syntax(ds: Dataset) -> UID:
    """Return the transfer syntax, inferring it for native data when the file meta lacks it."""
    with rejecting("invalid DICOM file meta information"):
        meta = getattr(ds, "file_meta", None)
        syntax = getattr(meta, "TransferSyntaxUID", None)
        if syntax is None:
            for keyword in _PIXEL_KEYWORDS:
                if keyword in ds and ds[keyword].is_undefined_length:
                    raise ImageRejected(
                        "the DICOM file has compressed pixel data but no transfer syntax"
                    )
            syntax = _NATIVE_SYNTAX.get(ds.original_encoding)
            if syntax is None:
                raise ImageRejected("the DICOM file has no transfer syntax")
            if meta is None:
                ds.file_meta = meta = FileMetaDataset()
            meta.TransferSyntaxUID = syntax
        syntax = UID(str(syntax))
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        raise ImageRejected(f"unsupported DICOM transfer syntax {syntax} ({syntax.name})") from None
    if not decoder.is_available:
        raise ImageRejected(f"no decoder is installed for DICOM transfer syntax {syntax.name}")
    return syntax


def _decode_frames(source: _Source, indices: list[int]) -> Iterator[np.ndarray]:
    """Yield the decoded frames ``indices`` ([H, W] or [H, W, 3]; YBR converted to RGB)."""
    expected = (source.rows, source.columns) + ((source.samples,) if source.samples > 1 else ())
    with rejecting(f"cannot decode the DICOM pixel data ({source.transfer_syntax.name})"):
        for frame in iter_pixels(source.ds, indices=indices):
            if frame.shape != expected:
                raise ImageRejected(
                    f"the DICOM pixel data has shape {frame.shape}, expected {expected}"
                )
            yield frame


def _render(
    source: _Source, raw: np.ndarray, index: int, window: tuple[float, float] | None
) -> DecodedImage:
    """Turn one decoded frame into its display rendition."""
    metadata = _metadata(source, index)
    if not source.is_grey:
        return DecodedImage(_colour_display(source, raw), "dicom", metadata, index, None)
    values = _modality_values(source, raw, index)
    used = window or _file_window(metadata) or _full_range_window(values)
    display = apply_window(values, *used)
    if source.photometric == "MONOCHROME1":
        display = 255 - display
    used = (float(used[0]), float(used[1]))
    return DecodedImage(display, "dicom", metadata, index, used)


def _modality_values(source: _Source, raw: np.ndarray, index: int) -> np.ndarray:
    """Apply the rescale (or Modality LUT) of frame ``index``: float32 [H, W]."""
    ds = source.ds
    with rejecting("invalid DICOM rescale attributes"):
        slope = _first(_frame_value(ds, index, "PixelValueTransformationSequence", "RescaleSlope"))
        intercept = _first(
            _frame_value(ds, index, "PixelValueTransformationSequence", "RescaleIntercept")
        )
        if slope is None and intercept is None and ds.get("ModalityLUTSequence"):
            return np.asarray(apply_modality_lut(raw, ds), dtype=np.float32)
        slope = 1.0 if slope is None else float(slope)
        intercept = 0.0 if intercept is None else float(intercept)
    values = raw.astype(np.float64) * slope + intercept
    return values.astype(np.float32)


def _file_window(metadata: dict[str, object]) -> tuple[float, float] | None:
    """The file's window when it is usable (width >= 1), else ``None``."""
    center, width = metadata["window_center"], metadata["window_width"]
    if isinstance(center, float | int) and isinstance(width, float | int) and width >= 1:
        return float(center), float(width)
    return None


def _full_range_window(values: np.ndarray) -> tuple[float, float]:
    """The window mapping the minimum to 0 and the maximum to 255 under the LINEAR function."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.5, 1.0
    low, high = float(finite.min()), float(finite.max())
    return (low + high) / 2 + 0.5, high - low + 1


def _colour_display(source: _Source, raw: np.ndarray) -> np.ndarray:
    """RGB (already converted from YBR) or palette pixels scaled to uint8 [H, W, 3]."""
    if source.photometric == "PALETTE COLOR":
        with rejecting("invalid DICOM palette"):
            rgb = apply_color_lut(raw, source.ds)
        # 16-bit palette entries keep their high byte: 8-bit palettes stored as x << 8 (the
        # usual case) come back exactly.
        return rgb if rgb.dtype == np.uint8 else (rgb >> 8).astype(np.uint8)
    with rejecting("invalid DICOM colour attributes"):
        bits = int(source.ds.get("BitsStored") or raw.dtype.itemsize * 8)
    if raw.dtype == np.uint8 and bits == 8:
        return raw.copy()
    return scale_to_uint8(raw, 0, 2**bits - 1)


def _frame_value(ds: Dataset, index: int, sequence: str, keyword: str) -> object:
    """Look up ``keyword`` at the top level, then per frame, then in the shared groups."""
    if keyword in ds:
        return ds[keyword].value
    for groups_keyword, position in (
        ("PerFrameFunctionalGroupsSequence", index),
        ("SharedFunctionalGroupsSequence", 0),
    ):
        groups = ds.get(groups_keyword)
        if groups and position < len(groups):
            items = groups[position].get(sequence)
            if items and keyword in items[0]:
                return items[0][keyword].value
    return None


def _first(value: object) -> object:
    """The first value of a multi-valued element (or the value itself); ``None`` when empty."""
    if isinstance(value, list | tuple | MultiValue):
        return value[0] if len(value) else None
    return None if value == "" else value


def _metadata(source: _Source, index: int) -> dict[str, object]:
    """JSON-safe facts about the file and frame ``index``; unreadable values become ``None``."""
    ds = source.ds
    try:
        bits_stored = to_json_number(ds.get("BitsStored"))
    except Exception:  # optional metadata: see the readers below
        bits_stored = None
    return {
        "modality": _text(ds, "Modality"),
        "rescale_slope": _number(ds, index, "PixelValueTransformationSequence", "RescaleSlope"),
        "rescale_intercept": _number(
            ds, index, "PixelValueTransformationSequence", "RescaleIntercept"
        ),
        "window_center": _number(ds, index, "FrameVOILUTSequence", "WindowCenter"),
        "window_width": _number(ds, index, "FrameVOILUTSequence", "WindowWidth"),
        "pixel_spacing": _spacing(ds, index),
        "study_instance_uid": _text(ds, "StudyInstanceUID"),
        "series_instance_uid": _text(ds, "SeriesInstanceUID"),
        "sop_instance_uid": _text(ds, "SOPInstanceUID"),
        "number_of_frames": source.frames,
        "transfer_syntax_uid": str(source.transfer_syntax),
        "bits_stored": None if bits_stored is None else int(bits_stored),
        "photometric_interpretation": source.photometric,
    }


# A malformed optional attribute must not reject an image whose pixels decode: the readers
# below return None for anything they cannot parse.


def _number(ds: Dataset, index: int, sequence: str, keyword: str) -> float | int | None:
    """The first value of a numeric attribute of frame ``index``, or ``None``."""
    try:
        return to_json_number(_first(_frame_value(ds, index, sequence, keyword)))
    except Exception:
        return None


def _text(ds: Dataset, keyword: str) -> str | None:
    """A stripped string attribute, or ``None`` when absent, empty or unreadable."""
    try:
        value = ds.get(keyword)
        text = "" if value is None else str(value).strip()
    except Exception:
        return None
    return text or None


def _spacing(ds: Dataset, index: int) -> list[float] | None:
    """``[row, column]`` pixel spacing in mm, or ``None`` unless exactly two finite numbers."""
    try:
        value = _frame_value(ds, index, "PixelMeasuresSequence", "PixelSpacing")
        numbers = [to_json_number(item) for item in value] if isinstance(value, MultiValue) else []
    except Exception:
        return None
    if len(numbers) != 2 or any(number is None for number in numbers):
        return None
    return [float(number) for number in numbers]  # type: ignore[arg-type]
