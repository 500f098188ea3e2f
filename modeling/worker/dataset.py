"""From the database to tensors: the images, prompts and ground truth of a job, in memory.

Images are the 8-bit display renditions in storage (for DICOM: already windowed with the window
stored on the image, METHODS.md section 1), read through Django's storage API so any shared
backend works. Resizing to the model's square input size matches ``modeling.ml.data``: bilinear
with antialiasing for images, nearest neighbour for prompts and ground truth (values stay in
{-1, 0, 1} and {0, 1}). Everything is held in memory, which suits the few thousand images of a
labelling project; much larger projects would need a streaming dataset.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from django.core.files.storage import default_storage
from PIL import Image as PILImage
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from labeling.imaging import encode_png, explanation_from_png, prompt_from_png
from labeling.models import ExplanationMask, Image, PromptVersion
from modeling.ml.data import ArrayDataset

RESIZE_RULE = "image: bilinear, antialias; prompt and ground truth: nearest"


@dataclass(frozen=True)
class Item:
    """One image of a job: its id, label (or None), and the prompt version to use (or None)."""

    image_id: int
    label: str | None
    prompt_version_id: int | None = None


@dataclass
class Loaded:
    """Tensors of a list of items, aligned with ``items``.

    Attributes:
        dataset: the :class:`ArrayDataset` (labels of unlabelled items are 0; see ``labelled``).
        items: the items, in order.
        sizes: original (height, width) of every image, to map explanations back.
        labelled: [N] bool, whether the item has a label.
    """

    dataset: ArrayDataset
    items: list[Item]
    sizes: list[tuple[int, int]]
    labelled: list[bool]


def read_display(image: Image) -> np.ndarray:
    """The display rendition: uint8 [H, W] (grey) or [H, W, 3] (RGB)."""
    with default_storage.open(image.display.name, "rb") as handle:
        data = handle.read()
    with PILImage.open(io.BytesIO(data)) as pil:
        pil = pil.convert("L") if pil.mode in ("L", "I", "I;16", "1", "P", "LA") else pil
        if pil.mode not in ("L", "RGB"):
            pil = pil.convert("RGB")
        return np.asarray(pil).copy()


def channels_of(displays: Sequence[np.ndarray]) -> int:
    """1 when every rendition is grey, else 3 (grey images are then replicated)."""
    return 1 if all(d.ndim == 2 for d in displays) else 3


def _to_tensor(display: np.ndarray, channels: int) -> torch.Tensor:
    """uint8 [H, W] or [H, W, 3] -> float [channels, H, W] in [0, 1]."""
    if display.ndim == 2:
        array = np.repeat(display[None], channels, axis=0)
    elif channels == 3:
        array = np.moveaxis(display[..., :3], -1, 0)
    else:
        rgb = display[..., :3].astype(np.float32)
        array = np.round(0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2])[None]
    return torch.from_numpy(np.ascontiguousarray(array)).float() / 255.0


def image_tensor(display: np.ndarray, *, channels: int, size: int) -> torch.Tensor:
    """Model input [channels, size, size] in [0, 1] from a display rendition."""
    tensor = _to_tensor(display, channels)
    if tuple(tensor.shape[-2:]) != (size, size):
        tensor = TF.resize(tensor, [size, size], antialias=True).clamp_(0.0, 1.0)
    return tensor


def mask_tensor(mask: np.ndarray, *, size: int) -> torch.Tensor:
    """A mask [H, W] (prompt in {-1, 0, 1} or ground truth in {0, 1}) -> float [1, size, size]."""
    tensor = torch.from_numpy(mask.astype(np.float32))[None]
    if tuple(tensor.shape[-2:]) != (size, size):
        nearest = v2.InterpolationMode.NEAREST
        tensor = TF.resize(tensor, [size, size], interpolation=nearest)
    return tensor


def load_items(
    items: Sequence[Item],
    *,
    class_names: Sequence[str],
    size: int,
    channels: int | None = None,
    with_gt: bool = True,
) -> Loaded:
    """Reads the items' renditions, prompts and ground truth (three queries) into tensors.

    Args:
        items: what to load (images missing from the database are skipped).
        class_names: label order of the model.
        size: square model input size.
        channels: 1 or 3; None: decided from these images (``channels_of``).
        with_gt: also load ground-truth explanations (evaluation only, never training).
    """
    items = list(items)
    images = Image.objects.in_bulk([item.image_id for item in items])
    items = [item for item in items if item.image_id in images]
    displays = [read_display(images[item.image_id]) for item in items]
    if channels is None:
        channels = channels_of(displays)
    wanted = [item.prompt_version_id for item in items if item.prompt_version_id]
    prompt_png = dict(PromptVersion.objects.filter(pk__in=wanted).values_list("pk", "mask_png"))
    gt_png: dict[int, Any] = {}
    if with_gt:
        gt_png = dict(
            ExplanationMask.objects.filter(image_id__in=[i.image_id for i in items]).values_list(
                "image_id", "mask_png"
            )
        )
    index = {name: i for i, name in enumerate(class_names)}
    n = len(items)
    x = torch.zeros(n, channels, size, size)
    prompts = torch.full((n, 1, size, size), -1.0)
    gt = torch.zeros(n, 1, size, size)
    has_prompt, has_gt, labels, labelled, sizes = [], [], [], [], []
    for row, (item, display) in enumerate(zip(items, displays, strict=True)):
        height, width = display.shape[:2]
        sizes.append((height, width))
        x[row] = image_tensor(display, channels=channels, size=size)
        png = prompt_png.get(item.prompt_version_id) if item.prompt_version_id else None
        if png is not None:
            prompts[row] = mask_tensor(prompt_from_png(bytes(png), size=(width, height)), size=size)
        has_prompt.append(png is not None)
        truth = gt_png.get(item.image_id)
        if truth is not None:
            gt[row] = mask_tensor(
                explanation_from_png(bytes(truth), size=(width, height)), size=size
            )
        has_gt.append(truth is not None)
        labelled.append(item.label in index)
        labels.append(index.get(item.label, 0))
    dataset = ArrayDataset(
        x,
        labels,
        prompts=prompts,
        has_prompt=has_prompt,
        gt=gt,
        has_gt=has_gt,
        names=[str(item.image_id) for item in items],
        class_names=list(class_names),
    )
    return Loaded(dataset=dataset, items=items, sizes=sizes, labelled=labelled)


def channel_stats(dataset: ArrayDataset) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and standard deviation of a dataset's images (normalisation inside
    the model); a standard deviation below 1e-3 is raised to 1e-3."""
    images = dataset.images
    mean = images.mean(dim=(0, 2, 3))
    std = images.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def map_to_png(map_: torch.Tensor, size: tuple[int, int]) -> bytes:
    """A map [1, h, w] in [0, 1] -> 8-bit grey PNG at ``size`` = (height, width), bilinear
    (``align_corners=False``); value ``round(255 * m)``."""
    resized = torch.nn.functional.interpolate(
        map_[None].float(), size=size, mode="bilinear", align_corners=False
    )[0, 0]
    array = (resized.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    return encode_png(array)
