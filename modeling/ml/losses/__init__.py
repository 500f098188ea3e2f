"""Explanation-guided losses (METHODS.md section 3) behind one interface.

Every loss is an ``nn.Module`` called as ``loss(logits, maps, prompt, labels, weights=None)``:

    logits   [B, K]            the classifier output of the same forward pass
    maps     [B, 1, h, w]      raw, non-negative explanation maps from a map source
                               (:mod:`modeling.ml.training`), NOT normalised: each loss applies
                               its own method's normalisation, stated in its docstring
    prompt   [B, 1, H, W]      in {-1 unclear, 0 unimportant, +1 important}, input resolution
    labels   [B]               class indices (the maps are those of this class)
    weights  [B] or None       per-image explanation weights (GRADIA's reasonability weights)

and returns a scalar. Only images with a prompt contribute (an image without a prompt carries
all -1); a loss that needs a particular part of the prompt (GRADIA and Energy need important
pixels, RRR unimportant ones) also skips images whose prompt lacks it. The reduction over images
is ``sum_i w_i L_i / n`` over the ``n`` contributing images; with no contributing image the loss
is 0.

**Resize (all losses).** The prompt is reduced to the map grid by area: every cell gets the
fractions ``f``, ``c``, ``l = f + c`` of its input pixels that are important, unimportant and
labelled (``F.interpolate(mode="area")``, exact when H, W are multiples of h, w). A map at input
resolution (Input x Gradient, RRR) sees the masks unchanged.
"""

from __future__ import annotations

from modeling.ml.losses.alignment import (
    RRR_PAPER_LAMBDA,
    EnergyLoss,
    GradiaLoss,
    HaicsLoss,
    RrrLoss,
)
from modeling.ml.losses.common import (
    EPS,
    BaselineLoss,
    GuidedLoss,
    balanced_accuracy_threshold,
    gaussian_blur,
    normalize_minmax_over,
    prompt_fractions,
)
from modeling.ml.losses.res import LearnedImputation, ResLoss

__all__ = [
    "EPS",
    "LOSSES",
    "RRR_PAPER_LAMBDA",
    "BaselineLoss",
    "EnergyLoss",
    "GradiaLoss",
    "GuidedLoss",
    "HaicsLoss",
    "LearnedImputation",
    "ResLoss",
    "RrrLoss",
    "balanced_accuracy_threshold",
    "build_loss",
    "gaussian_blur",
    "normalize_minmax_over",
    "prompt_fractions",
]

LOSSES = ("baseline", "gradia", "haics", "res-g", "res-l", "energy", "rrr")


def build_loss(
    method: str, *, input_size: int | None = None, grid_size: int | None = None, **params: object
) -> GuidedLoss:
    """The loss of ``method`` (one of :data:`LOSSES`) with its hyperparameters.

    Args:
        method: method name.
        input_size: input side in pixels (RES-L only).
        grid_size: map grid side (RES-L only).
        **params: constructor arguments of the loss class (``gamma``, ``eta``, ``blur_sigma``,
            ``imputation_weight`` ...).
    """
    if method == "baseline":
        return BaselineLoss()
    if method == "gradia":
        return GradiaLoss(**params)  # type: ignore[arg-type]
    if method == "haics":
        return HaicsLoss(**params)  # type: ignore[arg-type]
    if method == "res-g":
        return ResLoss(**params)  # type: ignore[arg-type]
    if method == "res-l":
        if input_size is None or grid_size is None:
            raise ValueError("res-l needs input_size and grid_size for its imputation kernel")
        imputation = LearnedImputation(input_size, grid_size)
        return ResLoss(imputation=imputation, **params)  # type: ignore[arg-type]
    if method == "energy":
        return EnergyLoss()
    if method == "rrr":
        return RrrLoss()
    raise ValueError(f"unknown method {method!r}; expected one of {LOSSES}")
