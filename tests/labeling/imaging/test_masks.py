"""Prompt and explanation codecs: PNG 0/128/255 <-> {0, -1, +1}, RLE, validation messages."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from labeling.imaging import (
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
from tests.labeling.imaging.factories import brush_prompt, image_bytes

_PROMPT = np.array([[-1, -1, 1], [1, 0, 0]], dtype=np.int8)


def _grey_png(pixels: list[list[int]] | np.ndarray, mode: str = "L") -> bytes:
    return image_bytes(Image.fromarray(np.asarray(pixels, dtype=np.uint8), mode=mode), "PNG")


def test_the_value_constants_follow_methods_section_1() -> None:
    assert (IMPORTANT, UNIMPORTANT, UNCLEAR) == (1, 0, -1)


def test_prompt_png_holds_255_0_and_128_in_8_bit_grey() -> None:
    with Image.open(io.BytesIO(prompt_to_png(_PROMPT))) as image:
        assert (image.format, image.mode) == ("PNG", "L")
        assert np.asarray(image).tolist() == [[128, 128, 255], [255, 0, 0]]


def test_prompt_png_round_trips_exactly() -> None:
    prompt = brush_prompt(0, size=128)

    decoded = prompt_from_png(prompt_to_png(prompt), size=(128, 128))

    assert decoded.dtype == np.int8
    np.testing.assert_array_equal(decoded, prompt)


def test_a_png_painted_elsewhere_decodes_to_the_prompt_values() -> None:
    decoded = prompt_from_png(_grey_png([[0, 128, 255]]))

    assert decoded.tolist() == [[UNIMPORTANT, UNCLEAR, IMPORTANT]]


def test_a_brush_painted_512_prompt_encodes_under_8_kb() -> None:
    prompt = brush_prompt(1)
    assert 0.05 < np.mean(prompt != UNCLEAR) < 0.5  # a realistic amount of painting

    assert len(prompt_to_png(prompt)) < 8 * 1024


def test_a_prompt_of_the_wrong_size_names_both_sizes() -> None:
    data = _grey_png(np.zeros((80, 100)))

    with pytest.raises(MaskError) as caught:
        prompt_from_png(data, size=(128, 128))

    assert str(caught.value) == "prompt is 100x80 but the image is 128x128"


def test_unexpected_values_are_listed_up_to_five() -> None:
    data = _grey_png([[0, 1, 2, 3, 4, 5, 6, 7, 128, 255]])

    with pytest.raises(MaskError) as caught:
        prompt_from_png(data)

    assert str(caught.value) == (
        "prompt has pixel values other than 0, 128 and 255: 1, 2, 3, 4, 5 (and 2 more)"
    )


def test_an_rgb_png_with_equal_channels_is_accepted() -> None:
    grey = np.array([[0, 128, 255]], dtype=np.uint8)
    rgb = np.repeat(grey[..., None], 3, axis=2)

    decoded = prompt_from_png(image_bytes(Image.fromarray(rgb), "PNG"))

    assert decoded.tolist() == [[0, -1, 1]]


def test_a_colour_png_is_refused() -> None:
    rgb = np.array([[[255, 0, 0]]], dtype=np.uint8)

    with pytest.raises(MaskError, match="colour PNG"):
        prompt_from_png(image_bytes(Image.fromarray(rgb), "PNG"))


def test_an_opaque_alpha_channel_is_ignored_and_a_transparent_one_refused() -> None:
    opaque = np.array([[[255, 255], [0, 255]]], dtype=np.uint8)
    clear = np.array([[[255, 255], [0, 0]]], dtype=np.uint8)

    assert prompt_from_png(_grey_png(opaque, mode="LA")).tolist() == [[1, 0]]
    with pytest.raises(MaskError, match="transparent"):
        prompt_from_png(_grey_png(clear, mode="LA"))


def test_a_16_bit_png_is_refused() -> None:
    data = image_bytes(Image.fromarray(np.array([[0, 255]], dtype=np.uint16)), "PNG")

    with pytest.raises(MaskError, match="8-bit"):
        prompt_from_png(data)


@pytest.mark.parametrize(
    "data",
    [image_bytes(Image.new("L", (4, 4)), "JPEG"), b"not a png", b""],
    ids=["jpeg", "text", "empty"],
)
def test_anything_but_a_png_is_refused(data: bytes) -> None:
    with pytest.raises(MaskError, match="prompt is not a readable PNG"):
        prompt_from_png(data)


def test_a_huge_declared_prompt_is_refused_without_decoding() -> None:
    data = image_bytes(Image.new("L", (300, 200), 128), "PNG")

    with pytest.raises(MaskError, match="more than 1000 pixels"):
        prompt_from_png(data, max_pixels=1000)
    with pytest.raises(MaskError, match="at most 50000 pixels"):
        prompt_from_png(data, max_pixels=50000)


def test_prompt_to_png_refuses_values_outside_the_three() -> None:
    with pytest.raises(MaskError, match="other than -1, 0 and 1: 2, 7"):
        prompt_to_png(np.array([[2, 0, 7, 2]]))


def test_a_boolean_array_is_not_a_prompt() -> None:
    with pytest.raises(MaskError, match="dtype bool"):
        prompt_to_png(np.ones((2, 2), dtype=bool))


@pytest.mark.parametrize(("height", "width"), [(1, 1), (1, 7), (7, 1), (33, 17), (64, 64)])
def test_prompt_png_holds_the_exact_pixels_for_any_shape_and_noise(height, width) -> None:
    prompt = np.random.default_rng(height * width).integers(-1, 2, (height, width))
    expected = np.select([prompt == 1, prompt == 0], [255, 0], 128)

    with Image.open(io.BytesIO(prompt_to_png(prompt))) as image:  # Pillow, not our decoder
        image.load()
        assert (image.format, image.mode, image.size) == ("PNG", "L", (width, height))
        np.testing.assert_array_equal(np.asarray(image), expected)


def test_encoding_does_not_modify_the_prompt() -> None:
    prompt = _PROMPT.copy()

    prompt_to_png(prompt)
    prompt_to_rle(prompt)

    np.testing.assert_array_equal(prompt, _PROMPT)


# --- RLE ----------------------------------------------------------------------------------------


def test_rle_runs_go_row_major() -> None:
    assert prompt_to_rle(_PROMPT) == {"width": 3, "height": 2, "rle": [[-1, 2], [1, 2], [0, 2]]}


def test_rle_round_trips_exactly() -> None:
    prompt = brush_prompt(2, size=96)

    decoded = prompt_from_rle(prompt_to_rle(prompt), size=(96, 96))

    assert decoded.dtype == np.int8
    np.testing.assert_array_equal(decoded, prompt)


def test_rle_accepts_adjacent_runs_of_the_same_value() -> None:
    decoded = prompt_from_rle({"width": 2, "height": 1, "rle": [[1, 1], [1, 1]]})

    assert decoded.tolist() == [[1, 1]]


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([1, 2], "must be an object"),
        ({"width": 2, "rle": []}, "positive integer width and height"),
        ({"width": True, "height": 1, "rle": [[0, 1]]}, "positive integer width and height"),
        ({"width": 2, "height": 1, "rle": "0 2"}, "'rle' list"),
        ({"width": 2, "height": 1, "rle": [[0, 1, 1]]}, "entry 0 is not a [value, run] pair"),
        ({"width": 2, "height": 1, "rle": [[0, 1], [2, 1]]}, "entry 1 has value 2"),
        ({"width": 2, "height": 1, "rle": [[0.0, 2]]}, "entry 0 has value 0.0"),
        ({"width": 2, "height": 1, "rle": [[0, 0], [1, 2]]}, "entry 0 has run 0"),
        ({"width": 2, "height": 2, "rle": [[0, 3]]}, "runs cover 3 pixels but 2x2 needs 4"),
        ({"width": 2, "height": 1, "rle": []}, "runs cover 0 pixels but 2x1 needs 2"),
        ({"width": 2, "height": 1, "rle": [[True, 2]]}, "entry 0 has value True"),
        ({"width": 2, "height": 1, "rle": [[0, 1], [1, True]]}, "entry 1 has run True"),
        ({"width": 2, "height": 1, "rle": [[0, 1], [1, 1.0]]}, "entry 1 has run 1.0"),
        ({"width": 2, "height": 1, "rle": [[0, 1], "ab"]}, "entry 1 is not a [value, run] pair"),
        ({"width": 2, "height": 1, "rle": [[0, 1], None]}, "entry 1 is not a [value, run] pair"),
        ({"width": 2, "height": 1, "rle": [[0, -1], [1, 3]]}, "entry 0 has run -1"),
        ({"width": 2, "height": 1, "rle": [[0, 2**64]]}, f"runs cover {2**64} pixels"),
        # int64 sums of these wrap around to 2: the check must not
        (
            {"width": 2, "height": 1, "rle": [[0, 2**63 - 1], [0, 2**63 - 1], [0, 4]]},
            f"runs cover {2**64 + 2} pixels but 2x1 needs 2",
        ),
    ],
)
def test_invalid_rle_is_refused_with_the_problem(obj: object, message: str) -> None:
    with pytest.raises(MaskError) as caught:
        prompt_from_rle(obj)  # type: ignore[arg-type]

    assert message in str(caught.value)


def test_rle_pairs_may_be_tuples() -> None:
    decoded = prompt_from_rle({"width": 3, "height": 1, "rle": [(1, 2), (-1, 1)]})

    assert decoded.tolist() == [[1, 1, -1]]
    assert decoded.dtype == np.int8


def test_rle_of_a_512_brush_prompt_round_trips_exactly() -> None:
    prompt = brush_prompt(3)

    np.testing.assert_array_equal(prompt_from_rle(prompt_to_rle(prompt), size=(512, 512)), prompt)


def test_rle_of_the_wrong_size_names_both_sizes() -> None:
    with pytest.raises(MaskError) as caught:
        prompt_from_rle({"width": 100, "height": 80, "rle": [[-1, 8000]]}, size=(128, 128))

    assert str(caught.value) == "prompt is 100x80 but the image is 128x128"


def test_rle_declaring_a_huge_prompt_is_refused_before_allocation() -> None:
    obj = {"width": 10**6, "height": 10**6, "rle": [[-1, 10**12]]}

    with pytest.raises(MaskError, match="at most"):
        prompt_from_rle(obj)


def test_prompt_counts_counts_each_value() -> None:
    assert prompt_counts(_PROMPT) == {"important": 2, "unimportant": 2, "unclear": 2}


# --- Explanations -------------------------------------------------------------------------------


def test_explanation_png_round_trips_with_255_for_relevant() -> None:
    mask = np.array([[True, False], [False, True]])

    data = explanation_to_png(mask)

    with Image.open(io.BytesIO(data)) as image:
        assert np.asarray(image).tolist() == [[255, 0], [0, 255]]
    np.testing.assert_array_equal(explanation_from_png(data, size=(2, 2)), mask)


def test_an_explanation_with_other_values_is_refused() -> None:
    with pytest.raises(MaskError) as caught:
        explanation_from_png(_grey_png([[0, 128, 255, 1]]))

    assert str(caught.value) == "explanation has pixel values other than 0 and 255: 1, 128"


def test_an_explanation_of_the_wrong_size_names_both_sizes() -> None:
    with pytest.raises(MaskError, match=r"^explanation is 2x1 but the image is 4x4$"):
        explanation_from_png(_grey_png([[0, 255]]), size=(4, 4))


def test_integer_explanations_must_be_zero_or_one() -> None:
    assert explanation_to_png(np.array([[0, 1]])) == explanation_to_png(np.array([[False, True]]))
    with pytest.raises(MaskError, match="boolean"):
        explanation_to_png(np.array([[0, 255]]))
