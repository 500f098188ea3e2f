"""Format sniffing: the content decides, the allow-list is enforced, rejections name the format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeling.imaging import ALLOWED_EXTENSIONS, ImageRejected, decode_image, sniff_format
from tests.labeling.imaging.factories import image_bytes, pydicom_bytes

_REPOSITORY = Path(__file__).resolve().parents[3]


def test_the_allowed_extensions_are_png_jpeg_tiff_and_dicom() -> None:
    assert frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm"}) == ALLOWED_EXTENSIONS


@pytest.mark.parametrize(("fmt", "expected"), [("PNG", "png"), ("JPEG", "jpeg"), ("TIFF", "tiff")])
def test_raster_formats_are_recognised_by_content(fmt: str, expected: str) -> None:
    assert sniff_format(image_bytes(Image.new("RGB", (2, 2)), fmt), "upload") == expected


def test_the_content_wins_over_a_wrong_extension() -> None:
    data = image_bytes(Image.new("L", (2, 2)), "PNG")

    assert sniff_format(data, "photo.jpg") == "png"
    assert decode_image(data, "photo.jpg")[0].format == "png"


@pytest.mark.parametrize("name", ["IM0001", "1.2.840.113619.2.55.3.7", "slice.ima"])
def test_dicom_is_recognised_by_its_magic_whatever_the_name(name: str) -> None:
    data = pydicom_bytes("CT_small.dcm")

    assert sniff_format(data, name) == "dicom"
    assert decode_image(data, name)[0].display.shape == (128, 128)


@pytest.mark.parametrize(
    ("data", "name", "format_name"),
    [
        (image_bytes(Image.new("P", (2, 2)), "GIF"), "a.gif", "GIF"),
        (image_bytes(Image.new("RGB", (2, 2)), "BMP"), "a.bmp", "BMP"),
        (image_bytes(Image.new("RGB", (2, 2)), "WEBP"), "a.webp", "WebP"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "a.svg", "SVG"),
        (b"%PDF-1.7\n", "scan.pdf", "PDF"),
        (b"\x00\x00\x00\x1cftypheic" + b"\0" * 32, "photo.heic", "HEIC"),
    ],
    ids=["gif", "bmp", "webp", "svg", "pdf", "heic"],
)
def test_formats_outside_the_allow_list_are_rejected_by_name(
    data: bytes, name: str, format_name: str
) -> None:
    for filename in (name, "renamed.png"):
        with pytest.raises(ImageRejected, match=f"^{format_name} files are not supported"):
            decode_image(data, filename)


def test_an_unknown_extension_with_unknown_content_is_rejected() -> None:
    with pytest.raises(ImageRejected, match=r"unrecognised file format \(\.txt\)"):
        sniff_format(b"hello world", "notes.txt")


@pytest.mark.parametrize("name", ["a.png", "a.jpg", "a.tiff"])
def test_random_bytes_under_an_image_name_are_rejected(name: str) -> None:
    noise = np.random.default_rng(5).integers(0, 256, 2048, dtype=np.uint8).tobytes()

    with pytest.raises(ImageRejected, match=f"named {Path(name).suffix} but its content"):
        decode_image(noise, name)


def test_an_empty_file_is_rejected() -> None:
    with pytest.raises(ImageRejected, match="empty"):
        decode_image(b"", "a.png")


def test_an_unknown_frames_argument_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="frames"):
        decode_image(b"x", "a.png", frames="first")  # type: ignore[arg-type]


def test_importing_the_package_does_not_import_django() -> None:
    code = "import sys, labeling.imaging; assert 'django' not in sys.modules, 'django imported'"

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=_REPOSITORY, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
