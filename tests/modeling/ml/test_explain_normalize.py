"""Per-sample normalisations and map / mask resizing."""

from __future__ import annotations

import torch

from modeling.ml.explain import normalize_max, normalize_minmax, resize_map, resize_mask


def test_minmax_is_per_sample() -> None:
    m = torch.tensor([[[[1.0, 3.0]]], [[[10.0, 20.0]]]])
    torch.testing.assert_close(
        normalize_minmax(m, eps=0.0), torch.tensor([[[[0.0, 1.0]]], [[[0.0, 1.0]]]])
    )


def test_minmax_of_a_constant_map_is_zero() -> None:
    assert normalize_minmax(torch.full((1, 1, 2, 2), 5.0)).abs().max() == 0


def test_divide_by_max_keeps_zero_and_scales_per_sample() -> None:
    m = torch.tensor([[[[0.0, 2.0]]], [[[1.0, 4.0]]]])
    torch.testing.assert_close(
        normalize_max(m, eps=0.0), torch.tensor([[[[0.0, 1.0]]], [[[0.25, 1.0]]]])
    )
    assert normalize_max(torch.zeros(1, 1, 2, 2)).abs().max() == 0


def test_normalisations_are_differentiable() -> None:
    m = torch.rand(2, 1, 3, 3, requires_grad=True)
    (normalize_minmax(m).sum() + normalize_max(m).sum()).backward()
    assert m.grad is not None


def test_resize_map_is_bilinear_without_aligned_corners() -> None:
    m = torch.tensor([[[[0.0, 1.0]]]])
    out = resize_map(m, (1, 4))
    torch.testing.assert_close(out, torch.tensor([[[[0.0, 0.25, 0.75, 1.0]]]]))
    assert resize_map(m, (1, 2)) is m


def test_resize_mask_area_gives_the_covered_fraction() -> None:
    mask = torch.tensor([[[[1, 1, 0, 0], [1, 0, 0, 0]]]], dtype=torch.bool)
    torch.testing.assert_close(resize_mask(mask, (1, 2)), torch.tensor([[[[0.75, 0.0]]]]))


def test_resize_mask_max_keeps_a_thin_stroke() -> None:
    mask = torch.zeros(1, 1, 4, 4)
    mask[0, 0, 1, 2] = 1
    torch.testing.assert_close(
        resize_mask(mask, 2, mode="max"), torch.tensor([[[[0.0, 1.0], [0.0, 0.0]]]])
    )


def test_resize_mask_nearest_keeps_prompt_values() -> None:
    prompt = torch.tensor([[[[-1.0, 0.0], [1.0, -1.0]]]])
    out = resize_mask(prompt, 4, mode="nearest")
    assert set(out.unique().tolist()) == {-1.0, 0.0, 1.0}
    torch.testing.assert_close(out[0, 0, ::2, ::2], prompt[0, 0])
