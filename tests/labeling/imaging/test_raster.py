"""PNG, JPEG and TIFF decoding, bombs, PNG encoding and thumbnails."""

from __future__ import annotations

import io
import struct
import threading
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from labeling.imaging import ImageRejected, decode_image, encode_png, make_thumbnail
from tests.labeling.imaging.factories import image_bytes


def _decode(data: bytes, name: str = "image.png", **kwargs: object) -> np.ndarray:
    return decode_image(data, name, **kwargs)[0].display


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares ``width`` x ``height`` grey pixels, followed by a tiny IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + chunk(b"IEND", b"")
    )


# --- Formats and modes --------------------------------------------------------------------------


def test_grey_png_is_decoded_exactly() -> None:
    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20

    image = decode_image(image_bytes(Image.fromarray(pixels), "PNG"), "a.png")[0]

    np.testing.assert_array_equal(image.display, pixels)
    assert (image.format, image.width, image.height, image.frame_index) == ("png", 4, 3, None)


def test_rgb_png_is_decoded_exactly() -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)

    np.testing.assert_array_equal(_decode(image_bytes(Image.fromarray(pixels), "PNG")), pixels)


def test_jpeg_is_decoded_close_to_its_source() -> None:
    pixels = np.full((16, 16, 3), (200, 40, 90), dtype=np.uint8)

    display = _decode(image_bytes(Image.fromarray(pixels), "JPEG", quality=95), "a.jpg")

    assert display.shape == (16, 16, 3)
    assert np.abs(display.astype(int) - pixels).max() <= 4


def test_only_the_first_page_of_a_multi_page_tiff_is_used() -> None:
    first, second = Image.new("L", (3, 2), 10), Image.new("L", (3, 2), 200)
    data = image_bytes(first, "TIFF", save_all=True, append_images=[second])

    image = decode_image(data, "scan.tif")[0]

    assert image.format == "tiff"
    assert image.display.tolist() == [[10, 10, 10], [10, 10, 10]]
    assert image.metadata["page_count"] == 2


def test_exif_orientation_is_applied() -> None:
    stored = np.zeros((2, 4), dtype=np.uint8)
    stored[0, 0] = 255  # marker in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"

    image = decode_image(image_bytes(Image.fromarray(stored), "PNG", exif=exif), "a.png")[0]

    np.testing.assert_array_equal(image.display, np.rot90(stored, k=-1))
    assert image.display[0, 1] == 255
    assert image.metadata["exif_orientation"] == 6


def test_16_bit_grey_is_scaled_by_its_own_range() -> None:
    pixels = np.array([[1000, 1400, 3000]], dtype=np.uint16)

    display = _decode(image_bytes(Image.fromarray(pixels), "PNG"))

    # (1400 - 1000) / 2000 * 255 = 51
    assert display.tolist() == [[0, 51, 255]]


def test_a_constant_16_bit_image_keeps_its_level() -> None:
    pixels = np.full((2, 2), 65535, dtype=np.uint16)

    assert _decode(image_bytes(Image.fromarray(pixels), "PNG")).tolist() == [[255, 255]] * 2


def test_palette_images_become_rgb() -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((1, 0), 1)

    display = _decode(image_bytes(image, "PNG"))

    assert display.tolist() == [[[255, 0, 0], [0, 0, 255]]]


def test_alpha_is_dropped_by_compositing_on_black() -> None:
    pixels = np.array([[[200, 100, 50, 255], [200, 100, 50, 0], [200, 100, 50, 128]]], np.uint8)

    display = _decode(image_bytes(Image.fromarray(pixels, mode="RGBA"), "PNG"))

    # 200 * 128 / 255 = 100.4 -> 100, 100 * 128 / 255 = 50.2 -> 50, 50 * 128 / 255 = 25.1 -> 25
    assert display.tolist() == [[[200, 100, 50], [0, 0, 0], [100, 50, 25]]]


def test_grey_with_alpha_becomes_grey() -> None:
    pixels = np.array([[[90, 255], [90, 0]]], dtype=np.uint8)

    display = _decode(image_bytes(Image.fromarray(pixels, mode="LA"), "PNG"))

    assert display.tolist() == [[90, 0]]


def test_cmyk_is_converted_to_rgb() -> None:
    image = Image.new("CMYK", (2, 2), (255, 0, 0, 0))  # pure cyan

    tiff = _decode(image_bytes(image, "TIFF"), "a.tiff")
    jpeg = _decode(image_bytes(image, "JPEG", quality=95), "a.jpg")

    assert tiff.tolist() == [[[0, 255, 255]] * 2] * 2
    assert jpeg.shape == (2, 2, 3)
    assert np.abs(jpeg.astype(int) - [0, 255, 255]).max() <= 6


def test_bilevel_images_become_0_and_255() -> None:
    image = Image.new("1", (2, 1))
    image.putpixel((1, 0), 1)

    assert _decode(image_bytes(image, "PNG")).tolist() == [[0, 255]]


# --- Bombs and broken files ---------------------------------------------------------------------


def test_a_declared_size_above_the_limit_is_rejected_before_decoding() -> None:
    with pytest.raises(ImageRejected, match="more than 67108864 pixels"):
        decode_image(_png_header_only(100_000, 100_000), "bomb.png")


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("size", [(30, 50), (100, 100)], ids=["warning-zone", "error-zone"])
def test_the_pixel_limit_is_applied_per_call(size: tuple[int, int]) -> None:
    # Pillow warns between the limit and twice it, and raises above: both are rejections.
    data = image_bytes(Image.new("L", size), "PNG")

    with pytest.raises(ImageRejected, match="pixels"):
        decode_image(data, "a.png", max_pixels=1000)
    assert _decode(data, max_pixels=size[0] * size[1]).shape == (size[1], size[0])


@pytest.mark.parametrize("load_truncated", [False, True])
def test_pillow_globals_are_restored_after_each_call(load_truncated: bool) -> None:
    before = Image.MAX_IMAGE_PIXELS
    ImageFile.LOAD_TRUNCATED_IMAGES = load_truncated
    try:
        _decode(image_bytes(Image.new("L", (4, 4)), "PNG"), max_pixels=20)
        with pytest.raises(ImageRejected):
            _decode(image_bytes(Image.new("L", (9, 9)), "PNG"), max_pixels=20)
        restored = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
        assert restored == (before, load_truncated)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def test_truncated_images_are_rejected_even_when_pillow_is_told_to_load_them() -> None:
    noise = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = image_bytes(Image.fromarray(noise), "JPEG")
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with pytest.raises(ImageRejected, match="not a readable JPEG image"):
            decode_image(data[: len(data) // 2], "a.jpg")
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def test_a_truncated_png_is_rejected() -> None:
    noise = np.random.default_rng(3).integers(0, 256, (64, 64), dtype=np.uint8)
    data = image_bytes(Image.fromarray(noise), "PNG")

    with pytest.raises(ImageRejected, match="not a readable PNG image"):
        decode_image(data[: len(data) // 2], "a.png")


def test_concurrent_decodes_leave_the_pixel_limit_as_it_was() -> None:
    before = Image.MAX_IMAGE_PIXELS
    data = image_bytes(Image.new("RGB", (32, 32)), "PNG")
    errors: list[BaseException] = []

    def work(limit: int) -> None:
        try:
            for _ in range(20):
                decode_image(data, "a.png", max_pixels=limit)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(4096 + n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    restored = Image.MAX_IMAGE_PIXELS
    assert restored == before


# --- Encoding and thumbnails --------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 6), (5, 6, 3)])
def test_encode_png_round_trips_losslessly(shape: tuple[int, ...]) -> None:
    pixels = np.random.default_rng(4).integers(0, 256, shape, dtype=np.uint8)

    with Image.open(io.BytesIO(encode_png(pixels))) as image:
        assert image.format == "PNG"
        np.testing.assert_array_equal(np.asarray(image), pixels)


@pytest.mark.parametrize(
    "array",
    [np.zeros((4, 4), np.float32), np.zeros((4, 4, 4), np.uint8), np.zeros((0, 4), np.uint8)],
    ids=["float", "four-channels", "empty"],
)
def test_encode_png_refuses_arrays_that_are_not_display_images(array: np.ndarray) -> None:
    with pytest.raises(ValueError, match="expected"):
        encode_png(array)


def test_a_thumbnail_fits_the_box_and_keeps_the_aspect_ratio() -> None:
    display = np.zeros((500, 1000, 3), dtype=np.uint8)

    with Image.open(io.BytesIO(make_thumbnail(display, size=256))) as thumbnail:
        assert thumbnail.size == (256, 128)
        assert thumbnail.mode == "RGB"


def test_a_small_image_is_not_enlarged_by_the_thumbnail() -> None:
    display = np.full((10, 20), 77, dtype=np.uint8)

    with Image.open(io.BytesIO(make_thumbnail(display))) as thumbnail:
        assert thumbnail.size == (20, 10)
        assert np.asarray(thumbnail).tolist() == display.tolist()


def test_a_thumbnail_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        make_thumbnail(np.zeros((4, 4), np.uint8), size=0)
