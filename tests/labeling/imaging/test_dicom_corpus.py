"""Every file bundled with pydicom either decodes or is rejected with a reason, nothing else."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pydicom
import pydicom.data
import pytest

from labeling.imaging import ImageRejected, decode_image

_ROOT = Path(pydicom.data.__file__).parent / "test_files"
_FILES = sorted(Path(name) for name in pydicom.data.get_testdata_files() if Path(name).is_file())


def _expected_shape(data: bytes) -> tuple[int, ...]:
    """Rows, Columns (and 3 for colour) as pydicom reads them, independently of the decoder."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reference read, not the code under test
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
    colour = int(ds.SamplesPerPixel) == 3 or ds.PhotometricInterpretation == "PALETTE COLOR"
    return (int(ds.Rows), int(ds.Columns)) + ((3,) if colour else ())


def test_the_corpus_is_the_bundled_pydicom_test_files() -> None:
    assert len(_FILES) > 150
    assert all(path.is_relative_to(_ROOT) for path in _FILES)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("path", _FILES, ids=lambda path: str(path.relative_to(_ROOT)))
def test_each_bundled_file_decodes_or_is_rejected_with_a_reason(path: Path) -> None:
    data = path.read_bytes()
    try:
        images = decode_image(data, path.name)
    except ImageRejected as exc:
        assert str(exc).strip()
        return
    expected = _expected_shape(data)
    assert images
    for image in images:
        assert image.display.dtype == "uint8"
        assert image.display.shape == expected
        assert image.format == "dicom"


@pytest.mark.parametrize(
    "name",
    [
        "CT_small.dcm",
        "MR_small.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "JPGExtended.dcm",
        "JPEG2000.dcm",
        "693_J2KI.dcm",
        "JPEGLSNearLossless_16.dcm",
        "SC_rgb_jpeg_dcmtk.dcm",
        "SC_rgb_jpeg_gdcm.dcm",
        "SC_rgb_rle_32bit_2frame.dcm",
        "SC_ybr_full_422_uncompressed.dcm",
        "examples_palette.dcm",
        "examples_ybr_color.dcm",
        "image_dfl.dcm",
        "rtdose_rle.dcm",
        "liver_1frame.dcm",
    ],
)
def test_well_formed_images_of_every_transfer_syntax_decode(name: str) -> None:
    path = Path(pydicom.data.get_testdata_file(name, download=False))

    images = decode_image(path.read_bytes(), name)

    assert images[0].display.shape == _expected_shape(path.read_bytes())


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("MR_truncated.dcm", "less than expected"),
        ("rtplan.dcm", "no pixel data (SOP class: RT Plan Storage)"),
        ("waveform_ecg.dcm", "no pixel data"),
        ("test-SR.dcm", "no pixel data"),
        ("DICOMDIR", "no pixel data (SOP class: Media Storage Directory Storage)"),
        ("badVR.dcm", "invalid DICOM image attributes"),
        ("nested_priv_SQ.dcm", "lacks required attributes: Rows, Columns"),
        ("JPEG-lossy.dcm", "cannot decode the DICOM pixel data (JPEG Extended"),
        ("README.txt", "unrecognised file format (.txt)"),
        ("zipMR.gz", "gzip files are not supported"),
    ],
)
def test_unusable_bundled_files_are_rejected_with_the_reason(name: str, reason: str) -> None:
    path = Path(pydicom.data.get_testdata_file(name, download=False))

    with pytest.raises(ImageRejected) as caught:
        decode_image(path.read_bytes(), path.name)

    assert reason in str(caught.value)
