"""Gradient attributions: Input x Gradient and Integrated Gradients.

Both explain the target-class **logit** (not the softmax probability), as Grad-CAM does.

- Input x Gradient (Shrikumar et al., 2016): ``x * d y_c / d x``. The map form used for review and
  as a training map source is ``sum_channels |x * d y_c / d x|`` [B, 1, H, W] (absolute value
  per channel, then summed), non-negative.
- Integrated Gradients (Sundararajan et al., ICML 2017):
  ``(x - x') * integral_0^1 d y_c(x' + a (x - x')) / d x da`` with baseline ``x'`` (default all
  zeros: the black substrate of the ``[0, 1]`` input space), approximated by the trapezoid rule
  on ``steps`` equally spaced points including both ends (weights ``1 / (steps - 1)``, halved at
  the ends, summing to 1). Captum's ``riemann_trapezoid`` uses the same points with step
  ``1 / steps``, i.e. its result is ours times ``(steps - 1) / steps``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from modeling.ml.explain._common import as_target, eval_mode


def reduce_channels(
    attribution: Tensor, mode: Literal["abs_sum", "sum", "abs_max"] = "abs_sum"
) -> Tensor:
    """Collapse an attribution [B, C, H, W] to a map [B, 1, H, W].

    Modes: ``abs_sum`` (sum of absolute values; default), ``sum`` (signed), ``abs_max``.
    """
    if mode == "abs_sum":
        return attribution.abs().sum(dim=1, keepdim=True)
    if mode == "sum":
        return attribution.sum(dim=1, keepdim=True)
    if mode == "abs_max":
        return attribution.abs().amax(dim=1, keepdim=True)
    raise ValueError(f"unknown mode {mode!r}")


def input_x_gradient_from_input(score: Tensor, x: Tensor, *, create_graph: bool = False) -> Tensor:
    """Input x Gradient map from a forward pass the caller already ran.

    Args:
        score: [B] the target-class logit per sample, computed from ``x``.
        x: the images [B, C, H, W] the forward pass consumed (must require grad).
        create_graph: keep the map differentiable (training, RRR-style losses); the graph of
            the forward pass is retained so a loss on the same logits can still backward.

    Returns:
        ``sum_channels |x * d score / d x|`` [B, 1, H, W], non-negative.
    """
    if not x.requires_grad:
        raise ValueError("x must require grad before the forward pass that produced score")
    (grad,) = torch.autograd.grad(score.sum(), x, create_graph=create_graph, retain_graph=True)
    product = x * grad if create_graph else (x * grad).detach()
    return reduce_channels(product, "abs_sum")


def input_x_gradient(
    model: nn.Module, x: Tensor, target: Tensor | int, *, create_graph: bool = False
) -> Tensor:
    """Input x Gradient map ``sum_channels |x * d y_c / d x|`` [B, 1, H, W].

    The model's train/eval mode is left as it is. Inference (``create_graph=False``) returns a
    detached map and accumulates no parameter gradients; training mode returns a map that
    back-propagates into the parameters (double backward).

    Args:
        model: the classifier, images [B, C, H, W] in [0, 1] -> logits [B, K].
        x: images [B, C, H, W].
        target: class per sample [B] (or one int).
        create_graph: differentiable map for a training loss.
    """
    with torch.enable_grad():
        x_in = x if create_graph and x.requires_grad else x.detach().requires_grad_(True)
        logits = model(x_in)
        target = as_target(target, x.shape[0], logits.device)
        score = logits.gather(1, target[:, None]).squeeze(1)
        return input_x_gradient_from_input(score, x_in, create_graph=create_graph)


def integrated_gradients(
    model: nn.Module,
    x: Tensor,
    target: Tensor | int,
    *,
    baseline: Tensor | None = None,
    steps: int = 32,
    batch_size: int = 64,
) -> Tensor:
    """Integrated Gradients attribution [B, C, H, W] (signed), trapezoid rule.

    The model runs in eval mode for the call (its previous mode is restored). The
    ``B * steps`` interpolated images are processed ``batch_size`` at a time, across samples.

    Args:
        model: the classifier, images in [0, 1] -> logits [B, K].
        x: images [B, C, H, W].
        target: class per sample [B] (or one int).
        baseline: reference images broadcastable to ``x`` (default zeros, black).
        steps: number of points on the path, both ends included (>= 2).
        batch_size: interpolated images per forward pass.

    Returns:
        attribution [B, C, H, W]; its sum approximates ``y_c(x) - y_c(baseline)``.
    """
    if steps < 2:
        raise ValueError("steps must be >= 2 (both ends of the path are included)")
    batch = x.shape[0]
    x = x.detach()
    base = torch.zeros_like(x) if baseline is None else baseline.detach().to(x).expand_as(x)
    target = as_target(target, batch, x.device)
    alphas = torch.linspace(0.0, 1.0, steps, device=x.device, dtype=x.dtype)
    weights = torch.full_like(alphas, 1.0 / (steps - 1))
    weights[0] = weights[-1] = 0.5 / (steps - 1)
    total = torch.zeros_like(x)
    pairs = torch.arange(batch * steps, device=x.device)
    with eval_mode(model), torch.enable_grad():
        for chunk in pairs.split(batch_size):
            b, a = chunk // steps, chunk % steps
            point = base[b] + alphas[a].view(-1, 1, 1, 1) * (x[b] - base[b])
            point.requires_grad_(True)
            score = model(point).gather(1, target[b][:, None]).sum()
            (grad,) = torch.autograd.grad(score, point)
            total.index_add_(0, b, grad * weights[a].view(-1, 1, 1, 1))
    return (x - base) * total
