"""Toy classifiers, tiny datasets and a training shortcut for the VAPL tests (values checkable by
hand)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from modeling.ml.backbones import BackboneConfig
from modeling.ml.data import ArrayDataset
from modeling.ml.vapl import VaplConfig, VaplModel, train_vapl

# Two classes, small-input ResNet-18: the backbone of the VAPL training tests.
BACKBONE = BackboneConfig(num_classes=2, small_input=True)


@pytest.fixture
def single_thread() -> Iterator[None]:
    """One intra-op thread: on a loaded shared CPU, two spinning threads run 10-20x slower."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class RegionModel(nn.Module):
    """Two classes; the class-1 logit is ``scale * (mean of x over one region - offset)``.

    Its score depends on the pixels of ``rows x cols`` only, so a faithful refinement of an
    all-unclear prompt must rank exactly that region highest.
    """

    def __init__(self, rows: slice, cols: slice, *, scale: float = 20.0, offset: float = 0.8):
        super().__init__()
        self.rows, self.cols = rows, cols
        self.scale = nn.Parameter(torch.tensor(scale))
        self.offset = offset

    def forward(self, x: Tensor) -> Tensor:
        region = x[:, :, self.rows, self.cols].mean(dim=(1, 2, 3))
        return torch.stack([torch.zeros_like(region), self.scale * (region - self.offset)], 1)


class ConstantModel(nn.Module):
    """Ignores its input: the same logits for every image."""

    def __init__(self, logits: tuple[float, ...] = (0.0, 1.0)) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.tensor(logits))

    def forward(self, x: Tensor) -> Tensor:
        return self.logits.expand(x.shape[0], -1)


class RecordingModel(nn.Module):
    """Class-1 logit = mean of the input; remembers every batch it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(()))
        self.seen: list[Tensor] = []

    def forward(self, x: Tensor) -> Tensor:
        self.seen.append(x.detach().clone())
        mean = x.mean(dim=(1, 2, 3)) * self.weight
        return torch.stack([-mean, mean], 1)


def square_dataset(n: int = 16, size: int = 8, *, prompted_every: int = 2) -> ArrayDataset:
    """Class 1 has a bright square in the middle; prompts mark it important (every other item)."""
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(n, 3, size, size, generator=generator) * 0.2
    labels = torch.arange(n) % 2
    lo, hi = size // 4, size - size // 4
    images[labels == 1, :, lo:hi, lo:hi] += 0.7
    prompts = -torch.ones(n, 1, size, size)
    prompts[:, :, lo:hi, lo:hi] = 1
    prompts[:, :, 0, :] = 0
    has_prompt = torch.arange(n) % prompted_every == 0
    return ArrayDataset(images, labels, prompts=prompts, has_prompt=has_prompt)


def train_on(data: ArrayDataset, config: VaplConfig, *, seed: int, **kwargs: Any) -> VaplModel:
    """``train_vapl`` on CPU with ``BACKBONE``, validating on the training data."""
    return train_vapl(
        data, data, backbone=BACKBONE, config=config, device="cpu", seed=seed, **kwargs
    )
