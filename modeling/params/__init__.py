"""Job parameters: one declarative schema per job kind, validated before a job is queued.

The schema is plain Python (the web process never imports torch). The VAPL fields are those of
``modeling.ml.vapl.VaplConfig`` and the optimisation fields those of
``modeling.ml.training.TrainConfig`` (``lambda_expl`` is its ``lam``); tests check that every
field named here exists there, so the two cannot drift apart silently. ``GET jobs/schema/``
serves the schema and the method presets to the launch form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modeling.params.definitions import (
    EXPLAIN_METHODS,
    GUIDED_METHODS,
    METHODS,
    PRESETS,
    QUICK_PRESET,
    SCHEMAS,
    SPLITS,
    TRAIN_PARAMS,
)
from modeling.params.param import Param, check_value
from sightline.errors import ApplicationError

__all__ = [
    "EXPLAIN_METHODS",
    "GUIDED_METHODS",
    "METHODS",
    "PRESETS",
    "QUICK_PRESET",
    "SCHEMAS",
    "SPLITS",
    "TRAIN_PARAMS",
    "Param",
    "schema_as_dict",
    "validate_parameters",
]


@dataclass
class _Errors:
    by_field: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, message)


def schema_as_dict() -> dict[str, Any]:
    """The parameter schema of every job kind and the method presets (for the launch form)."""
    return {
        "kinds": {kind: [p.as_dict() for p in params] for kind, params in SCHEMAS.items()},
        "presets": PRESETS,
        "quick_preset": QUICK_PRESET,
    }


def validate_parameters(kind: str, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Checks ``raw`` against the kind's schema and fills in defaults and method presets.

    Training parameters that do not apply to the chosen method are dropped, so a model
    version's hyperparameters list only what shaped it.

    Raises:
        ApplicationError: ``invalid_parameters`` with ``detail`` = ``{field: message}``.
    """
    if kind not in SCHEMAS:
        raise ApplicationError(f"unknown job kind {kind!r}", code="invalid_parameters")
    if raw is not None and not isinstance(raw, Mapping):
        raise ApplicationError("parameters must be an object", code="invalid_parameters")
    raw = dict(raw or {})
    schema = {p.name: p for p in SCHEMAS[kind]}
    errors = _Errors()
    unknown = sorted(set(raw) - set(schema))
    for name in unknown:
        errors.add(name, "unknown parameter")
    method = raw.get("method", schema["method"].default) if kind == "train" else None
    values: dict[str, Any] = {}
    defaults = {**PRESETS.get(method, {})} if method in PRESETS else {}
    for name, param in schema.items():
        if param.methods and method not in param.methods:
            continue
        value = raw[name] if name in raw else defaults.get(name, param.default)
        try:
            values[name] = check_value(param, value)
        except ValueError as exc:
            errors.add(name, str(exc))
    if kind == "train" and not errors.by_field and values.get("small_input") is None:
        values["small_input"] = values["input_size"] <= 64
    if kind == "explain" and not errors.by_field and not values.get("methods"):
        errors.add("methods", "name at least one explanation method")
    if kind in ("refine", "explain", "evaluate") and values.get("model_version") is None:
        errors.add("model_version", "this field is required")
    if errors.by_field:
        summary = "; ".join(f"{k}: {v}" for k, v in errors.by_field.items())
        raise ApplicationError(
            f"invalid parameters: {summary}", code="invalid_parameters", detail=errors.by_field
        )
    return values
