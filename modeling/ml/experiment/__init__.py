"""Method comparison on an interchange-format dataset (the ``experiment`` command's engine)."""

from modeling.ml.experiment.config import (
    METHODS,
    PRESETS,
    apply_overrides,
    parse_value,
    preset,
)
from modeling.ml.experiment.report import TABLE_METRICS, format_table, summarise
from modeling.ml.experiment.runner import (
    Splits,
    load_splits,
    run_experiment,
    run_method,
)

__all__ = [
    "METHODS",
    "PRESETS",
    "TABLE_METRICS",
    "Splits",
    "apply_overrides",
    "format_table",
    "load_splits",
    "parse_value",
    "preset",
    "run_experiment",
    "run_method",
    "summarise",
]
