"""VAPL training: a smoke run, the phases' division of labour, cancellation, ablations."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from modeling.ml.training import Cancelled
from modeling.ml.vapl import IdentityG, MonotoneG, VaplConfig, VaplModel
from modeling.ml.vapl.masks import MaskSet
from modeling.ml.vapl.phases import (
    IndexedDataset,
    cache_round,
    feature_distance,
    param_distance,
    phase_f_step,
    phase_g_step,
    recalibrate_streams,
)

from .vapl_helpers import BACKBONE, single_thread, square_dataset, train_on  # noqa: F401

pytestmark = pytest.mark.usefixtures("single_thread")

CONFIG = VaplConfig.quick(epochs=2, n_masks=16, batch_size=8, chunk=64)


def _train(config: VaplConfig = CONFIG, **kwargs: Any) -> VaplModel:
    return train_on(square_dataset(), config, seed=0, **kwargs)


def test_two_epochs_decrease_the_prediction_loss_and_report_every_epoch() -> None:
    seen: list[tuple[int, dict[str, Any]]] = []
    model = _train(on_epoch=lambda epoch, metrics: seen.append((epoch, metrics)))
    assert [epoch for epoch, _ in seen] == [1, 2]
    first, second = seen[0][1], seen[1][1]
    assert second["train_loss_pred"] < first["train_loss_pred"]
    for key in ("train_loss", "train_loss_param", "train_loss_feature", "val_accuracy"):
        assert key in first
    assert first["train_loss_g"] is not None
    assert model.history == [metrics for _, metrics in seen]
    assert model.run["k_f"] == 2  # 16 images, batch 8, one round per epoch
    assert model.run["prompted_train_images"] == 8
    assert not model.training


@pytest.mark.slow
def test_the_same_seed_trains_the_same_model() -> None:
    config = CONFIG.with_changes(epochs=1)
    first, second = _train(config), _train(config)
    x = square_dataset().images[:4]
    assert torch.equal(first.predict_proba(x), second.predict_proba(x))
    assert torch.equal(first.g.raw_out, second.g.raw_out)


def test_an_exception_in_on_epoch_cancels_training() -> None:
    def stop(epoch: int, metrics: dict[str, Any]) -> None:
        raise RuntimeError(f"stopped after epoch {epoch}")

    with pytest.raises(RuntimeError, match="stopped after epoch 1"):
        _train(on_epoch=stop)


def test_should_cancel_stops_between_steps() -> None:
    with pytest.raises(Cancelled):
        _train(should_cancel=lambda: True)


def _round(config: VaplConfig = CONFIG) -> tuple[VaplModel, Any, Any]:
    torch.manual_seed(0)
    model = VaplModel.build(BACKBONE, config)
    data = square_dataset()
    prompted = [i for i in range(len(data)) if bool(data[i]["has_prompt"])]
    cache = cache_round(model, data, prompted, MaskSet(16, (8, 8)), config, torch.device("cpu"))
    return model, data, cache


def _states(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_phase_g_changes_g_and_leaves_both_cnns_untouched() -> None:
    model, _, cache = _round()
    f_o, f_m, g = _states(model.f_o), _states(model.f_m), _states(model.g)
    optimizer = torch.optim.Adam(model.g.parameters(), lr=0.1)
    loss = phase_g_step(model, cache, torch.arange(4), optimizer, CONFIG, torch.device("cpu"))
    assert loss > 0
    assert all(torch.equal(v, _states(model.f_o)[k]) for k, v in f_o.items())
    assert all(torch.equal(v, _states(model.f_m)[k]) for k, v in f_m.items())
    assert not torch.equal(g["raw_out"], model.g.raw_out)


def test_phase_f_changes_both_cnns_and_leaves_g_untouched() -> None:
    model, data, cache = _round()
    g = _states(model.g)
    f_o, f_m = _states(model.f_o)["conv1.weight"], _states(model.f_m)["conv1.weight"]
    optimizer = torch.optim.Adam([*model.f_o.parameters(), *model.f_m.parameters()], lr=1e-3)
    batch = torch.utils.data.default_collate([IndexedDataset(data)[i] for i in range(8)])
    stats = phase_f_step(model, batch, cache, optimizer, CONFIG, torch.device("cpu"))
    assert stats["loss_ce_m"] > 0
    assert not torch.equal(f_o, model.f_o.conv1.weight)
    assert not torch.equal(f_m, model.f_m.conv1.weight)
    assert all(torch.equal(v, _states(model.g)[k]) for k, v in g.items())


def test_images_without_a_prompt_do_not_train_f_m_on_cross_entropy() -> None:
    model, data, cache = _round()
    unprompted = [i for i in range(len(data)) if not bool(data[i]["has_prompt"])][:4]
    batch = torch.utils.data.default_collate([IndexedDataset(data)[i] for i in unprompted])
    optimizer = torch.optim.Adam([*model.f_o.parameters(), *model.f_m.parameters()], lr=1e-3)
    stats = phase_f_step(model, batch, cache, optimizer, CONFIG, torch.device("cpu"))
    assert stats["loss_ce_m"] == 0.0
    assert stats["loss_ce_o"] > 0.0


def test_the_no_g_ablation_trains_with_the_identity_weight_function() -> None:
    model = _train(CONFIG.with_changes(epochs=1, ablation="no-g"))
    assert isinstance(model.g, IdentityG)
    assert model.history[0]["train_loss_g"] is None


def test_the_full_method_learns_a_monotone_g() -> None:
    model = _train(CONFIG.with_changes(epochs=1))
    assert isinstance(model.g, MonotoneG)
    assert model.history[0]["g_at_half"] != pytest.approx(0.5, abs=1e-6)


def test_precise_bn_gives_f_o_image_statistics_and_f_m_masked_image_statistics() -> None:
    model, data, cache = _round()
    recalibrate_streams(model, data, cache, CONFIG)
    images = torch.stack([data[i]["image"] for i in range(len(data))])
    # bn1's running mean must be the mean of conv1's output over the images f_o is fed, and
    # differ for f_m, which sees the prompted images masked.
    outputs: list[torch.Tensor] = []
    hook = model.f_o.conv1.register_forward_hook(lambda m, i, out: outputs.append(out))
    with torch.no_grad():
        model.f_o.eval()(images)
    hook.remove()
    expected_o = outputs[0].mean(dim=(0, 2, 3))
    assert torch.allclose(model.f_o.bn1.running_mean, expected_o, atol=1e-5)
    assert not torch.allclose(model.f_m.bn1.running_mean, expected_o, atol=1e-3)
    assert model.f_o.bn1.momentum == 0.1 and not model.f_o.training


def test_l_param_sums_or_averages_weights_and_l_feature_averages_features() -> None:
    from modeling.ml.backbones import build_classifier

    f_o, f_m = build_classifier(BACKBONE), build_classifier(BACKBONE)
    f_m.load_state_dict(f_o.state_dict())
    assert param_distance(f_o, f_m).item() == 0.0
    with torch.no_grad():
        f_m.conv1.weight.add_(0.5)  # every stem weight differs by 0.5, nothing else does
    count = sum(w.numel() for _, w in f_o.conv_parameters())
    summed = 0.25 * f_o.conv1.weight.numel()
    assert param_distance(f_o, f_m).item() == pytest.approx(summed, rel=1e-5)
    assert param_distance(f_o, f_m, "mean").item() == pytest.approx(summed / count, rel=1e-5)
    feat_o = torch.zeros(2, 4, 3, 3)
    feat_m = torch.zeros(2, 4, 3, 3)
    feat_m[0, 1] = 2.0  # pooled difference 2 on one feature of one image: 4 / (2 * 4)
    assert feature_distance(feat_o, feat_m).item() == pytest.approx(0.5)
