"""Labeling fixtures: images created through the service, prompt masks and dataset folders."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from labeling import services
from labeling.models import Image


def grey_png(array: np.ndarray) -> bytes:
    """8-bit grey PNG of a uint8 array."""
    buffer = io.BytesIO()
    PILImage.fromarray(array.astype(np.uint8), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def prompt_png(mask: np.ndarray) -> bytes:
    """Interchange PNG of a prompt in {-1, 0, 1}: 128 unclear, 0 unimportant, 255 important."""
    codes = np.full(mask.shape, 128, dtype=np.uint8)
    codes[mask == 1] = 255
    codes[mask == 0] = 0
    return grey_png(codes)


def png_pixels(data: bytes) -> np.ndarray:
    return np.asarray(PILImage.open(io.BytesIO(data)))


def sample_prompt(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A prompt with all three values: int8 [H, W] in {-1, 0, 1}."""
    return np.random.default_rng(seed).integers(-1, 2, (height, width)).astype(np.int8)


def save_sample_prompt(
    image: Image, annotator: object, *, base_version: int = 0, seed: int = 0
) -> None:
    """Saves ``sample_prompt(seed)`` as the annotator's "abnormal" prompt of a 16x12 image
    (the ``image`` fixture) on top of ``base_version``."""
    services.prompt_save(
        image=image,
        annotator=annotator,
        target_class="abnormal",
        mask=sample_prompt(12, 16, seed),
        base_version=base_version,
    )


@pytest.fixture
def image(project, owner, make_png) -> Image:
    """A 16x12 grey PNG image in the project, labelled "abnormal", in train."""
    (created,) = services.image_create(
        project=project,
        name="first.png",
        data=make_png(16, 12),
        created_by=owner,
        label="abnormal",
        split="train",
    )
    return created


@pytest.fixture
def write_dataset(make_png) -> Callable[..., Path]:
    """Write an interchange-format folder: ``write_dataset(root, n=3, prompts=True, ...)``.

    Images ``img<i>.png`` of 16x12, labels alternating a/b, splits train/val/test cycling,
    prompts and explanations for every image unless switched off.
    """

    def write(root: Path, n: int = 3, *, prompts: bool = True, explanations: bool = True) -> Path:
        for folder in ("images", "prompts", "explanations"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        rows = ["image,label,split"]
        for i in range(n):
            (root / "images" / f"img{i}.png").write_bytes(make_png(16, 12, seed=100 + i))
            rows.append(f"img{i}.png,{'ab'[i % 2]},{('train', 'val', 'test')[i % 3]}")
            if prompts:
                (root / "prompts" / f"img{i}.png").write_bytes(prompt_png(sample_prompt(12, 16, i)))
            if explanations:
                truth = (np.random.default_rng(i).random((12, 16)) > 0.5).astype(np.uint8) * 255
                (root / "explanations" / f"img{i}.png").write_bytes(grey_png(truth))
        (root / "labels.csv").write_text("\n".join(rows) + "\n")
        return root

    return write


@pytest.fixture
def ab_project(owner) -> object:
    """A project with classes "a" and "b" (the classes of ``write_dataset``)."""
    return services.project_create(name="AB", class_names=["a", "b"], creator=owner)
