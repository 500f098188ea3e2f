"""Resumable VAPL training: a resumed run ends exactly as an uninterrupted one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch

from modeling.ml.data import ArrayDataset, augmentation
from modeling.ml.vapl import VaplConfig, VaplModel
from modeling.ml.vapl.resume import (
    DataOrder,
    load_training_state,
    save_training_state,
    training_state_bytes,
)

from .vapl_helpers import single_thread, square_dataset, train_on  # noqa: F401

pytestmark = pytest.mark.usefixtures("single_thread")

# 16 images in batches of 6: 3 batches a pass, 2 rounds of k_f = 2 steps an epoch, so the
# second epoch starts inside a pass; two prompted images a batch of phase G.
CONFIG = VaplConfig.quick(epochs=2, n_masks=16, batch_size=6, chunk=64, rounds=2)


def _data() -> ArrayDataset:
    """The square dataset with random flips (augmentation draws from the global RNG)."""
    data = square_dataset()
    data.transform = augmentation(8, hflip=True, vflip=True)
    return data


def _train(config: VaplConfig = CONFIG, **kwargs: Any) -> VaplModel:
    return train_on(_data(), config, seed=3, **kwargs)


def _weights(model: VaplModel) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _without_timing(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in record.items() if k != "seconds"} for record in history]


class _Arbitrary:
    """Not a tensor or a plain value: loading it would need an arbitrary unpickle."""


@pytest.mark.slow
def test_a_run_resumed_after_its_first_epoch_ends_as_an_uninterrupted_run(tmp_path: Path) -> None:
    saved: dict[int, bytes] = {}
    straight = _train(
        on_state=lambda epoch, state: saved.setdefault(epoch, training_state_bytes(state))
    )
    assert sorted(saved) == [1, 2]
    path = tmp_path / "state.pt"
    save_training_state(load_training_state(saved[1]), path)
    resumed_epochs: list[int] = []
    resumed = _train(
        resume_from=load_training_state(path),
        on_epoch=lambda epoch, metrics: resumed_epochs.append(epoch),
    )
    assert resumed_epochs == [2]
    expected, actual = _weights(straight), _weights(resumed)
    assert expected.keys() == actual.keys()
    for name, value in expected.items():
        assert torch.equal(actual[name], value), name
    x = square_dataset().images[:6]
    prompt = square_dataset().prompts[:6]
    assert torch.equal(resumed.predict_proba(x), straight.predict_proba(x))
    assert torch.equal(resumed.predict_proba(x, prompt), straight.predict_proba(x, prompt))
    assert _without_timing(resumed.history) == _without_timing(straight.history)
    assert resumed.run == straight.run


def test_a_state_is_refused_by_a_run_with_another_configuration() -> None:
    saved: list[dict[str, Any]] = []
    config = CONFIG.with_changes(epochs=1, rounds=1, batch_size=8)
    _train(config, on_state=lambda epoch, state: saved.append(state))
    state = load_training_state(training_state_bytes(saved[0]))
    assert state["epoch"] == 1 and state["next_round"] == 1
    with pytest.raises(ValueError, match="another seed or configuration"):
        _train(config.with_changes(lr=1e-4), resume_from=state)


def test_the_data_order_resumes_mid_pass_without_loading_the_skipped_items() -> None:
    reads: list[int] = []

    class Counting(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 5

        def __getitem__(self, index: int) -> dict[str, Any]:
            reads.append(index)
            return {"value": torch.tensor(index)}

    def batches(order: DataOrder, n: int) -> list[list[int]]:
        return [next(order)["index"].tolist() for _ in range(n)]

    first = DataOrder(Counting(), 2, torch.Generator().manual_seed(7))
    # A pass is 2 batches (make_loader drops a last batch of one image): the 3rd starts pass 2.
    taken = batches(first, 3)
    state = first.state()
    assert state["taken"] == 1
    expected = batches(first, 3)
    reads.clear()
    second = DataOrder(Counting(), 2, torch.Generator().manual_seed(99))
    second.restore(state)
    assert reads == []
    assert batches(second, 3) == expected
    assert len({i for batch in taken[:2] for i in batch}) == 4


def test_a_failed_save_leaves_the_previous_state_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "states"
    folder.mkdir()
    path = folder / "state.pt"
    save_training_state({"version": 1, "epoch": 1, "w": torch.ones(2)}, path)

    def crash(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        save_training_state({"version": 1, "epoch": 2, "w": torch.zeros(2)}, path)
    assert load_training_state(path)["epoch"] == 1
    assert [p.name for p in folder.iterdir()] == ["state.pt"]


def test_loading_refuses_anything_but_a_training_state(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a VAPL training state"):
        load_training_state(training_state_bytes({"epoch": 1}))

    path = tmp_path / "pickled.pt"
    torch.save({"version": 1, "object": _Arbitrary()}, path)
    with pytest.raises(Exception, match="weights_only"):
        load_training_state(path)
