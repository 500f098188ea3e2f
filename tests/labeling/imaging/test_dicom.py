"""DICOM: Hounsfield units, windowing (PS3.3 C.11.2.1.2), frames, colour and rejections."""

from __future__ import annotations

import io
import json
import warnings

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, pixel_array
from pydicom.sequence import Sequence

from labeling.imaging import ImageRejected, apply_window, decode_image, read_dicom_hu
from tests.labeling.imaging.factories import make_dicom, pydicom_bytes


def _reference(name: str) -> Dataset:
    return pydicom.dcmread(io.BytesIO(pydicom_bytes(name)))


def _display(name: str, **kwargs: object) -> np.ndarray:
    return decode_image(pydicom_bytes(name), name, **kwargs)[0].display


# --- Hounsfield units -------------------------------------------------------------------------


def test_ct_small_hu_is_stored_value_times_slope_plus_intercept() -> None:
    ds = _reference("CT_small.dcm")
    assert (float(ds.RescaleSlope), float(ds.RescaleIntercept)) == (1.0, -1024.0)

    hu, _ = read_dicom_hu(pydicom_bytes("CT_small.dcm"))

    stored = ds.pixel_array
    assert hu.dtype == np.float32
    assert stored[0, 0] == 175 and hu[0, 0] == 175 - 1024
    np.testing.assert_array_equal(hu, stored.astype(np.float32) * 1.0 - 1024.0)


def test_a_fractional_slope_and_intercept_are_applied() -> None:
    data = make_dicom(np.array([[0, 10], [-4, 100]]), slope=2.5, intercept=-100)

    hu, metadata = read_dicom_hu(data)

    np.testing.assert_array_equal(hu, [[-100.0, -75.0], [-110.0, 150.0]])
    assert (metadata["rescale_slope"], metadata["rescale_intercept"]) == (2.5, -100.0)


def test_rescale_is_read_from_shared_functional_groups_of_enhanced_files() -> None:
    transform = Dataset()
    transform.RescaleSlope, transform.RescaleIntercept = 2, -10
    shared = Dataset()
    shared.PixelValueTransformationSequence = Sequence([transform])
    data = make_dicom(np.ones((3, 2, 2)), SharedFunctionalGroupsSequence=Sequence([shared]))

    hu, metadata = read_dicom_hu(data, frame=0)

    np.testing.assert_array_equal(hu, np.full((2, 2), -8.0))
    assert metadata["rescale_slope"] == 2.0


# --- Windowing ----------------------------------------------------------------------------------


def test_apply_window_follows_the_linear_function_of_ps3_3_c_11_2_1_2_1() -> None:
    # center 40, width 400: bottom edge at 40 - 0.5 - 199.5 = -160, top edge at 239;
    # inside, y = ((x - 39.5) / 399 + 0.5) * 255.
    values = np.array([-1000.0, -160.0, -159.0, 39.0, 40.0, 238.0, 239.0, 240.0])

    display = apply_window(values, 40, 400)

    # -159 -> 0.639 -> 1;  39 -> 127.18 -> 127;  40 -> 127.82 -> 128;  238 -> 254.36 -> 254
    assert display.tolist() == [0, 0, 1, 127, 128, 254, 255, 255]
    assert display.dtype == np.uint8


def test_a_window_of_width_one_is_a_threshold_at_center_minus_half() -> None:
    display = apply_window(np.array([9.4, 9.5, 9.6, 10.0]), 10, 1)

    assert display.tolist() == [0, 0, 255, 255]


@pytest.mark.parametrize("window", [(40, 0.5), (40, 0), (40, -10), (float("nan"), 400)])
def test_apply_window_refuses_widths_below_one_and_non_finite_values(
    window: tuple[float, float],
) -> None:
    with pytest.raises(ValueError, match="window width"):
        apply_window(np.zeros(3), *window)


def test_apply_window_does_not_modify_its_input() -> None:
    values = np.array([-500.0, 0.0, 500.0])

    apply_window(values, 0, 100)

    assert values.tolist() == [-500.0, 0.0, 500.0]


def test_the_window_argument_is_applied_to_hu_and_recorded() -> None:
    stored = np.array([[24, 864, 865, 1063, 1064, 1262, 1263, 1264]])  # HU + 1024
    data = make_dicom(stored, slope=1, intercept=-1024, window=(500, 2000))

    image = decode_image(data, "ct.dcm", window=(40, 400))[0]

    assert image.display.tolist() == [[0, 0, 1, 127, 128, 254, 255, 255]]
    assert image.window == (40.0, 400.0)
    assert (image.metadata["window_center"], image.metadata["window_width"]) == (500.0, 2000.0)


def test_the_file_window_is_used_when_no_window_is_given() -> None:
    ds = _reference("MR_small.dcm")

    image = decode_image(pydicom_bytes("MR_small.dcm"), "MR_small.dcm")[0]

    assert image.window == (600.0, 1600.0)
    expected = apply_window(ds.pixel_array, 600, 1600)
    np.testing.assert_array_equal(image.display, expected)


def test_without_any_window_the_full_data_range_maps_to_black_and_white() -> None:
    hu, _ = read_dicom_hu(pydicom_bytes("CT_small.dcm"))
    low, high = float(hu.min()), float(hu.max())

    image = decode_image(pydicom_bytes("CT_small.dcm"), "CT_small.dcm")[0]

    assert image.window == ((low + high) / 2 + 0.5, high - low + 1)
    assert image.display[hu == low].max() == 0 and image.display[hu == high].min() == 255


def test_a_file_window_narrower_than_one_falls_back_to_the_full_range() -> None:
    data = make_dicom(np.array([[0, 100]]), window=(50, 0.5))

    image = decode_image(data, "x.dcm")[0]

    assert image.window == (50.5, 101.0)
    assert image.display.tolist() == [[0, 255]]


def test_an_invalid_window_argument_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="window width"):
        decode_image(pydicom_bytes("CT_small.dcm"), "CT_small.dcm", window=(40, 0))


def test_monochrome1_displays_low_values_white() -> None:
    data = make_dicom(np.array([[0, 50, 100]]), photometric="MONOCHROME1")

    display = decode_image(data, "x.dcm")[0].display

    # full range window (50.5, 101): 50 -> 127.5 -> 128 (half to even), inverted to 127
    assert display.tolist() == [[255, 127, 0]]


# --- Frames -------------------------------------------------------------------------------------


def test_a_multi_frame_file_shows_its_middle_frame() -> None:
    ds = _reference("rtdose.dcm")
    assert int(ds.NumberOfFrames) == 15

    image = decode_image(pydicom_bytes("rtdose.dcm"), "rtdose.dcm")[0]
    hu, _ = read_dicom_hu(pydicom_bytes("rtdose.dcm"))

    assert image.frame_index == 7
    np.testing.assert_array_equal(hu, ds.pixel_array[7].astype(np.float32))


def test_the_middle_of_an_even_number_of_frames_is_frame_n_over_two() -> None:
    image = decode_image(pydicom_bytes("SC_rgb_rle_2frame.dcm"), "SC_rgb_rle_2frame.dcm")[0]

    assert image.frame_index == 1
    np.testing.assert_array_equal(image.display, _reference("SC_rgb_rle_2frame.dcm").pixel_array[1])


def test_all_frames_are_decoded_in_order_when_asked() -> None:
    ds = _reference("rtdose.dcm")

    images = decode_image(pydicom_bytes("rtdose.dcm"), "rtdose.dcm", frames="all")

    assert [image.frame_index for image in images] == list(range(15))
    for image, stored in zip(images, ds.pixel_array, strict=True):
        low, high = float(stored.min()), float(stored.max())
        np.testing.assert_array_equal(image.display, apply_window(stored, *image.window))
        assert image.window == ((low + high) / 2 + 0.5, high - low + 1)


def test_a_frame_beyond_the_last_is_rejected() -> None:
    with pytest.raises(ImageRejected, match="frame 15 does not exist"):
        read_dicom_hu(pydicom_bytes("rtdose.dcm"), frame=15)


def test_per_frame_windows_of_enhanced_files_are_used() -> None:
    groups = []
    for center in (10.0, 20.0):
        voi = Dataset()
        voi.WindowCenter, voi.WindowWidth = center, 5
        group = Dataset()
        group.FrameVOILUTSequence = Sequence([voi])
        groups.append(group)
    data = make_dicom(np.zeros((2, 1, 1)), PerFrameFunctionalGroupsSequence=Sequence(groups))

    images = decode_image(data, "x.dcm", frames="all")

    assert [image.window for image in images] == [(10.0, 5.0), (20.0, 5.0)]


# --- Colour -------------------------------------------------------------------------------------


def test_ybr_colour_dicom_is_displayed_as_rgb_without_a_window() -> None:
    image = decode_image(pydicom_bytes("examples_ybr_color.dcm"), "examples_ybr_color.dcm")[0]

    assert image.display.shape == (240, 320, 3)
    assert image.window is None
    assert image.frame_index == 15


def test_rgb_dicom_display_equals_the_stored_pixels() -> None:
    expected = _reference("examples_rgb_color.dcm").pixel_array

    np.testing.assert_array_equal(_display("examples_rgb_color.dcm"), expected)


def test_palette_colour_goes_through_the_palette() -> None:
    ds = _reference("examples_palette.dcm")
    expected = (apply_color_lut(pixel_array(ds), ds) >> 8).astype(np.uint8)

    np.testing.assert_array_equal(_display("examples_palette.dcm"), expected)


def test_colour_dicom_has_no_hounsfield_units() -> None:
    with pytest.raises(ImageRejected, match="colour"):
        read_dicom_hu(pydicom_bytes("SC_rgb_rle.dcm"))


# --- Metadata -----------------------------------------------------------------------------------


def test_metadata_describes_the_file_in_json_safe_values() -> None:
    ds = _reference("CT_small.dcm")

    metadata = decode_image(pydicom_bytes("CT_small.dcm"), "CT_small.dcm")[0].metadata

    assert json.loads(json.dumps(metadata)) == metadata
    assert metadata == {
        "modality": "CT",
        "rescale_slope": 1.0,
        "rescale_intercept": -1024.0,
        "window_center": None,
        "window_width": None,
        "pixel_spacing": [0.661468, 0.661468],
        "study_instance_uid": ds.StudyInstanceUID,
        "series_instance_uid": ds.SeriesInstanceUID,
        "sop_instance_uid": ds.SOPInstanceUID,
        "number_of_frames": 1,
        "transfer_syntax_uid": "1.2.840.10008.1.2.1",
        "bits_stored": 16,
        "photometric_interpretation": "MONOCHROME2",
    }


def test_a_missing_transfer_syntax_is_inferred_for_native_pixel_data() -> None:
    data = make_dicom(np.array([[1, 2], [3, 4]]), transfer_syntax=None)

    hu, metadata = read_dicom_hu(data)

    np.testing.assert_array_equal(hu, [[1, 2], [3, 4]])
    assert metadata["transfer_syntax_uid"] == "1.2.840.10008.1.2.1"


def test_a_dcm_file_without_preamble_is_read() -> None:
    data = make_dicom(np.array([[5, 6]]))[128:]  # drops the preamble only, "DICM" first
    headerless = data[4:]

    assert read_dicom_hu(headerless)[0].tolist() == [[5.0, 6.0]]


# --- Rejections ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("error")
def test_decoder_warnings_neither_leak_nor_reject_a_readable_file() -> None:
    filters = list(warnings.filters)

    image = decode_image(pydicom_bytes("MR_small_padded.dcm"), "MR_small_padded.dcm")[0]

    assert image.display.shape == (64, 64)
    assert warnings.filters == filters


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (pydicom_bytes("CT_small.dcm")[:20000], "cannot decode the DICOM pixel data"),
        (pydicom_bytes("CT_small.dcm")[:600], "no pixel data"),
        (b"\0" * 128 + b"DICM" + bytes(range(256)) * 8, "DICOM"),
        (b"\x08\x00\x05\x00garbage" * 50, "DICOM"),
        (bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)), "DICOM"),
    ],
    ids=["truncated-pixels", "header-only", "garbage-after-magic", "garbage-tags", "random"],
)
def test_broken_dicom_is_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        decode_image(data, "broken.dcm")

    assert reason in str(caught.value)


def test_an_unsupported_transfer_syntax_is_rejected_by_name() -> None:
    data = make_dicom(np.zeros((2, 2)), transfer_syntax="1.2.840.10008.1.2.4.100")

    with pytest.raises(ImageRejected, match=r"unsupported DICOM transfer syntax .*MPEG2"):
        decode_image(data, "video.dcm")


def test_a_dicom_image_above_the_pixel_limit_is_rejected_before_decoding() -> None:
    with pytest.raises(ImageRejected, match=r"128x128 \(16384 pixels\)"):
        decode_image(pydicom_bytes("CT_small.dcm"), "CT_small.dcm", max_pixels=10_000)


def test_all_frames_are_refused_when_their_total_is_too_large() -> None:
    with pytest.raises(ImageRejected, match="too many to decode every frame"):
        decode_image(pydicom_bytes("rtdose.dcm"), "rtdose.dcm", frames="all", max_pixels=300)
