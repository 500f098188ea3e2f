"""Pure image decoding, prompt mask codecs and safe archive extraction.

This package imports only numpy, Pillow, pydicom and the standard library (never Django), so the
web process and the pure-PyTorch ``modeling.ml`` package share one implementation.
"""

from labeling.imaging.archives import ArchiveRejected, safe_extract_zip
from labeling.imaging.core import DecodedImage, ImageRejected
from labeling.imaging.dicom import apply_window, read_dicom_hu
from labeling.imaging.formats import ALLOWED_EXTENSIONS, decode_image, sniff_format
from labeling.imaging.masks import (
    IMPORTANT,
    UNCLEAR,
    UNIMPORTANT,
    MaskError,
    explanation_from_png,
    explanation_to_png,
    prompt_counts,
    prompt_from_png,
    prompt_from_rle,
    prompt_to_png,
    prompt_to_rle,
)
from labeling.imaging.raster import encode_png, make_thumbnail

__all__ = [
    "ALLOWED_EXTENSIONS",
    "IMPORTANT",
    "UNCLEAR",
    "UNIMPORTANT",
    "ArchiveRejected",
    "DecodedImage",
    "ImageRejected",
    "MaskError",
    "apply_window",
    "decode_image",
    "encode_png",
    "explanation_from_png",
    "explanation_to_png",
    "make_thumbnail",
    "prompt_counts",
    "prompt_from_png",
    "prompt_from_rle",
    "prompt_to_png",
    "prompt_to_rle",
    "read_dicom_hu",
    "safe_extract_zip",
    "sniff_format",
]
