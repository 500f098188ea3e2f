"""Builders for the small images, DICOM files and prompts used by the imaging tests."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom.data
from PIL import Image
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid


def pydicom_bytes(name: str) -> bytes:
    """The content of a test file bundled with pydicom (no download)."""
    return Path(pydicom.data.get_testdata_file(name, download=False)).read_bytes()


def image_bytes(image: Image.Image, fmt: str, **params: object) -> bytes:
    """Encode a Pillow image in memory."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def make_dicom(
    pixels: np.ndarray,
    *,
    slope: float | None = None,
    intercept: float | None = None,
    window: tuple[float, float] | None = None,
    photometric: str = "MONOCHROME2",
    transfer_syntax: str | None = ExplicitVRLittleEndian,
    **attributes: object,
) -> bytes:
    """A minimal grey CT file with int16 pixels ``[H, W]`` or frames ``[N, H, W]``."""
    pixels = np.asarray(pixels, dtype=np.int16)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    if transfer_syntax is not None:
        ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if pixels.ndim == 3:
        ds.NumberOfFrames = pixels.shape[0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    if slope is not None:
        ds.RescaleSlope = slope
    if intercept is not None:
        ds.RescaleIntercept = intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    ds.PixelData = pixels.astype("<i2").tobytes()
    if transfer_syntax is not None and UID(transfer_syntax).is_compressed:
        # The bytes are not a valid codestream: enough to test rejection before decoding.
        ds.PixelData = encapsulate([ds.PixelData])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
    buffer = io.BytesIO()
    # Writing the file meta as given (even without a transfer syntax) needs the lenient mode.
    dcmwrite(
        buffer,
        ds,
        enforce_file_format=transfer_syntax is not None,
        implicit_vr=False,
        little_endian=True,
    )
    return buffer.getvalue()


def brush_prompt(seed: int, *, size: int = 512, strokes: int = 10) -> np.ndarray:
    """A prompt painted like an annotator would: round-brush strokes over an unclear background.

    Returns:
        int8 [size, size] in {-1, 0, 1}; every third stroke marks unimportant pixels.
    """
    rng = np.random.default_rng(seed)
    prompt = np.full((size, size), -1, dtype=np.int8)
    rows, columns = np.mgrid[:size, :size]
    for stroke in range(strokes):
        radius = rng.uniform(6, 20)
        value = 0 if stroke % 3 == 0 else 1
        position = rng.uniform(0.12 * size, 0.88 * size, 2)
        angle = rng.uniform(0, 2 * np.pi)
        for _ in range(40):  # dabs along a wandering path
            angle += rng.normal(0, 0.3)
            step = np.array([np.cos(angle), np.sin(angle)]) * radius / 2
            position = np.clip(position + step, 0, size - 1)
            disc = (rows - position[1]) ** 2 + (columns - position[0]) ** 2 <= radius**2
            prompt[disc] = value
    return prompt
