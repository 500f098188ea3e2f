"""The two phases of a VAPL round and the per-round score cache (METHODS.md section 4).

Phase F updates ``f_o`` and ``f_m`` with ``g`` fixed on ``L_pred + lambda1 L_param + lambda2
L_feature + lambda3 L_MLP``; phase G updates ``g`` alone on ``CE(f_m(I * A(g)), y) + lambda3
L_MLP`` with the CNNs frozen. The loss definitions and their deviations are stated in
:mod:`modeling.ml.vapl.trainer`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset

from modeling.ml.backbones import Classifier
from modeling.ml.training import make_loader, recalibrate_batchnorm
from modeling.ml.vapl.config import VaplConfig
from modeling.ml.vapl.masks import MaskSet
from modeling.ml.vapl.model import VaplModel, unrefined_map
from modeling.ml.vapl.refinement import eval_mode, mask_scores, refined_map


class IndexedDataset(Dataset):
    """Adds ``"index"`` (the item's position) to every item of a dataset."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {**self.dataset[index], "index": index}


@dataclass
class RoundCache:
    """Cached views and mask scores of the prompted training images for one round.

    Attributes:
        masks: the round's mask set.
        rows: dataset index -> row.
        images: [P, C, H, W] cached views (on the CPU).
        prompts: [P, 1, H, W] in {-1, 0, 1} (on the CPU).
        labels: [P] long (on the CPU).
        scores: [P, N] ``w_j`` at the true label (on the training device).
    """

    masks: MaskSet
    rows: dict[int, int]
    images: Tensor
    prompts: Tensor
    labels: Tensor
    scores: Tensor


def loader_for(
    dataset: Dataset, config: VaplConfig, *, shuffle: bool = False, seed: int = 0
) -> DataLoader:
    """A loader of ``config.batch_size`` (shuffled by a generator seeded with ``seed``)."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return make_loader(dataset, batch_size=config.batch_size, shuffle=shuffle, generator=generator)


def prompted_indices(dataset: Dataset, config: VaplConfig) -> list[int]:
    """Positions of the items whose ``has_prompt`` is true."""
    found: list[int] = []
    for batch in loader_for(IndexedDataset(dataset), config):
        found += batch["index"][batch["has_prompt"].bool()].tolist()
    return found


def cache_round(
    model: VaplModel,
    dataset: Dataset,
    prompted: list[int],
    masks: MaskSet | None,
    config: VaplConfig,
    device: torch.device,
) -> RoundCache | None:
    """Views and scores ``w_j`` (``f_m`` in eval mode, at the true label) of the prompted items.

    Returns ``None`` when there is nothing to cache (no prompted item, or ``masks`` is ``None``
    for the ``"no-refine"`` ablation).
    """
    if not prompted or masks is None:
        return None
    images, prompts, labels, scores = [], [], [], []
    loader = loader_for(Subset(IndexedDataset(dataset), prompted), config)
    for batch in loader:
        x, prompt, y = batch["image"], batch["prompt"], batch["label"]
        w = mask_scores(
            model.f_m,
            x.to(device),
            prompt.to(device),
            y.to(device),
            masks,
            chunk=config.chunk,
            autocast=config.autocast,
            channels_last=config.channels_last,
        )
        images.append(x)
        prompts.append(prompt)
        labels.append(y)
        scores.append(w)
    return RoundCache(
        masks=masks,
        rows={index: row for row, index in enumerate(prompted)},
        images=torch.cat(images),
        prompts=torch.cat(prompts),
        labels=torch.cat(labels),
        scores=torch.cat(scores),
    )


def _refined(
    model: VaplModel, cache: RoundCache | None, prompt: Tensor, scores: Tensor | None
) -> Tensor:
    """``A`` for prompted images: from cached scores, or the unrefined prompt (``no-refine``)."""
    if cache is None or scores is None:
        return unrefined_map(prompt)
    return refined_map(scores, prompt, cache.masks, model.g, model.config.rescale)


def _masked(
    model: VaplModel,
    cache: RoundCache | None,
    x: Tensor,
    prompt: Tensor,
    prompted: Tensor,
    scores: Tensor | None,
) -> Tensor:
    """``f_m``'s input: prompted images times ``A`` (``g`` fixed), the others unchanged."""
    if not prompted.any():
        return x
    with torch.no_grad(), eval_mode(model.g):
        refined = _refined(model, cache, prompt[prompted], scores)
    masked = x.clone()
    masked[prompted] = x[prompted] * refined.to(x.dtype)
    return masked


def stream_inputs(
    model: VaplModel, dataset: Dataset, cache: RoundCache | None, config: VaplConfig
) -> Iterator[tuple[Tensor, Tensor]]:
    """``(f_o input, f_m input)`` batches over ``dataset`` as phase F builds them.

    Prompted items take their cached view masked by ``A`` from the cached scores; without a
    cache (first round, ``"no-refine"``) by the unrefined prompt ``[D != 0]``.
    """
    device = model.device
    for batch in loader_for(IndexedDataset(dataset), config):
        x, prompt, _, prompted, scores = _phase_f_batch(batch, cache, device)
        yield x, _masked(model, cache, x, prompt, prompted, scores)


def recalibrate_streams(
    model: VaplModel, dataset: Dataset, cache: RoundCache | None, config: VaplConfig
) -> None:
    """Precise BN (:mod:`modeling.ml.training.batchnorm`) for both streams.

    ``f_o`` over the training images, ``f_m`` over its phase-F inputs (:func:`stream_inputs`),
    so that the scores cached in eval mode, the validation of ``f_o`` and the ``f_m`` of the
    selected state use statistics of the current weights rather than lagging running averages.
    """
    pairs = list(stream_inputs(model, dataset, cache, config))
    device = model.device
    recalibrate_batchnorm(model.f_o, ({"image": x} for x, _ in pairs), device)
    recalibrate_batchnorm(model.f_m, ({"image": m} for _, m in pairs), device)


def param_distance(f_o: Classifier, f_m: Classifier, reduction: str = "sum") -> Tensor:
    """``L_param``: ``(W_o - W_m)^2`` over every convolution weight, summed (the paper's
    ``||W_o - W_m||_F^2``) or averaged (``reduction="mean"``: the sum over the weight count)."""
    total = torch.zeros((), device=next(f_o.parameters()).device)
    count = 0
    for (_, w_o), (_, w_m) in zip(f_o.conv_parameters(), f_m.conv_parameters(), strict=True):
        total = total + (w_o - w_m).pow(2).sum()
        count += w_o.numel()
    return total / max(count, 1) if reduction == "mean" else total


def feature_distance(feat_o: Tensor, feat_m: Tensor) -> Tensor:
    """``L_feature``: squared difference of the pooled features, mean over features and images.

    Deviation: the paper's ``||S(f_o(I)) - S(f_m(I * A))||_F^2`` sums over the features (512 for
    ResNet-18, 2048 for ResNet-50). Summed, the term was 13 times the cross-entropy at the
    start of training on DecoyDigits (30 against 2.3) and ``f_o`` stayed at chance (validation
    accuracy 0.10-0.17 over 3 epochs, training cross-entropy 2.3); averaged, with the paper's
    ``lambda2 = 1`` and summed ``L_param``, ``f_o`` reached 0.83 validation accuracy in 2 epochs.
    """
    return (feat_o.mean(dim=(2, 3)) - feat_m.mean(dim=(2, 3))).pow(2).mean()


def _phase_f_batch(
    batch: Mapping[str, Any], cache: RoundCache | None, device: torch.device
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor | None]:
    """``(x, prompt, y, prompted [B] bool, cached scores [P_b, N] | None)`` on ``device``."""
    x, prompt, y = batch["image"].clone(), batch["prompt"].clone(), batch["label"]
    prompted = batch["has_prompt"].bool()
    scores = None
    if cache is not None:
        # Prompted items take the view their cached scores were computed on.
        rows = torch.tensor(
            [cache.rows[int(i)] for i in batch["index"][prompted]], dtype=torch.long
        )
        x[prompted], prompt[prompted] = cache.images[rows], cache.prompts[rows]
        scores = cache.scores[rows.to(cache.scores.device)]
    return x.to(device), prompt.to(device), y.to(device), prompted.to(device), scores


def phase_f_step(
    model: VaplModel,
    batch: Mapping[str, Any],
    cache: RoundCache | None,
    optimizer: torch.optim.Optimizer,
    config: VaplConfig,
    device: torch.device,
) -> dict[str, float]:
    """One Adam step on ``f_o`` and ``f_m`` with ``g`` fixed; returns the loss terms."""
    x, prompt, y, prompted, scores = _phase_f_batch(batch, cache, device)
    masked = _masked(model, cache, x, prompt, prompted, scores)
    model.f_o.train()
    model.f_m.train()
    feat_o = model.f_o.forward_features(x)
    feat_m = model.f_m.forward_features(masked)
    logits_o, logits_m = model.f_o.forward_head(feat_o), model.f_m.forward_head(feat_m)
    ce_o = F.cross_entropy(logits_o, y)
    ce_m = (
        F.cross_entropy(logits_m[prompted], y[prompted]) if prompted.any() else ce_o.new_zeros(())
    )
    param = param_distance(model.f_o, model.f_m, config.param_reduction)
    feature = feature_distance(feat_o, feat_m)
    mlp = model.g.endpoint_penalty().to(device).detach()
    loss = (
        ce_o
        + ce_m
        + config.effective_lambda1 * param
        + config.effective_lambda2 * feature
        + config.lambda3 * mlp
    )
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {
        "loss": loss.item(),
        "loss_pred": (ce_o + ce_m).item(),
        "loss_ce_o": ce_o.item(),
        "loss_ce_m": ce_m.item(),
        "loss_param": param.item(),
        "loss_feature": feature.item(),
        "loss_mlp": mlp.item(),
    }


def phase_g_step(
    model: VaplModel,
    cache: RoundCache,
    rows: Tensor,
    optimizer: torch.optim.Optimizer,
    config: VaplConfig,
    device: torch.device,
) -> float:
    """One Adam step on ``g`` over the cached rows ``rows``, the CNNs frozen; returns the loss."""
    x = cache.images[rows].to(device)
    prompt = cache.prompts[rows].to(device)
    y = cache.labels[rows].to(device)
    scores = cache.scores[rows.to(cache.scores.device)]
    model.g.train()
    refined = refined_map(scores, prompt, cache.masks, model.g, config.rescale)
    with eval_mode(model.f_m):
        logits = model.f_m(x * refined.to(x.dtype))
    loss = F.cross_entropy(logits, y) + config.lambda3 * model.g.endpoint_penalty()
    params = [p for p in model.g.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params)  # CNN parameters get no gradient
    optimizer.zero_grad(set_to_none=True)
    for param, grad in zip(params, grads, strict=True):
        param.grad = grad
    optimizer.step()
    return loss.item()
