"""The make_benchmark and experiment management commands (no database involved)."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError


def _make_tiny_digits(out: Path) -> Path:
    from modeling.ml.benchmarks import write_decoy_digits

    return write_decoy_digits(
        out, n_train_per_class=1, n_val_per_class=1, n_test_per_class=1, size=12, swatch=1
    )


@pytest.mark.parametrize("name", ["make_benchmark", "experiment"])
def test_commands_skip_system_checks(name: str) -> None:
    assert load_command_class("modeling", name).requires_system_checks == []


def test_make_benchmark_writes_decoy_digits(tmp_path: Path) -> None:
    out = StringIO()
    call_command(
        "make_benchmark",
        "decoy-digits",
        str(tmp_path / "dd"),
        "--seed=2",
        "--prompt-fraction=0.5",
        "--prompt-style=scribble",
        "--size=20",
        stdout=out,
    )
    with (tmp_path / "dd" / "labels.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 500 and "wrote decoy-digits" in out.getvalue()
    assert len(list((tmp_path / "dd" / "prompts").iterdir())) == 50 + 50 + 300


def test_make_benchmark_rejects_a_fraction_above_one(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="prompt-fraction"):
        call_command("make_benchmark", "ct-nodules", str(tmp_path), "--prompt-fraction=2")


def test_experiment_writes_json_and_prints_the_table(tmp_path: Path) -> None:
    data = _make_tiny_digits(tmp_path / "data")
    out, err = StringIO(), StringIO()
    call_command(
        "experiment",
        f"--data={data}",
        "--methods=baseline",
        "--seeds=1",
        f"--out={tmp_path / 'results.json'}",
        "--preset=quick",
        "--set=train.epochs=1",
        "--set=train.batch_size=5",
        "--device=cpu",
        stdout=out,
        stderr=err,
    )
    result = json.loads((tmp_path / "results.json").read_text())
    assert set(result) == {"methods", "config", "runs"}
    assert result["methods"]["baseline"]["accuracy"].keys() == {"mean", "std"}
    assert result["config"]["experiment"]["preset"] == "quick"
    assert "baseline" in out.getvalue() and "+-" in out.getvalue()
    assert "[baseline seed 0] epoch 1/1" in err.getvalue()


def test_experiment_rejects_an_unknown_setting(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="unknown key"):
        call_command("experiment", f"--data={tmp_path}", "--set=train.speed=2")
