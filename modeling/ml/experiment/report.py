"""Aggregation of experiment runs (mean and standard deviation) and the printed table."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

TABLE_METRICS = ("accuracy", "precision", "recall", "f1", "auc", "expl_iou", "expl_f1", "epg")


def _mean_std(values: Sequence[float]) -> dict[str, float | None]:
    """Mean and sample standard deviation (ddof 1; 0 for a single run); None when no value."""
    finite = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not finite:
        return {"mean": None, "std": None}
    mean = sum(finite) / len(finite)
    if len(finite) == 1:
        return {"mean": mean, "std": 0.0}
    var = sum((v - mean) ** 2 for v in finite) / (len(finite) - 1)
    return {"mean": mean, "std": math.sqrt(var)}


def summarise(
    runs: Sequence[Mapping[str, Any]], *, config: Mapping[str, Any], meta: Mapping[str, Any]
) -> dict[str, Any]:
    """The experiment's JSON document.

    Returns:
        ``{"methods": {row: {metric: {"mean": m, "std": s}}}, "config": {**config,
        "experiment": meta}, "runs": runs}``. Rows keep the order in which they first ran;
        metrics are every numeric metric the rows report (the table's eight at least when
        defined); ``std`` is the sample standard deviation over seeds (0 for one seed).
    """
    rows: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        row = rows.setdefault(run["method"], {})
        for key, value in run["metrics"].items():
            if (isinstance(value, int | float) and not isinstance(value, bool)) or value is None:
                row.setdefault(key, []).append(value)  # type: ignore[arg-type]
    methods = {
        name: {key: _mean_std(values) for key, values in metrics.items() if key != "n"}
        for name, metrics in rows.items()
    }
    return {
        "methods": methods,
        "config": {**{k: dict(v) for k, v in config.items()}, "experiment": dict(meta)},
        "runs": [dict(run) for run in runs],
    }


def format_table(result: Mapping[str, Any], metrics: Sequence[str] = TABLE_METRICS) -> str:
    """A plain-text table of ``mean +- std`` per row and metric (like the papers' Table 1)."""
    header = ["method", *metrics]
    lines = []
    for name, row in result["methods"].items():
        cells = [name]
        for metric in metrics:
            stats = row.get(metric, {"mean": None})
            if stats.get("mean") is None:
                cells.append("-")
            else:
                cells.append(f"{stats['mean']:.3f} +- {stats['std']:.3f}")
        lines.append(cells)
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    rendered = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))]
    rendered.append("  ".join("-" * w for w in widths))
    rendered += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
    return "\n".join(rendered)
