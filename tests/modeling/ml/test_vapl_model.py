"""VaplModel: the prediction rule, explanations of the stream used, checkpoints, config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from modeling.ml.backbones import BackboneConfig
from modeling.ml.checkpoints import CheckpointError, save_checkpoint
from modeling.ml.explain import grad_cam
from modeling.ml.vapl import IdentityG, MonotoneG, VaplConfig, VaplModel, refine

from .vapl_helpers import single_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("single_thread")

BACKBONE = BackboneConfig(num_classes=2, small_input=True)
CONFIG = VaplConfig.quick(n_masks=16, chunk=64)


def _model(config: VaplConfig = CONFIG) -> VaplModel:
    torch.manual_seed(0)
    model = VaplModel.build(BACKBONE, config)
    with torch.no_grad():  # make the streams differ so the rule is observable
        for param in model.f_m.parameters():
            param.add_(0.05 * torch.randn_like(param))
    return model.eval()


@pytest.fixture(scope="module")
def model() -> VaplModel:
    """One model for the tests that only read it (building ResNets is slow on a shared CPU)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _model()
    finally:
        torch.set_num_threads(previous)


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    prompt = -torch.ones(3, 1, 8, 8)
    prompt[:, :, 2:6, 2:6] = 1
    prompt[:, :, 0, :] = 0
    return x, prompt


def test_without_a_prompt_it_predicts_with_f_o_on_the_image(model: VaplModel) -> None:
    x, _ = _batch()
    with torch.no_grad():
        expected = model.f_o(x).softmax(1)
    assert torch.allclose(model.predict_proba(x), expected, atol=1e-6)


def test_with_a_prompt_it_predicts_with_f_m_on_the_image_masked_by_the_refined_prompt(
    model: VaplModel,
) -> None:
    x, prompt = _batch()
    refined = refine(model.f_m, x, prompt, n_masks=16, g=model.g, seed=CONFIG.mask_seed)
    with torch.no_grad():
        expected = model.f_m(x * refined).softmax(1)
    assert torch.allclose(model.predict_proba(x, prompt), expected, atol=1e-5)


def test_images_flagged_without_a_prompt_fall_back_to_f_o(model: VaplModel) -> None:
    x, prompt = _batch()
    has_prompt = torch.tensor([True, False, True])
    mixed = model.predict_proba(x, prompt, has_prompt=has_prompt)
    assert torch.allclose(mixed[1], model.predict_proba(x)[1], atol=1e-6)
    assert torch.allclose(mixed[[0, 2]], model.predict_proba(x, prompt)[[0, 2]], atol=1e-5)


def test_a_precomputed_refined_prompt_gives_the_same_prediction_and_explanation(
    model: VaplModel,
) -> None:
    x, prompt = _batch()
    refined = model.refine(x, prompt)
    assert torch.allclose(
        model.predict_proba(x, prompt, refined=refined), model.predict_proba(x, prompt), atol=1e-6
    )
    target = torch.tensor([0, 1, 0])
    assert torch.allclose(
        model.explain(x, prompt, target=target, refined=refined),
        model.explain(x, prompt, target=target),
        atol=1e-6,
    )
    # Only rows that use f_m read the given map: a wrong map elsewhere changes nothing.
    has_prompt = torch.tensor([True, False, True])
    wrong = refined.clone()
    wrong[1] = 0.0
    assert torch.allclose(
        model.predict_proba(x, prompt, has_prompt=has_prompt, refined=wrong)[1],
        model.predict_proba(x)[1],
        atol=1e-6,
    )


def test_the_no_refine_ablation_masks_with_the_prompt_keeping_unclear_pixels() -> None:
    model = _model(CONFIG.with_changes(ablation="no-refine"))
    x, prompt = _batch()
    assert torch.equal(model.refine(x, prompt), (prompt != 0).float())
    assert isinstance(model.g, IdentityG)


def test_refine_keeps_the_prompt_constraints(model: VaplModel) -> None:
    x, prompt = _batch()
    refined = model.refine(x, prompt)
    assert refined.shape == (3, 1, 8, 8)
    assert torch.all(refined[prompt == 1] == 1)
    assert torch.all(refined[prompt == 0] == 0)


@pytest.mark.parametrize("rescale", ["ratio", "range"])
def test_refine_uses_the_configured_rescale(model: VaplModel, rescale: str) -> None:
    x, prompt = _batch()
    configured = VaplModel.build(BACKBONE, CONFIG.with_changes(rescale=rescale))
    configured.load_state_dict(model.state_dict())
    with torch.no_grad():  # unsaturated scores: otherwise the weights are flat and A is all 1
        configured.f_m.fc.weight.mul_(0.01)
    other = "range" if rescale == "ratio" else "ratio"
    maps = {
        name: refine(
            configured.f_m, x, prompt, n_masks=16, p=CONFIG.p, g=configured.g, chunk=64,
            rescale=name,
        )
        for name in (rescale, other)
    }  # fmt: skip
    assert not torch.allclose(maps[rescale], maps[other], atol=1e-3)  # the two can be told apart
    assert torch.allclose(configured.eval().refine(x, prompt), maps[rescale], atol=1e-6)


def test_a_config_record_without_rescale_reads_as_range() -> None:
    record = CONFIG.to_dict()
    del record["rescale"]
    assert VaplConfig.from_dict(record).rescale == "range"
    assert VaplConfig.from_dict(CONFIG.to_dict()).rescale == "ratio"


def test_explain_gives_grad_cam_of_the_stream_that_predicts(model: VaplModel) -> None:
    x, prompt = _batch()
    target = torch.tensor([0, 1, 1])
    plain, _ = grad_cam(model.f_o, x, target)
    assert torch.allclose(model.explain(x, target=target), plain, atol=1e-6)
    masked, _ = grad_cam(model.f_m, x * model.refine(x, prompt), target)
    assert torch.allclose(model.explain(x, prompt, target=target), masked, atol=1e-5)


def test_a_saved_model_loads_back_with_the_same_predictions(
    model: VaplModel, tmp_path: Path
) -> None:
    history = [{"epoch": 1, "val_accuracy": 0.5}]
    path = tmp_path / "vapl.safetensors"
    VaplModel(model.f_o, model.f_m, model.g, config=model.config, history=history).save(
        path, class_names=["no", "yes"], metrics={"accuracy": 0.5}
    )
    loaded = VaplModel.load(path)
    x, prompt = _batch()
    assert loaded.config == model.config
    assert isinstance(loaded.g, MonotoneG)
    assert loaded.history == history
    assert torch.equal(loaded.predict_proba(x), model.predict_proba(x))
    assert torch.equal(loaded.predict_proba(x, prompt), model.predict_proba(x, prompt))


def test_loading_a_checkpoint_of_another_method_fails(model: VaplModel, tmp_path: Path) -> None:
    path = tmp_path / "plain.safetensors"
    save_checkpoint(
        path,
        model_state=model.f_o.state_dict(),
        config=BACKBONE,
        class_names=["no", "yes"],
        preprocessing={},
        method="baseline",
        hyperparameters={},
        metrics={},
    )
    with pytest.raises(CheckpointError, match="not 'vapl'"):
        VaplModel.load(path)


def test_the_default_config_holds_the_paper_values() -> None:
    config = VaplConfig()
    assert (config.lambda1, config.lambda2, config.lambda3) == (0.1, 1.0, 10.0)
    assert (config.batch_size, config.lr, config.epochs) == (16, 1e-4, 30)
    assert (config.n_masks, config.p, config.keep_probability) == (5000, 0.1, 0.9)


def test_the_quick_config_is_small_and_accepts_overrides() -> None:
    config = VaplConfig.quick(epochs=2)
    assert config.n_masks <= 200
    assert config.lr == 1e-3
    assert config.epochs == 2


def test_the_no_share_ablation_switches_off_both_sharing_terms() -> None:
    config = VaplConfig(ablation="no-share")
    assert (config.effective_lambda1, config.effective_lambda2) == (0.0, 0.0)
    assert (VaplConfig().effective_lambda1, VaplConfig().effective_lambda2) == (0.1, 1.0)


@pytest.mark.parametrize(
    "changes",
    [{"ablation": "no-such"}, {"style": "blurry"}, {"p": 1.0}, {"n_masks": 0}, {"rescale": "max"}],
)
def test_the_config_rejects_invalid_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        VaplConfig(**changes)  # type: ignore[arg-type]
