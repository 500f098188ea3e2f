"""RISE: randomized input sampling for explanation (Petsiuk et al., BMVC 2018).

Masks: an ``s x s`` grid of Bernoulli(``p1``) cells is bilinearly upsampled to
``(s + 1) * cell`` (``cell = ceil(size / s)``, ``align_corners=False``) and cropped to ``H x W``
at a random shift in ``[0, cell)`` per axis, giving smooth masks in ``[0, 1]``.

Saliency: ``S = sum_i f(I * M_i) M_i / (N * p1)`` with ``f`` the softmax probability of the target
class (as in the paper) and ``I * M_i`` the masking in the ``[0, 1]`` input space (substrate 0,
black).

Masks are generated in chunks of ``batch_size`` on the model's device from one seeded
``torch.Generator`` and shared by every image of the batch, so a map is reproducible from its
seed and ``N x C x H x W`` is never materialised (at most ``batch_size x C x H x W``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from modeling.ml.explain._common import as_target, eval_mode, model_device


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed``."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def rise_masks(
    n: int,
    size: tuple[int, int],
    *,
    grid: int = 7,
    p1: float = 0.5,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """``n`` RISE masks [n, 1, H, W] in [0, 1], on the generator's device.

    Args:
        n: number of masks.
        size: ``(H, W)``.
        grid: ``s``, cells per side of the Bernoulli grid.
        p1: keep probability of a cell.
        generator: source of randomness (its device is where the masks live).
        dtype: floating dtype of the masks.
    """
    h, w = size
    device = generator.device
    cell_h, cell_w = math.ceil(h / grid), math.ceil(w / grid)
    cells = (torch.rand(n, 1, grid, grid, generator=generator, device=device) < p1).to(dtype)
    up = F.interpolate(
        cells, size=((grid + 1) * cell_h, (grid + 1) * cell_w), mode="bilinear", align_corners=False
    )
    dy = torch.randint(0, cell_h, (n,), generator=generator, device=device)
    dx = torch.randint(0, cell_w, (n,), generator=generator, device=device)
    rows = dy[:, None] + torch.arange(h, device=device)  # [n, H]
    cols = dx[:, None] + torch.arange(w, device=device)  # [n, W]
    index = torch.arange(n, device=device)[:, None, None]
    return up[index, 0, rows[:, :, None], cols[:, None, :]][:, None]


@torch.no_grad()
def rise(
    model: nn.Module,
    x: Tensor,
    target: Tensor | int,
    *,
    n_masks: int = 4000,
    grid: int = 7,
    p1: float = 0.5,
    batch_size: int = 100,
    seed: int = 0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """RISE saliency maps [B, 1, H, W] (non-negative, not normalised).

    The model runs in eval mode for the call (its previous mode is restored).

    Args:
        model: the classifier, images [B, C, H, W] in [0, 1] -> logits [B, K].
        x: images [B, C, H, W].
        target: class per sample [B] (or one int).
        n_masks: ``N``.
        grid: ``s``.
        p1: keep probability.
        batch_size: masks per chunk (each image is evaluated on one chunk per forward pass).
        seed: seeds a generator on the model's device when ``generator`` is not given.
        generator: explicit source of randomness (overrides ``seed``); its device must be the
            model's device.

    Returns:
        ``sum_i f(x * M_i) M_i / (N p1)`` [B, 1, H, W] in the input's dtype, on its device.
    """
    if not 0.0 < p1 <= 1.0:
        raise ValueError(f"p1 must be in (0, 1], got {p1}")
    device = model_device(model)
    if generator is None:
        generator = make_generator(seed, device)
    batch, _, h, w = x.shape
    source_device = x.device
    x = x.to(device)
    target = as_target(target, batch, device)
    saliency = torch.zeros(batch, 1, h, w, device=device, dtype=x.dtype)
    with eval_mode(model):
        for start in range(0, n_masks, batch_size):
            n = min(batch_size, n_masks - start)
            masks = rise_masks(n, (h, w), grid=grid, p1=p1, generator=generator, dtype=x.dtype)
            for b in range(batch):
                probs = torch.softmax(model(x[b : b + 1] * masks), dim=1)[:, target[b]]  # [n]
                saliency[b, 0] += torch.einsum("n,nhw->hw", probs, masks[:, 0])
    return (saliency / (n_masks * p1)).to(source_device)
