"""IASSA: iterative and adaptive sampling with spatial attention (Vasu & Long, WACV 2020).

A black-box saliency map refined over iterations:

1. **Occlusion sampling.** Masks ``M_i = 1 - W_i`` occlude one square window ``W_i`` (set to the
   black substrate 0 of the ``[0, 1]`` input space). Windows start at ``stride - window`` so the
   borders are covered as often as the interior. Defaults: window 45 and stride 8 at 224 px,
   scaled to the input size.
2. **Saliency.** The window-averaged score drop
   ``S(x) = sum_i (f(I) - f(I * M_i)) W_i(x) / sum_i W_i(x)``, with ``f`` the softmax probability of
   the target class. Deviation: the reference code computes the unnormalised
   ``sum_i f(I * M_i) M_i / N``; where every pixel is covered equally often the two are affine
   maps of each other (identical after min-max normalisation), but only the per-pixel
   normaliser stays correct when coverage is uneven (borders, region-restricted windows).
   The sums accumulate over iterations, so finer windows sampled in the salient region refine
   the estimate there while the rest keeps its coarser estimate.
3. **Spatial attention.** ``A = softmax(F F^T / T)`` (row-wise) over the positions of an
   attention grid, ``F`` the concatenated multi-level backbone features, each level
   L2-normalised per position (so ``F F^T`` is the mean cosine similarity). Deviation: the
   reference applies two softmaxes to raw feature products, which makes ``A`` nearly uniform.
   The adjusted map is ``S' = beta S + (1 - beta) A S`` (``A S`` computed on the grid, then
   bilinearly upsampled), ``beta = 0.5``.
4. **Adaptive sampling.** The region ``S' > min + 0.3 (max - min)`` is where the next windows
   are sampled, with a window and stride that shrink linearly (the reference's 1.5 px and
   0.2 px per iteration at 224 px, in proportion). Deviation: the reference evaluates one mask
   per forward pass and keeps every mask whose *kept* pixels meet the region (almost all);
   here masks are batched and only windows that overlap the region are kept.
5. **Stopping.** After ``iterations`` rounds, or earlier when the min-max normalised ``S'``
   changes by less than ``tol`` (mean absolute change). Choose ``iterations`` on validation
   data, never on the ground truth of the explained image (the reference picks the iteration
   with the best IoU against the test annotation).

Returns the final ``S'`` min-max normalised to ``[0, 1]`` per image.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from modeling.ml.explain._common import as_target, eval_mode, model_device
from modeling.ml.explain.normalize import normalize_minmax

REFERENCE_SIZE = 224


def _windows(h: int, w: int, window: int, stride: int) -> Tensor:
    """Boxes ``[n, 4]`` (r1, r2, c1, c2), clipped to the image, starting at ``stride - window``."""
    rows = torch.arange(stride - window, h, stride)
    cols = torch.arange(stride - window, w, stride)
    r, c = torch.meshgrid(rows, cols, indexing="ij")
    r, c = r.reshape(-1), c.reshape(-1)
    boxes = torch.stack(
        [r.clamp(min=0), (r + window).clamp(max=h), c.clamp(min=0), (c + window).clamp(max=w)], 1
    )
    return boxes[(boxes[:, 1] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 2])]


def _box_masks(boxes: Tensor, h: int, w: int, dtype: torch.dtype) -> Tensor:
    """Window indicators ``W_i`` [n, H, W] in {0, 1}."""
    rows = torch.arange(h, device=boxes.device)
    cols = torch.arange(w, device=boxes.device)
    in_rows = (rows >= boxes[:, 0:1]) & (rows < boxes[:, 1:2])  # [n, H]
    in_cols = (cols >= boxes[:, 2:3]) & (cols < boxes[:, 3:4])  # [n, W]
    return (in_rows[:, :, None] & in_cols[:, None, :]).to(dtype)


def _overlapping(boxes: Tensor, region: Tensor) -> Tensor:
    """Boxes that contain at least one pixel of ``region`` [H, W] bool (summed-area table)."""
    table = F.pad(region.to(torch.int64).cumsum(0).cumsum(1), (1, 0, 1, 0))
    r1, r2, c1, c2 = boxes.unbind(1)
    count = table[r2, c2] - table[r1, c2] - table[r2, c1] + table[r1, c1]
    return boxes[count > 0]


def _attention_operator(
    model: nn.Module, image: Tensor, layers: Sequence[str], grid: int, temperature: float
) -> tuple[Tensor, tuple[int, int]]:
    """Row-stochastic attention ``A`` [P, P] and its grid size (the first level's, capped)."""
    _, acts = model.forward_with_activations(image, list(layers))
    first = acts[layers[0]]
    size = (min(grid, first.shape[-2]), min(grid, first.shape[-1]))
    levels = [
        F.normalize(
            F.interpolate(acts[name], size=size, mode="bilinear", align_corners=False), dim=1
        )
        for name in layers
    ]
    feats = torch.cat(levels, dim=1)[0].flatten(1).T / len(layers) ** 0.5  # [P, D], unit rows
    return torch.softmax(feats @ feats.T / temperature, dim=1), size


def _adjust(saliency: Tensor, attention: Tensor, size: tuple[int, int], beta: float) -> Tensor:
    """``beta S + (1 - beta) A S`` for one map [1, 1, H, W]."""
    coarse = F.adaptive_avg_pool2d(saliency, size).flatten()  # [P]
    spread = (attention @ coarse).view(1, 1, *size)
    spread = F.interpolate(spread, size=saliency.shape[-2:], mode="bilinear", align_corners=False)
    return beta * saliency + (1.0 - beta) * spread


@torch.no_grad()
def iassa(
    model: nn.Module,
    x: Tensor,
    target: Tensor | int,
    *,
    iterations: int = 5,
    window: int | None = None,
    stride: int | None = None,
    beta: float = 0.5,
    threshold: float = 0.3,
    temperature: float = 0.1,
    feature_layers: Sequence[str] = ("layer2", "layer3", "layer4"),
    attention_grid: int = 28,
    tol: float = 1e-3,
    batch_size: int = 128,
) -> Tensor:
    """IASSA saliency maps [B, 1, H, W] in [0, 1] (see the module docstring).

    The model runs in eval mode for the call (its previous mode is restored). With
    ``beta < 1`` it must provide ``forward_with_activations`` (a
    :class:`~modeling.ml.backbones.Classifier`); ``beta=1`` needs only logits (pure black box).

    Args:
        model: the classifier, images [B, C, H, W] in [0, 1] -> logits [B, K].
        x: images [B, C, H, W].
        target: class per sample [B] (or one int).
        iterations: sampling rounds after the initial one (>= 0).
        window: initial window side in pixels (default ``round(45 * min(H, W) / 224)``).
        stride: initial stride (default ``round(8 * min(H, W) / 224)``, at least 1).
        beta: weight of the unadjusted map in ``S'``.
        threshold: region ``S' > min + threshold (max - min)``.
        temperature: softmax temperature ``T`` of the attention.
        feature_layers: backbone stages whose features build ``F``.
        attention_grid: cap on the attention grid side (``P <= attention_grid ** 2``).
        tol: stop when the mean absolute change of the normalised ``S'`` falls below this.
        batch_size: masked images per forward pass.
    """
    if beta < 1.0 and not hasattr(model, "forward_with_activations"):
        raise ValueError("spatial attention needs model.forward_with_activations; use beta=1")
    device = model_device(model)
    source_device = x.device
    x = x.to(device)
    batch, _, h, w = x.shape
    scale = min(h, w) / REFERENCE_SIZE
    window0 = max(1, round(45 * scale)) if window is None else window
    stride0 = max(1, round(8 * scale)) if stride is None else stride
    target = as_target(target, batch, device)
    maps = []
    with eval_mode(model):
        for b in range(batch):
            image = x[b : b + 1]
            attention, size = (None, None)
            if beta < 1.0:
                attention, size = _attention_operator(
                    model, image, feature_layers, attention_grid, temperature
                )
            maps.append(
                _explain_one(
                    model,
                    image,
                    int(target[b]),
                    attention,
                    size,
                    iterations=iterations,
                    window0=window0,
                    stride0=stride0,
                    beta=beta,
                    threshold=threshold,
                    tol=tol,
                    batch_size=batch_size,
                )
            )
    return torch.cat(maps, dim=0).to(source_device)


def _explain_one(
    model: nn.Module,
    image: Tensor,
    target: int,
    attention: Tensor | None,
    size: tuple[int, int] | None,
    *,
    iterations: int,
    window0: int,
    stride0: int,
    beta: float,
    threshold: float,
    tol: float,
    batch_size: int,
) -> Tensor:
    """IASSA for one image [1, C, H, W] -> [1, 1, H, W] in [0, 1]."""
    h, w = image.shape[-2:]
    base = torch.softmax(model(image), dim=1)[0, target]
    num = torch.zeros(h, w, device=image.device, dtype=image.dtype)
    den = torch.zeros_like(num)
    boxes = _windows(h, w, window0, stride0).to(image.device)
    previous = None
    for k in range(iterations + 1):
        for chunk in boxes.split(batch_size):
            windows = _box_masks(chunk, h, w, image.dtype)  # [n, H, W]
            probs = torch.softmax(model(image * (1.0 - windows[:, None])), dim=1)[:, target]
            num += torch.einsum("n,nhw->hw", base - probs, windows)
            den += windows.sum(dim=0)
        saliency = (num / den.clamp_min(1.0))[None, None]
        if attention is not None:
            saliency = _adjust(saliency, attention, size, beta)
        current = normalize_minmax(saliency)
        if previous is not None and (current - previous).abs().mean() < tol:
            break
        previous = current
        if k == iterations:
            break
        # Shrink linearly as the reference does (45 -> 43.5 -> ... px, stride 8 -> 7.8 -> ...).
        win = max(1, round(window0 * (1 - (k + 1) * 1.5 / 45)))
        step = max(1, round(stride0 * (1 - (k + 1) * 0.2 / 8)))
        lo, hi = saliency.amin(), saliency.amax()
        region = (saliency > lo + threshold * (hi - lo))[0, 0]
        boxes = _overlapping(_windows(h, w, win, step).to(image.device), region)
        if boxes.numel() == 0:
            break
    return current
