"""Synthetic CT nodule patches written as real DICOM files, with a spurious marker."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modeling.ml.benchmarks.common import (
    SPLITS,
    Sample,
    boundary_prompt,
    check_style,
    choose_prompted,
    dilate,
    prepare_folder,
    random_patches,
    scribble_prompt,
    write_masks_and_labels,
)

CT_LABELS = ("no_nodule", "nodule")  # sorted, so class index 1 is "nodule"
LUNG_WINDOW = (-600.0, 1500.0)  # (center, width) stored in every file
_MARKER_HU = 1500.0


def _smooth(field: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian smoothing as two matrix products (no scipy at the web edge)."""
    n = field.shape[0]
    index = np.arange(n)
    kernel = np.exp(-((index[:, None] - index[None, :]) ** 2) / (2 * sigma**2))
    kernel /= kernel.sum(axis=1, keepdims=True)
    return kernel @ field @ kernel.T


def _segment_distance(size: int, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    rows, cols = np.mgrid[:size, :size].astype(np.float64)
    points = np.stack([rows, cols], axis=-1)
    direction = end - start
    t = np.clip(((points - start) @ direction) / max(direction @ direction, 1e-9), 0.0, 1.0)
    return np.linalg.norm(points - (start + t[..., None] * direction), axis=-1)


def _marker_mask(size: int) -> np.ndarray:
    scale = size / 64
    offset, side = round(2 * scale), max(3, round(5 * scale))
    mask = np.zeros((size, size), dtype=bool)
    mask[offset : offset + side, offset : offset + side] = True
    return mask


def render_ct_sample(
    rng: np.random.Generator, *, size: int, nodule: bool, marker: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One synthetic lung patch in Hounsfield units.

    Returns:
        (hu float64 [S, S], nodule mask bool [S, S] (empty without nodule), marker mask bool).
    """
    scale = size / 64
    texture = _smooth(rng.normal(size=(size, size)), 3 * scale)
    hu = -850.0 + 60.0 * texture / (texture.std() + 1e-9)
    for _ in range(int(rng.integers(2, 5))):
        start, end = rng.uniform(0, size - 1, size=(2, 2))
        width = rng.uniform(0.8, 1.6) * scale
        profile = np.exp(-0.5 * (_segment_distance(size, start, end) / width) ** 2)
        hu += (rng.uniform(-150.0, 0.0) - hu) * profile
    nodule_mask = np.zeros((size, size), dtype=bool)
    if nodule:
        keep_out = dilate(_marker_mask(size), round(6 * scale))
        low, high = 8 * scale, size - 1 - 8 * scale
        center = rng.uniform(low, high, size=2)
        for _attempt in range(20):
            if not keep_out[int(center[0]), int(center[1])]:
                break
            center = rng.uniform(low, high, size=2)
        radius = rng.uniform(2.5, 5.0) * scale
        rows, cols = np.mgrid[:size, :size]
        distance = np.hypot(rows - center[0], cols - center[1])
        profile = 1.0 / (1.0 + np.exp((distance - radius) / (0.5 * scale)))
        hu += (rng.uniform(-400.0, 0.0) - hu) * profile
        nodule_mask = distance <= radius
    hu += rng.normal(0.0, 40.0, size=(size, size))
    marker_mask = _marker_mask(size) if marker else np.zeros((size, size), dtype=bool)
    hu[marker_mask] = _MARKER_HU
    return hu, nodule_mask, marker_mask


def write_ct_dicom(path: Path, hu: np.ndarray, *, seed: int, name: str, number: int) -> None:
    """Write one CT slice: 12-bit unsigned storage, RescaleIntercept -1024, lung window.

    UIDs come from ``generate_uid(entropy_srcs=...)`` over the seed and name and dates are fixed,
    so the bytes depend only on the arguments.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    def uid(kind: str) -> str:
        return generate_uid(entropy_srcs=["sightline-ct-nodules", str(seed), name, kind])

    stored = np.clip(np.round(hu + 1024.0), 0, 4095).astype(np.uint16)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = uid("sop")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = generate_uid(entropy_srcs=["sightline"])
    meta.ImplementationVersionName = "SIGHTLINE"
    ds = Dataset()
    ds.file_meta = meta
    ds.preamble = b"\0" * 128
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = uid("study")
    ds.SeriesInstanceUID = uid("series")
    ds.FrameOfReferenceUID = uid("frame")
    ds.Modality = "CT"
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.PatientName = "Synthetic^Nodule"
    ds.PatientID = f"SYN-{Path(name).stem}"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240101"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
    ds.SeriesDescription = "Sightline synthetic lung nodule patch"
    ds.InstanceNumber = number
    ds.SliceThickness = "1"
    ds.PixelSpacing = ["0.7", "0.7"]
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    ds.WindowCenter, ds.WindowWidth = str(LUNG_WINDOW[0]), str(LUNG_WINDOW[1])
    ds.PixelData = stored.tobytes()
    ds.save_as(path, enforce_file_format=True)


def _ct_prompt(
    rng: np.random.Generator, nodule: np.ndarray, marker: np.ndarray, style: str, size: int
) -> np.ndarray:
    band = max(1, round(size / 32))
    if style == "boundary":
        if nodule.any():
            return boundary_prompt(nodule, band)
        prompt = np.ones(marker.shape, dtype=np.int8)
        prompt[dilate(marker, band)] = -1
        prompt[marker] = 0
        return prompt
    if nodule.any():
        target, strokes, radius = nodule, 1, max(2.0, size / 20)
    else:
        # Tissue patches stand in for "I looked here and saw nothing".
        target = random_patches(rng, ~dilate(marker, band + 2), 3, max(3, size // 10))
        strokes, radius = 3, float(size)
    return scribble_prompt(
        rng,
        target,
        dilate(marker, 1) if marker.any() else marker,
        n_strokes=strokes,
        radius=radius,
        n_patches=3,
        patch=max(3, size // 12),
    )


def write_ct_nodules(
    out: Path,
    *,
    seed: int = 0,
    n_train: int = 100,
    n_val: int = 100,
    n_test: int = 200,
    size: int = 64,
    prompt_fraction: float = 0.25,
    prompt_style: str = "boundary",
    marker_rate: float = 0.95,
) -> Path:
    """Write synthetic CT nodule patches as real DICOM files, in the interchange format.

    Each image is one CT slice (Modality CT, 12-bit unsigned storage, RescaleSlope 1,
    RescaleIntercept -1024, RescaleType HU, lung window center -600 / width 1500 stored in the
    file) of lung parenchyma (about -850 HU with smooth texture), 2-4 vessel-like lines
    (-150..0 HU) and quantum noise (sigma 40 HU). Half of the images ("nodule") contain one
    soft-edged nodule of radius 2.5-5 px at 64 px (scaled with ``size``) and a peak between
    -400 HU (ground glass) and 0 HU (solid). A spurious burned-in marker (1500 HU square near the
    top-left corner) appears in train and val on nodule images with probability ``marker_rate``
    and on the others with ``1 - marker_rate``; in test with probability 0.5 whatever the label.

    Ground truth (``explanations/``): the nodule disk, for nodule images only. Prompts for a
    ``prompt_fraction`` of train and of val and for every test image:

    - ``boundary``: nodule images: nodule important, a band of ``max(1, round(size / 32))`` px
      unclear, the rest unimportant; no-nodule images: marker unimportant, a band around it
      unclear, the lung tissue important (absence is judged from the tissue, not the marker).
    - ``scribble``: nodule images: part of the nodule important; no-nodule images: three tissue
      patches important; both: marker and three background patches unimportant, rest unclear.

    Labels are ``"nodule"`` and ``"no_nodule"``; names ``<split>_<index>.dcm``. The prompt
    simulation draws from its own random stream (spawned from ``seed``), so both prompt styles
    of one seed hold the same slices, labels, markers and choice of prompted images.

    Args:
        out: Destination folder.
        seed: Seed of every random draw (and of the DICOM UIDs; the prompts from a separate
            stream spawned from it).
        n_train: Training images (alternating labels, shuffled: half with a nodule).
        n_val: Validation images.
        n_test: Test images.
        size: Side of the square slices in pixels (at least 24).
        prompt_fraction: Fraction of train and of val images that receive a prompt.
        prompt_style: ``"boundary"`` or ``"scribble"``.
        marker_rate: P(marker | nodule) = P(no marker | no nodule) in train and val.

    Returns:
        ``out`` as a ``Path``.
    """
    check_style(prompt_style)
    if size < 24:
        raise ValueError(f"size {size} is too small for a nodule patch (minimum 24)")
    rng = np.random.default_rng(seed)
    # Prompts draw from a child stream, so both prompt styles of a seed share their slices.
    prompt_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    out = prepare_folder(out)
    samples = []
    for split, n in zip(SPLITS, (n_train, n_val, n_test), strict=True):
        labels = rng.permutation(np.arange(n) % 2)  # 1 = nodule
        prompted = set(range(n)) if split == "test" else choose_prompted(rng, n, prompt_fraction)
        for position, label in enumerate(labels):
            rate = 0.5 if split == "test" else (marker_rate if label else 1.0 - marker_rate)
            hu, nodule, marker = render_ct_sample(
                rng, size=size, nodule=bool(label), marker=bool(rng.random() < rate)
            )
            prompt = None
            if position in prompted:
                prompt = _ct_prompt(prompt_rng, nodule, marker, prompt_style, size)
            name = f"{split}_{position:04d}.dcm"
            write_ct_dicom(out / "images" / name, hu, seed=seed, name=name, number=position + 1)
            samples.append(
                Sample(name, CT_LABELS[int(label)], split, prompt, nodule if label else None)
            )
    write_masks_and_labels(out, samples)
    return out
