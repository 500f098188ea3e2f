"""A running job rides out a short database outage and fails cleanly when it lasts too long.

The outage is simulated below the ORM (``connection.execute_wrapper``): the chosen statements
raise ``OperationalError`` as a restarting PostgreSQL makes them raise. These tests run outside a
test transaction (``transaction=True``), as a worker does, because a broken connection can only
be replaced there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection

from modeling import services
from modeling.models import JobMetric, JobStatus
from modeling.services import job_runtime
from modeling.services.job_runtime import DatabaseUnavailable
from modeling.worker import runner
from modeling.worker.reporter import JobReporter
from tests.modeling.helpers import ME, QUICK_TRAIN, add_tiny_images

pytestmark = pytest.mark.django_db(transaction=True)


class Outage:
    """Makes statements that mention ``table`` fail ``failures`` times (None: for ever)."""

    def __init__(self, table: str, failures: int | None) -> None:
        self.table, self.failures = table, failures
        self.refused = self.executed = 0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.table in sql:
            if self.failures is None or self.refused < self.failures:
                self.refused += 1
                raise OperationalError("server closed the connection unexpectedly")
            self.executed += 1
        return execute(sql, params, many, context)


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch, settings) -> None:
    monkeypatch.setattr(job_runtime, "_FIRST_WAIT", 0.01)
    settings.SIGHTLINE_JOB_DB_RETRY_SECONDS = 2


def test_a_metric_write_lands_once_after_the_database_comes_back(running_job) -> None:
    reporter = JobReporter(job_id=running_job.pk, worker=ME, heartbeat_seconds=None)
    outage = Outage('"modeling_jobmetric"', failures=3)
    with connection.execute_wrapper(outage):
        reporter.metric(step=1, epoch=1, values={"val_accuracy": 0.5})
    assert outage.refused == 3
    points = list(JobMetric.objects.filter(job=running_job).values_list("step", "values"))
    assert points == [(1, {"val_accuracy": 0.5})]


def test_a_progress_write_lands_after_the_database_comes_back(running_job) -> None:
    reporter = JobReporter(job_id=running_job.pk, worker=ME, heartbeat_seconds=None)
    outage = Outage('"progress_step"', failures=2)
    with connection.execute_wrapper(outage):
        reporter.progress(0.5, step=3, total=6, force=True)
    running_job.refresh_from_db()
    assert (outage.refused, outage.executed) == (2, 1)
    assert running_job.progress == pytest.approx(0.5) and running_job.progress_step == 3


def test_a_write_gives_up_after_the_retry_time_and_keeps_its_progress(running_job) -> None:
    reporter = JobReporter(job_id=running_job.pk, worker=ME, heartbeat_seconds=None)
    started = time.monotonic()
    outage = Outage('"progress_step"', failures=None)
    expected = pytest.raises(DatabaseUnavailable, match="unreachable for more than 2 seconds")
    with connection.execute_wrapper(outage), expected:
        reporter.progress(0.5, step=3, force=True)
    assert time.monotonic() - started < 10
    reporter.flush()  # the database is back: the progress held back is written now
    running_job.refresh_from_db()
    assert running_job.progress_step == 3


@pytest.mark.slow
def test_a_job_whose_database_stays_down_fails_with_a_clear_message(project, owner) -> None:
    add_tiny_images(project, owner, per_split={"train": 4, "val": 2, "test": 2})
    job = services.job_create(
        project=project, user=owner, kind="train", parameters={**QUICK_TRAIN, "epochs": 1}
    )
    started = time.monotonic()
    with connection.execute_wrapper(Outage('"modeling_jobmetric"', failures=None)):
        outcome = runner.run_job(job_id=job.pk, heartbeat=False)
    job.refresh_from_db()
    assert outcome == "failed" and job.status == JobStatus.FAILED
    assert job.error_message.startswith("The database was unreachable for more than 2 seconds")
    assert time.monotonic() - started < 60
