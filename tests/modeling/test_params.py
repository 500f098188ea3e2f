"""Job parameter validation: defaults, method presets, bounds, unknown fields."""

from __future__ import annotations

import pytest

from modeling.params import QUICK_PRESET, schema_as_dict, validate_parameters
from sightline.errors import ApplicationError


def test_it_fills_in_defaults_and_the_methods_preset() -> None:
    values = validate_parameters("train", {"method": "rrr"})
    assert values["epochs"] == 30
    assert values["lambda_expl"] == pytest.approx(1000 / 255**2)
    assert values["small_input"] is False  # input_size 224


def test_it_turns_small_input_on_for_small_images() -> None:
    assert validate_parameters("train", {"input_size": 32})["small_input"] is True


def test_it_drops_parameters_of_other_methods() -> None:
    values = validate_parameters("train", {"method": "baseline"})
    assert "lambda_expl" not in values
    assert "n_masks" not in values
    assert validate_parameters("train", {"method": "vapl"})["n_masks"] == 5000


def test_it_names_every_invalid_field() -> None:
    with pytest.raises(ApplicationError) as caught:
        validate_parameters("train", {"epochs": 0, "lr": "fast", "colour": "red"})
    assert caught.value.code == "invalid_parameters"
    assert set(caught.value.detail) == {"epochs", "lr", "colour"}
    assert caught.value.detail["colour"] == "unknown parameter"


def test_it_ignores_a_parameter_that_does_not_apply_to_the_method() -> None:
    # The launch form sends every field; those of other methods must not fail the launch.
    values = validate_parameters("train", {"method": "baseline", "n_masks": 10})
    assert "n_masks" not in values


def test_it_requires_a_model_version_for_non_training_jobs() -> None:
    with pytest.raises(ApplicationError) as caught:
        validate_parameters("evaluate", {"split": "test"})
    assert "model_version" in caught.value.detail


def test_it_rejects_booleans_as_numbers() -> None:
    with pytest.raises(ApplicationError):
        validate_parameters("train", {"epochs": True})


def test_explain_needs_at_least_one_method() -> None:
    with pytest.raises(ApplicationError) as caught:
        validate_parameters("explain", {"model_version": 1, "methods": []})
    assert "methods" in caught.value.detail


def test_the_schema_lists_every_kind_and_the_quick_preset_is_valid() -> None:
    schema = schema_as_dict()
    assert set(schema["kinds"]) == {"train", "refine", "explain", "evaluate"}
    validate_parameters("train", {"method": "vapl", **QUICK_PRESET})


def test_every_vapl_parameter_is_a_field_of_the_vapl_config() -> None:
    from dataclasses import fields

    from modeling.ml.vapl import VaplConfig
    from modeling.params import TRAIN_PARAMS

    names = {f.name for f in fields(VaplConfig)}
    vapl = {p.name for p in TRAIN_PARAMS if "vapl" in p.methods or not p.methods}
    trainer_only = {
        "method",
        "arch",
        "input_size",
        "small_input",
        "parent_version",
        "seed",
        "augment_flip",
    }
    assert vapl - trainer_only <= names
    validated = validate_parameters("train", {"method": "vapl"})
    VaplConfig(**{k: v for k, v in validated.items() if k in names})


def test_the_optimisation_parameters_are_those_of_the_guided_trainer() -> None:
    from dataclasses import fields

    from modeling.ml.training import TrainConfig

    names = {f.name for f in fields(TrainConfig)}
    assert {"epochs", "batch_size", "lr", "weight_decay", "patience", "lam"} <= names
