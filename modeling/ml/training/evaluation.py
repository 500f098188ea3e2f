"""Batched prediction and evaluation loops, generic over the model (CE models, VAPL streams).

Callers pass small closures over a batch dict already on the device (keys as in
:mod:`modeling.ml.data`): ``predict(batch) -> probabilities [B, K]`` and
``explain(batch) -> maps [B, 1, h, w]``. Nothing here knows how a method predicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from modeling.ml.metrics import classification_metrics, explanation_scores

Batch = dict[str, Any]
Predict = Callable[[Batch], Tensor]
Explain = Callable[[Batch], Tensor]


def make_loader(
    dataset: Dataset,
    *,
    batch_size: int,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> DataLoader:
    """An in-process DataLoader (the dataset's decode cache lives in this process).

    When shuffling, a final batch of a single image is dropped: BatchNorm in train mode cannot
    normalise one sample.
    """
    drop_last = shuffle and len(dataset) % batch_size == 1 and len(dataset) > 1
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        drop_last=drop_last,
        num_workers=0,
    )


def to_device(batch: Batch, device: torch.device | str) -> Batch:
    """The batch with every tensor moved to ``device`` (non-tensors unchanged)."""
    return {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}


def model_predict(model: nn.Module) -> Predict:
    """``predict`` closure of a plain classifier: softmax of its logits on ``batch["image"]``."""
    return lambda batch: F.softmax(model(batch["image"]), dim=1)


@torch.no_grad()
def predict_proba(
    predict: Predict, batches: Iterable[Batch], device: torch.device | str
) -> tuple[Tensor, Tensor]:
    """Probabilities [N, K] and labels [N] (CPU) over every batch, without gradients.

    Set the model's mode (``eval()``) before calling.
    """
    probs, labels = [], []
    for batch in batches:
        batch = to_device(batch, device)
        probs.append(predict(batch).float().cpu())
        labels.append(batch["label"].cpu())
    return torch.cat(probs), torch.cat(labels)


def validation_metrics(probs: Tensor, labels: Tensor) -> dict[str, float]:
    """Accuracy and mean cross-entropy of probabilities (for model selection)."""
    nll = F.nll_loss(torch.log(probs.clamp_min(1e-12)), labels)
    return {"accuracy": float((probs.argmax(1) == labels).float().mean()), "loss": float(nll)}


def reference_masks(batch: Batch) -> tuple[Tensor, Tensor, Tensor]:
    """Masks to score explanations against (METHODS.md section 5).

    The ground truth where the image has one (negatives: its complement), else the prompt's
    important region (negatives: the pixels marked unimportant).

    Returns:
        ``(masks bool [B, 1, H, W], negatives bool [B, 1, H, W], usable bool [B])``.
    """
    has_gt = batch["has_gt"].bool()
    gt = batch["gt"] > 0.5
    prompt = batch["prompt"]
    use_gt = has_gt.view(-1, 1, 1, 1)
    masks = torch.where(use_gt, gt, prompt == 1)
    negatives = torch.where(use_gt, ~gt, prompt == 0)
    usable = has_gt | (batch["has_prompt"].bool() & (prompt == 1).flatten(1).any(1))
    return masks, negatives, usable


def explanation_report(
    explain: Explain, batches: Iterable[Batch], device: torch.device | str
) -> dict[str, float]:
    """Mean explanation metrics (:func:`modeling.ml.metrics.explanation_scores`) over the
    images that have a reference mask (:func:`reference_masks`); ``{}`` when none has one.

    ``explain`` may need gradients (Grad-CAM): it is called with autograd enabled.
    """
    collected: dict[str, list[Tensor]] = {}
    for batch in batches:
        batch = to_device(batch, device)
        masks, negatives, usable = reference_masks(batch)
        if not bool(usable.any()):
            continue
        maps = explain(batch).detach()
        scores = explanation_scores(maps[usable], masks[usable], negatives=negatives[usable])
        for key, value in scores.items():
            collected.setdefault(key, []).append(value)
    if not collected:
        return {}
    return {key: float(torch.cat(values).mean()) for key, values in collected.items()}


def evaluate(
    predict: Predict,
    explain: Explain | None,
    loader: Iterable[Batch],
    *,
    device: torch.device | str,
    positive_class: int | None = None,
) -> dict[str, Any]:
    """Classification metrics (and explanation metrics when ``explain`` is given) on a loader.

    Returns:
        ``accuracy, precision, recall, f1, auc`` (see
        :func:`modeling.ml.metrics.classification_metrics`) plus ``expl_iou, expl_precision,
        expl_recall, expl_f1, epg, pointing_game`` when there are reference masks.
    """
    probs, labels = predict_proba(predict, loader, device)
    result = classification_metrics(labels, probs, positive_class=positive_class)
    result.pop("confusion", None)
    if explain is not None:
        result.update(explanation_report(explain, loader, device))
    return result
