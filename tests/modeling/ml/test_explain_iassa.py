"""IASSA on toy models whose decision region and features are known."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from modeling.ml.explain import iassa

SIZE = 24


class PatchNet(nn.Module):
    """Class 0 scores the brightness of rows 2-7, columns 2-7; features are the image colours."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(6.0))
        self.batch_sizes: list[int] = []

    def forward(self, x: Tensor) -> Tensor:
        self.batch_sizes.append(x.shape[0])
        s = self.scale * (x[:, :, 2:8, 2:8].mean(dim=(1, 2, 3)) - 0.2)
        return torch.stack([s, -s], dim=1)

    def forward_with_activations(
        self, x: Tensor, layers: list[str]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        return self(x), {name: nn.functional.avg_pool2d(x, 2) for name in layers}


class BlackBox(nn.Module):
    """The same decision without feature access."""

    def __init__(self) -> None:
        super().__init__()
        self.net = PatchNet()

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def _two_halves() -> Tensor:
    x = torch.zeros(1, 3, SIZE, SIZE)
    x[:, 0, :, : SIZE // 2] = 0.8  # red left half, containing the decision patch
    x[:, 2, :, SIZE // 2 :] = 0.8  # blue right half
    return x


def test_it_returns_normalised_maps_of_the_input_size() -> None:
    maps = iassa(PatchNet(), torch.rand(2, 3, SIZE, SIZE), 0, iterations=1)
    assert maps.shape == (2, 1, SIZE, SIZE)
    assert maps.min() == 0 and maps.max() == pytest.approx(1.0, abs=1e-5)


def test_saliency_peaks_in_the_decision_region() -> None:
    x = torch.full((1, 3, SIZE, SIZE), 0.7)
    maps = iassa(PatchNet(), x, 0, iterations=2)[0, 0]
    assert maps[2:8, 2:8].mean() > 3 * maps[12:, 12:].mean()
    peak = int(maps.flatten().argmax())
    assert 1 <= peak // SIZE <= 8 and 1 <= peak % SIZE <= 8


def test_masked_images_are_evaluated_in_batches() -> None:
    model = PatchNet()
    iassa(model, torch.rand(1, 3, SIZE, SIZE), 0, iterations=1, batch_size=50)
    assert max(model.batch_sizes) == 50
    assert len(model.batch_sizes) > 10


def test_later_iterations_only_sample_windows_overlapping_the_region() -> None:
    x = torch.full((1, 3, SIZE, SIZE), 0.7)
    first = PatchNet()
    iassa(first, x, 0, iterations=0, batch_size=10_000)
    second = PatchNet()
    iassa(second, x, 0, iterations=1, batch_size=10_000)
    initial = sum(first.batch_sizes) - 1  # minus the unmasked forward
    refined = sum(second.batch_sizes) - 1 - initial
    assert 0 < refined < initial / 2


def test_it_stops_when_the_map_stops_changing() -> None:
    x = torch.full((1, 3, SIZE, SIZE), 0.7)
    converged = PatchNet()
    iassa(converged, x, 0, iterations=5, tol=1e9)
    one_round = PatchNet()
    iassa(one_round, x, 0, iterations=1, tol=0.0)
    assert sum(converged.batch_sizes) == sum(one_round.batch_sizes)


def test_spatial_attention_spreads_saliency_over_similar_features() -> None:
    x = _two_halves()
    plain = iassa(PatchNet(), x, 0, iterations=0, beta=1.0)[0, 0]
    attended = iassa(PatchNet(), x, 0, iterations=0, beta=0.5)[0, 0]
    # Away from the patch the occlusion saliency is flat; attention lifts only the red half,
    # whose features match the patch's.
    red, blue = (slice(14, None), slice(8, 12)), (slice(14, None), slice(16, None))
    assert float(plain[red].mean()) == pytest.approx(float(plain[blue].mean()), abs=0.02)
    assert attended[red].mean() > attended[blue].mean() + 0.05


def test_a_pure_black_box_works_without_attention() -> None:
    maps = iassa(BlackBox(), torch.rand(1, 3, SIZE, SIZE), 0, iterations=1, beta=1.0)
    assert maps.shape == (1, 1, SIZE, SIZE)
    with pytest.raises(ValueError, match="forward_with_activations"):
        iassa(BlackBox(), torch.rand(1, 3, SIZE, SIZE), 0, iterations=1)
