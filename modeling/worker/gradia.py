"""GRADIA's per-image weights in training jobs, from the reasonability matrix (METHODS.md 3).

The training snapshot records the quadrant of every decided image under ``assessments``
(``{image id: "RA" | "UA" | "RIA" | "UIA"}``, from
``labeling.selectors.review.gradia_quadrants_for_training``); other images take the weights of
unassessed images. Job parameters ``gradia_<quadrant>_pred`` / ``gradia_<quadrant>_attn``
(quadrant ``ra``, ``ua``, ``ria``, ``uia`` or ``unassessed``) override the reference-code
defaults of :data:`modeling.ml.training.GRADIA_QUADRANT_WEIGHTS` per quadrant. The prediction
weight multiplies the image's cross-entropy, the attention weight its GRADIA loss
(``modeling.ml.training.guided_step``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from modeling.ml.training import GRADIA_QUADRANT_WEIGHTS, reasonability_weights

# Quadrant code of the review -> (key of the weight table, parameter prefix).
QUADRANTS: dict[str, tuple[str, str]] = {
    "RA": ("reasonable_accurate", "gradia_ra"),
    "UA": ("unreasonable_accurate", "gradia_ua"),
    "RIA": ("reasonable_inaccurate", "gradia_ria"),
    "UIA": ("unreasonable_inaccurate", "gradia_uia"),
}
UNASSESSED = ("unassessed", "gradia_unassessed")


def gradia_table(params: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """The (prediction, attention) weight of each quadrant: defaults, overridden by ``params``."""
    table = dict(GRADIA_QUADRANT_WEIGHTS)
    for key, prefix in [*QUADRANTS.values(), UNASSESSED]:
        pred, attn = table[key]
        if params.get(f"{prefix}_pred") is not None:
            pred = float(params[f"{prefix}_pred"])
        if params.get(f"{prefix}_attn") is not None:
            attn = float(params[f"{prefix}_attn"])
        table[key] = (pred, attn)
    return table


def gradia_weights(
    image_ids: Sequence[int],
    assessments: Mapping[str, str],
    table: Mapping[str, tuple[float, float]],
) -> tuple[Tensor, Tensor]:
    """Per-image (prediction [N], attention [N]) weights of ``image_ids`` from their quadrants.

    Args:
        assessments: ``{str(image id): quadrant code}`` as stored in the snapshot (JSON keys).
    """
    reasonable, accurate = [], []
    for image_id in image_ids:
        code = assessments.get(str(image_id))
        if code in QUADRANTS:
            reasonable.append(1 if code.startswith("R") else 0)
            accurate.append(not code.endswith("IA"))
        else:
            reasonable.append(-1)
            accurate.append(False)
    return reasonability_weights(
        torch.tensor(reasonable, dtype=torch.long),
        torch.tensor(accurate, dtype=torch.bool),
        table,
    )


class WeightedDataset(Dataset):
    """A dataset whose items also carry ``pred_weight`` and ``expl_weight`` (0-dim float32)."""

    def __init__(self, base: Dataset, pred: Tensor, attn: Tensor) -> None:
        self.base, self.pred, self.attn = base, pred.float(), attn.float()

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = dict(self.base[index])
        item["pred_weight"] = self.pred[index]
        item["expl_weight"] = self.attn[index]
        return item


def with_gradia_weights(
    dataset: Dataset,
    image_ids: Sequence[int],
    snapshot: Mapping[str, Any],
    params: Mapping[str, Any],
) -> WeightedDataset:
    """``dataset`` (items in the order of ``image_ids``) with the snapshot's GRADIA weights."""
    pred, attn = gradia_weights(image_ids, snapshot.get("assessments") or {}, gradia_table(params))
    return WeightedDataset(dataset, pred, attn)
