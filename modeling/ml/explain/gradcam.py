"""Grad-CAM (Selvaraju et al., ICCV 2017), one implementation for heatmaps and training losses.

``M = ReLU(sum_k w_k A_k)`` with ``w_k = mean_ij d y_c / d A_k[i, j]``, ``A`` the output of the
target layer (default ``layer4``, the last residual stage). The map is returned on the CAM grid
[B, 1, h, w] and is NOT normalised: pick the normalisation of the method that consumes it
(:mod:`modeling.ml.explain.normalize`).

Modes, from the same function:
    inference (``create_graph=False``): no graph is kept for the map; the map is detached.
    training (``create_graph=True``): the map is differentiable. With ``detach_weights=True``
        (default; the RES and GRADIA reference behaviour) the channel weights ``w_k`` are
        constants and gradients flow through ``A`` only. With ``detach_weights=False`` the
        weights are differentiated too (``torch.autograd.grad(..., create_graph=True)``, a
        double backward: eager mode only, ``torch.compile`` does not support it).

Activations come from explicit stage returns (``Classifier.forward_with_activations``), never
from module backward hooks, which break on torchvision's in-place ReLU. Run Grad-CAM on the
batched forward of the training step: in train mode BatchNorm couples the samples of a batch,
and single-image passes would corrupt the running statistics.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from modeling.ml.explain._common import as_target


def grad_cam_from_activations(
    score: Tensor,
    activation: Tensor,
    *,
    create_graph: bool = False,
    detach_weights: bool = True,
    retain_graph: bool = True,
) -> Tensor:
    """Grad-CAM of ``score`` with respect to ``activation``.

    Args:
        score: [B] the target-class logit of each sample, from the same graph as ``activation``.
        activation: [B, C, h, w] the target layer's output.
        create_graph: training mode (differentiable map); see the module docstring.
        detach_weights: in training mode, treat the channel weights as constants.
        retain_graph: keep the forward graph so that a loss on the logits of the same forward
            can still be back-propagated (default). Pass ``False`` when nothing else will
            backward through this graph. Always kept when the weights are differentiated.

    Returns:
        ``ReLU(sum_k w_k A_k)`` [B, 1, h, w], non-negative, not normalised.

    Note:
        The gradient is that of ``score.sum()``. In eval mode the samples are independent so
        this is each sample's own gradient; in train mode BatchNorm layers after ``activation``
        couple the samples (as in the reference implementations, which back-propagate the
        one-hot-masked logits of the whole batch).
    """
    if activation.ndim != 4:
        raise ValueError(f"activation must be [B, C, h, w], got {tuple(activation.shape)}")
    if score.shape != (activation.shape[0],):
        raise ValueError(
            f"score must be [B] = [{activation.shape[0]}], got {tuple(score.shape)}; "
            "select the target logit per sample first"
        )
    if not activation.requires_grad:
        raise ValueError(
            "activation does not require grad: run the forward pass with autograd enabled "
            "(not under torch.no_grad()) and with an input or parameters requiring grad"
        )
    differentiate_weights = create_graph and not detach_weights
    (grads,) = torch.autograd.grad(
        score.sum(),
        activation,
        create_graph=differentiate_weights,
        retain_graph=retain_graph or differentiate_weights,
    )
    weights = grads.mean(dim=(2, 3), keepdim=True)  # [B, C, 1, 1]
    if not differentiate_weights:
        weights = weights.detach()
    features = activation if create_graph else activation.detach()
    return torch.relu((weights * features).sum(dim=1, keepdim=True))


def grad_cam(
    model: nn.Module,
    x: Tensor,
    target: Tensor | int,
    *,
    layer: str = "layer4",
    create_graph: bool = False,
    detach_weights: bool = True,
) -> tuple[Tensor, Tensor]:
    """Grad-CAM maps and logits from one forward pass of ``model``.

    The model must provide ``forward_with_activations(x, [layer])`` (see
    :class:`modeling.ml.backbones.Classifier`). Its train/eval mode is left as it is.

    Args:
        model: the classifier.
        x: images [B, C, H, W] in [0, 1].
        target: class per sample [B] (or one int for all).
        layer: a stage name, ``"layer4"`` by default.
        create_graph: training mode: the maps and logits stay in the graph, so a loss on both
            back-propagates into the model. Inference mode returns detached maps and logits and
            accumulates no parameter gradients.
        detach_weights: in training mode, treat the channel weights as constants.

    Returns:
        ``(maps [B, 1, h, w] non-negative and not normalised, logits [B, K])``.
    """
    if create_graph:
        logits, acts = model.forward_with_activations(x, [layer])
        target = as_target(target, x.shape[0], logits.device)
        score = logits.gather(1, target[:, None]).squeeze(1)
        maps = grad_cam_from_activations(
            score, acts[layer], create_graph=True, detach_weights=detach_weights
        )
        return maps, logits
    # A leaf input that requires grad makes the activation differentiable even when the
    # parameters are frozen or the caller runs under torch.no_grad(); only this input's graph is
    # used and no parameter ``.grad`` is touched.
    with torch.enable_grad():
        logits, acts = model.forward_with_activations(x.detach().requires_grad_(True), [layer])
        target = as_target(target, x.shape[0], logits.device)
        score = logits.gather(1, target[:, None]).squeeze(1)
        maps = grad_cam_from_activations(score, acts[layer], retain_graph=False)
    return maps, logits.detach()


def class_activation_map(features: Tensor, fc_weight: Tensor, target: Tensor | int) -> Tensor:
    """Closed-form Grad-CAM at the last stage of a global-average-pooling network (CAM).

    With logits ``y = W mean_ij A[:, i, j] + b`` the Grad-CAM weights at ``A`` are exactly
    ``W[c] / (h w)``, so no backward pass is needed. Equal to :func:`grad_cam` at ``layer4`` of
    a :class:`~modeling.ml.backbones.Classifier`; differentiable through ``features`` and
    ``fc_weight``.

    Args:
        features: layer4 output [B, C, h, w].
        fc_weight: classifier weight [K, C].
        target: class per sample [B] (or one int).

    Returns:
        [B, 1, h, w] non-negative, not normalised.
    """
    batch, _, h, w = features.shape
    target = as_target(target, batch, features.device)
    weights = fc_weight[target] / (h * w)  # [B, C]
    return torch.relu(torch.einsum("bc,bchw->bhw", weights, features)[:, None])
