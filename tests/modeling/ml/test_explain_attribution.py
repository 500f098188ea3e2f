"""Input x Gradient and Integrated Gradients: hand-computed values and Captum agreement."""

from __future__ import annotations

import pytest
import torch
from captum.attr import InputXGradient, IntegratedGradients
from torch import Tensor, nn

from modeling.ml.explain import (
    input_x_gradient,
    input_x_gradient_from_input,
    integrated_gradients,
    reduce_channels,
)


class LinearNet(nn.Module):
    """logits = W flatten(x): the gradient of class c is W[c], by hand."""

    def __init__(self, weight: Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(1) @ self.weight.T


def _tiny_convnet() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.Softplus(), nn.Conv2d(4, 4, 3, padding=1),
        nn.Softplus(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3),
    ).eval()  # fmt: skip


def test_input_x_gradient_sums_absolute_products_over_channels() -> None:
    weight = torch.tensor([[1.0, -2.0, 3.0, -4.0], [0.5, 0.5, 0.5, 0.5]])
    model = LinearNet(weight)
    x = torch.tensor([[[[1.0, 2.0]], [[-1.0, 0.5]]]])  # [1, 2, 1, 2], flattened 1, 2, -1, 0.5
    maps = input_x_gradient(model, x, 0)
    # x * W[0] = [1, -4, -3, -2]; per pixel: |1| + |-3| = 4 and |-4| + |-2| = 6.
    torch.testing.assert_close(maps, torch.tensor([[[[4.0, 6.0]]]]))
    assert not maps.requires_grad and model.weight.grad is None


def test_input_x_gradient_matches_captum() -> None:
    model = _tiny_convnet()
    x = torch.rand(2, 3, 6, 6)
    target = torch.tensor([1, 2])
    expected = InputXGradient(model).attribute(x.clone().requires_grad_(True), target=target)
    expected = expected.abs().sum(1, keepdim=True)
    torch.testing.assert_close(input_x_gradient(model, x, target), expected.detach())


def test_input_x_gradient_in_training_mode_back_propagates_into_the_parameters() -> None:
    model = _tiny_convnet()
    maps = input_x_gradient(model, torch.rand(2, 3, 6, 6), 0, create_graph=True)
    assert maps.requires_grad
    maps.sum().backward()
    assert model[0].weight.grad is not None and model[0].weight.grad.abs().sum() > 0


def test_input_x_gradient_from_input_requires_a_differentiable_input() -> None:
    x = torch.rand(1, 3, 4, 4)
    score = x.sum().reshape(1)
    with pytest.raises(ValueError, match="require grad"):
        input_x_gradient_from_input(score, x)


def test_integrated_gradients_of_a_linear_model_is_input_times_weight() -> None:
    weight = torch.tensor([[1.0, -2.0, 3.0, -4.0]])
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    attribution = integrated_gradients(LinearNet(weight), x, 0, steps=4)
    torch.testing.assert_close(attribution, torch.tensor([[[[1.0, -4.0], [9.0, -16.0]]]]))


def test_integrated_gradients_is_complete() -> None:
    model = _tiny_convnet()
    x = torch.rand(2, 3, 6, 6)
    target = torch.tensor([0, 2])
    attribution = integrated_gradients(model, x, target, steps=64, batch_size=50)
    with torch.no_grad():
        gap = (model(x) - model(torch.zeros_like(x))).gather(1, target[:, None])[:, 0]
    torch.testing.assert_close(attribution.sum(dim=(1, 2, 3)), gap, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("batch_size", [5, 64])
def test_integrated_gradients_matches_captum_trapezoid(batch_size: int) -> None:
    model = _tiny_convnet()
    x = torch.rand(2, 3, 6, 6)
    baseline = torch.full_like(x, 0.25)
    target = torch.tensor([1, 0])
    steps = 8
    ours = integrated_gradients(
        model, x, target, baseline=baseline, steps=steps, batch_size=batch_size
    )
    theirs = IntegratedGradients(model).attribute(
        x, baselines=baseline, target=target, n_steps=steps, method="riemann_trapezoid"
    )
    # Captum's trapezoid uses step 1/steps on the same points; ours uses 1/(steps - 1).
    torch.testing.assert_close(ours * (steps - 1) / steps, theirs.detach(), atol=1e-6, rtol=1e-4)


def test_integrated_gradients_restores_the_training_mode() -> None:
    model = _tiny_convnet().train()
    integrated_gradients(model, torch.rand(1, 3, 6, 6), 0, steps=2)
    assert model.training


def test_reduce_channels_modes() -> None:
    attribution = torch.tensor([[[[1.0]], [[-3.0]]]])
    assert reduce_channels(attribution).item() == 4.0
    assert reduce_channels(attribution, "sum").item() == -2.0
    assert reduce_channels(attribution, "abs_max").item() == 3.0
