"""Experiment settings, aggregation, the table and a run on a tiny generated dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeling.ml.benchmarks import write_decoy_digits
from modeling.ml.experiment import (
    TABLE_METRICS,
    apply_overrides,
    format_table,
    preset,
    run_experiment,
    summarise,
)
from modeling.ml.losses import RRR_PAPER_LAMBDA


@pytest.fixture(scope="module")
def tiny_digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_decoy_digits(
        tmp_path_factory.mktemp("digits"),
        n_train_per_class=1,
        n_val_per_class=1,
        n_test_per_class=1,
        size=12,
        swatch=1,
        prompt_fraction=0.5,
    )


def _tiny_config(**sections: dict) -> dict:
    overrides = [
        "train.epochs=1",
        "train.batch_size=5",
        "vapl.epochs=1",
        "vapl.n_masks=2",
        "vapl.batch_size=5",
    ]
    config = apply_overrides(preset("quick"), overrides)
    for section, values in sections.items():
        config[section].update(values)
    return config


def test_presets_hold_the_papers_and_the_quick_settings() -> None:
    paper, quick = preset("paper"), preset("quick")
    assert paper["train"]["lr"] == 1e-4 and paper["data"]["size"] == 224
    assert not paper["backbone"]["small_input"] and paper["vapl"]["n_masks"] == 5000
    assert paper["res-g"]["gamma"] == 5.0 and paper["res-g"]["eta"] == 0.1
    assert paper["rrr"]["lam"] == pytest.approx(RRR_PAPER_LAMBDA)
    assert quick["backbone"]["small_input"] and quick["train"]["lr"] == 1e-3
    assert quick["train"]["batch_size"] == 32
    assert quick["vapl"]["n_masks"] < paper["vapl"]["n_masks"]


def test_overrides_parse_json_and_keep_types() -> None:
    config = apply_overrides(
        preset("quick"),
        ["train.epochs=3", "train.lr=1", "gradia.blur_sigma=1.5", "data.window=[40, 400]"],
    )
    assert config["train"]["epochs"] == 3 and config["train"]["lr"] == 1.0
    assert isinstance(config["train"]["lr"], float)
    assert config["gradia"]["blur_sigma"] == 1.5 and config["data"]["window"] == [40, 400]


def test_overrides_leave_the_preset_unchanged() -> None:
    base = preset("quick")
    apply_overrides(base, ["train.epochs=3"])
    assert base["train"]["epochs"] == preset("quick")["train"]["epochs"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.epochs", "section.key=value"),
        ("nosuch.key=1", "unknown section"),
        ("train.nosuch=1", "unknown key"),
        ("train.epochs=many", "expects"),
        ("map.detach_weights=1", "true or false"),
    ],
)
def test_bad_overrides_are_rejected(override: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply_overrides(preset("quick"), [override])


def test_summary_has_mean_and_sample_std_per_row_and_metric() -> None:
    runs = [
        {"method": "baseline", "seed": 0, "metrics": {"accuracy": 0.5, "auc": None, "n": 4}},
        {"method": "baseline", "seed": 1, "metrics": {"accuracy": 0.7, "auc": 0.8, "n": 4}},
    ]
    result = summarise(runs, config={"train": {"epochs": 1}}, meta={"seeds": 2})
    accuracy = result["methods"]["baseline"]["accuracy"]
    assert accuracy["mean"] == pytest.approx(0.6)
    assert accuracy["std"] == pytest.approx(0.1414213, rel=1e-5)
    assert result["methods"]["baseline"]["auc"] == {"mean": 0.8, "std": 0.0}
    assert result["config"]["train"] == {"epochs": 1} and result["config"]["experiment"]
    assert "n" not in result["methods"]["baseline"]


def test_table_shows_mean_plus_minus_std() -> None:
    result = {"methods": {"gradia": {"accuracy": {"mean": 0.875, "std": 0.0125}}}}
    table = format_table(result)
    assert "gradia" in table and "0.875 +- 0.013" in table
    assert table.splitlines()[0].split()[1:] == list(TABLE_METRICS)


def test_run_on_a_tiny_dataset_reports_every_metric(tiny_digits: Path) -> None:
    lines: list[str] = []
    result = run_experiment(
        tiny_digits,
        methods=["baseline", "res-l"],
        seeds=1,
        config=_tiny_config(),
        device="cpu",
        log=lines.append,
    )
    assert list(result["methods"]) == ["baseline", "res-l"]
    for row in result["methods"].values():
        assert set(TABLE_METRICS) <= set(row)
        assert row["accuracy"]["std"] == 0.0
    assert any("[res-l seed 0] epoch 1/1" in line for line in lines)
    assert result["config"]["experiment"]["split_sizes"] == {"train": 10, "val": 10, "test": 10}
    json.dumps(result)


@pytest.mark.slow
def test_vapl_reports_rows_without_and_with_prompts(tiny_digits: Path) -> None:
    result = run_experiment(
        tiny_digits, methods=["vapl"], seeds=1, config=_tiny_config(), device="cpu", log=print
    )
    assert list(result["methods"]) == ["vapl", "vapl-p"]


def test_unknown_methods_are_rejected(tiny_digits: Path) -> None:
    with pytest.raises(ValueError, match="unknown methods"):
        run_experiment(tiny_digits, methods=["lime"], seeds=1, config=_tiny_config())


@pytest.mark.slow
def test_two_worker_processes_give_the_runs_of_one_process(tiny_digits: Path) -> None:
    import torch

    config = _tiny_config()
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # the workers run single-threaded: compare like with like
    try:
        alone = run_experiment(
            tiny_digits, methods=["baseline", "energy"], seeds=2, config=config, device="cpu"
        )
    finally:
        torch.set_num_threads(previous)
    summaries: list[dict] = []
    spread = run_experiment(
        tiny_digits,
        methods=["baseline", "energy"],
        seeds=2,
        config=config,
        device="cpu",
        workers=2,
        on_summary=summaries.append,
    )
    assert [len(s["runs"]) for s in summaries] == [1, 2, 3, 4]
    assert [(r["method"], r["seed"]) for r in spread["runs"]] == [
        ("baseline", 0),
        ("baseline", 1),
        ("energy", 0),
        ("energy", 1),
    ]
    for first, second in zip(alone["runs"], spread["runs"], strict=True):
        assert first["metrics"]["accuracy"] == second["metrics"]["accuracy"]
        assert first["metrics"]["auc"] == pytest.approx(second["metrics"]["auc"], abs=1e-6)
    assert spread["config"]["experiment"]["workers"] == 2


def test_fewer_than_one_worker_is_refused(tiny_digits: Path) -> None:
    with pytest.raises(ValueError, match="workers must be >= 1"):
        run_experiment(tiny_digits, methods=["baseline"], seeds=1, config=_tiny_config(), workers=0)
