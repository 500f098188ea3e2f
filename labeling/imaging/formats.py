"""Format detection and the single entry point for image decoding.

The content decides the format: a PNG named ``scan.jpg`` is decoded as PNG, and a DICOM file is
recognised by its ``DICM`` magic whatever its name (``IM0001``, ``1.2.840...7``, ``.ima``).
The name only matters when the content has no magic: a ``.dcm`` file is then parsed as DICOM
without preamble, anything else is rejected. Known formats outside the allow-list (GIF, BMP,
WebP, SVG, ...) are rejected by name.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Literal

from labeling.imaging.core import DEFAULT_MAX_PIXELS, DecodedImage, ImageRejected
from labeling.imaging.dicom import decode_dicom
from labeling.imaging.raster import decode_raster

ALLOWED_EXTENSIONS: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm"})

_ALLOWED_TEXT = "PNG, JPEG, TIFF or DICOM"
_EXTENSION_FORMATS = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".dcm": "dicom",
}
_ALLOWED_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
)
_REJECTED_MAGIC = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"%PDF", "PDF"),
    (b"8BPS", "Photoshop (PSD)"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"\x76\x2f\x31\x01", "OpenEXR"),
    (b"PK\x03\x04", "ZIP"),
    (b"\x1f\x8b", "gzip"),
)
_REJECTED_EXTENSIONS = {
    ".gif": "GIF",
    ".bmp": "BMP",
    ".webp": "WebP",
    ".svg": "SVG",
    ".svgz": "SVG",
    ".heic": "HEIC",
    ".heif": "HEIF",
    ".avif": "AVIF",
    ".ico": "ICO",
    ".jp2": "JPEG 2000",
    ".j2k": "JPEG 2000",
    ".jxl": "JPEG XL",
    ".psd": "Photoshop (PSD)",
    ".pdf": "PDF",
}


def sniff_format(data: bytes, filename: str) -> str:
    """Return ``"png"``, ``"jpeg"``, ``"tiff"`` or ``"dicom"`` for an accepted file.

    Args:
        data: the file content (only the first bytes are inspected).
        filename: the uploaded name; used only when the content has no recognised magic.

    Raises:
        ImageRejected: empty file, a format that is not allow-listed (named in the reason),
            or content that matches neither its name nor any accepted format.
    """
    if not data:
        raise ImageRejected("the file is empty")
    if data[128:132] == b"DICM":
        return "dicom"
    for magic, fmt in _ALLOWED_MAGIC:
        if data.startswith(magic):
            return fmt
    rejected = _rejected_content(data)
    if rejected:
        raise ImageRejected(f"{rejected} files are not supported; upload {_ALLOWED_TEXT}")
    extension = PurePath(filename).suffix.lower()
    if extension == ".dcm":
        return "dicom"  # DICOM written without the 128-byte preamble and "DICM" magic
    if extension in _REJECTED_EXTENSIONS:
        name = _REJECTED_EXTENSIONS[extension]
        raise ImageRejected(f"{name} files are not supported; upload {_ALLOWED_TEXT}")
    if extension in _EXTENSION_FORMATS:
        expected = _EXTENSION_FORMATS[extension].upper()
        raise ImageRejected(f"the file is named {extension} but its content is not a {expected}")
    shown = extension or "no extension"
    raise ImageRejected(f"unrecognised file format ({shown}); upload {_ALLOWED_TEXT}")


def _rejected_content(data: bytes) -> str | None:
    """Name a known but unsupported format recognised from the content, else ``None``."""
    for magic, name in _REJECTED_MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
            return "HEIC"
    head = data[:2048].lstrip().lower()
    if head.startswith(b"<") and b"<svg" in head:
        return "SVG"
    return None


def decode_image(
    data: bytes,
    filename: str,
    *,
    window: tuple[float, float] | None = None,
    frames: Literal["middle", "all"] = "middle",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> list[DecodedImage]:
    """Decode an uploaded PNG, JPEG, TIFF or DICOM file into display images.

    Raster files give one image: upright (EXIF orientation applied), uint8 grey or RGB (modes
    normalised as described in ``labeling.imaging.raster``). DICOM gives one image for
    ``frames="middle"`` (frame ``n // 2``) or one per frame for ``frames="all"``; grey DICOM is
    rescaled and windowed with ``window`` if given, else the file's window, else the frame's full
    range (``labeling.imaging.dicom``). DICOM metadata keys: modality, rescale_slope,
    rescale_intercept, window_center, window_width (as stored, first value, or ``None``),
    pixel_spacing ([row, col] or ``None``), study_instance_uid, series_instance_uid,
    sop_instance_uid, number_of_frames, transfer_syntax_uid, bits_stored,
    photometric_interpretation.

    Args:
        data: the file content.
        filename: the uploaded name (see ``sniff_format``).
        window: ``(center, width)`` applied to grey DICOM, width >= 1.
        frames: which DICOM frames to decode.
        max_pixels: the largest accepted width * height per image or frame (``frames="all"``
            also caps the total at four times this).

    Returns:
        The decoded images, in frame order.

    Raises:
        ImageRejected: any file that cannot be imported, with the reason. No other exception
            type escapes for bad file content.
        ValueError: invalid arguments (``window`` width < 1, unknown ``frames``).
    """
    if frames not in ("middle", "all"):
        raise ValueError(f"frames must be 'middle' or 'all', got {frames!r}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    fmt = sniff_format(data, filename)
    if fmt == "dicom":
        return decode_dicom(data, window=window, frames=frames, max_pixels=max_pixels)
    return [decode_raster(data, fmt, max_pixels=max_pixels)]
