"""Health endpoints for load balancers, orchestrators and monitoring.

- ``GET /health/`` (liveness): the web process answers; touches nothing else, so a database
  outage does not make the orchestrator restart healthy web processes.
- ``GET /health/ready/`` (readiness): database (``SELECT 1``), broker (a connection with a
  short timeout) and workers (a Celery ``ping`` broadcast answered within
  ``SIGHTLINE_HEALTH_TIMEOUT_MS``).
  200 when every check passes, 503 otherwise; the body names each check's result and duration.
  ``SIGHTLINE_HEALTH_REQUIRE_WORKERS=0`` reports the worker check without failing on it (a web
  node that may start before its workers).

Both are unauthenticated and reveal only up/down and timings, never hosts or credentials.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

Check = Callable[[], str]


def check_database() -> str:
    """Run ``SELECT 1`` on the default database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_broker() -> str:
    """Open (and close) a connection to the Celery broker."""
    from sightline.celery_app import app

    timeout = settings.SIGHTLINE_HEALTH_TIMEOUT_MS / 1000
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
    return "ok"


def check_workers() -> str:
    """Ask every worker for a ``pong``; at least one must answer within the timeout."""
    from sightline.celery_app import app

    replies = app.control.ping(timeout=settings.SIGHTLINE_HEALTH_TIMEOUT_MS / 1000)
    if not replies:
        raise RuntimeError("no worker answered")
    return f"{len(replies)} worker(s)"


READINESS_CHECKS: dict[str, Check] = {
    "database": check_database,
    "broker": check_broker,
    "workers": check_workers,
}


def run_check(check: Check) -> dict[str, Any]:
    """Run one check; any exception is a failure described by its type and message."""
    started = time.perf_counter()
    try:
        result: dict[str, Any] = {"ok": True, "detail": check()}
    except Exception as exc:  # any failure of a dependency means "not ready"
        result = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process serves requests."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: database, broker and workers, each with its duration."""
    checks = {name: run_check(check) for name, check in READINESS_CHECKS.items()}
    optional = set() if settings.SIGHTLINE_HEALTH_REQUIRE_WORKERS else {"workers"}
    healthy = all(result["ok"] for name, result in checks.items() if name not in optional)
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503
    )
