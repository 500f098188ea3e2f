"""Calling the Sightline WSGI application in-process, with the production profile's settings.

Used by ``profile_requests.py`` and ``bench_big_project.py``: no HTTP server and no load
generator, so the figures are the CPU and wall time of the web stack itself (middleware,
authentication, views, serializers, rendering) plus the PostgreSQL backend's CPU per request,
read from ``/proc`` for the backend process that serves this connection.

``configure()`` must run before anything imports Django models: it sets the environment as
``deploy/run-prod.sh`` does (DEBUG off, JSON request log, Redis cache, persistent database
connection, prometheus multiprocess mode) and returns the WSGI application. A script builds its
options on ``argument_parser()`` and calls ``start()`` with them, which configures and migrates.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/perf"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/9"


def configure(*, database_url: str, cache_url: str) -> Callable[..., Iterable[bytes]]:
    """Production-like settings for this process; returns the WSGI application."""
    for path in (str(ROOT), str(ROOT / "platform")):
        if path not in sys.path:
            sys.path.insert(0, path)
    scratch = Path(tempfile.mkdtemp(prefix="sightline-load-"))
    (scratch / "prometheus").mkdir()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="sightline.settings",
        DJANGO_DEBUG="0",
        SIGHTLINE_ENV_FILE="/dev/null",
        SIGHTLINE_DATA_DIR=str(scratch),
        DATABASE_URL=database_url,
        DATABASE_CONN_MAX_AGE="600",  # run-prod.sh: 60; one backend for the whole run here
        CACHE_URL=cache_url,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_COOKIES="0",
        SIGHTLINE_LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=str(scratch / "prometheus"),
    )
    os.environ.setdefault("DJANGO_SECRET_KEY", "load-profile-only-" + "x" * 40)
    from sightline.wsgi import application  # runs django.setup(), which configures logging

    # The request log is still formatted and written (its cost counts), but not onto the terminal.
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)
    return application


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def argument_parser(description: str) -> argparse.ArgumentParser:
    """A script's options, starting with where PostgreSQL and Redis are (``--database-url``,
    ``--cache-url``: what ``start`` reads)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--cache-url", default=DEFAULT_CACHE_URL)
    return parser


def ensure_database(database_url: str) -> None:
    """Creates the PostgreSQL database of ``database_url`` when it does not exist yet.

    Raises:
        SystemExit: the server cannot be reached (a message naming the URL, exit status 1).
    """
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True) as connection:
            found = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if found is None:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        raise SystemExit(f"cannot prepare the database of {database_url}: {error}") from None


def start(args: argparse.Namespace) -> Callable[..., Iterable[bytes]]:
    """``configure`` with the parsed options of ``argument_parser`` (the database created when
    missing), then ``migrate``; returns the WSGI application."""
    if args.database_url.startswith(("postgres://", "postgresql://")):
        ensure_database(args.database_url)
    application = configure(database_url=args.database_url, cache_url=args.cache_url)
    migrate()
    return application


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def wsgi_call(
    app: Callable[..., Iterable[bytes]],
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: bytes = b"",
    content_type: str = "",
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request through the WSGI application, as gunicorn would make it."""
    path, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8100",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8100",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
    }
    if content_type:
        environ["CONTENT_TYPE"] = content_type
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Token {token}"
    for key, value in (headers or {}).items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: object) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = {k.lower(): v for k, v in response_headers}

    result = app(environ, start_response)
    try:
        data = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return Reply(answer["status"], answer["headers"], data)


def backend_cpu_seconds() -> float:
    """CPU seconds used so far by the PostgreSQL backend of Django's default connection."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the server runs elsewhere: its CPU is not visible from here
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


@dataclass
class Sample:
    """Per-request CPU (this process) and wall times, in milliseconds, and query counts."""

    name: str
    cpu_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    db_cpu_ms: float = 0.0  # the database backend's CPU per request (mean, 10 ms ticks)

    def summary(self) -> dict[str, object]:
        return {
            "request": self.name,
            "n": len(self.cpu_ms),
            "cpu_mean_ms": round(statistics.fmean(self.cpu_ms), 3),
            "cpu_p99_ms": round(percentile(self.cpu_ms, 0.99), 3),
            "wall_p50_ms": round(percentile(self.wall_ms, 0.5), 3),
            "wall_mean_ms": round(statistics.fmean(self.wall_ms), 3),
            "wall_p99_ms": round(percentile(self.wall_ms, 0.99), 3),
            "db_cpu_mean_ms": round(self.db_cpu_ms, 3),
            "queries": statistics.median_low(self.queries) if self.queries else 0,
        }


def measure(
    name: str,
    n: int,
    one: Callable[[int], Reply],
    expect: int = 200,
    before: Callable[[], None] | None = None,
) -> Sample:
    """Run ``one(i)`` ``n`` times; every reply must have status ``expect``. ``before``, when
    given, runs before each request, outside the timing (to empty a cache, say)."""
    from django.db import connection

    sample = Sample(name)
    counter = _QueryCounter()
    db_before = backend_cpu_seconds()
    with connection.execute_wrapper(counter):
        for i in range(n):
            if before is not None:
                before()
            counter.n = 0
            cpu, wall = time.process_time(), time.perf_counter()
            reply = one(i)
            sample.wall_ms.append((time.perf_counter() - wall) * 1000)
            sample.cpu_ms.append((time.process_time() - cpu) * 1000)
            sample.queries.append(counter.n)
            if reply.status != expect:
                raise SystemExit(f"{name}: status {reply.status}, {reply.body[:300]!r}")
    sample.db_cpu_ms = (backend_cpu_seconds() - db_before) * 1000 / n
    return sample


class _QueryCounter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any):
        self.n += 1
        return execute(sql, params, many, ctx)
