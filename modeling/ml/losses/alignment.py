"""Losses that align the map with the prompt directly: GRADIA, HAICS, Energy, RRR."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from modeling.ml.explain import normalize_minmax
from modeling.ml.losses.common import (
    EPS,
    GuidedLoss,
    gaussian_blur,
    normalize_minmax_over,
    prompt_fractions,
)

RRR_PAPER_LAMBDA = 1000.0 / 255.0**2


class GradiaLoss(GuidedLoss):
    """GRADIA (Gao et al., "Aligning Eyes between Humans and Deep Neural Network through
    Interactive Attention Alignment", CSCW 2022): ``mean |M~ - F~|`` over the CAM grid.

    ``M~`` = min-max normalised map (the reference's "linear" Grad-CAM normalisation).
    ``F~`` = area fraction of important pixels per cell, optionally Gaussian-blurred
    (``blur_sigma``, 3x3), then divided by its max so that it spans [0, 1] like ``M~``: with area
    resizing thin strokes never fill a cell, and without the rescaling the target would sit far
    below the normalised map's maximum of 1. Deviation from the reference code: the reference
    resizes masks by nearest neighbour; area is used here (METHODS.md section 3). Images whose
    prompt has no important pixel are skipped (there is nothing to align with). Per-image
    attention weights come from :func:`modeling.ml.training.reasonability_weights`.
    """

    name = "gradia"

    def __init__(self, *, blur_sigma: float | None = None, blur_kernel: int = 3) -> None:
        super().__init__()
        self.blur_sigma = blur_sigma
        self.blur_kernel = blur_kernel

    def contributing(self, prompt: Tensor) -> Tensor:
        """Images with at least one important pixel."""
        return (prompt == 1).flatten(1).any(1)

    def per_image(self, maps: Tensor, prompt: Tensor, labels: Tensor) -> Tensor:
        """Mean absolute difference per image."""
        target, _, _ = prompt_fractions(prompt, maps.shape[-2:])
        if self.blur_sigma:
            target = gaussian_blur(target, kernel_size=self.blur_kernel, sigma=self.blur_sigma)
        target = target / (target.flatten(1).amax(1).view(-1, 1, 1, 1) + EPS)
        return (normalize_minmax(maps) - target).abs().mean(dim=(1, 2, 3))


class HaicsLoss(GuidedLoss):
    """HAICS (Shen et al., "Human-AI Interactive and Continuous Sensemaking", 2021): BCE between
    the map and the important mask on labelled pixels only.

    Per image: ``sum_cells l * BCE(M~, f / l) / sum_cells l``, which equals the mean over labelled
    input pixels of ``BCE(M~ upsampled by nearest, F)`` when the input is a whole number of cells
    (``reduction='none'``, masked by ``L``: the RES reference multiplies a scalar mean by the
    mask, which does not mask). ``M~`` is min-max normalised with min and max taken over
    labelled cells only, so the loss does not depend on the map where nobody painted, and
    clamped to ``[eps, 1 - eps]`` before the BCE.
    """

    name = "haics"

    def __init__(self, *, eps: float = EPS) -> None:
        super().__init__()
        self.eps = eps

    def per_image(self, maps: Tensor, prompt: Tensor, labels: Tensor) -> Tensor:
        """Labelled-pixel mean BCE per image."""
        important, _, labelled = prompt_fractions(prompt, maps.shape[-2:])
        has_label = labelled > 0
        m = normalize_minmax_over(maps, has_label).clamp(self.eps, 1 - self.eps)
        target = torch.where(has_label, important / labelled.clamp_min(self.eps), 0.0)
        bce = F.binary_cross_entropy(m, target, reduction="none")
        bce = torch.where(has_label, bce * labelled, 0.0)
        return bce.sum(dim=(1, 2, 3)) / labelled.sum(dim=(1, 2, 3))


class EnergyLoss(GuidedLoss):
    """Energy pointing-game loss (Rao et al., "Studying How to Efficiently and Effectively Guide
    Models with Explanations", ICCV 2023): ``1 - sum_F M+ / sum M+`` per image.

    No normalisation: ``M+ = clamp(M, 0)`` of the raw map; ``sum_F`` weights each cell by its
    important fraction ``f``. If ``sum M+ < 1e-7`` the loss is ``1 - sum_F M+``. Images without
    important pixels are skipped.
    """

    name = "energy"

    def contributing(self, prompt: Tensor) -> Tensor:
        """Images with at least one important pixel."""
        return (prompt == 1).flatten(1).any(1)

    def per_image(self, maps: Tensor, prompt: Tensor, labels: Tensor) -> Tensor:
        """One minus the energy fraction inside the important region."""
        positive = maps.clamp_min(0)
        important, _, _ = prompt_fractions(prompt, maps.shape[-2:])
        inside = (positive * important).sum(dim=(1, 2, 3))
        total = positive.sum(dim=(1, 2, 3))
        fraction = torch.where(total >= 1e-7, inside / total.clamp_min(1e-7), inside)
        return 1.0 - fraction


class RrrLoss(GuidedLoss):
    """Right for the Right Reasons (Ross et al., IJCAI 2017): input-gradient penalty on
    unimportant pixels.

    Expects the ``log_prob_gradient`` map: ``sum_c (d/dx sum_k log p_k)^2`` [B, 1, H, W] at input
    resolution. Per image: ``sum_cells c * map`` (the squared gradient summed over the pixels
    marked unimportant). Images without unimportant pixels are skipped. Scale: the paper's
    ``lambda = 1000`` is for raw 0-255 inputs, a summed (not averaged) cross-entropy and the
    penalty summed over the batch. Inputs here are in [0, 1] (gradients 255x larger, squares
    255^2 larger) and both terms are averaged over images, so the equivalent default is
    ``lambda = 1000 / 255^2 ~ 0.0154`` (see :data:`RRR_PAPER_LAMBDA`).
    """

    name = "rrr"
    map_source = "log_prob_gradient"

    def contributing(self, prompt: Tensor) -> Tensor:
        """Images with at least one unimportant pixel."""
        return (prompt == 0).flatten(1).any(1)

    def per_image(self, maps: Tensor, prompt: Tensor, labels: Tensor) -> Tensor:
        """Squared input gradient summed over unimportant pixels."""
        _, unimportant, _ = prompt_fractions(prompt, maps.shape[-2:])
        return (maps * unimportant).sum(dim=(1, 2, 3))
