"""DICOM transfer syntaxes: compressed files decode and match their uncompressed siblings."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from labeling.imaging import decode_image, read_dicom_hu
from tests.labeling.imaging.factories import pydicom_bytes


def _reference(name: str) -> Dataset:
    return pydicom.dcmread(io.BytesIO(pydicom_bytes(name)))


def _display(name: str, **kwargs: object) -> np.ndarray:
    return decode_image(pydicom_bytes(name), name, **kwargs)[0].display


@pytest.mark.parametrize(
    "name",
    [
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_implicit.dcm",
        "MR_small_expb.dcm",
    ],
)
def test_lossless_encodings_of_mr_small_match_the_uncompressed_file(name: str) -> None:
    reference, _ = read_dicom_hu(pydicom_bytes("MR_small.dcm"))

    values, metadata = read_dicom_hu(pydicom_bytes(name))

    np.testing.assert_array_equal(values, reference)
    np.testing.assert_array_equal(_display(name), _display("MR_small.dcm"))
    assert metadata["transfer_syntax_uid"] == str(_reference(name).file_meta.TransferSyntaxUID)


@pytest.mark.parametrize(
    "name", ["SC_rgb_jpeg_gdcm.dcm", "SC_rgb_gdcm_KY.dcm", "SC_rgb_rle_16bit.dcm"]
)
def test_lossless_colour_encodings_match_the_rle_reference(name: str) -> None:
    # JPEG lossless (process 14), JPEG 2000 and 16-bit RLE of the same RGB picture.
    np.testing.assert_array_equal(_display(name), _display("SC_rgb_rle.dcm"))


def test_32_bit_colour_is_scaled_to_8_bits() -> None:
    np.testing.assert_array_equal(_display("SC_rgb_rle_32bit.dcm"), _display("SC_rgb_rle.dcm"))


@pytest.mark.parametrize(
    ("name", "mean_limit", "max_limit"),
    [
        ("SC_rgb_jpeg_dcmtk.dcm", 1.0, 8),  # JPEG baseline, YBR_FULL
        ("SC_rgb_jls_lossy_line.dcm", 1.0, 2),  # JPEG-LS near-lossless (NEAR = 2)
        ("SC_ybr_full_422_uncompressed.dcm", 1.0, 8),  # native YBR_FULL_422 -> RGB
        # JPEG baseline with 4:2:2 chroma subsampling: large errors only on the sharp colour
        # edges of the test pattern. Unconverted YBR would be off by about 100 on average.
        ("SC_rgb_dcmtk_+eb+cy+np.dcm", 4.0, 255),
    ],
)
def test_lossy_colour_encodings_stay_close_to_the_rle_reference(
    name: str, mean_limit: float, max_limit: int
) -> None:
    difference = np.abs(_display(name).astype(int) - _display("SC_rgb_rle.dcm").astype(int))

    assert difference.mean() < mean_limit
    assert difference.max() <= max_limit


@pytest.mark.parametrize("name", ["rtdose_rle.dcm", "rtdose_expb.dcm"])
def test_every_frame_of_encoded_rtdose_matches_the_native_file(name: str) -> None:
    reference = decode_image(pydicom_bytes("rtdose.dcm"), "rtdose.dcm", frames="all")

    images = decode_image(pydicom_bytes(name), name, frames="all")

    for image, expected in zip(images, reference, strict=True):
        np.testing.assert_array_equal(image.display, expected.display)


def test_deflated_transfer_syntax_decodes() -> None:
    ds = _reference("image_dfl.dcm")

    image = decode_image(pydicom_bytes("image_dfl.dcm"), "image_dfl.dcm")[0]

    assert image.metadata["transfer_syntax_uid"] == "1.2.840.10008.1.2.1.99"
    np.testing.assert_array_equal(image.display, ds.pixel_array)  # 0..255 full range


def test_jpeg_extended_12_bit_matches_its_jpeg_2000_sibling_roughly() -> None:
    jpeg, _ = read_dicom_hu(pydicom_bytes("JPGExtended.dcm"))
    j2k, _ = read_dicom_hu(pydicom_bytes("JPEG2000.dcm"))

    assert jpeg.shape == j2k.shape == (1024, 256)
    assert np.abs(jpeg - j2k).mean() < 0.05 * float(jpeg.max())
