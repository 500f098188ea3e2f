"""Resumable VAPL training: the phase-F data order and the state file of a finished epoch.

:func:`~modeling.ml.vapl.trainer.train_vapl` hands its state to ``on_state`` after every epoch
and continues from one with ``resume_from``; this module holds what that needs besides the
trainer's own objects. A state holds tensors and plain values only (dicts, lists, numbers,
strings, None), so it loads with ``torch.load(weights_only=True)``: never an arbitrary unpickle.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from modeling.ml.training import make_loader
from modeling.ml.vapl.phases import IndexedDataset

STATE_VERSION = 1


class _SkippableIndexed(IndexedDataset):
    """:class:`IndexedDataset` that, while :meth:`skipping`, returns ``{"index": i}`` only.

    Fast-forwarding a resumed data order then neither decodes images nor runs the random
    augmentation (which would advance the global RNG).
    """

    def __init__(self, dataset: Dataset) -> None:
        super().__init__(dataset)
        self.skip = False

    @contextmanager
    def skipping(self) -> Iterator[None]:
        self.skip = True
        try:
            yield
        finally:
            self.skip = False

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"index": index} if self.skip else super().__getitem__(index)


class DataOrder:
    """Shuffled phase-F batches without end, resumable at any batch.

    The same batches as cycling over one shuffled loader (each pass reshuffles with
    ``generator``). Its :meth:`state` is the generator state at the start of the current pass
    and the number of batches taken from it; :meth:`restore` replays the pass's shuffle from
    that state and skips those batches without loading them.
    """

    def __init__(self, dataset: Dataset, batch_size: int, generator: torch.Generator) -> None:
        self.dataset = _SkippableIndexed(dataset)
        self.loader = make_loader(
            self.dataset, batch_size=batch_size, shuffle=True, generator=generator
        )
        self.generator = generator
        self.pass_state = generator.get_state()
        self.taken = 0
        self._batches: Iterator[dict[str, Any]] | None = None

    def __len__(self) -> int:
        """Batches per pass."""
        return len(self.loader)

    def __iter__(self) -> DataOrder:
        return self

    def __next__(self) -> dict[str, Any]:
        for _ in range(2):  # a pass that just ended, then a fresh one
            if self._batches is None:
                self.pass_state = self.generator.get_state()
                self._batches, self.taken = iter(self.loader), 0
            try:
                batch = next(self._batches)
            except StopIteration:
                self._batches = None
                continue
            self.taken += 1
            return batch
        raise RuntimeError("the training loader yields no batch")

    def state(self) -> dict[str, Any]:
        """``{"generator": uint8 state at the start of the pass, "taken": batches taken}``."""
        return {"generator": self.pass_state.clone(), "taken": self.taken}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Continues after the batches recorded in ``state`` (from :meth:`state`)."""
        self.generator.set_state(state["generator"].to("cpu", torch.uint8))
        self.pass_state = self.generator.get_state()
        self._batches, self.taken = iter(self.loader), int(state["taken"])
        with self.dataset.skipping():
            for _ in range(self.taken):
                next(self._batches)


def cpu_copy(value: Any) -> Any:
    """``value`` with every tensor detached and copied to the CPU (dicts, lists, tuples)."""
    if isinstance(value, Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, Mapping):
        return {key: cpu_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(cpu_copy(item) for item in value)
    return value


def training_state_bytes(state: Mapping[str, Any]) -> bytes:
    """The serialised state (``torch.save`` format)."""
    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    return buffer.getvalue()


def save_training_state(state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Writes ``state`` to ``path`` atomically: a reader finds the previous file or this one.

    The bytes go to a temporary file in the same directory, which is flushed to disk and then
    renamed over ``path`` (``os.replace``), so a process killed while saving leaves the previous
    state intact.
    """
    target = Path(path)
    data = training_state_bytes(state)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_training_state(
    source: str | os.PathLike[str] | bytes, map_location: torch.device | str | None = None
) -> dict[str, Any]:
    """A state written by :func:`save_training_state` or :func:`training_state_bytes`.

    Loaded with ``torch.load(weights_only=True)``: tensors and plain values only.

    Raises:
        ValueError: the data is not a VAPL training state of this version.
    """
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    state = torch.load(handle, map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise ValueError(f"not a VAPL training state of version {STATE_VERSION}")
    return state
