"""Datasets of images, prompts and ground-truth explanations as tensors.

Items are dicts (default collate stacks them into a batch dict)::

    image       float [C, H, W] in [0, 1]
    prompt      float [1, H, W] in {-1 unclear, 0 unimportant, +1 important}; all -1 without one
    has_prompt  bool
    gt          float [1, H, W] in {0, 1}; all 0 without one
    has_gt      bool
    label       long (index into ``class_names``)
    name        str

Two sources: :class:`InterchangeDataset` reads a folder in the interchange format
(METHODS.md section 7) through :mod:`labeling.imaging` (pure decoding, no Django), and
:class:`ArrayDataset` wraps in-memory arrays.

Geometry (METHODS.md section 1): image, prompt and ground truth go through every transform
together as ``tv_tensors.Image`` / ``tv_tensors.Mask``. The fixed resize to ``size`` uses
bilinear interpolation with antialiasing for the image and nearest neighbour for the masks, so
prompt values stay in {-1, 0, 1}. Inside transforms the prompt travels as ``D + 1`` (uint8 in
{0, 1, 2}), so any padding a geometric augmentation adds (fill 0) reads as *unclear* in the
prompt, *not relevant* in the ground truth and black in the image.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

SPLITS = ("train", "val", "test")
Transform = Callable[[tuple[Any, ...]], tuple[Any, ...]]

__all__ = [
    "ArrayDataset",
    "InterchangeDataset",
    "LabelRecord",
    "augmentation",
    "class_names_of",
    "read_labels",
]


@dataclass(frozen=True)
class LabelRecord:
    """One row of labels.csv."""

    image: str
    label: str
    split: str


def read_labels(root: Path) -> list[LabelRecord]:
    """Rows of ``root/labels.csv`` (header ``image,label,split``).

    Raises:
        ValueError: missing file or columns, an unknown split, an empty field or a duplicate.
    """
    path = Path(root) / "labels.csv"
    if not path.is_file():
        raise ValueError(f"{path} does not exist")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"image", "label", "split"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {sorted(missing)}")
        records = []
        for line, row in enumerate(reader, start=2):
            record = LabelRecord(row["image"].strip(), row["label"].strip(), row["split"].strip())
            if not record.image or not record.label:
                raise ValueError(f"{path}:{line}: empty image or label")
            if record.split not in SPLITS:
                raise ValueError(f"{path}:{line}: split {record.split!r} not in {SPLITS}")
            records.append(record)
    names = [r.image for r in records]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicate image names")
    return records


def class_names_of(records: Sequence[LabelRecord]) -> tuple[str, ...]:
    """Sorted distinct labels of all splits (numerically when every label is an integer).

    Taken over every split so that train, val and test agree on the class indices.
    """
    labels = {r.label for r in records}
    if all(label.lstrip("-").isdigit() for label in labels):
        return tuple(sorted(labels, key=int))
    return tuple(sorted(labels))


def augmentation(
    size: int | tuple[int, int], *, crop_padding: int = 0, hflip: bool = False, vflip: bool = False
) -> Transform:
    """A random geometric augmentation, applied jointly to image, prompt and ground truth.

    Translation by up to ``crop_padding`` px (zero padding, then a random crop back to ``size``)
    and random flips. Padding reads as black image, unclear prompt, not-relevant ground truth.
    """
    steps: list[Any] = []
    if crop_padding > 0:
        steps.append(v2.RandomCrop(_as_size(size), padding=crop_padding, fill=0))
    if hflip:
        steps.append(v2.RandomHorizontalFlip())
    if vflip:
        steps.append(v2.RandomVerticalFlip())
    return v2.Compose(steps)


class _PromptedDataset(Dataset):
    """Shared item assembly: fixed-size tensors from ``_raw`` -> transform -> item dict."""

    class_names: tuple[str, ...]
    transform: Transform | None

    def __len__(self) -> int:
        raise NotImplementedError

    def _raw(self, index: int) -> dict[str, Any]:
        """image float [C,H,W] in [0,1], prompt uint8 [1,H,W] = D + 1, gt uint8 [1,H,W], flags."""
        raise NotImplementedError

    @property
    def num_classes(self) -> int:
        """Number of classes (length of ``class_names``)."""
        return len(self.class_names)

    def __getitem__(self, index: int) -> dict[str, Any]:
        raw = self._raw(index)
        image = tv_tensors.Image(raw["image"])
        prompt, gt = tv_tensors.Mask(raw["prompt"]), tv_tensors.Mask(raw["gt"])
        if self.transform is not None:
            image, prompt, gt = self.transform((image, prompt, gt))
        return {
            "image": image.as_subclass(Tensor).float().clone(),  # never alias the cache
            "prompt": prompt.as_subclass(Tensor).float() - 1.0,
            "has_prompt": raw["has_prompt"],
            "gt": gt.as_subclass(Tensor).float(),
            "has_gt": raw["has_gt"],
            "label": torch.tensor(raw["label"], dtype=torch.long),
            "name": raw["name"],
        }


def _as_size(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _to_channels(display: np.ndarray, channels: int) -> np.ndarray:
    """uint8 [H, W] or [H, W, 3] -> uint8 [channels, H, W] (grey replicated or RGB as luma)."""
    if display.ndim == 2:
        return np.repeat(display[None], channels, axis=0)
    rgb = np.moveaxis(display[..., :3], -1, 0)
    if channels == 3:
        return rgb
    # ITU-R 601-2 luma, the weights Pillow uses for mode "L".
    luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return np.round(luma)[None].astype(np.uint8)


def _resize(item: dict[str, Any], size: tuple[int, int] | None) -> dict[str, Any]:
    if size is None or tuple(item["image"].shape[-2:]) == size:
        return item
    item["image"] = TF.resize(item["image"], list(size), antialias=True).clamp_(0.0, 1.0)
    nearest = v2.InterpolationMode.NEAREST
    item["prompt"] = TF.resize(item["prompt"], list(size), interpolation=nearest)
    item["gt"] = TF.resize(item["gt"], list(size), interpolation=nearest)
    return item


class InterchangeDataset(_PromptedDataset):
    """Images, prompts and ground truth of one or more splits of an interchange-format folder.

    Images are decoded with :func:`labeling.imaging.decode_image` (PNG, JPEG, TIFF, DICOM; the
    middle frame of a multi-frame DICOM) into their display rendition: for DICOM,
    ``slope * x + intercept`` (HU for CT) then the ``window`` given here, else the file's
    window, else the full range (METHODS.md section 1). Prompts and explanations are read with
    ``prompt_from_png`` / ``explanation_from_png`` and must match the image size.

    Args:
        root: The folder holding labels.csv, images/, prompts/, explanations/.
        split: ``"train"``, ``"val"``, ``"test"``, several of them, or None for all rows.
        size: Fixed model input size (int or (H, W)); None keeps each image's own size.
        window: DICOM (center, width) applied to every DICOM image.
        channels: 1 or 3; None = those of the first image of labels.csv (so splits agree).
        class_names: Label order; None = :func:`class_names_of` over every split.
        transform: Random joint transform (see :func:`augmentation`), applied per access.
        cache: Keep decoded, resized tensors in memory (for small datasets).
    """

    def __init__(
        self,
        root: Path,
        split: str | Sequence[str] | None = None,
        *,
        size: int | tuple[int, int] | None = None,
        window: tuple[float, float] | None = None,
        channels: int | None = None,
        class_names: Sequence[str] | None = None,
        transform: Transform | None = None,
        cache: bool = True,
    ) -> None:
        self.root = Path(root)
        every = read_labels(self.root)
        wanted = set(SPLITS) if split is None else {split} if isinstance(split, str) else set(split)
        self.records = [r for r in every if r.split in wanted]
        self.class_names = tuple(class_names) if class_names else class_names_of(every)
        self.size = _as_size(size)
        self.window = window
        self.transform = transform
        self.cache = cache
        self._cached: dict[int, dict[str, Any]] = {}
        self._index = {name: i for i, name in enumerate(self.class_names)}
        unknown = {r.label for r in self.records} - set(self._index)
        if unknown:
            raise ValueError(f"labels {sorted(unknown)} are not in class_names")
        if channels is None:
            channels = 1 if every and self._decode(every[0].image).ndim == 2 else 3
        self.channels = channels

    def __len__(self) -> int:
        return len(self.records)

    @property
    def labels(self) -> list[int]:
        """Class index of every item, in order."""
        return [self._index[r.label] for r in self.records]

    def _decode(self, name: str) -> np.ndarray:
        from labeling.imaging import decode_image

        path = self.root / "images" / name
        try:
            decoded = decode_image(path.read_bytes(), name, window=self.window)[0]
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        return decoded.display  # uint8 [H, W] or [H, W, 3]

    def _load(self, index: int) -> dict[str, Any]:
        from labeling.imaging import explanation_from_png, prompt_from_png

        record = self.records[index]
        display = self._decode(record.image)
        height, width = display.shape[:2]
        image = torch.from_numpy(_to_channels(display, self.channels).copy()).float() / 255.0
        stem = Path(record.image).stem
        prompt_path = self.root / "prompts" / f"{stem}.png"
        gt_path = self.root / "explanations" / f"{stem}.png"
        prompt = np.full((height, width), -1, dtype=np.int8)
        gt = np.zeros((height, width), dtype=bool)
        try:
            if prompt_path.is_file():
                prompt = prompt_from_png(prompt_path.read_bytes(), size=(width, height))
            if gt_path.is_file():
                gt = explanation_from_png(gt_path.read_bytes(), size=(width, height))
        except ValueError as exc:
            raise ValueError(f"{record.image}: {exc}") from exc
        item = {
            "image": image,
            "prompt": torch.from_numpy((prompt.astype(np.int16) + 1).astype(np.uint8))[None],
            "gt": torch.from_numpy(gt.astype(np.uint8))[None],
            "has_prompt": prompt_path.is_file(),
            "has_gt": gt_path.is_file(),
            "label": self._index[record.label],
            "name": record.image,
        }
        return _resize(item, self.size)

    def _raw(self, index: int) -> dict[str, Any]:
        if index in self._cached:
            return self._cached[index]
        item = self._load(index)
        if self.cache:
            self._cached[index] = item
        return item


class ArrayDataset(_PromptedDataset):
    """In-memory images with optional prompts and ground truth.

    Args:
        images: [N, C, H, W], float in [0, 1] or uint8 (divided by 255).
        labels: [N] class indices.
        prompts: [N, 1, H, W] or [N, H, W] in {-1, 0, 1}; None = no prompts.
        has_prompt: [N] bool; None = True where ``prompts`` has any pixel != -1.
        gt: [N, 1, H, W] or [N, H, W] in {0, 1}; None = no ground truth.
        has_gt: [N] bool; None = True where ``gt`` was given.
        names: [N] item names; None = ``"0"``, ``"1"``, ...
        class_names: Label names; None = ``"0"`` .. ``str(max(labels))``.
        transform: Random joint transform (see :func:`augmentation`).
    """

    def __init__(
        self,
        images: Tensor | np.ndarray,
        labels: Tensor | np.ndarray | Sequence[int],
        *,
        prompts: Tensor | np.ndarray | None = None,
        has_prompt: Tensor | np.ndarray | Sequence[bool] | None = None,
        gt: Tensor | np.ndarray | None = None,
        has_gt: Tensor | np.ndarray | Sequence[bool] | None = None,
        names: Sequence[str] | None = None,
        class_names: Sequence[str] | None = None,
        transform: Transform | None = None,
    ) -> None:
        images = torch.as_tensor(np.asarray(images) if not torch.is_tensor(images) else images)
        self.images = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
        if self.images.ndim != 4:
            raise ValueError(f"images must be [N, C, H, W], got {tuple(self.images.shape)}")
        n, _, height, width = self.images.shape
        self._labels = torch.as_tensor(np.asarray(labels), dtype=torch.long).reshape(n)
        self.prompts = self._masks(prompts, n, height, width, fill=-1)
        self.gt = self._masks(gt, n, height, width, fill=0)
        self.has_prompt = self._flags(has_prompt, (self.prompts != -1).flatten(1).any(1))
        self.has_gt = self._flags(has_gt, torch.full((n,), gt is not None))
        self.names = list(names) if names is not None else [str(i) for i in range(n)]
        top = int(self._labels.max()) + 1 if n else 0
        self.class_names = tuple(class_names) if class_names else tuple(map(str, range(top)))
        self.transform = transform
        self.channels = self.images.shape[1]

    @staticmethod
    def _masks(values: Any, n: int, height: int, width: int, *, fill: int) -> Tensor:
        if values is None:
            return torch.full((n, 1, height, width), float(fill))
        tensor = torch.as_tensor(np.asarray(values) if not torch.is_tensor(values) else values)
        return tensor.float().reshape(n, 1, height, width)

    @staticmethod
    def _flags(values: Any, default: Tensor) -> Tensor:
        if values is None:
            return default.bool()
        return torch.as_tensor(np.asarray(values), dtype=torch.bool).reshape(default.shape)

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def labels(self) -> list[int]:
        """Class index of every item, in order."""
        return self._labels.tolist()

    def _raw(self, index: int) -> dict[str, Any]:
        return {
            "image": self.images[index],
            "prompt": (self.prompts[index] + 1).to(torch.uint8),
            "gt": self.gt[index].to(torch.uint8),
            "has_prompt": bool(self.has_prompt[index]),
            "has_gt": bool(self.has_gt[index]),
            "label": int(self._labels[index]),
            "name": self.names[index],
        }
