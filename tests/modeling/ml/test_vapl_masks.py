"""Mask sets: reproducible fields, chunk-independent streaming, the unbiased estimator."""

from __future__ import annotations

import pytest
import torch

from modeling.ml.vapl import MaskSet, aggregate
from modeling.ml.vapl.masks import FIELD_BLOCK

from .vapl_helpers import single_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("single_thread")


def _all_fields(masks: MaskSet, chunk: int = 10_000) -> torch.Tensor:
    return torch.cat([fields for _, fields in masks.chunks(chunk, "cpu")])


def test_pixel_fields_are_binary_and_keep_unclear_pixels_with_probability_one_minus_p() -> None:
    fields = _all_fields(MaskSet(2000, (8, 8), p=0.1))
    assert fields.shape == (2000, 1, 8, 8)
    assert set(fields.unique().tolist()) == {0.0, 1.0}
    assert float(fields.mean()) == pytest.approx(0.9, abs=0.01)


def test_smooth_fields_lie_in_the_unit_interval_with_mean_close_to_q() -> None:
    fields = _all_fields(MaskSet(2000, (16, 16), p=0.3, style="smooth", grid=4))
    assert float(fields.min()) >= 0.0
    assert float(fields.max()) <= 1.0
    assert float(fields.mean()) == pytest.approx(0.7, abs=0.02)
    assert len(fields.unique()) > 2  # smooth, not binary


@pytest.mark.parametrize("style", ["pixel", "smooth"])
def test_the_chunk_size_does_not_change_the_fields(style: str) -> None:
    masks = MaskSet(3 * FIELD_BLOCK + 5, (6, 6), style=style, grid=3)
    one_shot = _all_fields(masks)
    starts = []
    pieces = []
    for start, fields in masks.chunks(7, "cpu"):
        starts.append(start)
        pieces.append(fields)
    assert starts == list(range(0, masks.n_masks, 7))
    assert torch.equal(torch.cat(pieces), one_shot)


def test_the_same_seed_gives_the_same_fields_and_another_seed_different_ones() -> None:
    first = _all_fields(MaskSet(100, (8, 8), seed=3))
    assert torch.equal(first, _all_fields(MaskSet(100, (8, 8), seed=3)))
    assert not torch.equal(first, _all_fields(MaskSet(100, (8, 8), seed=4)))


def test_coverage_is_the_sum_of_the_fields() -> None:
    masks = MaskSet(150, (5, 7), seed=1)
    assert torch.allclose(masks.coverage("cpu"), _all_fields(masks).sum(0))


@pytest.mark.parametrize("style", ["pixel", "smooth"])
def test_a_constant_score_gives_a_flat_estimate_equal_to_that_score(style: str) -> None:
    # The paper's N * p normaliser would give 0.3 * q / p = 2.7 here (9x inflation).
    masks = MaskSet(300, (8, 8), p=0.1, style=style, grid=3)
    estimate = aggregate(torch.full((2, 300), 0.3), masks)
    assert estimate.shape == (2, 1, 8, 8)
    assert torch.allclose(estimate, torch.full_like(estimate, 0.3), atol=1e-6)


def test_the_estimate_is_the_weighted_mean_score_of_the_masks_keeping_each_pixel() -> None:
    masks = MaskSet(70, (4, 4), p=0.5, seed=2)
    weights = torch.rand(3, 70, generator=torch.Generator().manual_seed(0))
    fields = _all_fields(masks).view(70, 16)
    expected = (weights @ fields) / fields.sum(0)
    assert torch.allclose(aggregate(weights, masks).view(3, 16), expected, atol=1e-6)


def test_its_gradient_matches_the_explicit_formula() -> None:
    masks = MaskSet(90, (4, 4), p=0.4, seed=5)
    fields = _all_fields(masks).view(90, 16)
    upstream = torch.randn(2, 16, generator=torch.Generator().manual_seed(1))
    weights = torch.rand(2, 90, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
    (aggregate(weights, masks, chunk=13).view(2, 16) * upstream).sum().backward()
    streamed = weights.grad.clone()
    weights.grad = None
    ((weights @ fields) / fields.sum(0) * upstream).sum().backward()
    assert torch.allclose(streamed, weights.grad, atol=1e-6)


def test_it_rejects_scores_of_another_mask_count() -> None:
    with pytest.raises(ValueError, match="weights must be"):
        aggregate(torch.rand(1, 10), MaskSet(11, (4, 4)))
