"""Guided losses: hand-computed values, gradcheck, masking, threshold search, no mutation."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.autograd import gradcheck

from modeling.ml.losses import (
    EnergyLoss,
    GradiaLoss,
    HaicsLoss,
    LearnedImputation,
    ResLoss,
    RrrLoss,
    balanced_accuracy_threshold,
    build_loss,
    gaussian_blur,
    prompt_fractions,
)

LOGITS = torch.zeros(1, 2)
LABELS = torch.zeros(1, dtype=torch.long)


def _prompt(rows: list[list[int]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)[None, None]


def _random_case(seed: int, batch: int = 2, size: int = 8, grid: int = 4) -> tuple:
    g = torch.Generator().manual_seed(seed)
    maps = torch.rand(batch, 1, grid, grid, generator=g, dtype=torch.float64) + 0.05
    prompt = torch.randint(-1, 2, (batch, 1, size, size), generator=g).double()
    logits = torch.randn(batch, 3, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 3, (batch,), generator=g)
    return logits, maps, prompt, labels


def _brute_force_threshold(positive: list[float], negative: list[float]) -> tuple[float, float]:
    """O(n^2) reference: balanced accuracy of every candidate by counting, first maximum wins."""
    values = sorted(set(positive) | set(negative))
    candidates = [values[0]] + [(a + b) / 2 for a, b in itertools.pairwise(values)]
    candidates.append(values[-1] + 1.0)
    best, best_score = candidates[0], -1.0
    for a in candidates:
        tpr = sum(p >= a for p in positive) / len(positive)
        tnr = sum(n < a for n in negative) / len(negative)
        score = (tpr + tnr) / 2
        if score > best_score + 1e-12:
            best, best_score = a, score
    return best, best_score


def test_prompt_fractions_are_area_fractions_on_the_grid() -> None:
    prompt = _prompt([[1, 1, 0, -1], [1, 0, -1, -1]])
    important, unimportant, labelled = prompt_fractions(prompt, (1, 2))
    assert important.flatten().tolist() == [0.75, 0.0]
    assert unimportant.flatten().tolist() == [0.25, 0.25]
    assert labelled.flatten().tolist() == [1.0, 0.25]


def test_gradia_is_the_mean_absolute_gap_to_the_important_mask() -> None:
    maps = torch.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=torch.float64)[None, None]
    prompt = _prompt([[0, 0], [1, 1]])
    # min-max map [0, 1/3, 2/3, 1] (eps 1e-6 ignored) against target [0, 0, 1, 1].
    loss = GradiaLoss()(LOGITS, maps, prompt, LABELS)
    assert loss.item() == pytest.approx(1 / 6, abs=1e-5)


def test_gradia_skips_images_without_important_pixels() -> None:
    maps = torch.rand(2, 1, 2, 2, dtype=torch.float64)
    prompt = torch.cat([_prompt([[0, 0], [1, 1]]), _prompt([[0, 0], [-1, -1]])])
    both = GradiaLoss()(torch.zeros(2, 2), maps, prompt, torch.zeros(2, dtype=torch.long))
    first = GradiaLoss()(LOGITS, maps[:1], prompt[:1], LABELS)
    assert both.item() == pytest.approx(first.item())


def test_every_loss_is_zero_without_prompts() -> None:
    maps = torch.rand(2, 1, 4, 4)
    prompt = -torch.ones(2, 1, 8, 8)
    for name in ("baseline", "gradia", "haics", "res-g", "res-l", "energy", "rrr"):
        loss = build_loss(name, input_size=8, grid_size=4)
        assert loss(torch.zeros(2, 3), maps, prompt, torch.zeros(2, dtype=torch.long)) == 0


def test_per_image_weights_scale_each_image_contribution() -> None:
    logits, maps, prompt, labels = _random_case(0)
    loss = GradiaLoss()
    plain = loss(logits, maps, prompt, labels)
    doubled = loss(logits, maps, prompt, labels, torch.tensor([2.0, 2.0], dtype=torch.float64))
    first_only = loss(logits, maps, prompt, labels, torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert doubled.item() == pytest.approx(2 * plain.item())
    assert first_only.item() == pytest.approx(loss(logits, maps[:1], prompt[:1], labels[:1]) / 2)


def test_haics_is_binary_cross_entropy_on_labelled_pixels() -> None:
    maps = torch.tensor([[0.0, 1.0], [2.0, 4.0]], dtype=torch.float64)[None, None]
    prompt = _prompt([[0, -1], [-1, 1]])
    # Normalised over the labelled cells (values 0 and 4): 0 -> eps, 4 -> 1 - eps.
    loss = HaicsLoss(eps=1e-3)(LOGITS, maps, prompt, LABELS)
    expected = -torch.log(torch.tensor(1 - 1e-3, dtype=torch.float64))  # both terms equal
    assert loss.item() == pytest.approx(expected.item(), rel=1e-4)


def test_haics_ignores_the_map_where_nothing_is_labelled() -> None:
    logits, maps, prompt, labels = _random_case(1, grid=8)
    unlabelled = prompt == -1
    changed = torch.where(unlabelled, maps * 7 + 3, maps)
    loss = HaicsLoss()
    assert loss(logits, changed, prompt, labels).item() == pytest.approx(
        loss(logits, maps, prompt, labels).item()
    )
    changed_labelled = torch.where(~unlabelled, maps * 0.5, maps)
    assert loss(logits, changed_labelled, prompt, labels) != loss(logits, maps, prompt, labels)


def test_energy_is_one_minus_the_energy_share_inside_the_important_region() -> None:
    maps = torch.tensor([[1.0, 0.0], [3.0, -2.0]], dtype=torch.float64)[None, None]
    prompt = _prompt([[1, 1], [0, -1]])
    assert EnergyLoss()(LOGITS, maps, prompt, LABELS).item() == pytest.approx(0.75)


def test_energy_of_an_empty_map_falls_back_to_one_minus_the_numerator() -> None:
    maps = torch.zeros(1, 1, 2, 2, dtype=torch.float64)
    prompt = _prompt([[1, 0], [0, 0]])
    assert EnergyLoss()(LOGITS, maps, prompt, LABELS).item() == pytest.approx(1.0)


def test_rrr_sums_the_gradient_density_over_unimportant_pixels() -> None:
    maps = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)[None, None]
    prompt = _prompt([[0, 1], [0, -1]])
    assert RrrLoss()(LOGITS, maps, prompt, LABELS).item() == pytest.approx(4.0)


@pytest.mark.parametrize("seed", range(5))
def test_threshold_search_matches_a_brute_force_reference(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    positive = (torch.rand(40, generator=g, dtype=torch.float64) * 0.8 + 0.2).round(decimals=2)
    negative = (torch.rand(30, generator=g, dtype=torch.float64) * 0.8).round(decimals=2)
    expected, _ = _brute_force_threshold(positive.tolist(), negative.tolist())
    assert balanced_accuracy_threshold(positive, negative).item() == pytest.approx(expected)


def test_threshold_separates_separable_values() -> None:
    a = balanced_accuracy_threshold(torch.tensor([0.6, 0.9]), torch.tensor([0.1, 0.4]))
    assert a.item() == pytest.approx(0.5)


def test_threshold_without_negatives_is_the_default() -> None:
    assert balanced_accuracy_threshold(torch.tensor([0.6]), torch.tensor([])).item() == 0.5


@pytest.fixture
def frozen_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """RES's threshold carries no gradient by design, but it moves with the map values, so
    finite differences would see it: freeze it for gradcheck."""
    monkeypatch.setattr(
        "modeling.ml.losses.res.balanced_accuracy_threshold",
        lambda positive, negative: torch.tensor(0.45, dtype=torch.float64),
    )


@pytest.mark.parametrize("name", ["gradia", "haics", "res-g", "energy", "rrr"])
def test_losses_pass_gradcheck_with_respect_to_the_maps(name: str, frozen_threshold: None) -> None:
    logits, maps, prompt, labels = _random_case(2)
    loss = build_loss(name)
    maps.requires_grad_(True)
    assert gradcheck(lambda m: loss(logits, m, prompt, labels), (maps,), atol=1e-6)


def test_res_l_passes_gradcheck_with_respect_to_maps_and_kernel(frozen_threshold: None) -> None:
    logits, maps, prompt, labels = _random_case(3)
    loss = build_loss("res-l", input_size=8, grid_size=4).double()
    kernel = loss.imputation.conv.weight
    with torch.no_grad():
        kernel.add_(torch.rand(kernel.shape, dtype=torch.float64, generator=torch.Generator()) / 10)
    maps.requires_grad_(True)
    assert gradcheck(lambda m: loss(logits, m, prompt, labels), (maps,), atol=1e-6)

    def by_kernel(w: torch.Tensor) -> torch.Tensor:
        args = (logits, maps.detach(), prompt, labels)
        return torch.func.functional_call(loss, {"imputation.conv.weight": w}, args)

    assert gradcheck(by_kernel, (kernel.detach().clone().requires_grad_(True),), atol=1e-6)


def test_res_threshold_carries_no_gradient() -> None:
    positive = torch.tensor([0.6, 0.9], requires_grad=True)
    assert not balanced_accuracy_threshold(positive, torch.tensor([0.1])).requires_grad


def test_res_robust_term_is_zero_when_the_map_matches_the_prompt_within_the_slack() -> None:
    maps = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)[None, None]
    prompt = _prompt([[0, 0], [1, 1]])
    loss = ResLoss(gamma=50.0, eta=0.1, imputation_weight=0.0)
    assert loss(LOGITS, maps, prompt, LABELS).item() == 0.0


def test_res_l_kernel_geometry_scales_with_pixels_per_cell() -> None:
    reference = LearnedImputation(224, 7)
    assert reference.conv.kernel_size == (64, 64)
    assert reference.conv.stride == (32, 32) and reference.conv.padding == (16, 16)
    assert reference(torch.ones(1, 1, 224, 224)).shape == (1, 1, 7, 7)
    small = LearnedImputation(32, 4)
    assert (small.conv.kernel_size, small.conv.stride, small.conv.padding) == (
        (16, 16),
        (8, 8),
        (4, 4),
    )
    assert small(torch.ones(1, 1, 32, 32)).shape == (1, 1, 4, 4)


def test_gaussian_blur_keeps_a_constant_map_constant() -> None:
    maps = torch.full((1, 1, 5, 5), 0.3)
    assert torch.allclose(gaussian_blur(maps), maps)


@pytest.mark.parametrize("name", ["gradia", "haics", "res-g", "res-l", "energy", "rrr"])
def test_losses_do_not_mutate_their_inputs(name: str) -> None:
    logits, maps, prompt, labels = _random_case(4)
    copies = [t.clone() for t in (logits, maps, prompt, labels)]
    build_loss(name, input_size=8, grid_size=4).double()(logits, maps, prompt, labels)
    for before, after in zip(copies, (logits, maps, prompt, labels), strict=True):
        assert torch.equal(before, after)


def test_unknown_method_and_res_l_without_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        build_loss("grad-cam++")
    with pytest.raises(ValueError, match="input_size"):
        build_loss("res-l")
