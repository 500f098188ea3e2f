"""Pieces shared by the training and analysis jobs of a worker."""

from __future__ import annotations

from typing import Any

import torch

from modeling.ml.training import evaluate, make_loader
from modeling.worker.dataset import Loaded

EVAL_BATCH = 64

# What a trainer hands back: (named state dicts, metrics by split, per-epoch history,
# best epoch (1-based), hyperparameters recorded with the checkpoint).
Trained = tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], int, dict[str, Any]]


def training_state_name(job_id: int) -> str:
    """Where a training job keeps the state a resumed attempt continues from (one file, replaced
    after every epoch; the job row's ``checkpoint`` points at it)."""
    return f"jobs/{job_id}/training-state.pt"


class JobError(Exception):
    """An expected failure; its message is shown to users as it is."""


def final_metrics(
    predict: Any,
    explain: Any,
    val: Loaded,
    test: Loaded,
    device: torch.device,
    positive: int | None,
) -> dict[str, Any]:
    """METHODS.md section 5 metrics of the selected model on val and test (``n``: images)."""
    metrics: dict[str, Any] = {}
    for name, split in (("val", val), ("test", test)):
        if len(split.items):
            loader = make_loader(split.dataset, batch_size=EVAL_BATCH)
            metrics[name] = evaluate(
                predict, explain, loader, device=device, positive_class=positive
            )
            metrics[name]["n"] = len(split.items)
    return metrics
