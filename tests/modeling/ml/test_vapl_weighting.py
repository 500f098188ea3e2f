"""MonotoneG: monotone, exact endpoints, and curved both ways (never stuck at the identity)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from modeling.ml.vapl import IdentityG, MonotoneG

from .vapl_helpers import single_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("single_thread")

GRID = torch.linspace(0.0, 1.0, 201)


def _perturbed(seed: int) -> MonotoneG:
    torch.manual_seed(seed)
    g = MonotoneG(hidden=8)
    with torch.no_grad():
        for param in g.parameters():
            param.add_(torch.randn_like(param) * 3.0)
    return g


def _fit(target: Callable[[Tensor], Tensor], steps: int = 400) -> float:
    torch.manual_seed(0)
    g = MonotoneG()
    optimizer = torch.optim.Adam(g.parameters(), lr=0.1)
    for _ in range(steps):
        loss = (g(GRID) - target(GRID)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return float((g(GRID) - target(GRID)).abs().max())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_is_monotone_non_decreasing_for_any_parameters(seed: int) -> None:
    values = _perturbed(seed).requires_grad_(False)(GRID)
    assert bool((values.diff() >= 0).all())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_maps_zero_to_zero_and_one_to_one_exactly(seed: int) -> None:
    g = _perturbed(seed).requires_grad_(False)
    assert float(g(torch.tensor(0.0))) == 0.0
    assert float(g(torch.tensor(1.0))) == pytest.approx(1.0, abs=1e-6)
    assert float(g.endpoint_penalty()) < 1e-12


def test_it_starts_close_to_the_identity() -> None:
    g = MonotoneG().requires_grad_(False)
    assert float((g(GRID) - GRID).abs().max()) < 1e-2


def test_it_can_fit_a_convex_curve() -> None:
    assert _fit(lambda w: w**2) < 0.03


def test_it_can_fit_a_concave_curve() -> None:
    assert _fit(torch.sqrt) < 0.06


def test_it_keeps_the_input_shape_and_dtype() -> None:
    w = torch.rand(3, 5, dtype=torch.float64)
    out = MonotoneG()(w)
    assert out.shape == (3, 5)
    assert out.dtype == torch.float64


def test_the_identity_weight_function_returns_its_input() -> None:
    w = torch.rand(4, 7)
    assert torch.equal(IdentityG()(w), w)
    assert list(IdentityG().parameters()) == []
