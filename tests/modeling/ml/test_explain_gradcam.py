"""Grad-CAM: closed form at layer4, training mode, gradcheck, hooks and Captum agreement."""

from __future__ import annotations

import pytest
import torch
from captum.attr import LayerGradCam
from torch import Tensor, nn

from modeling.ml.backbones import BackboneConfig, Classifier, build_classifier
from modeling.ml.explain import class_activation_map, grad_cam, grad_cam_from_activations

TARGET = torch.tensor([0, 2])


@pytest.fixture
def model() -> Classifier:
    torch.manual_seed(0)
    return build_classifier(BackboneConfig(num_classes=3, small_input=True)).eval()


@pytest.fixture
def x() -> Tensor:
    torch.manual_seed(1)
    return torch.rand(2, 3, 16, 16)


class SmoothNet(nn.Module):
    """Two convolutions with tanh, so Grad-CAM weights depend smoothly on the input."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward_with_activations(self, x: Tensor, layers: list[str]) -> tuple[Tensor, dict]:
        a = self.conv2(torch.tanh(self.conv1(x)))
        return self.fc(torch.tanh(a).mean(dim=(2, 3))), {"conv2": a}


def _hook_count(model: nn.Module) -> int:
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        for m in model.modules()
    )


def test_layer4_grad_cam_equals_the_closed_form_cam(model: Classifier, x: Tensor) -> None:
    maps, _ = grad_cam(model, x, TARGET)
    with torch.no_grad():
        features = model.forward_features(x)
    h, w = features.shape[-2:]
    # CAM: for global average pooling + linear, w_k = fc.weight[c, k] / (h w).
    weights = model.fc.weight[TARGET] / (h * w)
    expected = torch.relu((weights[:, :, None, None] * features).sum(1, keepdim=True))
    assert maps.shape == (2, 1, 2, 2)
    assert maps.max() > 0
    torch.testing.assert_close(maps, expected.detach(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(class_activation_map(features, model.fc.weight, TARGET), expected)


def test_inference_mode_returns_detached_maps_and_leaves_no_parameter_gradients(
    model: Classifier, x: Tensor
) -> None:
    with torch.no_grad():
        maps, logits = grad_cam(model, x, TARGET)
    assert not maps.requires_grad and not logits.requires_grad
    assert all(p.grad is None for p in model.parameters())
    torch.testing.assert_close(logits, model(x).detach())


def test_training_mode_uses_one_batched_forward_and_back_propagates(
    model: Classifier, x: Tensor
) -> None:
    model.train()
    tracked = model.bn1.num_batches_tracked.clone()
    maps, logits = grad_cam(model, x, TARGET, layer="layer3", create_graph=True)
    assert model.bn1.num_batches_tracked == tracked + 1  # one forward of the whole batch
    assert maps.requires_grad and logits.requires_grad
    loss = maps.mean() + nn.functional.cross_entropy(logits, TARGET)
    loss.backward()
    assert model.layer3[0].conv1.weight.grad is not None
    assert model.layer3[0].conv1.weight.grad.abs().sum() > 0


def test_the_differentiable_map_passes_gradcheck() -> None:
    torch.manual_seed(0)
    net = SmoothNet().double()
    x = torch.rand(1, 1, 5, 5, dtype=torch.float64, requires_grad=True)

    def cam(inp: Tensor) -> Tensor:
        logits, acts = net.forward_with_activations(inp, ["conv2"])
        return grad_cam_from_activations(
            logits[:, 1], acts["conv2"], create_graph=True, detach_weights=False
        )

    assert cam(x).gt(0).any()
    assert torch.autograd.gradcheck(cam, (x,), eps=1e-6, atol=1e-5)


def test_detached_weights_change_the_gradient_only_through_the_weights() -> None:
    torch.manual_seed(0)
    net = SmoothNet().double()
    x = torch.rand(1, 1, 5, 5, dtype=torch.float64)

    def input_grad(detach_weights: bool) -> Tensor:
        inp = x.clone().requires_grad_(True)
        logits, acts = net.forward_with_activations(inp, ["conv2"])
        maps = grad_cam_from_activations(
            logits[:, 1], acts["conv2"], create_graph=True, detach_weights=detach_weights
        )
        (grad,) = torch.autograd.grad(maps.sum(), inp)
        return grad

    assert not torch.allclose(input_grad(True), input_grad(False))


def test_the_forward_graph_survives_for_a_loss_on_the_logits() -> None:
    torch.manual_seed(0)
    net = SmoothNet()
    logits, acts = net.forward_with_activations(torch.rand(2, 1, 5, 5), ["conv2"])
    grad_cam_from_activations(logits[:, 0], acts["conv2"])
    logits.sum().backward()  # would raise if the graph had been freed
    assert net.conv1.weight.grad is not None


def test_it_rejects_an_activation_without_a_graph() -> None:
    net = SmoothNet()
    with torch.no_grad():
        logits, acts = net.forward_with_activations(torch.rand(1, 1, 5, 5), ["conv2"])
    with pytest.raises(ValueError, match="does not require grad"):
        grad_cam_from_activations(logits[:, 0], acts["conv2"])


def test_it_leaves_no_hooks_and_does_not_mutate_the_input(model: Classifier, x: Tensor) -> None:
    before = x.clone()
    hooks = _hook_count(model)
    grad_cam(model, x, TARGET)
    grad_cam(model, x, TARGET, create_graph=True, detach_weights=False)
    assert _hook_count(model) == hooks == 0
    assert torch.equal(x, before)


@pytest.mark.parametrize("layer", ["layer4", "layer3"])
def test_it_matches_captum_layer_grad_cam(model: Classifier, x: Tensor, layer: str) -> None:
    maps, _ = grad_cam(model, x, TARGET, layer=layer)
    expected = LayerGradCam(model, getattr(model, layer)).attribute(
        x, target=TARGET, relu_attributions=True
    )
    torch.testing.assert_close(maps, expected.detach(), atol=1e-5, rtol=1e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_grad_cam_on_the_gpu_matches_the_cpu(model: Classifier, x: Tensor) -> None:
    expected, _ = grad_cam(model, x, TARGET)
    maps, _ = grad_cam(model.cuda(), x.cuda(), TARGET.cuda())
    # cuDNN may run the convolutions in TF32.
    torch.testing.assert_close(maps.cpu(), expected, atol=2e-3, rtol=2e-2)
