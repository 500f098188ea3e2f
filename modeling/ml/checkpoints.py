"""Model checkpoints: one safetensors file with a JSON metadata header.

Layout of a checkpoint file:
    tensors: every state dict flattened as ``"<state>/<parameter name>"`` (``"model/fc.weight"``
        or, for two-stream methods, ``"f_o/..."``, ``"f_m/..."``, ``"g/..."``);
    metadata: the safetensors header's ``{"sightline": "<json>"}`` entry holding
        ``format_version``, ``states`` (names, so an empty state dict survives), ``config``
        (:class:`~modeling.ml.backbones.BackboneConfig`), ``class_names``, ``preprocessing``,
        ``method``, ``hyperparameters``, ``metrics`` and ``extra``.

Loading never unpickles: safetensors files are parsed by safetensors; :func:`load_checkpoint`
refuses anything else, and :func:`read_state_dict` reads a legacy ``.pt``/``.pth`` plain state
dict only through ``torch.load(weights_only=True)``, which rejects arbitrary objects.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor

from modeling.ml.backbones import BackboneConfig

FORMAT_VERSION = 1
METADATA_KEY = "sightline"
DEFAULT_STATE = "model"
SEPARATOR = "/"
# A safetensors header is JSON; anything larger than this is not a file we wrote.
_MAX_HEADER_BYTES = 100 * 1024 * 1024


class CheckpointError(Exception):
    """A checkpoint or weights file that cannot be read safely or does not fit."""


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint.

    Attributes:
        states: named state dicts (``{"model": {...}}`` or ``{"f_o": ..., "f_m": ..., "g": ...}``).
        config: the backbone architecture.
        class_names: label of each output index.
        preprocessing: how images become model input (size, channels, window, ...).
        method: training method (``"baseline"``, ``"gradia"``, ``"vapl"``, ...).
        hyperparameters: the run's settings.
        metrics: evaluation results.
        format_version: the file format version.
        extra: anything else saved with it.
    """

    states: dict[str, dict[str, Tensor]]
    config: BackboneConfig
    class_names: list[str]
    preprocessing: dict[str, Any]
    method: str
    hyperparameters: dict[str, Any]
    metrics: dict[str, Any]
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model_state(self) -> dict[str, Tensor]:
        """The ``"model"`` state dict, or the only one when there is a single state."""
        return self.state(None)

    def state(self, name: str | None) -> dict[str, Tensor]:
        """The state dict ``name``; ``None`` means ``"model"`` or the only one."""
        return _select_state(self.states, name, where="checkpoint")


def _json_default(value: object) -> object:
    # numpy scalars/arrays and 0-d tensors come out of metric code; store them as plain numbers.
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot store {type(value).__name__} in checkpoint metadata")


def _as_states(model_state: Mapping[str, Any]) -> dict[str, dict[str, Tensor]]:
    if all(isinstance(v, Tensor) for v in model_state.values()):
        return {DEFAULT_STATE: dict(model_state)}
    if all(isinstance(v, Mapping) for v in model_state.values()):
        states: dict[str, dict[str, Tensor]] = {}
        for name, state in model_state.items():
            if not name or SEPARATOR in name:
                raise ValueError(f"state name {name!r} must be non-empty without {SEPARATOR!r}")
            bad = [k for k, v in state.items() if not isinstance(v, Tensor)]
            if bad:
                raise ValueError(f"state {name!r} has non-tensor entries: {bad[:5]}")
            states[name] = dict(state)
        return states
    raise ValueError("model_state must map names to tensors, or state names to state dicts")


def save_checkpoint(
    path: str | PathLike[str],
    *,
    model_state: Mapping[str, Any],
    config: BackboneConfig,
    class_names: list[str] | tuple[str, ...],
    preprocessing: Mapping[str, Any],
    method: str,
    hyperparameters: Mapping[str, Any],
    metrics: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write a checkpoint atomically (temporary file, then rename).

    Args:
        path: destination (``.safetensors`` recommended).
        model_state: one state dict, or several named ones (``{"f_o": ..., "f_m": ..., "g": ...}``).
        config: the backbone architecture.
        class_names: label of each output index (``len == config.num_classes``).
        preprocessing: JSON-serialisable preprocessing description.
        method: training method name.
        hyperparameters: JSON-serialisable settings.
        metrics: JSON-serialisable results (numpy / 0-d tensor numbers are converted).
        extra: anything else JSON-serialisable.

    Raises:
        ValueError: inconsistent class names, bad state names or unserialisable metadata.
    """
    if len(class_names) != config.num_classes:
        raise ValueError(f"{len(class_names)} class names for {config.num_classes} classes")
    states = _as_states(model_state)
    tensors = {
        # clone: safetensors refuses tensors that share storage (tied or viewed weights).
        f"{name}{SEPARATOR}{key}": value.detach().to("cpu").contiguous().clone()
        for name, state in states.items()
        for key, value in state.items()
    }
    header = {
        "format_version": FORMAT_VERSION,
        "states": list(states),
        "config": config.to_dict(),
        "class_names": [str(c) for c in class_names],
        "preprocessing": dict(preprocessing),
        "method": method,
        "hyperparameters": dict(hyperparameters),
        "metrics": dict(metrics),
        "extra": dict(extra or {}),
    }
    try:
        metadata = {METADATA_KEY: json.dumps(header, default=_json_default)}
    except TypeError as error:
        raise ValueError(str(error)) from error
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _is_safetensors(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            prefix = handle.read(9)
            size = path.stat().st_size
    except OSError as error:
        raise CheckpointError(f"{path}: cannot read ({error})") from error
    if len(prefix) < 9:
        return False
    (header_len,) = struct.unpack("<Q", prefix[:8])
    return 0 < header_len <= min(size - 8, _MAX_HEADER_BYTES) and prefix[8:9] == b"{"


def _device_name(map_location: str | torch.device) -> str:
    return str(torch.device(map_location))


def _read_safetensors(
    path: Path, map_location: str | torch.device
) -> tuple[dict[str, Tensor], dict[str, str]]:
    try:
        with safe_open(os.fspath(path), framework="pt", device=_device_name(map_location)) as f:
            metadata = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118
    except Exception as error:  # safetensors raises its own error types
        raise CheckpointError(f"{path}: not a readable safetensors file ({error})") from error
    return tensors, metadata


def _parse_header(path: Path, metadata: Mapping[str, str]) -> dict[str, Any]:
    if METADATA_KEY not in metadata:
        raise CheckpointError(f"{path}: a safetensors file without Sightline metadata")
    try:
        header = json.loads(metadata[METADATA_KEY])
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: corrupt checkpoint metadata ({error})") from error
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {version!r} is not supported "
            f"(this code reads up to {FORMAT_VERSION})"
        )
    return header


def _split_states(tensors: Mapping[str, Tensor], names: list[str]) -> dict[str, dict[str, Tensor]]:
    states: dict[str, dict[str, Tensor]] = {name: {} for name in names}
    for key, value in tensors.items():
        name, sep, rest = key.partition(SEPARATOR)
        if not sep or name not in states:
            raise CheckpointError(f"tensor {key!r} belongs to no declared state {names}")
        states[name][rest] = value
    return states


def _select_state(
    states: Mapping[str, dict[str, Tensor]], name: str | None, *, where: str
) -> dict[str, Tensor]:
    if name is None:
        if DEFAULT_STATE in states:
            return states[DEFAULT_STATE]
        if len(states) == 1:
            return next(iter(states.values()))
        raise CheckpointError(f"{where} holds states {sorted(states)}: name the one to load")
    if name not in states:
        raise CheckpointError(f"{where} has no state {name!r}; it holds {sorted(states)}")
    return states[name]


def read_checkpoint_metadata(path: str | PathLike[str]) -> dict[str, Any]:
    """The JSON metadata of a checkpoint, without loading its tensors.

    Raises:
        CheckpointError: not a Sightline safetensors checkpoint.
    """
    path = Path(path)
    if not _is_safetensors(path):
        raise CheckpointError(f"{path}: not a safetensors checkpoint")
    try:
        with safe_open(os.fspath(path), framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
    except Exception as error:
        raise CheckpointError(f"{path}: not a readable safetensors file ({error})") from error
    return _parse_header(path, metadata)


def load_checkpoint(
    path: str | PathLike[str], *, map_location: str | torch.device = "cpu"
) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Only safetensors files are accepted; nothing is ever unpickled, so a pickled ``.pt`` file
    (malicious or not) is refused before any of its bytes are interpreted.

    Args:
        path: the checkpoint file.
        map_location: device for the tensors.

    Raises:
        CheckpointError: not a safetensors file, missing or corrupt metadata, unsupported
            format version or inconsistent content.
    """
    path = Path(path)
    if not _is_safetensors(path):
        raise CheckpointError(
            f"{path}: not a safetensors checkpoint; pickled files are never loaded here "
            "(a plain .pt state dict can be read with load_weights / read_state_dict)"
        )
    tensors, metadata = _read_safetensors(path, map_location)
    header = _parse_header(path, metadata)
    try:
        config = BackboneConfig.from_dict(header["config"])
        return Checkpoint(
            states=_split_states(tensors, list(header["states"])),
            config=config,
            class_names=list(header["class_names"]),
            preprocessing=dict(header.get("preprocessing") or {}),
            method=str(header["method"]),
            hyperparameters=dict(header.get("hyperparameters") or {}),
            metrics=dict(header.get("metrics") or {}),
            format_version=int(header["format_version"]),
            extra=dict(header.get("extra") or {}),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: inconsistent checkpoint metadata ({error})") from error


def _unwrap_state_dict(obj: object, path: Path) -> dict[str, Tensor]:
    # Training scripts often save {"state_dict": ...} or {"model": ...}; accept one such level.
    if isinstance(obj, Mapping) and not all(isinstance(v, Tensor) for v in obj.values()):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not all(
        isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items()
    ):
        raise CheckpointError(f"{path}: not a plain state dict (names -> tensors)")
    return dict(obj)


def read_state_dict(
    path: str | PathLike[str],
    *,
    state: str | None = None,
    map_location: str | torch.device = "cpu",
) -> dict[str, Tensor]:
    """One state dict from a checkpoint, a safetensors file or a plain ``.pt`` state dict.

    Args:
        path: the file.
        state: for a checkpoint holding several states, which one (``None``: ``"model"`` or
            the only one). Must be ``None`` for files without Sightline metadata.
        map_location: device for the tensors.

    Raises:
        CheckpointError: unreadable, unsafe (anything ``torch.load(weights_only=True)``
            refuses) or not a state dict.
    """
    path = Path(path)
    if _is_safetensors(path):
        tensors, metadata = _read_safetensors(path, map_location)
        if METADATA_KEY in metadata:
            header = _parse_header(path, metadata)
            states = _split_states(tensors, list(header["states"]))
            return _select_state(states, state, where=str(path))
        if state is not None:
            raise CheckpointError(f"{path}: a plain safetensors file has no state {state!r}")
        return tensors
    if state is not None:
        raise CheckpointError(f"{path}: a plain state-dict file has no state {state!r}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # UnpicklingError, RuntimeError, EOFError, ...
        raise CheckpointError(
            f"{path}: refused: not a safetensors file and not a plain state dict loadable "
            f"with weights_only=True ({type(error).__name__})"
        ) from error
    return _unwrap_state_dict(obj, path)
