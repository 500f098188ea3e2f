"""Map sources, the guided step, model selection, the loop and the evaluation helpers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from modeling.ml.backbones import BackboneConfig, build_classifier
from modeling.ml.data import ArrayDataset
from modeling.ml.explain import grad_cam
from modeling.ml.losses import build_loss
from modeling.ml.training import (
    Cancelled,
    MapSource,
    ModelSelector,
    TrainConfig,
    evaluate,
    fit,
    guided_step,
    make_loader,
    map_grid,
    reasonability_weights,
    recalibrate_batchnorm,
    reference_masks,
    seed_everything,
)


class Linear(nn.Module):
    """logits = W x.flatten(): input gradients are rows of W, worked out by hand."""

    def __init__(self, weight: Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(1) @ self.weight.T


def _tiny_model(seed: int = 0) -> nn.Module:
    seed_everything(seed)
    return build_classifier(BackboneConfig(num_classes=2, in_channels=1, small_input=True))


def _tiny_data(n: int = 8, seed: int = 0) -> ArrayDataset:
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, 8, 8, generator=g)
    labels = torch.arange(n) % 2
    images[labels == 1, :, :4] += 0.5  # a learnable cue
    prompts = -torch.ones(n, 1, 8, 8)
    prompts[::2, :, :4] = 1
    prompts[::2, :, 4:] = 0
    return ArrayDataset(images.clamp(0, 1), labels, prompts=prompts)


def test_gradcam_source_matches_the_explain_package() -> None:
    model = _tiny_model().eval()
    x, labels = torch.rand(3, 1, 16, 16), torch.tensor([0, 1, 1])
    _, maps = MapSource("gradcam", layer="layer3")(model, x, labels, create_graph=False)
    expected, _ = grad_cam(model, x, labels, layer="layer3")
    assert torch.allclose(maps, expected, atol=1e-6)


def test_training_maps_are_differentiable_in_the_model_parameters() -> None:
    model = _tiny_model()
    for source in (MapSource(), MapSource(detach_weights=False), MapSource("log_prob_gradient")):
        _, maps = source(model, torch.rand(4, 1, 8, 8), torch.tensor([0, 1, 0, 1]))
        (grad,) = torch.autograd.grad(maps.sum(), model.layer4[0].conv1.weight)
        assert grad.abs().sum() > 0


def test_input_x_gradient_of_a_linear_model_is_worked_out_by_hand() -> None:
    weight = torch.tensor([[1.0, -2.0, 0.5, 0.0], [0.0, 1.0, 1.0, -1.0]])
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    _, maps = MapSource("input_x_gradient")(Linear(weight), x, torch.tensor([0]))
    assert maps.flatten().tolist() == pytest.approx([1.0, 4.0, 1.5, 0.0])


def test_training_input_x_gradient_is_the_evaluation_map() -> None:
    from modeling.ml.explain import input_x_gradient

    model = build_classifier(BackboneConfig(num_classes=2, in_channels=3, small_input=True))
    x, labels = torch.rand(2, 3, 8, 8), torch.tensor([0, 1])
    _, maps = MapSource("input_x_gradient")(model.eval(), x, labels, create_graph=False)
    # Channels are summed after the absolute value, as in the evaluation map.
    torch.testing.assert_close(maps, input_x_gradient(model, x, labels))


def test_log_prob_gradient_of_a_linear_model_is_worked_out_by_hand() -> None:
    weight = torch.tensor([[1.0, -2.0, 0.5, 0.0], [0.0, 1.0, 1.0, -1.0], [2.0, 0.0, 0.0, 1.0]])
    x = torch.tensor([[[[0.1, 0.2], [0.3, 0.4]]]])
    _, maps = MapSource("log_prob_gradient")(Linear(weight), x, torch.tensor([2]))
    p = F.softmax(x.flatten(1) @ weight.T, dim=1)[0]
    # d/dx sum_k log p_k = sum_k W_k - K sum_j p_j W_j
    grad = weight.sum(0) - 3 * (p[:, None] * weight).sum(0)
    assert torch.allclose(maps.flatten(), grad**2, atol=1e-6)


def test_map_sources_leave_the_input_untouched() -> None:
    x = torch.rand(2, 1, 8, 8)
    before = x.clone()
    MapSource("input_x_gradient")(_tiny_model(), x, torch.tensor([0, 1]))
    assert torch.equal(x, before) and x.grad is None


def test_map_grid_is_the_layer_resolution() -> None:
    model = _tiny_model()
    assert map_grid(model, MapSource(layer="layer3"), torch.rand(1, 1, 32, 32)) == (8, 8)
    source = MapSource("log_prob_gradient")
    assert map_grid(model, source, torch.rand(1, 1, 9, 7)) == (9, 7)


def _batch(dataset: ArrayDataset) -> dict:
    return next(iter(make_loader(dataset, batch_size=len(dataset))))


def test_guided_step_skips_maps_when_the_explanation_weight_is_zero() -> None:
    model = _tiny_model()

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("maps computed")

    out = guided_step(
        model,
        _batch(_tiny_data()),
        loss_fn=build_loss("gradia"),
        map_source=forbidden,  # type: ignore[arg-type]
        lam=0.0,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
    )
    assert out["loss_expl"] == 0.0 and out["loss"] == out["loss_ce"]


def test_guided_step_adds_the_weighted_explanation_loss() -> None:
    model = _tiny_model()
    out = guided_step(
        model,
        _batch(_tiny_data()),
        loss_fn=build_loss("gradia"),
        map_source=MapSource(),
        lam=2.0,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
    )
    assert out["loss_expl"] > 0
    assert out["loss"] == pytest.approx(out["loss_ce"] + 2.0 * out["loss_expl"], rel=1e-5)


def test_prediction_weights_scale_the_cross_entropy() -> None:
    model = _tiny_model()
    batch = _batch(_tiny_data())
    batch["pred_weight"] = torch.zeros(8)
    out = guided_step(
        model,
        batch,
        loss_fn=build_loss("baseline"),
        map_source=MapSource(),
        lam=1.0,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
    )
    assert out["loss_ce"] == 0.0


def test_reasonability_weights_follow_the_gradia_table() -> None:
    reasonable = torch.tensor([0, 0, 1, 1, -1])
    accurate = torch.tensor([False, True, False, True, True])
    pred, attn = reasonability_weights(reasonable, accurate)
    assert pred.tolist() == pytest.approx([1.0, 0.4, 0.8, 1.0, 1.0])
    assert attn.tolist() == pytest.approx([1.0, 1.6, 0.2, 0.0, 1.0])


def test_model_selector_prefers_accuracy_then_lower_loss_and_copies_the_state() -> None:
    selector = ModelSelector(patience=2)
    state = {"w": torch.zeros(1)}
    assert selector.update(0, {"accuracy": 0.5, "loss": 1.0}, state)
    assert selector.update(1, {"accuracy": 0.5, "loss": 0.9}, state)
    assert not selector.update(2, {"accuracy": 0.5, "loss": 0.95}, state)
    state["w"] += 1
    assert not selector.update(3, {"accuracy": 0.4, "loss": 0.1}, state)
    assert selector.best_epoch == 1 and selector.best_state["w"].item() == 0
    assert selector.should_stop


def test_fit_reports_every_epoch_and_returns_the_selected_state() -> None:
    model = _tiny_model()
    seen: list[tuple[float, dict]] = []
    result = fit(
        model,
        _tiny_data(),
        _tiny_data(seed=1),
        loss_fn=build_loss("res-l", input_size=8, grid_size=1),
        map_source=MapSource(),
        config=TrainConfig(epochs=2, batch_size=4, lr=1e-3),
        on_epoch=lambda progress, metrics: seen.append((progress, metrics)),
    )
    assert [p for p, _ in seen] == pytest.approx([0.5, 1.0])
    assert {"train_loss", "train_loss_expl", "val_accuracy", "val_loss"} <= set(seen[0][1])
    assert len(result.history) == 2 and 1 <= result.best_epoch <= 2
    assert result.best_score == {
        "accuracy": seen[result.best_epoch - 1][1]["val_accuracy"],
        "loss": seen[result.best_epoch - 1][1]["val_loss"],
    }
    model.load_state_dict(result.best_state)


def test_fit_stops_early_after_patience_epochs_without_improvement() -> None:
    model = _tiny_model()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.0  # with lr 0 too, validation scores never change
    result = fit(
        model,
        _tiny_data(),
        _tiny_data(seed=1),
        loss_fn=build_loss("baseline"),
        map_source=MapSource(),
        config=TrainConfig(epochs=50, batch_size=4, lr=0.0, patience=1),
    )
    assert len(result.history) == 2


def test_fit_raises_cancelled_when_the_check_says_so() -> None:
    with pytest.raises(Cancelled):
        fit(
            _tiny_model(),
            _tiny_data(),
            _tiny_data(),
            loss_fn=build_loss("baseline"),
            map_source=MapSource(),
            config=TrainConfig(epochs=2),
            should_cancel=lambda: True,
        )


def test_batchnorm_statistics_are_re_estimated_over_every_batch() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bn = nn.BatchNorm2d(1)

        def forward(self, x: Tensor) -> Tensor:
            return self.bn(x)

    model = Net().eval()
    model.bn.running_mean.fill_(5.0)
    images = torch.arange(16.0).view(4, 1, 2, 2)
    batches = [{"image": images[:2]}, {"image": images[2:]}]
    recalibrate_batchnorm(model, batches, "cpu")
    # Cumulative average of the two batch means (3.5 and 11.5) and unbiased variances.
    assert model.bn.running_mean.item() == pytest.approx(7.5)
    assert model.bn.running_var.item() == pytest.approx(images[:2].var().item())
    assert not model.training and model.bn.momentum == 0.1


def test_the_same_seed_gives_the_same_initialisation() -> None:
    first, second = _tiny_model(seed=4), _tiny_model(seed=4)
    assert torch.equal(first.fc.weight, second.fc.weight)


def test_reference_masks_use_ground_truth_then_the_prompt() -> None:
    prompt = torch.tensor([[1.0, 0.0], [-1.0, -1.0]]).expand(3, 1, 2, 2)
    gt = torch.tensor([[0.0, 0.0], [1.0, 1.0]]).expand(3, 1, 2, 2)
    batch = {
        "prompt": prompt,
        "gt": gt,
        "has_gt": torch.tensor([True, False, False]),
        "has_prompt": torch.tensor([True, True, False]),
    }
    masks, negatives, usable = reference_masks(batch)
    assert usable.tolist() == [True, True, False]
    assert masks[0].flatten().tolist() == [False, False, True, True]
    assert masks[1].flatten().tolist() == [True, False, False, False]
    assert negatives[1].flatten().tolist() == [False, True, False, False]


def test_evaluate_scores_a_fixed_predictor() -> None:
    data = _tiny_data(4)
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])  # labels 0 1 0 1
    rows = iter([probs])
    result = evaluate(lambda batch: next(rows), None, make_loader(data, batch_size=4), device="cpu")
    assert result["accuracy"] == 0.5
