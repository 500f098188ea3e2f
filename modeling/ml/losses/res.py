"""RES-G and RES-L (Gao et al., KDD 2022): robust explanation supervision with imputation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from modeling.ml.explain import normalize_minmax
from modeling.ml.losses.common import (
    EPS,
    GuidedLoss,
    balanced_accuracy_threshold,
    gaussian_blur,
    prompt_fractions,
)


class LearnedImputation(nn.Module):
    """RES-L's learnable imputation ``h``: one convolution of the full-resolution important mask.

    The reference uses ``Conv2d(1, 1, 64, stride=32, padding=16)`` at 224 px with a 7x7 CAM grid.
    For other sizes the geometry is scaled by the number of input pixels per CAM cell
    ``s = round(H / h)``: stride ``s``, kernel ``2 s``, padding ``s // 2`` (32, 64, 16 at 224/7;
    8, 16, 4 at 32/4). If the output does not land exactly on the grid it is resized bilinearly
    (``align_corners=False``). Deviation: the kernel starts as a uniform average (``1 / k^2``,
    zero bias) instead of PyTorch's random init, so ``h(F)`` starts as a smoothed area fraction
    rather than a random filter of the prompt.
    """

    def __init__(self, input_size: int, grid_size: int) -> None:
        super().__init__()
        stride = max(1, round(input_size / grid_size))
        kernel = 2 * stride
        self.grid_size = grid_size
        self.conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=stride // 2)
        with torch.no_grad():
            self.conv.weight.fill_(1.0 / kernel**2)
            self.conv.bias.zero_()

    def forward(self, important: Tensor) -> Tensor:
        """[B, 1, H, W] important mask -> [B, 1, h, w] imputed map (not normalised)."""
        out = self.conv(important.to(self.conv.weight.dtype))
        if out.shape[-1] != self.grid_size or out.shape[-2] != self.grid_size:
            size = (self.grid_size, self.grid_size)
            out = F.interpolate(out, size=size, mode="bilinear", align_corners=False)
        return out


class ResLoss(GuidedLoss):
    """RES-G / RES-L (Gao et al., "RES: A Robust Framework for Guiding Visual Explanation",
    KDD 2022): robust term + imputation term on the CAM grid.

    ``M~`` = min-max normalised map; ``Y = (f - c) / l`` on labelled cells (+1 all important,
    -1 all unimportant). Threshold ``a`` = :func:`balanced_accuracy_threshold` of ``M~`` between
    cells with ``Y > 0`` and ``Y < 0``, pooled over the batch as in the reference code.
    Robust term: ``relu(sum_L w |tanh(gamma (M~ - a)) - Y| / |L| - eta)`` pooled over the
    labelled cells of the batch (per-image weights ``w`` on each cell). Imputation term: per
    image ``mean |M~ - h~(F)|`` over all cells, ``h~`` min-max normalised; ``h`` is a fixed
    3x3 Gaussian blur (sigma 0.8, reflect padding) of the area-resized important mask (RES-G) or
    a :class:`LearnedImputation` of the full-resolution mask trained jointly with the model
    (RES-L). Total: ``robust + imputation_weight * imputation``.
    """

    name = "res"

    def __init__(
        self,
        *,
        gamma: float = 5.0,
        eta: float = 0.1,
        imputation: LearnedImputation | None = None,
        blur_sigma: float = 0.8,
        blur_kernel: int = 3,
        imputation_weight: float = 1.0,
    ) -> None:
        super().__init__()
        self.gamma, self.eta = gamma, eta
        self.imputation = imputation
        self.blur_sigma, self.blur_kernel = blur_sigma, blur_kernel
        self.imputation_weight = imputation_weight
        self.name = "res-l" if imputation is not None else "res-g"

    def imputed(self, prompt: Tensor, size: tuple[int, int]) -> Tensor:
        """``h~(F)``: [n, 1, h, w] min-max normalised imputed important map."""
        important = (prompt == 1).to(prompt.dtype)
        if self.imputation is not None:
            return normalize_minmax(self.imputation(important).to(prompt.dtype))
        fraction, _, _ = prompt_fractions(prompt, size)
        blurred = gaussian_blur(fraction, kernel_size=self.blur_kernel, sigma=self.blur_sigma)
        return normalize_minmax(blurred)

    def forward(
        self,
        logits: Tensor,
        maps: Tensor,
        prompt: Tensor,
        labels: Tensor,
        weights: Tensor | None = None,
    ) -> Tensor:
        """Scalar RES loss over the images that have a prompt."""
        keep = self.contributing(prompt)
        if not bool(keep.any()):
            return logits.new_zeros(())
        maps, prompt = maps[keep], prompt[keep]
        image_w = (
            torch.ones(len(maps), dtype=maps.dtype, device=maps.device)
            if weights is None
            else weights[keep].to(maps.dtype)
        )
        m = normalize_minmax(maps)
        important, unimportant, labelled = prompt_fractions(prompt, maps.shape[-2:])
        has_label = labelled > 0
        y = torch.where(has_label, (important - unimportant) / labelled.clamp_min(EPS), 0.0)
        a = balanced_accuracy_threshold(m[has_label & (y > 0)], m[has_label & (y < 0)])
        gap = (torch.tanh(self.gamma * (m - a)) - y).abs() * image_w.view(-1, 1, 1, 1)
        robust = torch.relu(gap[has_label].sum() / has_label.sum() - self.eta)
        imputation = (m - self.imputed(prompt, maps.shape[-2:])).abs().mean(dim=(1, 2, 3))
        imputation = (imputation * image_w).sum() / len(maps)
        return robust + self.imputation_weight * imputation
