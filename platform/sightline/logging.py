"""Structured logs: one JSON object per line, ready for Loki, Elasticsearch or ``jq``.

Each record carries ``ts`` (ISO 8601 UTC), ``level``, ``logger`` and ``message``, the exception
text when there is one, and every extra field passed with ``logger.info(..., extra={...})``
(the request log adds ``method``, ``route``, ``path``, ``status``, ``duration_ms``, ``user``).
Values JSON cannot hold are written with ``repr`` so a log call never raises.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=repr, ensure_ascii=False)


def logging_config(*, level: str, json_format: bool) -> dict[str, Any]:
    """The ``LOGGING`` dictionary: console only (the process manager collects stdout/stderr)."""
    formatter = (
        {"()": "sightline.logging.JsonFormatter"}
        if json_format
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # The request log of sightline.metrics replaces Django's own, less structured one.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }
