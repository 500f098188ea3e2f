"""The job reporter: heartbeat thread, throttled progress, cancel flag, log tail."""

from __future__ import annotations

import time

import pytest

from modeling.models import Job
from modeling.worker.reporter import JobCancelled, JobReporter
from tests.modeling.helpers import ME


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_keeps_the_job_alive_and_sees_a_cancel(running_job) -> None:
    before = running_job.heartbeat_at
    with JobReporter(job_id=running_job.pk, worker=ME, heartbeat_seconds=0.2) as reporter:
        Job.objects.filter(pk=running_job.pk).update(cancel_requested=True)
        deadline = time.monotonic() + 10
        while not reporter._cancelled.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(JobCancelled):
            reporter.check()
    running_job.refresh_from_db()
    assert running_job.heartbeat_at > before


@pytest.mark.django_db
def test_progress_writes_are_throttled_but_forced_ones_land(running_job) -> None:
    reporter = JobReporter(
        job_id=running_job.pk, worker=ME, heartbeat_seconds=None, min_interval=60
    )
    reporter.progress(0.1, force=True)
    reporter.progress(0.2)  # within the interval: kept for the next write
    running_job.refresh_from_db()
    assert running_job.progress == pytest.approx(0.1)
    reporter.flush()
    running_job.refresh_from_db()
    assert running_job.progress == pytest.approx(0.2)


@pytest.mark.django_db
def test_the_log_tail_keeps_the_last_lines(running_job) -> None:
    reporter = JobReporter(job_id=running_job.pk, worker=ME, heartbeat_seconds=None)
    for i in range(250):
        reporter.log(f"line {i}")
    reporter.flush()
    running_job.refresh_from_db()
    lines = running_job.log_tail.splitlines()
    assert len(lines) == 200 and lines[-1].endswith("line 249")
    assert running_job.log_lines == 250
