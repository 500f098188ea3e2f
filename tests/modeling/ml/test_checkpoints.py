"""Checkpoints: safetensors with JSON metadata; pickles are never executed."""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from modeling.ml.backbones import BackboneConfig, build_classifier
from modeling.ml.checkpoints import (
    FORMAT_VERSION,
    CheckpointError,
    load_checkpoint,
    read_checkpoint_metadata,
    read_state_dict,
    save_checkpoint,
)

CONFIG = BackboneConfig(num_classes=2, in_channels=1, small_input=True)
META = {
    "config": CONFIG,
    "class_names": ["normal", "nodule"],
    "preprocessing": {"size": 32, "window": {"center": -600, "width": 1500}},
    "method": "gradia",
    "hyperparameters": {"lr": 1e-3, "lambda": 10.0, "layers": ("layer4",)},
    "metrics": {"accuracy": torch.tensor(0.75), "auc": None},
}


class Payload:
    """Unpickling this would create ``marker``: the code a malicious checkpoint smuggles in."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


@pytest.fixture
def state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return build_classifier(CONFIG).state_dict()


def test_a_checkpoint_round_trips_tensors_and_metadata(tmp_path: Path, state: dict) -> None:
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, model_state=state, **META)
    checkpoint = load_checkpoint(path)
    assert checkpoint.config == CONFIG
    assert checkpoint.class_names == ["normal", "nodule"]
    assert checkpoint.preprocessing["window"] == {"center": -600, "width": 1500}
    assert checkpoint.method == "gradia"
    assert checkpoint.hyperparameters == {"lr": 1e-3, "lambda": 10.0, "layers": ["layer4"]}
    assert checkpoint.metrics == {"accuracy": 0.75, "auc": None}
    assert checkpoint.format_version == FORMAT_VERSION
    assert set(checkpoint.model_state) == set(state)
    for key, value in state.items():
        assert torch.equal(checkpoint.model_state[key], value)


def test_several_state_dicts_share_one_file(tmp_path: Path, state: dict) -> None:
    path = tmp_path / "vapl.safetensors"
    g = {"raw_slope": torch.tensor([0.5, 1.5])}
    save_checkpoint(path, model_state={"f_o": state, "f_m": state, "g": g, "empty": {}}, **META)
    checkpoint = load_checkpoint(path)
    assert set(checkpoint.states) == {"f_o", "f_m", "g", "empty"}
    assert torch.equal(checkpoint.state("g")["raw_slope"], g["raw_slope"])
    assert torch.equal(checkpoint.state("f_m")["fc.weight"], state["fc.weight"])
    assert checkpoint.state("empty") == {}
    with pytest.raises(CheckpointError, match="name the one to load"):
        _ = checkpoint.model_state
    assert torch.equal(read_state_dict(path, state="f_o")["conv1.weight"], state["conv1.weight"])


def test_tensors_sharing_storage_are_saved(tmp_path: Path) -> None:
    weight = torch.randn(4, 4)
    save_checkpoint(
        tmp_path / "tied.safetensors",
        model_state={"a": weight, "b": weight, "c": weight[:2]},
        **META,
    )
    loaded = load_checkpoint(tmp_path / "tied.safetensors").model_state
    assert torch.equal(loaded["b"], weight) and torch.equal(loaded["c"], weight[:2])


def test_metadata_is_readable_without_the_tensors(tmp_path: Path, state: dict) -> None:
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, model_state=state, **META)
    header = read_checkpoint_metadata(path)
    assert header["method"] == "gradia"
    assert header["config"]["in_channels"] == 1
    assert header["states"] == ["model"]


def test_it_refuses_class_names_that_do_not_match_the_head(tmp_path: Path, state: dict) -> None:
    with pytest.raises(ValueError, match="class names"):
        save_checkpoint(
            tmp_path / "x.safetensors", model_state=state, **{**META, "class_names": ["a"]}
        )


def test_saving_leaves_no_temporary_file(tmp_path: Path, state: dict) -> None:
    folder = tmp_path / "models"
    save_checkpoint(folder / "model.safetensors", model_state=state, **META)
    assert [p.name for p in folder.iterdir()] == ["model.safetensors"]


@pytest.mark.parametrize("writer", ["torch_save", "raw_pickle"])
def test_a_malicious_pickle_is_refused_without_running_its_code(
    tmp_path: Path, writer: str
) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"fc.weight": torch.zeros(1), "evil": Payload(marker)}
    if writer == "torch_save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(CheckpointError, match="not a safetensors checkpoint"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="weights_only"):
        read_state_dict(path)
    from modeling.ml.backbones import load_weights

    with pytest.raises(CheckpointError):
        load_weights(build_classifier(CONFIG), path)
    assert not marker.exists()


def test_a_plain_pt_state_dict_loads_only_through_weights_only(tmp_path: Path, state: dict) -> None:
    path = tmp_path / "plain.pt"
    torch.save({"state_dict": state}, path)
    loaded = read_state_dict(path)
    assert torch.equal(loaded["fc.weight"], state["fc.weight"])
    with pytest.raises(CheckpointError, match="not a safetensors checkpoint"):
        load_checkpoint(path)


def test_a_pt_file_that_is_not_a_state_dict_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.pt"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(CheckpointError, match="not a plain state dict"):
        read_state_dict(path)


def test_a_foreign_safetensors_file_is_a_state_dict_but_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "foreign.safetensors"
    save_file({"fc.weight": torch.ones(2, 3)}, str(path))
    assert torch.equal(read_state_dict(path)["fc.weight"], torch.ones(2, 3))
    with pytest.raises(CheckpointError, match="without Sightline metadata"):
        load_checkpoint(path)


def test_a_newer_format_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.safetensors"
    header = {"format_version": FORMAT_VERSION + 1, "states": ["model"]}
    save_file({"model/w": torch.ones(1)}, str(path), metadata={"sightline": json.dumps(header)})
    with pytest.raises(CheckpointError, match="not supported"):
        load_checkpoint(path)


def test_a_truncated_file_is_refused(tmp_path: Path, state: dict) -> None:
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, model_state=state, **META)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    path.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
