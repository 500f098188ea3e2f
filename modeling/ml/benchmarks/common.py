"""Mask simulation and interchange-format writing shared by the benchmark writers."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

PROMPT_STYLES = ("boundary", "scribble")
SPLITS = ("train", "val", "test")

# Interchange PNG bytes of the three prompt values (METHODS.md section 1).
_PNG_IMPORTANT, _PNG_UNIMPORTANT, _PNG_UNCLEAR = 255, 0, 128


@dataclass(frozen=True)
class Sample:
    """One written image: its labels.csv row and optional masks."""

    name: str
    label: str
    split: str
    prompt: np.ndarray | None  # int8 [H, W] in {-1, 0, 1}
    explanation: np.ndarray | None  # bool [H, W]


def check_style(prompt_style: str) -> None:
    """Raises ValueError unless ``prompt_style`` is one of PROMPT_STYLES."""
    if prompt_style not in PROMPT_STYLES:
        raise ValueError(f"prompt_style must be one of {PROMPT_STYLES}, not {prompt_style!r}")


# -- masks ------------------------------------------------------------------------------------


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Square dilation of a boolean mask by ``radius`` pixels (Pillow max filter)."""
    if radius <= 0:
        return mask.copy()
    img = Image.fromarray(mask.astype(np.uint8) * 255)
    return np.asarray(img.filter(ImageFilter.MaxFilter(2 * radius + 1))) > 0


def disk(shape: tuple[int, int], center: tuple[float, float], radius: float) -> np.ndarray:
    """Boolean [H, W] disk of ``radius`` pixels around ``center`` (row, col)."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    return (rows - center[0]) ** 2 + (cols - center[1]) ** 2 <= radius**2


def boundary_prompt(important: np.ndarray, band: int) -> np.ndarray:
    """VAPL-style incomplete prompt: object important, a band around it unclear, rest unimportant.

    Returns:
        int8 [H, W] in {-1, 0, 1}.
    """
    prompt = np.zeros(important.shape, dtype=np.int8)
    prompt[dilate(important, band) & ~important] = -1
    prompt[important] = 1
    return prompt


def random_patches(rng: np.random.Generator, free: np.ndarray, count: int, side: int) -> np.ndarray:
    """Up to ``count`` squares of ``side`` pixels lying entirely inside ``free`` (bool [H, W])."""
    height, width = free.shape
    out = np.zeros_like(free)
    for _ in range(count):
        # Bounded retries keep the writer deterministic and terminating on crowded images.
        for _attempt in range(20):
            r = int(rng.integers(0, height - side + 1))
            c = int(rng.integers(0, width - side + 1))
            if free[r : r + side, c : c + side].all():
                out[r : r + side, c : c + side] = True
                break
    return out


def scribble_prompt(
    rng: np.random.Generator,
    target: np.ndarray,
    avoid: np.ndarray,
    *,
    n_strokes: int,
    radius: float,
    n_patches: int,
    patch: int,
) -> np.ndarray:
    """Partial prompt: blobs of ``target`` important, ``avoid`` and a few patches unimportant.

    Important = pixels of ``target`` within ``radius`` of ``n_strokes`` random target pixels;
    unimportant = ``avoid`` plus ``n_patches`` square patches away from target and avoid;
    everything else unclear, as when an annotator scribbles over part of the object and crosses
    out the distractor and a few background spots.

    Returns:
        int8 [H, W] in {-1, 0, 1}.
    """
    prompt = np.full(target.shape, -1, dtype=np.int8)
    prompt[avoid] = 0
    background = ~dilate(target | avoid, 1)
    prompt[random_patches(rng, background, n_patches, patch)] = 0
    pixels = np.argwhere(target)
    if len(pixels):
        picks = rng.choice(len(pixels), size=min(n_strokes, len(pixels)), replace=False)
        for row, col in pixels[picks]:
            prompt[disk(target.shape, (row, col), radius) & target] = 1
    return prompt


def choose_prompted(rng: np.random.Generator, n: int, fraction: float) -> set[int]:
    """``round(fraction * n)`` distinct positions out of ``range(n)``."""
    count = round(min(max(fraction, 0.0), 1.0) * n)
    return {int(i) for i in rng.choice(n, size=count, replace=False)}


# -- writing ----------------------------------------------------------------------------------


def png_bytes(array: np.ndarray) -> bytes:
    """Lossless 8-bit PNG of uint8 [H, W] or [H, W, 3], no metadata (deterministic)."""
    buffer = BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def prompt_png(prompt: np.ndarray) -> bytes:
    """Interchange PNG of a prompt: 255 important, 0 unimportant, 128 unclear."""
    out = np.full(prompt.shape, _PNG_UNCLEAR, dtype=np.uint8)
    out[prompt == 1] = _PNG_IMPORTANT
    out[prompt == 0] = _PNG_UNIMPORTANT
    return png_bytes(out)


def prepare_folder(out: Path) -> Path:
    """Creates ``out`` with its images/, prompts/ and explanations/ folders."""
    out = Path(out)
    for folder in ("images", "prompts", "explanations"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    return out


def write_masks_and_labels(out: Path, samples: Iterable[Sample]) -> None:
    """Writes prompts/, explanations/ and labels.csv (rows in the order given)."""
    rows = []
    for sample in samples:
        stem = Path(sample.name).stem
        if sample.prompt is not None:
            (out / "prompts" / f"{stem}.png").write_bytes(prompt_png(sample.prompt))
        if sample.explanation is not None:
            mask = sample.explanation.astype(np.uint8) * 255
            (out / "explanations" / f"{stem}.png").write_bytes(png_bytes(mask))
        rows.append((sample.name, sample.label, sample.split))
    with (out / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("image", "label", "split"))
        writer.writerows(rows)
