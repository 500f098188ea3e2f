"""Real worker processes against real Redis and PostgreSQL.

Each test starts Celery workers as subprocesses (``python -m celery -A sightline worker``) that
share the test database (``transactional_db``: what the test writes is committed; the workers get
``DATABASE_URL`` pointing at the test database), the test's media folder and Redis database 14
(flushed before and after). Workers are killed in teardown, whatever happened.

Prerequisites: Redis at 127.0.0.1:6379 and PostgreSQL as the test database (run with
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/sightline_jobs_dev``). Without them the tests
skip with the reason, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from modeling.models import Job
from sightline.processes import WorkerProcess
from sightline.processes import start_worker as start_worker_process
from tests.modeling.helpers import add_tiny_images, celery_broker

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 14
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
STARTUP_SECONDS = 180


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.slow)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"integration prerequisites missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _redis_reachable() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture
def shared_db(transactional_db: None) -> str:
    """The test database as a URL the workers can use (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        _unavailable(
            "needs PostgreSQL shared with worker processes: run with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/sightline_jobs_dev"
        )
    if not _redis_reachable():
        _unavailable(f"needs Redis at {REDIS_HOST}:{REDIS_PORT}")
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{s['NAME']}"


@pytest.fixture
def redis_broker(shared_db: str) -> Iterator[str]:
    """Redis database 14, empty, as this process's broker too."""
    _flush_redis()
    with celery_broker(REDIS_URL, {"socket_connect_timeout": 1}):
        yield REDIS_URL
    _flush_redis()


@pytest.fixture
def start_worker(
    shared_db: str, settings, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Starts workers (``start_worker(broker_url, **env)``); all are killed at teardown."""
    started: list[WorkerProcess] = []

    def start(
        broker_url: str | None = REDIS_URL, *, wait: bool = True, **env: str
    ) -> WorkerProcess:
        variables = {
            **os.environ,
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "integration-tests"),
            "DATABASE_URL": shared_db,
            "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SIGHTLINE_DATA_DIR": str(tmp_path / "data"),
            "SIGHTLINE_JOB_HEARTBEAT_SECONDS": "1",
            "SIGHTLINE_JOB_STALE_SECONDS": "4",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
            "OMP_NUM_THREADS": "1",
            "SIGHTLINE_WORKER_TORCH_THREADS": "1",
            **env,
        }
        variables.pop("CELERY_BROKER_URL", None)
        if broker_url:
            variables["CELERY_BROKER_URL"] = broker_url
        worker = start_worker_process(tmp_path, env=variables, prefix="it")
        started.append(worker)
        if wait:
            ready = worker.wait_ready(STARTUP_SECONDS)
            assert ready, f"worker {worker.name} did not start:\n{worker.output()[-3000:]}"
        return worker

    yield start
    for worker in started:
        worker.kill()


def wait_for(condition: Callable[[], object], seconds: float, what: str, poll: float = 0.2):
    """Polls ``condition`` until it is truthy; fails the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")


def job_row(job_id: int) -> Job:
    return Job.objects.get(pk=job_id)


@pytest.fixture
def small_project(project, owner) -> object:
    add_tiny_images(project, owner, per_split={"train": 4, "val": 2, "test": 2})
    return project
