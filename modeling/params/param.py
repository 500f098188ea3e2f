"""One job parameter: its declaration and the check of one value against it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """One parameter: its type, default, bounds and which training methods use it.

    Attributes:
        name: key in the job's ``parameters``.
        type: ``"int"``, ``"float"``, ``"bool"``, ``"choice"``, ``"str"`` or ``"ids"`` (a list
            of positive integers).
        default: value used when the parameter is omitted (``None``: optional, unset).
        minimum: inclusive lower bound of numbers.
        maximum: inclusive upper bound of numbers.
        choices: allowed values of a ``"choice"``.
        methods: training methods the parameter applies to (empty: all).
        nullable: whether ``null`` is a valid value.
        help: one line shown next to the field.
        group: section of the launch form.
    """

    name: str
    type: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    methods: tuple[str, ...] = ()
    nullable: bool = False
    help: str = ""
    group: str = "general"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "choices": list(self.choices),
            "methods": list(self.methods),
            "nullable": self.nullable,
            "help": self.help,
            "group": self.group,
        }


def check_value(param: Param, value: Any) -> Any:
    """``value`` converted to the parameter's type; ValueError names what is wrong."""
    if value is None:
        if param.nullable or param.default is None:
            return None
        raise ValueError("may not be null")
    kind = param.type
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number, got {value!r}")
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"must be an integer, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("must be finite")
        if param.minimum is not None and value < param.minimum:
            raise ValueError(f"must be >= {param.minimum:g}")
        if param.maximum is not None and value > param.maximum:
            raise ValueError(f"must be <= {param.maximum:g}")
        return value
    if kind == "choice":
        if value not in param.choices:
            raise ValueError(f"must be one of {', '.join(map(str, param.choices))}")
        return value
    if kind == "list":
        if not isinstance(value, list) or any(v not in param.choices for v in value):
            raise ValueError(f"must be a list of {', '.join(map(str, param.choices))}")
        return sorted(set(value), key=list(param.choices).index)
    if kind == "ids":
        ok = isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
        )
        if not ok:
            raise ValueError("must be a list of positive integer ids")
        if len(value) > 100_000:
            raise ValueError("at most 100000 ids")
        return sorted(set(value))
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value
    raise ValueError(f"unsupported parameter type {kind}")
