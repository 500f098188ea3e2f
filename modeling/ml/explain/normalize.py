"""Per-sample normalisation and resizing of explanation maps and masks.

Normalisations differ by method and change the loss they feed (METHODS.md section 2): *min-max*
``(M - min) / (max - min + eps)``, *divide-by-max* ``M / (max + eps)`` (after ReLU) and *raw
energy* (no normalisation). All are differentiable and computed per sample over every
non-batch dimension.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor


def _per_sample(m: Tensor) -> Tensor:
    if m.ndim < 2:
        raise ValueError(f"expected a batched map [B, ...], got shape {tuple(m.shape)}")
    return m.reshape(m.shape[0], -1)


def normalize_minmax(m: Tensor, eps: float = 1e-6) -> Tensor:
    """``(m - min) / (max - min + eps)`` per sample; a constant map becomes all zeros.

    Args:
        m: maps [B, ...] (typically [B, 1, h, w]).
        eps: keeps the division finite.

    Returns:
        maps of the same shape in ``[0, 1)``.
    """
    flat = _per_sample(m)
    shape = (m.shape[0],) + (1,) * (m.ndim - 1)
    lo = flat.amin(dim=1).view(shape)
    hi = flat.amax(dim=1).view(shape)
    return (m - lo) / (hi - lo + eps)


def normalize_max(m: Tensor, eps: float = 1e-6) -> Tensor:
    """``m / (max + eps)`` per sample, for non-negative maps (Grad-CAM after its ReLU).

    Args:
        m: non-negative maps [B, ...].
        eps: keeps the division finite; an all-zero map stays all zeros.

    Returns:
        maps of the same shape in ``[0, 1)``.
    """
    flat = _per_sample(m)
    shape = (m.shape[0],) + (1,) * (m.ndim - 1)
    return m / (flat.amax(dim=1).view(shape) + eps)


def resize_map(
    m: Tensor,
    size: int | tuple[int, int],
    *,
    mode: Literal["bilinear", "bicubic", "nearest"] = "bilinear",
    align_corners: bool = False,
) -> Tensor:
    """Resize continuous maps [B, C, h, w] to ``size`` (bilinear, ``align_corners=False``).

    ``align_corners=False`` treats pixels as areas, matching ``F.interpolate`` defaults and the
    way a CAM grid cell covers a block of input pixels.
    """
    size = (size, size) if isinstance(size, int) else tuple(size)
    if tuple(m.shape[-2:]) == size:
        return m
    corners = align_corners if mode in ("bilinear", "bicubic") else None
    return F.interpolate(m, size=size, mode=mode, align_corners=corners)


def resize_mask(
    mask: Tensor,
    size: int | tuple[int, int],
    *,
    mode: Literal["area", "nearest", "max"] = "area",
) -> Tensor:
    """Resize masks [B, C, H, W] (bool or float) to ``size``.

    Modes:
        ``area``: average over the covered input pixels (fraction of the cell inside the mask,
            in ``[0, 1]`` for a binary mask); the GRADIA choice for the positive mask on the CAM
            grid.
        ``nearest``: ``nearest-exact`` sampling (pixel centres; plain ``nearest`` is shifted by
            half a pixel); keeps tri-valued prompts tri-valued.
        ``max``: a cell is the maximum of the pixels it covers (adaptive max-pool), so a thin
            important stroke survives downsampling; upsampling falls back to ``nearest-exact``.

    Returns:
        float masks (the input's dtype when floating, else float32) of shape [B, C, *size].
    """
    size = (size, size) if isinstance(size, int) else tuple(size)
    m = mask if mask.is_floating_point() else mask.to(torch.float32)
    if tuple(m.shape[-2:]) == size:
        return m
    if mode == "area":
        return F.interpolate(m, size=size, mode="area")
    if mode == "nearest":
        return F.interpolate(m, size=size, mode="nearest-exact")
    if mode == "max":
        if size[0] <= m.shape[-2] and size[1] <= m.shape[-1]:
            return F.adaptive_max_pool2d(m, size)
        return F.interpolate(m, size=size, mode="nearest-exact")
    raise ValueError(f"unknown mode {mode!r}; expected 'area', 'nearest' or 'max'")
