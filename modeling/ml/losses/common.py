"""Shared pieces of the guided losses: prompt reduction, normalisation, threshold, interface."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

EPS = 1e-6


def prompt_fractions(prompt: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor, Tensor]:
    """Area fractions of important, unimportant and labelled pixels per cell of a grid.

    Args:
        prompt: [B, 1, H, W] in {-1, 0, 1}.
        size: the grid (h, w).

    Returns:
        ``(f, c, l)``, each [B, 1, h, w] in [0, 1], ``l = f + c``.
    """
    important = (prompt == 1).to(prompt.dtype)
    unimportant = (prompt == 0).to(prompt.dtype)
    if tuple(prompt.shape[-2:]) != tuple(size):
        important = F.interpolate(important, size=size, mode="area")
        unimportant = F.interpolate(unimportant, size=size, mode="area")
    return important, unimportant, important + unimportant


def normalize_minmax_over(maps: Tensor, mask: Tensor, eps: float = EPS) -> Tensor:
    """Per-sample ``(M - min) / (max - min + eps)`` with min and max over the ``mask`` cells.

    A sample without any mask cell uses the statistics of its whole map.
    """
    flat, keep = maps.flatten(1), mask.flatten(1)
    empty = ~keep.any(1)
    low = torch.where(empty, flat.amin(1), flat.masked_fill(~keep, math.inf).amin(1))
    high = torch.where(empty, flat.amax(1), flat.masked_fill(~keep, -math.inf).amax(1))
    shape = (-1,) + (1,) * (maps.ndim - 1)
    return (maps - low.view(shape)) / (high - low + eps).view(shape)


def gaussian_blur(maps: Tensor, *, kernel_size: int = 3, sigma: float = 0.8) -> Tensor:
    """Fixed Gaussian blur of [B, 1, h, w] maps, reflect padding (OpenCV's default border)."""
    radius = kernel_size // 2
    if radius == 0 or min(maps.shape[-2:]) <= radius:
        return maps
    steps = torch.arange(kernel_size, device=maps.device, dtype=maps.dtype) - radius
    g = torch.exp(-(steps**2) / (2 * sigma**2))
    g = g / g.sum()
    kernel = (g[:, None] * g[None, :]).view(1, 1, kernel_size, kernel_size)
    padded = F.pad(maps, (radius, radius, radius, radius), mode="reflect")
    return F.conv2d(padded, kernel)


def balanced_accuracy_threshold(positive: Tensor, negative: Tensor, default: float = 0.5) -> Tensor:
    """Threshold ``a`` maximising the balanced accuracy of ``[m >= a]`` (RES, Gao et al. 2022).

    ``BA(a) = (#{p >= a} / P + #{n < a} / N) / 2``. Candidates: the smallest value (everything
    positive), the midpoints between consecutive distinct values and ``max + 1`` (everything
    negative); ties go to the smallest candidate. Counts come from ``searchsorted`` on the sorted
    values: ``O(n log n)`` instead of the reference double loop ``O(n^2)``, and the comparison
    uses exact integer scores ``#TP * N + #TN * P``. No gradient.

    Args:
        positive: values on positive cells (any shape).
        negative: values on negative cells.
        default: returned when either set is empty (balanced accuracy undefined).

    Returns:
        0-d tensor on the inputs' device.
    """
    positive, negative = positive.detach().flatten(), negative.detach().flatten()
    if positive.numel() == 0 or negative.numel() == 0:
        return torch.tensor(default, dtype=positive.dtype, device=positive.device)
    values = torch.unique(torch.cat([positive, negative]))  # sorted ascending
    candidates = torch.cat([values[:1], (values[:-1] + values[1:]) / 2, values[-1:] + 1.0])
    n_pos, n_neg = positive.numel(), negative.numel()
    true_pos = n_pos - torch.searchsorted(positive.sort().values, candidates, side="left")
    true_neg = torch.searchsorted(negative.sort().values, candidates, side="left")
    score = true_pos * n_neg + true_neg * n_pos  # argmax returns the first maximum
    return candidates[torch.argmax(score)]


class GuidedLoss(nn.Module):
    """Base class: selects contributing images and reduces per-image terms.

    Subclasses set ``name``, ``map_source`` (the map the method is defined on, a
    :class:`modeling.ml.training.MapSource` kind) and implement :meth:`per_image`.
    """

    name: ClassVar[str] = ""
    map_source: ClassVar[str] = "gradcam"
    needs_maps: ClassVar[bool] = True

    def contributing(self, prompt: Tensor) -> Tensor:
        """[B] bool: images whose prompt labels at least one pixel."""
        return (prompt != -1).flatten(1).any(1)

    def per_image(self, maps: Tensor, prompt: Tensor, labels: Tensor) -> Tensor:
        """[n] loss of each contributing image."""
        raise NotImplementedError

    def forward(
        self,
        logits: Tensor,
        maps: Tensor,
        prompt: Tensor,
        labels: Tensor,
        weights: Tensor | None = None,
    ) -> Tensor:
        """Scalar explanation loss (see the module docstring)."""
        keep = self.contributing(prompt)
        if not bool(keep.any()):
            return logits.new_zeros(())
        values = self.per_image(maps[keep], prompt[keep], labels[keep])
        if weights is not None:
            values = values * weights[keep].to(values.dtype)
        return values.sum() / keep.sum()


class BaselineLoss(GuidedLoss):
    """No explanation loss: the baseline trains with cross-entropy only."""

    name = "baseline"
    needs_maps = False

    def forward(
        self,
        logits: Tensor,
        maps: Tensor | None,
        prompt: Tensor,
        labels: Tensor,
        weights: Tensor | None = None,
    ) -> Tensor:
        """Always 0."""
        return logits.new_zeros(())
