"""Evaluation metrics (METHODS.md section 5): classification, explanation, faithfulness.

Every function states its definition; undefined values (a ratio with an empty denominator)
follow the rule given in its docstring and are never NaN, so results serialise to strict JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import Tensor, nn

from modeling.ml.explain._common import as_target, eval_mode, model_device
from modeling.ml.explain.normalize import normalize_minmax, resize_map


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else 0.0


def _to_numpy(values: Tensor | np.ndarray | Sequence[Any]) -> np.ndarray:
    if isinstance(values, Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _binary_auc(is_positive: np.ndarray, score: np.ndarray) -> float | None:
    if is_positive.all() or not is_positive.any():
        return None
    return float(roc_auc_score(is_positive, score))


def classification_metrics(
    y_true: Tensor | np.ndarray | Sequence[int],
    y_score: Tensor | np.ndarray,
    *,
    positive_class: int | None = None,
) -> dict[str, Any]:
    """Accuracy, precision, recall, F1 and ROC-AUC of class probabilities.

    Definitions (prediction = argmax of ``y_score``, ties to the lowest index):
        accuracy = correct / N.
        Binary (``positive_class`` given): with TP, FP, FN counted for that class,
            precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 P R / (P + R), each 0
            when its denominator is 0; AUC = ROC-AUC of ``y_score[:, positive_class]`` against
            ``y_true == positive_class``.
        Multi-class (``positive_class=None``): macro averages of the per-class precision,
            recall and F1 (F1 per class, then averaged) over the classes present in ``y_true``
            or in the predictions; AUC = mean of the one-vs-rest ROC-AUCs of the classes that
            have both positive and negative samples.
        AUC is ``None`` when undefined (a single class present). ROC-AUC is computed by
        scikit-learn (ties counted as half).

    Args:
        y_true: labels [N].
        y_score: probabilities (or any monotone scores) [N, K].
        positive_class: the class named positive in the project, for binary metrics.

    Returns:
        ``{"accuracy", "precision", "recall", "f1", "auc", "n", "confusion"}`` where
        ``confusion[i][j]`` counts true class ``i`` predicted as ``j``.
    """
    labels = _to_numpy(y_true).astype(np.int64).reshape(-1)
    scores = _to_numpy(y_score).astype(np.float64)
    if scores.ndim != 2 or scores.shape[0] != labels.shape[0]:
        raise ValueError(f"y_score must be [N, K] with N={labels.shape[0]}, got {scores.shape}")
    n, k = scores.shape
    if n == 0:
        raise ValueError("no samples")
    if labels.min() < 0 or labels.max() >= k:
        raise ValueError(f"labels must lie in [0, {k})")
    pred = scores.argmax(axis=1)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    tp = np.diag(confusion).astype(np.float64)
    fp = confusion.sum(axis=0) - tp
    fn = confusion.sum(axis=1) - tp
    precision = np.array([_ratio(tp[c], tp[c] + fp[c]) for c in range(k)])
    recall = np.array([_ratio(tp[c], tp[c] + fn[c]) for c in range(k)])
    f1 = np.array(
        [_ratio(2 * precision[c] * recall[c], precision[c] + recall[c]) for c in range(k)]
    )
    result: dict[str, Any] = {"accuracy": float((pred == labels).mean()), "n": n}
    if positive_class is not None:
        if not 0 <= positive_class < k:
            raise ValueError(f"positive_class {positive_class} outside [0, {k})")
        c = positive_class
        result.update(precision=precision[c], recall=recall[c], f1=f1[c])
        result["auc"] = _binary_auc(labels == c, scores[:, c])
    else:
        present = np.union1d(labels, pred)
        result.update(
            precision=precision[present].mean(),
            recall=recall[present].mean(),
            f1=f1[present].mean(),
        )
        aucs = [_binary_auc(labels == c, scores[:, c]) for c in range(k)]
        defined = [a for a in aucs if a is not None]
        result["auc"] = float(np.mean(defined)) if defined else None
    for key in ("precision", "recall", "f1"):
        result[key] = float(result[key])
    result["confusion"] = confusion.tolist()
    return result


def explanation_scores(
    maps: Tensor, masks: Tensor, *, negatives: Tensor | None = None, tolerance: int = 0
) -> dict[str, Tensor]:
    """Per-image explanation scores [N] of maps against reference masks.

    Definitions (per image; maps are first resized to the mask size, bilinear,
    ``align_corners=False``):
        binary map ``B = minmax(M) >= 0.5`` with ``minmax(M) = (M - min) / (max - min + 1e-6)``
            (a constant map gives an empty ``B``); ``G`` the mask.
        expl_iou = |B & G| / |B | G|.
        expl_precision = TP / (TP + FP), expl_recall = TP / (TP + FN), expl_f1 their harmonic
            mean, as in RES (Gao et al., KDD 2022): TP = |B & G|, FN = |G & ~B|, and FP =
            |B & N| where ``N`` is ``negatives`` (pixels marked unimportant) when given, else
            ``~G``. Pixels neither in ``G`` nor in ``N`` (unclear) count neither way.
        epg (energy-based pointing game, Wang et al. Score-CAM) = sum(M+ G) / sum(M+) on the
            raw map ``M+ = max(M, 0)`` (no min-max).
        pointing_game = 1 when the map's maximum (first in row-major order on ties) lies in
            ``G`` dilated by a ``(2 tolerance + 1)`` square, else 0 (Zhang et al. use a 15 px
            tolerance; default 0).
        Every ratio with an empty denominator is 0.

    Args:
        maps: explanations [N, 1, h, w] (any scale; non-negative expected for EPG).
        masks: reference masks [N, 1, H, W] (bool or {0, 1}).
        negatives: optional unimportant-pixel masks [N, 1, H, W].
        tolerance: pointing-game tolerance in pixels.

    Returns:
        ``{"expl_iou", "expl_precision", "expl_recall", "expl_f1", "epg", "pointing_game"}``,
        each a float64 tensor [N] on the CPU.
    """
    if maps.ndim != 4 or masks.ndim != 4 or maps.shape[0] != masks.shape[0]:
        raise ValueError(f"maps {tuple(maps.shape)} and masks {tuple(masks.shape)} must be [N,1,*]")
    maps = resize_map(maps.detach().to(torch.float64), tuple(masks.shape[-2:]))
    gt = masks.detach().to(maps.device) > 0.5 if masks.is_floating_point() else masks.bool()
    neg = ~gt if negatives is None else (negatives.detach().to(maps.device) > 0.5)
    binary = normalize_minmax(maps) >= 0.5

    def count(t: Tensor) -> Tensor:
        return t.flatten(1).sum(dim=1).to(torch.float64)

    def safe(num: Tensor, den: Tensor) -> Tensor:
        return torch.where(den > 0, num / den.clamp_min(1e-12), torch.zeros_like(num))

    tp = count(binary & gt)
    precision = safe(tp, tp + count(binary & neg & ~gt))
    recall = safe(tp, count(gt))
    positive = maps.clamp_min(0)
    hit = gt
    if tolerance > 0:
        hit = F.max_pool2d(gt.to(torch.float64), 2 * tolerance + 1, stride=1, padding=tolerance) > 0
    peak = maps.flatten(1).argmax(dim=1)
    scores = {
        "expl_iou": safe(tp, count(binary | gt)),
        "expl_precision": precision,
        "expl_recall": recall,
        "expl_f1": safe(2 * precision * recall, precision + recall),
        "epg": safe((positive * gt).flatten(1).sum(1), positive.flatten(1).sum(1)),
        "pointing_game": hit.flatten(1).gather(1, peak[:, None])[:, 0].to(torch.float64),
    }
    return {key: value.cpu() for key, value in scores.items()}


def explanation_metrics(
    maps: Tensor, masks: Tensor, *, negatives: Tensor | None = None, tolerance: int = 0
) -> dict[str, float]:
    """Means over images of :func:`explanation_scores` (same definitions), plus ``"n"``."""
    scores = explanation_scores(maps, masks, negatives=negatives, tolerance=tolerance)
    result: dict[str, float] = {key: float(value.mean()) for key, value in scores.items()}
    result["n"] = int(maps.shape[0])
    return result


def gaussian_blur(x: Tensor, kernel_size: int = 11, sigma: float = 5.0) -> Tensor:
    """Separable Gaussian blur of [B, C, H, W] with reflect padding (kernel normalised to 1)."""
    radius = kernel_size // 2
    offsets = torch.arange(kernel_size, device=x.device, dtype=x.dtype) - radius
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = x.shape[1]
    mode = "reflect" if min(x.shape[-2:]) > radius else "replicate"
    out = F.pad(x, (radius, radius, radius, radius), mode=mode)
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def _trapezoid_auc(curve: Tensor) -> Tensor:
    """Area under ``curve`` [B, n + 1] sampled on equally spaced points of [0, 1]."""
    n = curve.shape[1] - 1
    return (curve.sum(dim=1) - (curve[:, 0] + curve[:, -1]) / 2) / n


@torch.no_grad()
def deletion_insertion_auc(
    model: nn.Module,
    x: Tensor,
    target: Tensor | int,
    saliency: Tensor,
    *,
    steps: int = 100,
    substrate: Literal["black", "blur", "mean"] = "black",
    blur_kernel: int = 11,
    blur_sigma: float = 5.0,
    batch_size: int = 128,
) -> dict[str, Any]:
    """Deletion and insertion AUC (Petsiuk et al., RISE, BMVC 2018).

    Pixels are ranked by decreasing saliency (the map resized bilinearly to the input; ties
    broken by row-major order, stable sort). At step ``k = 0..steps`` the first
    ``ceil(k H W / steps)`` ranked pixels are
        deletion: replaced by the substrate (``black`` = 0 in the [0, 1] input space, the
            paper's choice; ``blur`` = the blurred image; ``mean`` = the image's channel mean);
        insertion: copied from the image into its Gaussian-blurred version (kernel
            ``blur_kernel``, ``blur_sigma``: the paper's 11 and 5 at 224 px; reflect padding).
    The curve is the softmax probability of the target class; its AUC uses the trapezoid rule
    on ``[0, 1]``. Low deletion and high insertion AUC mean a faithful map. The model runs in
    eval mode for the call; the ``(steps + 1)`` images per sample are built batch by batch.

    Args:
        model: the classifier, images [B, C, H, W] in [0, 1] -> logits [B, K].
        x: images [B, C, H, W].
        target: class per sample [B] (or one int).
        saliency: maps [B, 1, h, w].
        steps: number of removal / insertion steps.
        substrate: deletion substrate.
        blur_kernel: insertion blur kernel size.
        blur_sigma: insertion blur sigma.
        batch_size: images per forward pass.

    Returns:
        ``{"deletion_auc": float, "insertion_auc": float}`` (means over the batch) and the
        per-image ``"deletion_per_image"``, ``"insertion_per_image"`` [B] and curves
        ``"deletion_curve"``, ``"insertion_curve"`` [B, steps + 1] (CPU tensors).
    """
    device = model_device(model)
    x = x.detach().to(device)
    batch, _, h, w = x.shape
    target = as_target(target, batch, device)
    sal = resize_map(saliency.detach().to(device, x.dtype), (h, w)).flatten(1)
    rank = torch.empty_like(sal, dtype=torch.long)
    order = torch.sort(sal, dim=1, descending=True, stable=True).indices
    rank.scatter_(1, order, torch.arange(h * w, device=device).expand(batch, -1))
    blurred = gaussian_blur(x, blur_kernel, blur_sigma)
    if substrate == "black":
        deleted = torch.zeros_like(x)
    elif substrate == "blur":
        deleted = blurred
    elif substrate == "mean":
        deleted = x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    else:
        raise ValueError(f"unknown substrate {substrate!r}")
    counts = torch.tensor(
        [math.ceil(k * h * w / steps) for k in range(steps + 1)], device=device
    )  # [steps + 1]
    curves = {"deletion": [], "insertion": []}
    with eval_mode(model):
        for b in range(batch):
            for name, start, end in (("deletion", x, deleted), ("insertion", blurred, x)):
                probs = []
                for chunk in counts.split(batch_size):
                    swapped = (rank[b][None] < chunk[:, None]).view(-1, 1, h, w)
                    images = torch.where(swapped, end[b][None], start[b][None])
                    probs.append(torch.softmax(model(images), dim=1)[:, target[b]])
                curves[name].append(torch.cat(probs))
    result: dict[str, Any] = {}
    for name, rows in curves.items():
        curve = torch.stack(rows).to(torch.float64).cpu()
        auc = _trapezoid_auc(curve)
        result[f"{name}_auc"] = float(auc.mean())
        result[f"{name}_per_image"] = auc
        result[f"{name}_curve"] = curve
    return result
