"""Backbones: architecture options, explicit stage returns, normalisation and weight loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from modeling.ml.backbones import BackboneConfig, Classifier, build_classifier, load_weights
from modeling.ml.checkpoints import CheckpointError, save_checkpoint

SMALL = BackboneConfig(num_classes=3, small_input=True)


@pytest.fixture
def small_model() -> Classifier:
    torch.manual_seed(0)
    return build_classifier(SMALL).eval()


def test_it_builds_without_downloading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    model = build_classifier(BackboneConfig(arch="resnet50", num_classes=5))
    assert model.fc.out_features == 5


@pytest.mark.parametrize(("arch", "width"), [("resnet18", 512), ("resnet50", 2048)])
def test_it_returns_logits_for_any_number_of_classes(arch: str, width: int) -> None:
    torch.manual_seed(0)
    model = build_classifier(BackboneConfig(arch=arch, num_classes=7, small_input=True)).eval()
    with torch.no_grad():
        logits = model(torch.rand(2, 3, 16, 16))
    assert logits.shape == (2, 7)
    assert model.feature_dim == width


def test_a_grey_model_replaces_conv1_and_averages_the_imagenet_statistics() -> None:
    config = BackboneConfig(in_channels=1)
    model = build_classifier(config).eval()
    assert model.conv1.in_channels == 1
    assert model.conv1.kernel_size == (7, 7) and model.conv1.stride == (2, 2)
    assert config.mean == pytest.approx((0.449,)) and config.std == pytest.approx((0.226,))
    with torch.no_grad():
        assert model(torch.rand(1, 1, 64, 64)).shape == (1, 2)


def test_the_small_input_stem_keeps_resolution(small_model: Classifier) -> None:
    assert small_model.conv1.kernel_size == (3, 3) and small_model.conv1.stride == (1, 1)
    assert isinstance(small_model.maxpool, nn.Identity)
    with torch.no_grad():
        _, acts = small_model.forward_with_activations(torch.rand(1, 3, 32, 32), ["stem", "layer4"])
    assert acts["stem"].shape[-2:] == (32, 32)
    assert acts["layer4"].shape == (1, 512, 4, 4)


def test_the_standard_stem_downsamples_by_32() -> None:
    model = build_classifier(BackboneConfig()).eval()
    with torch.no_grad():
        assert model.forward_features(torch.rand(1, 3, 64, 64)).shape == (1, 512, 2, 2)


def test_normalisation_happens_inside_the_model(small_model: Classifier) -> None:
    x = torch.rand(2, 3, 16, 16)
    mean = torch.tensor(SMALL.mean).view(1, 3, 1, 1)
    std = torch.tensor(SMALL.std).view(1, 3, 1, 1)
    reference = nn.Sequential(
        small_model.conv1, small_model.bn1, small_model.relu, small_model.layer1,
        small_model.layer2, small_model.layer3, small_model.layer4,
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), small_model.fc,
    )  # fmt: skip
    with torch.no_grad():
        torch.testing.assert_close(small_model(x), reference((x - mean) / std))


def test_normalisation_buffers_are_not_in_the_state_dict(small_model: Classifier) -> None:
    keys = small_model.state_dict().keys()
    assert "mean" not in keys and "std" not in keys
    assert set(keys) == set(resnet18(weights=None, num_classes=3).state_dict().keys())


def test_features_and_head_compose_to_forward(small_model: Classifier) -> None:
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(
            small_model.forward_head(small_model.forward_features(x)), small_model(x)
        )


def test_forward_with_activations_returns_every_named_stage_from_one_pass(
    small_model: Classifier,
) -> None:
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        logits, acts = small_model.forward_with_activations(x, Classifier.stage_names)
        torch.testing.assert_close(logits, small_model(x))
        torch.testing.assert_close(acts["layer4"], small_model.forward_features(x))
    assert list(acts) == list(Classifier.stage_names)
    assert [acts[n].shape[1] for n in Classifier.stage_names] == [64, 64, 128, 256, 512]


def test_forward_with_activations_rejects_an_unknown_layer(small_model: Classifier) -> None:
    with pytest.raises(ValueError, match="unknown layers"):
        small_model.forward_with_activations(torch.rand(1, 3, 16, 16), ["layer5"])


def test_it_rejects_inputs_with_the_wrong_channel_count(small_model: Classifier) -> None:
    with pytest.raises(ValueError, match="expected input"):
        small_model(torch.rand(1, 1, 16, 16))


def test_conv_parameters_lists_every_convolution_weight(small_model: Classifier) -> None:
    names = [name for name, _ in small_model.conv_parameters()]
    # ResNet-18: stem + 8 blocks x 2 + 3 downsample shortcuts.
    assert len(names) == 20
    assert "conv1.weight" in names and "layer2.0.downsample.0.weight" in names
    assert all(p.ndim == 4 for _, p in small_model.conv_parameters())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arch": "vgg16"},
        {"in_channels": 2},
        {"num_classes": 0},
        {"mean": (0.5,)},
        {"std": (1, 1, 0)},
    ],
)
def test_the_config_rejects_invalid_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        BackboneConfig(**kwargs)


def test_the_config_round_trips_through_a_dict() -> None:
    config = BackboneConfig(arch="resnet50", num_classes=4, in_channels=1, small_input=True)
    assert BackboneConfig.from_dict(config.to_dict()) == config


def test_load_weights_reads_a_torchvision_state_dict_file(tmp_path: Path) -> None:
    torch.manual_seed(1)
    source = resnet18(weights=None, num_classes=3)
    path = tmp_path / "weights.pt"
    torch.save(source.state_dict(), path)
    model = build_classifier(BackboneConfig(num_classes=3))
    load_weights(model, path)
    torch.testing.assert_close(model.fc.weight, source.fc.weight)
    torch.testing.assert_close(model.layer3[1].bn2.running_var, source.layer3[1].bn2.running_var)


def test_load_weights_strips_a_data_parallel_prefix(
    tmp_path: Path, small_model: Classifier
) -> None:
    path = tmp_path / "dp.pt"
    torch.save({f"module.{k}": v for k, v in small_model.state_dict().items()}, path)
    model = build_classifier(SMALL)
    load_weights(model, path)
    torch.testing.assert_close(model.conv1.weight, small_model.conv1.weight)


def test_load_weights_reads_a_checkpoint(tmp_path: Path, small_model: Classifier) -> None:
    path = tmp_path / "model.safetensors"
    save_checkpoint(
        path, model_state=small_model.state_dict(), config=SMALL, class_names=["a", "b", "c"],
        preprocessing={}, method="baseline", hyperparameters={}, metrics={},
    )  # fmt: skip
    model = build_classifier(SMALL)
    load_weights(model, path)
    torch.testing.assert_close(model.layer1[0].conv1.weight, small_model.layer1[0].conv1.weight)


def test_load_weights_names_the_mismatched_shapes(tmp_path: Path, small_model: Classifier) -> None:
    path = tmp_path / "three.pt"
    torch.save(small_model.state_dict(), path)
    model = build_classifier(BackboneConfig(num_classes=2, small_input=True))
    with pytest.raises(CheckpointError, match=r"fc\.weight: file \(3, 512\) vs model \(2, 512\)"):
        load_weights(model, path)


def test_load_weights_reports_missing_keys(tmp_path: Path, small_model: Classifier) -> None:
    path = tmp_path / "partial.pt"
    state = small_model.state_dict()
    del state["fc.bias"]
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="missing"):
        load_weights(build_classifier(SMALL), path)
