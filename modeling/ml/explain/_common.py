"""Small utilities shared by the explanation methods."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn


def as_target(target: Tensor | int, batch: int, device: torch.device) -> Tensor:
    """The target class per sample as a long tensor [B] on ``device``.

    Args:
        target: one class index for the whole batch, or a tensor [B] of indices.
        batch: batch size ``B``.
        device: where the result lives.
    """
    if isinstance(target, int):
        return torch.full((batch,), target, dtype=torch.long, device=device)
    target = torch.as_tensor(target, device=device).long().reshape(-1)
    if target.numel() == 1 and batch != 1:
        target = target.expand(batch)
    if target.shape != (batch,):
        raise ValueError(f"target must have shape [{batch}], got {tuple(target.shape)}")
    return target


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a stateless model)."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block and restore each module's previous mode.

    Perturbation methods push hundreds of masked images through the model; in train mode their
    BatchNorm statistics would overwrite the running estimates.
    """
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes.items():
            module.train(training)
