"""Malicious checkpoint files are refused without running any of their code."""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path

import pytest

from modeling.ml.checkpoints import CheckpointError, load_checkpoint, read_state_dict


class _Payload:
    """Unpickling this object would create ``marker`` (``os.system`` is never reached)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def _pickled(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"weight": _Payload(marker)}))
    return path, marker


def test_a_pickled_payload_is_refused_as_a_checkpoint(tmp_path: Path) -> None:
    path, marker = _pickled(tmp_path)
    with pytest.raises(CheckpointError, match="not a safetensors checkpoint"):
        load_checkpoint(path)
    assert not marker.exists()


def test_a_pickled_payload_is_refused_as_a_state_dict(tmp_path: Path) -> None:
    path, marker = _pickled(tmp_path)
    with pytest.raises(CheckpointError):
        read_state_dict(path)
    assert not marker.exists()


def test_a_safetensors_header_claiming_terabytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", 2**40) + b"{}")
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_tensor_offsets_beyond_the_file_are_refused(tmp_path: Path) -> None:
    header = json.dumps(
        {"w": {"dtype": "F32", "shape": [1_000_000, 1_000_000], "data_offsets": [0, 2**40]}}
    ).encode()
    path = tmp_path / "lying.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\x00" * 16)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.safetensors"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
