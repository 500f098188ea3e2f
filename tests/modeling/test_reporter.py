"""The job reporter: heartbeat thread, throttled progress, cancel flag, log tail."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from modeling.models import Job, JobStatus
from modeling.services.job_runtime import Worker
from modeling.worker.reporter import JobCancelled, JobReporter

ME = Worker(host="here", pid=1)


@pytest.fixture
def running(project) -> Job:
    return Job.objects.create(
        project=project,
        kind="train",
        parameters={},
        status=JobStatus.RUNNING,
        worker_host=ME.host,
        worker_pid=ME.pid,
        heartbeat_at=timezone.now(),
    )


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_keeps_the_job_alive_and_sees_a_cancel(running) -> None:
    before = running.heartbeat_at
    with JobReporter(job_id=running.pk, worker=ME, heartbeat_seconds=0.2) as reporter:
        Job.objects.filter(pk=running.pk).update(cancel_requested=True)
        deadline = time.monotonic() + 10
        while not reporter._cancelled.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(JobCancelled):
            reporter.check()
    running.refresh_from_db()
    assert running.heartbeat_at > before


@pytest.mark.django_db
def test_progress_writes_are_throttled_but_forced_ones_land(running) -> None:
    reporter = JobReporter(job_id=running.pk, worker=ME, heartbeat_seconds=None, min_interval=60)
    reporter.progress(0.1, force=True)
    reporter.progress(0.2)  # within the interval: kept for the next write
    running.refresh_from_db()
    assert running.progress == pytest.approx(0.1)
    reporter.flush()
    running.refresh_from_db()
    assert running.progress == pytest.approx(0.2)


@pytest.mark.django_db
def test_the_log_tail_keeps_the_last_lines(running) -> None:
    reporter = JobReporter(job_id=running.pk, worker=ME, heartbeat_seconds=None)
    for i in range(250):
        reporter.log(f"line {i}")
    reporter.flush()
    running.refresh_from_db()
    lines = running.log_tail.splitlines()
    assert len(lines) == 200 and lines[-1].endswith("line 249")
    assert running.log_lines == 250
