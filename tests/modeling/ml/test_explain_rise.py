"""RISE: mask generation, reproducibility, the estimator and localisation on a toy model."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from modeling.ml.explain import make_generator, rise, rise_masks


class RegionNet(nn.Module):
    """Class 0 scores the brightness of rows 0-3, columns 0-3 of a 12 x 12 image."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(8.0))
        self.batch_sizes: list[int] = []

    def forward(self, x: Tensor) -> Tensor:
        self.batch_sizes.append(x.shape[0])
        s = self.scale * (x[:, :, :4, :4].mean(dim=(1, 2, 3)) - 0.5)
        return torch.stack([s, -s], dim=1)


def test_masks_are_smooth_and_in_the_unit_range() -> None:
    masks = rise_masks(64, (12, 10), grid=3, p1=0.5, generator=make_generator(0))
    assert masks.shape == (64, 1, 12, 10)
    assert masks.min() >= 0 and masks.max() <= 1
    assert ((masks > 0) & (masks < 1)).any()  # bilinear, not binary
    assert 0.3 < masks.mean() < 0.7


def test_masks_are_reproducible_from_the_seed() -> None:
    first = rise_masks(8, (12, 12), generator=make_generator(7))
    assert torch.equal(first, rise_masks(8, (12, 12), generator=make_generator(7)))
    assert not torch.equal(first, rise_masks(8, (12, 12), generator=make_generator(8)))


def test_all_kept_cells_give_all_ones_masks() -> None:
    masks = rise_masks(4, (9, 9), grid=3, p1=1.0, generator=make_generator(0))
    torch.testing.assert_close(masks, torch.ones_like(masks))


def test_saliency_is_the_score_weighted_mask_sum() -> None:
    model = RegionNet()
    x = torch.rand(1, 3, 12, 12)
    saliency = rise(model, x, 0, n_masks=30, grid=4, p1=0.4, batch_size=7, seed=3)
    # rise() draws its masks from one seeded generator in chunks of batch_size.
    generator = make_generator(3)
    masks = torch.cat(
        [rise_masks(n, (12, 12), grid=4, p1=0.4, generator=generator) for n in (7, 7, 7, 7, 2)]
    )
    with torch.no_grad():
        probs = torch.softmax(model(x * masks), dim=1)[:, 0]
    expected = (probs[:, None, None, None] * masks).sum(0, keepdim=True) / (30 * 0.4)
    torch.testing.assert_close(saliency, expected)


def test_it_streams_masks_in_batches() -> None:
    model = RegionNet()
    rise(model, torch.rand(2, 3, 12, 12), 0, n_masks=25, batch_size=10)
    assert max(model.batch_sizes) == 10
    assert sum(model.batch_sizes) == 2 * 25


def test_it_is_reproducible_by_seed() -> None:
    model = RegionNet()
    x = torch.rand(2, 3, 12, 12)
    first = rise(model, x, 0, n_masks=40, grid=3, seed=5)
    assert torch.equal(first, rise(model, x, 0, n_masks=40, grid=3, seed=5))
    assert not torch.equal(first, rise(model, x, 0, n_masks=40, grid=3, seed=6))


def test_saliency_peaks_in_the_region_the_model_looks_at() -> None:
    torch.manual_seed(0)
    model = RegionNet()
    x = torch.full((1, 3, 12, 12), 0.8)
    saliency = rise(model, x, 0, n_masks=500, grid=3, p1=0.5, batch_size=250, seed=0)
    assert saliency.shape == (1, 1, 12, 12)
    inside = saliency[0, 0, :4, :4].mean()
    outside = saliency[0, 0, 6:, 6:].mean()
    assert inside > outside * 1.15
    peak = int(saliency.flatten().argmax())
    assert peak // 12 < 5 and peak % 12 < 5


def test_it_rejects_an_invalid_keep_probability() -> None:
    with pytest.raises(ValueError, match="p1"):
        rise(RegionNet(), torch.rand(1, 3, 12, 12), 0, n_masks=2, p1=0.0)


def test_saliency_comes_back_on_the_input_device() -> None:
    saliency = rise(RegionNet(), torch.rand(1, 3, 12, 12), 0, n_masks=4)
    assert saliency.device == torch.device("cpu") and saliency.dtype == torch.float32


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_masks_are_generated_on_the_models_gpu() -> None:
    model = RegionNet().cuda()
    x = torch.rand(1, 3, 12, 12, device="cuda")
    first = rise(model, x, 0, n_masks=20, seed=1)
    assert first.device.type == "cuda"
    assert torch.equal(first, rise(model, x, 0, n_masks=20, seed=1))
