"""Prompt refinement t(D): hand-checkable maps, prompt constraints, reproducibility, batching."""

from __future__ import annotations

import pytest
import torch

from modeling.ml.vapl import (
    MaskSet,
    aggregate,
    compose_refined,
    mask_scores,
    refine,
    refined_map,
    refinement_target,
)

from .vapl_helpers import ConstantModel, RecordingModel, RegionModel, single_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("single_thread")

ROWS, COLS = slice(2, 5), slice(3, 6)


def _unclear(batch: int = 1, size: int = 8) -> torch.Tensor:
    return -torch.ones(batch, 1, size, size)


def test_it_highlights_the_only_region_the_model_looks_at() -> None:
    model = RegionModel(ROWS, COLS)
    refined = refine(
        model,
        torch.ones(1, 3, 8, 8),
        _unclear(),
        n_masks=1000,
        label=torch.tensor([1]),
        rescale="range",
    )
    inside = torch.zeros(8, 8, dtype=torch.bool)
    inside[ROWS, COLS] = True
    assert float(refined[0, 0][inside].min()) > float(refined[0, 0][~inside].max())


def test_the_ratio_rescale_dims_only_the_region_that_lowers_the_score() -> None:
    # The class-1 score falls as the region brightens: the region works against the class.
    model = RegionModel(ROWS, COLS, scale=-20.0, offset=0.5)
    refined = refine(
        model, torch.ones(1, 3, 8, 8), _unclear(), n_masks=1000, label=torch.tensor([1])
    )
    inside = torch.zeros(8, 8, dtype=torch.bool)
    inside[ROWS, COLS] = True
    assert float(refined[0, 0][inside].max()) < float(refined[0, 0][~inside].min())
    assert float(refined[0, 0][inside].mean()) < 0.8
    assert float(refined[0, 0][~inside].mean()) > 0.95  # pixels that do not matter stay


def test_important_pixels_are_one_and_unimportant_pixels_zero() -> None:
    prompt = _unclear()
    prompt[0, 0, 0, :] = 1
    prompt[0, 0, 7, :] = 0
    refined = refine(RegionModel(ROWS, COLS), torch.ones(1, 3, 8, 8), prompt, n_masks=64)
    assert torch.all(refined[0, 0, 0] == 1)
    assert torch.all(refined[0, 0, 7] == 0)
    assert float(refined.min()) >= 0.0
    assert float(refined.max()) <= 1.0


def test_a_model_that_ignores_the_image_keeps_every_unclear_pixel() -> None:
    prompt = _unclear()
    prompt[0, 0, 0, :2] = 0
    refined = refine(ConstantModel(), torch.rand(1, 3, 8, 8), prompt, n_masks=200)
    expected = torch.ones(1, 1, 8, 8)
    expected[0, 0, 0, :2] = 0
    assert torch.equal(refined, expected)


def test_the_same_seed_gives_the_same_map_and_another_seed_a_different_one() -> None:
    model, x = RegionModel(ROWS, COLS), torch.ones(1, 3, 8, 8)
    first = refine(model, x, _unclear(), n_masks=100, seed=1)
    assert torch.equal(first, refine(model, x, _unclear(), n_masks=100, seed=1))
    assert not torch.equal(first, refine(model, x, _unclear(), n_masks=100, seed=2))


def test_streaming_in_small_chunks_equals_one_shot() -> None:
    model, x = RegionModel(ROWS, COLS), torch.ones(2, 3, 8, 8)
    x[1] *= 0.95
    streamed = refine(model, x, _unclear(2), n_masks=150, chunk=6)
    one_shot = refine(model, x, _unclear(2), n_masks=150, chunk=10_000)
    assert torch.allclose(streamed, one_shot, atol=1e-4)


def test_an_image_refined_alone_or_in_a_batch_gets_the_same_map() -> None:
    model = RegionModel(ROWS, COLS)
    x = 0.9 + 0.1 * torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    prompt = _unclear(3)
    prompt[1, 0, :2] = 0
    batched = refine(model, x, prompt, n_masks=80)
    alone = refine(model, x[1:2], prompt[1:2], n_masks=80)
    assert torch.allclose(batched[1:2], alone, atol=1e-4)


def test_smooth_masks_also_find_the_region() -> None:
    model = RegionModel(slice(0, 4), slice(0, 4))
    refined = refine(
        model,
        torch.ones(1, 3, 8, 8),
        _unclear(),
        n_masks=600,
        style="smooth",
        grid=2,
        p=0.5,
        rescale="range",
    )
    # Contrast is measured against the weights' range, so a region holding only part of the
    # evidence stays below 1 (here about 0.60 against 0.39).
    assert float(refined[0, 0, :4, :4].mean()) > float(refined[0, 0, 4:, 4:].mean()) + 0.15


def test_scores_are_the_label_probabilities_of_each_masked_image() -> None:
    model = RecordingModel()
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    prompt = _unclear(2, 4)
    prompt[0, 0, 0, 0] = 1
    prompt[1, 0, 3, :] = 0
    masks = MaskSet(20, (4, 4), p=0.3)
    label = torch.tensor([1, 0])
    scores = mask_scores(model, x, prompt, label, masks, chunk=8)
    fields = torch.cat([f for _, f in masks.chunks(100, "cpu")])
    for b in range(2):
        for j in range(20):  # per-mask reference loop
            mask = (prompt[b] == 1).float() + (prompt[b] == -1).float() * fields[j]
            with torch.no_grad():
                probs = model(x[b : b + 1] * mask).softmax(1)
            assert abs(float(scores[b, j]) - float(probs[0, label[b]])) < 1e-6


def test_without_a_label_it_scores_the_class_predicted_from_the_important_pixels() -> None:
    model = RecordingModel()
    x = torch.rand(2, 3, 4, 4)
    prompt = _unclear(2, 4)
    prompt[0, 0, :2] = 1
    prompt[1, 0, 0] = 0  # no important pixel: unclear pixels are kept instead
    refinement_target(model, x, prompt)
    seen = model.seen[-1]
    assert torch.equal(seen[0], x[0] * (prompt[0] == 1))
    assert torch.equal(seen[1], x[1] * (prompt[1] != 0))


def test_cached_scores_rebuild_the_same_map_as_refine() -> None:
    model, x = RegionModel(ROWS, COLS), torch.ones(2, 3, 8, 8)
    prompt = _unclear(2)
    prompt[0, 0, 0] = 1
    label = torch.tensor([1, 0])
    masks = MaskSet(60, (8, 8), seed=4)
    scores = mask_scores(model, x, prompt, label, masks)
    direct = refine(model, x, prompt, n_masks=60, seed=4, label=label)
    assert torch.allclose(refined_map(scores, prompt, masks), direct, atol=1e-4)


def test_it_leaves_its_inputs_and_the_model_mode_unchanged() -> None:
    model = RegionModel(ROWS, COLS).train()
    x, prompt = torch.rand(1, 3, 8, 8), _unclear()
    x_before, prompt_before = x.clone(), prompt.clone()
    refine(model, x, prompt, n_masks=10)
    assert model.training
    assert torch.equal(x, x_before)
    assert torch.equal(prompt, prompt_before)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_it_streams_exactly_and_still_finds_the_region_under_autocast() -> None:
    model = RegionModel(ROWS, COLS).cuda()
    x, prompt = torch.ones(1, 3, 8, 8, device="cuda"), _unclear().cuda()
    label = torch.tensor([1], device="cuda")
    kwargs = {"n_masks": 1000, "label": label, "autocast": False}
    streamed = refine(model, x, prompt, chunk=7, **kwargs)
    assert torch.allclose(streamed, refine(model, x, prompt, chunk=4096, **kwargs), atol=1e-4)
    refined = refine(model, x, prompt, n_masks=1000, label=label, autocast=True)
    inside = torch.zeros(8, 8, dtype=torch.bool, device="cuda")
    inside[ROWS, COLS] = True
    assert float(refined[0, 0][inside].min()) > float(refined[0, 0][~inside].max())


def test_the_channels_last_layout_gives_the_same_map() -> None:
    model, x = RegionModel(ROWS, COLS), torch.ones(2, 3, 8, 8)
    x[1] *= 0.95
    nhwc = refine(model, x, _unclear(2), n_masks=100, channels_last=True)
    nchw = refine(model, x, _unclear(2), n_masks=100, channels_last=False)
    assert torch.allclose(nhwc, nchw, atol=1e-5)


def _compose_prompt() -> torch.Tensor:
    prompt = -torch.ones(1, 1, 2, 2)  # [[unclear, unclear], [important, unimportant]]
    prompt[0, 0, 1, 0], prompt[0, 0, 1, 1] = 1, 0
    return prompt


def test_the_estimate_is_rescaled_against_the_range_of_the_weights() -> None:
    weights = torch.tensor([[0.4, 0.6, 0.5]])  # range [0.4, 0.6]
    estimate = torch.tensor([[[[0.50, 0.55], [0.9, 0.9]]]])
    refined = compose_refined(estimate, _compose_prompt(), weights, "range")
    # (0.50 - 0.4) / 0.2 = 0.5 and (0.55 - 0.4) / 0.2 = 0.75; important 1, unimportant 0
    expected = torch.tensor([[[[0.5, 0.75], [1.0, 0.0]]]])
    assert torch.allclose(refined, expected, atol=1e-6)


def test_the_ratio_rescale_divides_by_the_mean_weight_and_caps_at_one() -> None:
    weights = torch.tensor([[0.4, 0.6, 0.5]])  # mean 0.5
    estimate = torch.tensor([[[[0.45, 0.55], [0.9, 0.9]]]])
    refined = compose_refined(estimate, _compose_prompt(), weights, "ratio")
    # 0.45 / 0.5 = 0.9; 0.55 / 0.5 = 1.1, capped at 1; important 1, unimportant 0
    expected = torch.tensor([[[[0.9, 1.0], [1.0, 0.0]]]])
    assert torch.allclose(refined, expected, atol=1e-6)


@pytest.mark.parametrize("rescale", ["ratio", "range"])
@pytest.mark.parametrize("value", [0.3, 0.0])
def test_constant_weights_keep_every_unclear_pixel(rescale: str, value: float) -> None:
    weights = torch.full((1, 4), value)
    estimate = torch.full((1, 1, 2, 2), value)
    refined = compose_refined(estimate, _compose_prompt(), weights, rescale)
    assert torch.equal(refined, torch.tensor([[[[1.0, 1.0], [1.0, 0.0]]]]))


def test_an_unknown_rescale_is_refused() -> None:
    weights, estimate = torch.full((1, 4), 0.3), torch.full((1, 1, 2, 2), 0.3)
    with pytest.raises(ValueError, match="rescale"):
        compose_refined(estimate, _compose_prompt(), weights, "minmax")


def test_averaging_noise_is_not_stretched_to_full_contrast() -> None:
    # Scores that do not depend on the pixels: S differs between pixels by sampling noise only.
    generator = torch.Generator().manual_seed(0)
    scores = 0.5 + 0.05 * torch.rand(1, 64, generator=generator)
    masks = MaskSet(64, (8, 8), p=0.5, seed=3)
    refined = refined_map(scores, _unclear(), masks, rescale="range")
    spread = float(refined.max() - refined.min())
    assert spread < 0.6  # a min-max rescale over the unclear pixels would give exactly 1
    assert 0.2 < float(refined.mean()) < 0.8  # about the middle of the weights' range
    # The ratio keeps pixels that do not matter: noise of a few percent of the mean weight.
    ratio = refined_map(scores, _unclear(), masks, rescale="ratio")
    assert float(ratio.min()) > 0.9


def test_weights_and_estimate_come_from_the_same_scores_in_refine_and_refined_map() -> None:
    model, x = RegionModel(ROWS, COLS), torch.ones(1, 3, 8, 8)
    masks = MaskSet(40, (8, 8), seed=2)
    label = torch.tensor([1])
    scores = mask_scores(model, x, _unclear(), label, masks)
    weights = scores**2
    expected = compose_refined(aggregate(weights, masks), _unclear(), weights)
    direct = refine(model, x, _unclear(), n_masks=40, seed=2, label=label, g=lambda w: w**2)
    assert torch.allclose(direct, expected, atol=1e-5)
    assert float(direct.min()) >= 0.0 and float(direct.max()) <= 1.0
