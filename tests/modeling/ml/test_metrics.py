"""Metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from sklearn.metrics import roc_auc_score
from torch import Tensor, nn

from modeling.ml.metrics import (
    classification_metrics,
    deletion_insertion_auc,
    explanation_metrics,
    explanation_scores,
    gaussian_blur,
)

# Binary: labels and P(class 1); predictions [1, 1, 0, 1, 0].
Y_BINARY = [1, 0, 1, 1, 0]
P1 = torch.tensor([0.9, 0.6, 0.4, 0.8, 0.1])
PROBS_BINARY = torch.stack([1 - P1, P1], dim=1)

# Three classes: predictions [0, 1, 1, 1].
Y_MULTI = [0, 0, 1, 2]
PROBS_MULTI = torch.tensor([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.3, 0.6, 0.1]])


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def test_binary_metrics_for_the_positive_class() -> None:
    result = classification_metrics(Y_BINARY, PROBS_BINARY, positive_class=1)
    # TP = 2, FP = 1, FN = 1, TN = 1.
    assert result["accuracy"] == pytest.approx(3 / 5)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 3)
    assert result["f1"] == pytest.approx(2 / 3)
    # 5 of the 6 (positive, negative) pairs are ranked correctly.
    assert result["auc"] == pytest.approx(5 / 6)
    assert result["confusion"] == [[1, 1], [1, 2]]
    assert result["n"] == 5


def test_binary_metrics_depend_on_which_class_is_positive() -> None:
    result = classification_metrics(Y_BINARY, PROBS_BINARY, positive_class=0)
    # Class 0: TP = 1 (index 4), FP = 1 (index 2), FN = 1 (index 1).
    assert result["precision"] == pytest.approx(0.5)
    assert result["recall"] == pytest.approx(0.5)
    assert result["auc"] == pytest.approx(5 / 6)


def test_multiclass_metrics_are_macro_averages() -> None:
    result = classification_metrics(np.array(Y_MULTI), PROBS_MULTI.numpy())
    # Per class (P, R, F1): 0 -> (1, 1/2, 2/3); 1 -> (1/3, 1, 1/2); 2 -> (0, 0, 0).
    assert result["accuracy"] == pytest.approx(0.5)
    assert result["precision"] == pytest.approx(4 / 9)
    assert result["recall"] == pytest.approx(1 / 2)
    assert result["f1"] == pytest.approx(7 / 18)
    # One-vs-rest AUCs: 3.5/4 (one tie), 3/3, 1.5/3 (all tied).
    assert result["auc"] == pytest.approx((0.875 + 1.0 + 0.5) / 3)
    expected = roc_auc_score(Y_MULTI, PROBS_MULTI.numpy(), multi_class="ovr", average="macro")
    assert result["auc"] == pytest.approx(expected)


def test_auc_is_none_when_a_single_class_is_present() -> None:
    result = classification_metrics(
        [1, 1], torch.tensor([[0.2, 0.8], [0.6, 0.4]]), positive_class=1
    )
    assert result["auc"] is None
    assert result["recall"] == pytest.approx(0.5)


def test_precision_is_zero_when_nothing_is_predicted_positive() -> None:
    result = classification_metrics(
        [1, 0], torch.tensor([[0.9, 0.1], [0.8, 0.2]]), positive_class=1
    )
    assert result["precision"] == 0.0 and result["f1"] == 0.0


def test_classification_metrics_reject_out_of_range_labels() -> None:
    with pytest.raises(ValueError, match="labels"):
        classification_metrics([3], torch.tensor([[0.5, 0.5]]))


# One 2 x 3 image worked by hand; a second with a constant map.
MAPS = torch.tensor([[[[0.0, 0.2, 0.9], [1.0, 0.4, 0.6]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]])
MASKS = torch.tensor([[[[0, 1, 1], [1, 0, 0]]], [[[0, 0, 0], [0, 0, 1]]]], dtype=torch.bool)


def test_explanation_scores_by_hand() -> None:
    scores = explanation_scores(MAPS, MASKS)
    # Image 0: B = [[0,0,1],[1,0,1]], G = [[0,1,1],[1,0,0]]: TP 2, FP 1, FN 1, union 4.
    assert scores["expl_iou"][0] == pytest.approx(0.5)
    assert scores["expl_precision"][0] == pytest.approx(2 / 3)
    assert scores["expl_recall"][0] == pytest.approx(2 / 3)
    assert scores["expl_f1"][0] == pytest.approx(2 / 3)
    assert scores["epg"][0] == pytest.approx(2.1 / 3.1)
    assert scores["pointing_game"][0] == 1.0
    # Image 1: a constant map selects nothing and has no energy: every ratio is 0.
    for key in ("expl_iou", "expl_precision", "expl_recall", "expl_f1", "epg"):
        assert scores[key][1] == 0.0
    assert scores["pointing_game"][1] == 0.0  # first maximum (0, 0) is outside the mask


def test_false_positives_count_only_on_unimportant_pixels_when_given() -> None:
    negatives = torch.tensor([[[[1, 0, 0], [0, 1, 0]]]], dtype=torch.bool)  # (1, 2) unclear
    scores = explanation_scores(MAPS[:1], MASKS[:1], negatives=negatives)
    assert scores["expl_precision"][0] == pytest.approx(1.0)
    assert scores["expl_recall"][0] == pytest.approx(2 / 3)
    assert scores["expl_f1"][0] == pytest.approx(0.8)


def test_explanation_metrics_average_over_images() -> None:
    result = explanation_metrics(MAPS, MASKS)
    assert result["expl_iou"] == pytest.approx(0.25)
    assert result["epg"] == pytest.approx(2.1 / 3.1 / 2)
    assert result["pointing_game"] == pytest.approx(0.5)
    assert result["n"] == 2


def test_pointing_game_tolerance_dilates_the_mask() -> None:
    maps = torch.zeros(1, 1, 3, 3)
    maps[0, 0, 0, 0] = 1.0
    mask = torch.zeros(1, 1, 3, 3, dtype=torch.bool)
    mask[0, 0, 1, 1] = True
    assert explanation_scores(maps, mask)["pointing_game"][0] == 0.0
    assert explanation_scores(maps, mask, tolerance=1)["pointing_game"][0] == 1.0


def test_maps_on_a_coarse_grid_are_resized_to_the_mask() -> None:
    maps = torch.tensor([[[[0.0, 1.0]]]])  # bilinear to 1 x 4: 0, 0.25, 0.75, 1
    mask = torch.tensor([[[[0, 0, 1, 1]]]], dtype=torch.bool)
    assert explanation_scores(maps, mask)["expl_iou"][0] == pytest.approx(1.0)


def test_gaussian_blur_matches_scipy_with_mirrored_borders() -> None:
    torch.manual_seed(0)
    x = torch.rand(1, 2, 12, 13, dtype=torch.float64)
    expected = np.stack(
        [gaussian_filter(c, 5.0, mode="mirror", truncate=1.0) for c in x[0].numpy()]
    )
    torch.testing.assert_close(gaussian_blur(x, 11, 5.0)[0], torch.from_numpy(expected))


class SumNet(nn.Module):
    """logits = [sum(x), 0], so P(class 0) = sigmoid(sum(x))."""

    def __init__(self) -> None:
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(()))
        self.batch_sizes: list[int] = []

    def forward(self, x: Tensor) -> Tensor:
        self.batch_sizes.append(x.shape[0])
        s = x.flatten(1).sum(dim=1) + self.anchor
        return torch.stack([s, torch.zeros_like(s)], dim=1)


def test_deletion_and_insertion_auc_by_hand() -> None:
    x = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    saliency = torch.tensor([[[[4.0, 3.0], [2.0, 1.0]]]])  # removal order: row-major
    result = deletion_insertion_auc(
        SumNet(), x, 0, saliency, steps=4, blur_kernel=3, blur_sigma=1.0
    )
    # Deletion to black: sums 1, 0, 0, 0, 0.
    deletion = [sigmoid(1)] + [sigmoid(0)] * 4
    # Insertion from the blur (3-tap kernel [e, 1, e] / z, mirrored borders):
    # blurred = [[k1^2, 2 k0 k1], [2 k0 k1, 4 k0^2]], its sum is 1.
    z = 1 + 2 * math.exp(-0.5)
    k0, k1 = math.exp(-0.5) / z, 1 / z
    sums = [1.0, 2 - k1**2, 2 - k1**2 - 2 * k0 * k1, 2 - k1**2 - 4 * k0 * k1, 1.0]
    insertion = [sigmoid(s) for s in sums]

    def trapezoid(curve: list[float]) -> float:
        return (sum(curve) - (curve[0] + curve[-1]) / 2) / (len(curve) - 1)

    torch.testing.assert_close(
        result["deletion_curve"][0], torch.tensor(deletion, dtype=torch.float64)
    )
    torch.testing.assert_close(
        result["insertion_curve"][0],
        torch.tensor(insertion, dtype=torch.float64),
        atol=1e-6,
        rtol=1e-6,
    )
    assert result["deletion_auc"] == pytest.approx(trapezoid(deletion), abs=1e-6)
    assert result["insertion_auc"] == pytest.approx(trapezoid(insertion), abs=1e-6)


def test_deletion_insertion_runs_in_batches_and_ranks_a_good_map_better() -> None:
    torch.manual_seed(0)
    x = torch.zeros(2, 1, 8, 8)
    x[:, :, :2, :2] = 1.0  # the only evidence for class 0
    good = torch.zeros(2, 1, 8, 8)
    good[:, :, :2, :2] = 1.0
    bad = 1.0 - good
    model = SumNet()
    kwargs = {
        "steps": 16,
        "substrate": "black",
        "blur_kernel": 3,
        "blur_sigma": 1.0,
        "batch_size": 5,
    }
    good_result = deletion_insertion_auc(model, x, 0, good, **kwargs)
    assert max(model.batch_sizes) == 5
    bad_result = deletion_insertion_auc(model, x, 0, bad, **kwargs)
    assert good_result["deletion_auc"] < bad_result["deletion_auc"]
    assert good_result["insertion_auc"] > bad_result["insertion_auc"]
    assert good_result["deletion_per_image"].shape == (2,)
    assert good_result["deletion_curve"].shape == (2, 17)
