"""Map sources for guided training: which explanation a loss is computed on.

The map source is chosen independently of the loss (METHODS.md section 3). Every source returns
the logits and the maps of ONE forward pass of the whole batch, so the cross-entropy and the
explanation loss share the graph and BatchNorm sees the batch once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from modeling.ml.explain import grad_cam_from_activations
from modeling.ml.explain.attribution import input_x_gradient_from_input

MAP_KINDS = ("gradcam", "input_x_gradient", "log_prob_gradient")


@dataclass(frozen=True)
class MapSource:
    """How training maps are computed.

    Attributes:
        kind: ``"gradcam"``: Grad-CAM of the label's logit at ``layer`` (METHODS.md section 2),
            [B, 1, h, w] on the layer's grid, non-negative, not normalised.
            ``"input_x_gradient"``: ``sum_c |x_c * d y_label / d x_c|`` [B, 1, H, W], the same
            map as :func:`modeling.ml.explain.input_x_gradient` (one definition for training
            and evaluation).
            ``"log_prob_gradient"``: ``sum_c (d/dx_c sum_k log p_k)^2`` [B, 1, H, W], the RRR
            input-gradient penalty density (Ross et al. 2017).
        layer: stage name for Grad-CAM (``Classifier.stage_names``).
        detach_weights: Grad-CAM channel weights treated as constants (RES / GRADIA reference
            behaviour, default) or differentiated (double backward).
    """

    kind: str = "gradcam"
    layer: str = "layer4"
    detach_weights: bool = True

    def __post_init__(self) -> None:
        if self.kind not in MAP_KINDS:
            raise ValueError(f"unknown map source {self.kind!r}; expected one of {MAP_KINDS}")

    def __call__(
        self, model: nn.Module, x: Tensor, labels: Tensor, *, create_graph: bool = True
    ) -> tuple[Tensor, Tensor]:
        """Logits [B, K] and maps [B, 1, h, w] of ``x`` [B, C, H, W] for classes ``labels`` [B].

        With ``create_graph`` (training) both stay in the graph: a loss on the maps
        back-propagates into the model (input-gradient sources differentiate twice: eager mode
        only). Without it the maps are detached; the logits keep their graph.
        """
        if self.kind == "gradcam":
            logits, acts = model.forward_with_activations(x, [self.layer])
            score = logits.gather(1, labels[:, None]).squeeze(1)
            maps = grad_cam_from_activations(
                score,
                acts[self.layer],
                create_graph=create_graph,
                detach_weights=self.detach_weights,
            )
            return logits, maps
        # The input is a fresh leaf: the caller's tensor is neither mutated nor given a .grad.
        leaf = x.detach().requires_grad_(True)
        logits = model(leaf)
        if self.kind == "input_x_gradient":
            score = logits.gather(1, labels[:, None]).squeeze(1)
            maps = input_x_gradient_from_input(score, leaf, create_graph=create_graph)
            return logits, maps
        target = F.log_softmax(logits, dim=1).sum()
        (grad,) = torch.autograd.grad(target, leaf, create_graph=create_graph)
        maps = grad.pow(2).sum(dim=1, keepdim=True)
        return logits, maps if create_graph else maps.detach()


def map_grid(model: nn.Module, source: MapSource, x: Tensor) -> tuple[int, int]:
    """The (h, w) of ``source``'s maps for inputs shaped like ``x`` (one no-grad forward)."""
    if source.kind != "gradcam":
        return int(x.shape[-2]), int(x.shape[-1])
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            _, acts = model.forward_with_activations(x[:1], [source.layer])
    finally:
        model.train(was_training)
    return int(acts[source.layer].shape[-2]), int(acts[source.layer].shape[-1])
