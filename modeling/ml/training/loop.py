"""Guided training: one step (CE + lambda * L_expl), the epoch loop, model selection on val.

Eager mode throughout: Grad-CAM with differentiated weights and input-gradient losses need a
double backward, which ``torch.compile`` does not support.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from modeling.ml.losses import GuidedLoss
from modeling.ml.training.batchnorm import recalibrate_batchnorm
from modeling.ml.training.evaluation import (
    Batch,
    make_loader,
    model_predict,
    predict_proba,
    to_device,
    validation_metrics,
)
from modeling.ml.training.maps import MapSource

OnEpoch = Callable[[float, dict[str, Any]], None]
ShouldCancel = Callable[[], bool]

# GRADIA reference-code weights (prediction weight, attention weight) per reasonability quadrant.
GRADIA_QUADRANT_WEIGHTS: dict[str, tuple[float, float]] = {
    "unreasonable_inaccurate": (1.0, 1.0),
    "unreasonable_accurate": (0.4, 1.6),
    "reasonable_inaccurate": (0.8, 0.2),
    "reasonable_accurate": (1.0, 0.0),
    "unassessed": (1.0, 1.0),
}


class Cancelled(Exception):
    """Training stopped because the cancel check returned True."""


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch (CPU and CUDA); returns a CPU generator for data order."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def reasonability_weights(
    reasonable: Tensor,
    accurate: Tensor,
    table: Mapping[str, tuple[float, float]] = GRADIA_QUADRANT_WEIGHTS,
) -> tuple[Tensor, Tensor]:
    """GRADIA per-image (prediction, attention) weights from the reasonability matrix.

    Args:
        reasonable: [B] int: 1 reasonable, 0 unreasonable, -1 not assessed.
        accurate: [B] bool: the prediction assessed was correct.
        table: weights per quadrant (keys of :data:`GRADIA_QUADRANT_WEIGHTS`).

    Returns:
        ``(prediction weights [B], attention weights [B])`` as float tensors.
    """
    pred = torch.empty(reasonable.shape, dtype=torch.float32, device=reasonable.device)
    attn = torch.empty_like(pred)
    for quadrant, (w_pred, w_attn) in table.items():
        if quadrant == "unassessed":
            hit = reasonable < 0
        else:
            want_reasonable = not quadrant.startswith("unreasonable")
            want_accurate = quadrant.endswith("_accurate")
            hit = (reasonable == int(want_reasonable)) & (accurate.bool() == want_accurate)
        pred[hit], attn[hit] = w_pred, w_attn
    return pred, attn


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of :func:`fit`.

    Attributes:
        epochs: maximum number of epochs.
        batch_size: training batch size.
        lr: Adam learning rate.
        weight_decay: Adam (L2) weight decay.
        lam: weight of the explanation loss (``CE + lam * L_expl``).
        patience: stop after this many epochs without a better validation score (None: never).
        eval_batch_size: batch size of validation passes.
        precise_bn: before each validation, re-estimate BatchNorm statistics over the training
            images with the current weights (:func:`recalibrate_batchnorm`); the selected state
            carries them.
    """

    epochs: int = 40
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    lam: float = 1.0
    patience: int | None = None
    eval_batch_size: int = 128
    precise_bn: bool = True


@dataclass
class TrainResult:
    """Outcome of :func:`fit`: the selected weights and what happened each epoch."""

    best_state: dict[str, Tensor]
    best_epoch: int
    best_score: dict[str, float]
    history: list[dict[str, Any]] = field(default_factory=list)


class ModelSelector:
    """Keeps the best state by validation accuracy (ties: lower validation loss).

    The state is copied to the CPU when it improves; :attr:`should_stop` turns True after
    ``patience`` epochs without improvement.
    """

    def __init__(self, patience: int | None = None) -> None:
        self.patience = patience
        self.best_key: tuple[float, float] | None = None
        self.best_state: dict[str, Tensor] | None = None
        self.best_epoch = -1
        self.best_score: dict[str, float] = {}
        self.stale = 0

    def update(self, epoch: int, score: Mapping[str, float], state: Mapping[str, Tensor]) -> bool:
        """Records ``score`` (``accuracy``, ``loss``); returns True when it is the new best."""
        key = (float(score["accuracy"]), -float(score["loss"]))
        if self.best_key is not None and key <= self.best_key:
            self.stale += 1
            return False
        self.best_key, self.best_epoch, self.stale = key, epoch, 0
        self.best_score = dict(score)
        self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in state.items()}
        return True

    @property
    def should_stop(self) -> bool:
        """True once ``patience`` epochs passed without improvement."""
        return self.patience is not None and self.stale >= self.patience


def guided_step(
    model: nn.Module,
    batch: Batch,
    *,
    loss_fn: GuidedLoss,
    map_source: MapSource,
    lam: float,
    optimizer: torch.optim.Optimizer,
) -> dict[str, float]:
    """One optimisation step on ``CE + lam * L_expl`` (batch already on the model's device).

    Optional per-image weights in the batch: ``pred_weight`` [B] multiplies each image's
    cross-entropy (mean over the batch), ``expl_weight`` [B] is passed to the loss (GRADIA).
    Maps are computed only when the loss needs them and some image in the batch has a prompt.

    Returns:
        ``{"loss", "loss_ce", "loss_expl", "correct", "count"}`` as Python numbers.
    """
    x, labels, prompt = batch["image"], batch["label"], batch["prompt"]
    need_maps = loss_fn.needs_maps and lam != 0 and bool(loss_fn.contributing(prompt).any())
    if need_maps:
        logits, maps = map_source(model, x, labels, create_graph=True)
    else:
        logits, maps = model(x), None
    ce = F.cross_entropy(logits, labels, reduction="none")
    if batch.get("pred_weight") is not None:
        ce = ce * batch["pred_weight"].to(ce.dtype)
    loss_ce = ce.mean()
    if need_maps:
        loss_expl = loss_fn(logits, maps, prompt, labels, batch.get("expl_weight"))
    else:
        loss_expl = logits.new_zeros(())
    loss = loss_ce + lam * loss_expl
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {
        "loss": float(loss.detach()),
        "loss_ce": float(loss_ce.detach()),
        "loss_expl": float(loss_expl.detach()),
        "correct": int((logits.detach().argmax(1) == labels).sum()),
        "count": int(labels.numel()),
    }


def run_epoch(
    model: nn.Module,
    batches: Iterable[Batch],
    *,
    step: Callable[[Batch], dict[str, float]],
    device: torch.device | str,
    should_cancel: ShouldCancel | None = None,
) -> dict[str, float]:
    """Runs ``step`` on every batch (train mode); averages the step dicts weighted by count.

    Raises:
        Cancelled: when ``should_cancel()`` turns True between batches.
    """
    model.train()
    totals: dict[str, float] = {}
    count = correct = 0
    for batch in batches:
        if should_cancel is not None and should_cancel():
            raise Cancelled("training cancelled")
        out = step(to_device(batch, device))
        n = out.pop("count")
        correct += out.pop("correct")
        count += n
        for key, value in out.items():
            totals[key] = totals.get(key, 0.0) + value * n
    means = {key: value / max(count, 1) for key, value in totals.items()}
    means["accuracy"] = correct / max(count, 1)
    return means


def fit(
    model: nn.Module,
    train: Dataset,
    val: Dataset,
    *,
    loss_fn: GuidedLoss,
    map_source: MapSource,
    config: TrainConfig,
    device: torch.device | str = "cpu",
    seed: int = 0,
    on_epoch: OnEpoch | None = None,
    should_cancel: ShouldCancel | None = None,
) -> TrainResult:
    """Train ``model`` with Adam on ``CE + lam * L_expl``; select the epoch on ``val``.

    Model selection uses validation accuracy (ties: lower validation cross-entropy), never test
    data. With ``config.precise_bn`` the BatchNorm statistics are re-estimated over the training
    images before every validation. The parameters of ``loss_fn`` (RES-L's imputation kernel)
    are optimised jointly. The model is left holding its last-epoch weights; load
    ``result.best_state`` to use the selected ones.

    Args:
        model: a classifier (``forward`` and, for Grad-CAM, ``forward_with_activations``).
        train: training dataset (items as in :mod:`modeling.ml.data`).
        val: validation dataset.
        loss_fn: the explanation loss (:func:`modeling.ml.losses.build_loss`).
        map_source: where the loss's maps come from.
        config: optimisation settings.
        device: where to train.
        seed: data order (and nothing else: seed the model's initialisation before building it).
        on_epoch: called after each epoch with (fraction done, metrics of the epoch).
        should_cancel: polled between batches; True raises :class:`Cancelled`.
    """
    model.to(device)
    loss_fn.to(device)
    params = list(model.parameters()) + list(loss_fn.parameters())
    optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    train_loader = make_loader(
        train, batch_size=config.batch_size, shuffle=True, generator=generator
    )
    val_loader = make_loader(val, batch_size=config.eval_batch_size)
    stats_loader = make_loader(train, batch_size=config.eval_batch_size)
    selector = ModelSelector(config.patience)
    history: list[dict[str, Any]] = []

    def step(batch: Batch) -> dict[str, float]:
        return guided_step(
            model,
            batch,
            loss_fn=loss_fn,
            map_source=map_source,
            lam=config.lam,
            optimizer=optimizer,
        )

    for epoch in range(config.epochs):
        started = time.perf_counter()
        train_metrics = run_epoch(
            model, train_loader, step=step, device=device, should_cancel=should_cancel
        )
        if config.precise_bn:
            recalibrate_batchnorm(model, stats_loader, device)
        model.eval()
        val_metrics = validation_metrics(*predict_proba(model_predict(model), val_loader, device))
        improved = selector.update(epoch, val_metrics, model.state_dict())
        record = {
            "epoch": epoch + 1,
            **{f"train_{k}": v for k, v in train_metrics.items()},
            **{f"val_{k}": v for k, v in val_metrics.items()},
            "best": improved,
            "seconds": time.perf_counter() - started,
        }
        history.append(record)
        if on_epoch is not None:
            on_epoch((epoch + 1) / config.epochs, record)
        if selector.should_stop:
            break
    assert selector.best_state is not None, "fit needs at least one epoch"
    return TrainResult(selector.best_state, selector.best_epoch + 1, selector.best_score, history)
