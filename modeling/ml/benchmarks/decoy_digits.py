"""DecoyDigits: handwritten digits with a class-coloured swatch that misleads at test time."""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
from PIL import Image

from modeling.ml.benchmarks.common import (
    SPLITS,
    Sample,
    boundary_prompt,
    check_style,
    choose_prompted,
    dilate,
    png_bytes,
    prepare_folder,
    scribble_prompt,
    write_masks_and_labels,
)


def _class_colour(hue_index: int, n_classes: int) -> np.ndarray:
    red, green, blue = colorsys.hsv_to_rgb(hue_index / n_classes, 1.0, 1.0)
    return np.round(np.array([red, green, blue]) * 255).astype(np.uint8)


def _render_digit(
    digit: np.ndarray, *, size: int, swatch: int, corner: int, colour: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns (RGB uint8 [S, S, 3], strokes bool [S, S], swatch bool [S, S])."""
    margin = swatch + 1  # the swatch never touches the strokes
    box = size - 2 * margin
    # Bilinear upscaling of the 0..16 grey levels; strokes = upscaled intensity >= 0.5.
    scaled = Image.fromarray((digit / 16.0).astype(np.float32), mode="F")
    grey = np.clip(np.asarray(scaled.resize((box, box), Image.Resampling.BILINEAR)), 0.0, 1.0)
    canvas = np.zeros((size, size), dtype=np.float32)
    canvas[margin : margin + box, margin : margin + box] = grey
    strokes = canvas >= 0.5
    image = np.repeat(np.round(canvas * 255).astype(np.uint8)[..., None], 3, axis=2)
    top = 0 if corner in (0, 1) else size - swatch
    left = 0 if corner in (0, 2) else size - swatch
    swatch_mask = np.zeros((size, size), dtype=bool)
    swatch_mask[top : top + swatch, left : left + swatch] = True
    image[swatch_mask] = colour
    return image, strokes, swatch_mask


def _digit_prompt(
    rng: np.random.Generator, strokes: np.ndarray, swatch_mask: np.ndarray, style: str, size: int
) -> np.ndarray:
    if style == "boundary":
        return boundary_prompt(strokes, band=max(1, round(size / 16)))
    return scribble_prompt(
        rng,
        strokes,
        dilate(swatch_mask, 1),
        n_strokes=3,
        radius=size / 8,
        n_patches=3,
        patch=max(2, size // 10),
    )


def _select_digits(
    rng: np.random.Generator, target: np.ndarray, counts: dict[str, int], n_classes: int
) -> dict[str, list[tuple[int, int]]]:
    """Disjoint (index, label) lists per split, ``counts[split]`` per class."""
    chosen: dict[str, list[tuple[int, int]]] = {split: [] for split in SPLITS}
    for label in range(n_classes):
        pool = rng.permutation(np.flatnonzero(target == label))
        if len(pool) < sum(counts.values()):
            raise ValueError(f"digit {label} has only {len(pool)} images")
        start = 0
        for split in SPLITS:
            chosen[split] += [(int(i), label) for i in pool[start : start + counts[split]]]
            start += counts[split]
    return chosen


def write_decoy_digits(
    out: Path,
    *,
    seed: int = 0,
    n_train_per_class: int = 10,
    n_val_per_class: int = 10,
    n_test_per_class: int = 30,
    size: int = 32,
    prompt_fraction: float = 0.25,
    prompt_style: str = "boundary",
    swatch: int = 5,
) -> Path:
    """Write DecoyDigits (after DecoyMNIST, Ross et al. 2017) in the interchange format.

    scikit-learn's bundled 8x8 handwritten digits (1797 images, no download), upscaled bilinearly
    into a ``size - 2 (swatch + 1)`` box centred on a black ``size x size`` RGB canvas, strokes in
    grey. A ``swatch x swatch`` colour patch sits in a random corner (outside the digit box). In
    train and val its hue is ``class / 10`` (one hue per digit, full saturation and value); in
    test the hue is that of a class drawn uniformly at random, independent of the label, so a
    model that reads the colour fails there. Deviation from DecoyMNIST: colour instead of grey
    level, because a CNN on these digits ignores a grey swatch (METHODS.md section 6).

    Ground truth (``explanations/``) = digit strokes, upscaled intensity >= 0.5, for every image.
    Prompts for ``round(prompt_fraction * n)`` images of train and of val (chosen at random) and
    for every test image (test prompts serve only the VAPL-P evaluation):

    - ``boundary``: strokes important, a band of ``max(1, round(size / 16))`` px around them
      unclear, everything else (the swatch included) unimportant.
    - ``scribble``: strokes within ``size / 8`` px of 3 random stroke pixels important, the
      swatch (dilated by 1 px) and 3 background patches unimportant, the rest unclear.

    Images are named ``<split>_<index>.png`` (order shuffled), labels are ``"0"``..``"9"``.
    The prompt simulation draws from its own random stream (spawned from ``seed``), so the
    images, labels, swatches, ground truth and the choice of prompted images depend on ``seed``
    only: both prompt styles of one seed hold the same images and differ only in their prompts
    (so rows that ignore prompts, such as the baseline, compare across styles).

    Args:
        out: Destination folder (created; existing files of the same names are overwritten).
        seed: Seed of every random choice (digit selection, order, corners, colours, which
            images are prompted; the prompts from a separate stream spawned from it).
        n_train_per_class: Training images per digit (disjoint from val and test).
        n_val_per_class: Validation images per digit.
        n_test_per_class: Test images per digit.
        size: Side of the square images in pixels.
        prompt_fraction: Fraction of train and of val images that receive a prompt.
        prompt_style: ``"boundary"`` or ``"scribble"``.
        swatch: Side of the colour swatch in pixels.

    Returns:
        ``out`` as a ``Path``.

    Raises:
        ValueError: For an unknown style, too small a canvas or more images than the digits hold.
    """
    from sklearn.datasets import load_digits

    check_style(prompt_style)
    if size - 2 * (swatch + 1) < 8:
        raise ValueError(f"size {size} leaves no room for a digit beside a {swatch}px swatch")
    digits = load_digits()
    n_classes = len(digits.target_names)
    counts = {"train": n_train_per_class, "val": n_val_per_class, "test": n_test_per_class}
    rng = np.random.default_rng(seed)
    # A child stream: the boundary style draws nothing, so its files are as before the split.
    prompt_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    chosen = _select_digits(rng, digits.target, counts, n_classes)

    out = prepare_folder(out)
    samples = []
    for split in SPLITS:
        n = len(chosen[split])
        order = rng.permutation(n)
        prompted = set(range(n)) if split == "test" else choose_prompted(rng, n, prompt_fraction)
        for position, pick in enumerate(order):
            index, label = chosen[split][pick]
            corner = int(rng.integers(4))
            hue = int(rng.integers(n_classes)) if split == "test" else label
            image, strokes, swatch_mask = _render_digit(
                digits.images[index],
                size=size,
                swatch=swatch,
                corner=corner,
                colour=_class_colour(hue, n_classes),
            )
            prompt = None
            if position in prompted:
                prompt = _digit_prompt(prompt_rng, strokes, swatch_mask, prompt_style, size)
            name = f"{split}_{position:04d}.png"
            (out / "images" / name).write_bytes(png_bytes(image))
            samples.append(Sample(name, str(label), split, prompt, strokes))
    write_masks_and_labels(out, samples)
    return out
