"""The claim: a job runs once, whatever the broker redelivers; dead workers are taken over."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from modeling.models import Job, JobStatus
from modeling.services import job_runtime
from modeling.services.job_runtime import Worker

pytestmark = pytest.mark.django_db

ME = Worker(host="here", pid=100)
OTHER = Worker(host="elsewhere", pid=200)


@pytest.fixture
def job(project) -> Job:
    return Job.objects.create(project=project, kind="train", parameters={})


def _running(job: Job, worker: Worker, *, seconds_ago: float, attempts: int = 1) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=seconds_ago),
        worker_host=worker.host,
        worker_pid=worker.pid,
        attempts=attempts,
        started_at=timezone.now(),
    )


def test_a_queued_job_is_claimed_and_marked_running(job) -> None:
    claim = job_runtime.job_claim(job_id=job.pk, worker=ME, device="cpu")
    job.refresh_from_db()
    assert claim.run and not claim.resume
    assert (job.status, job.attempts, job.worker_host, job.device) == ("running", 1, "here", "cpu")
    assert job.heartbeat_at is not None


def test_a_job_with_a_fresh_heartbeat_elsewhere_is_not_run_twice(job) -> None:
    _running(job, OTHER, seconds_ago=1)
    claim = job_runtime.job_claim(job_id=job.pk, worker=ME)
    job.refresh_from_db()
    assert not claim.run
    assert "elsewhere" in claim.reason
    assert (job.worker_host, job.attempts) == ("elsewhere", 1)


def test_a_job_whose_heartbeat_stopped_is_resumed_from_its_checkpoint(job, settings) -> None:
    _running(job, OTHER, seconds_ago=settings.SIGHTLINE_JOB_STALE_SECONDS + 5)
    Job.objects.filter(pk=job.pk).update(checkpoint="jobs/1/training-state.pt", checkpoint_epoch=3)
    claim = job_runtime.job_claim(job_id=job.pk, worker=ME)
    job.refresh_from_db()
    assert claim.run and claim.resume and claim.attempt == 2
    assert "epoch 3" in job.progress_message


def test_a_dead_process_on_this_host_is_taken_over_at_once(job) -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    _running(job, Worker(host=ME.host, pid=finished.pid), seconds_ago=0)
    assert job_runtime.job_claim(job_id=job.pk, worker=ME).run


def test_a_job_that_used_up_its_attempts_fails_with_a_reason(job, settings) -> None:
    attempts = settings.SIGHTLINE_JOB_MAX_ATTEMPTS
    _running(job, OTHER, seconds_ago=settings.SIGHTLINE_JOB_STALE_SECONDS + 5, attempts=attempts)
    assert not job_runtime.job_claim(job_id=job.pk, worker=ME).run
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "worker running this job stopped" in job.error_message


def test_a_finished_job_is_never_run_again(job) -> None:
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    assert not job_runtime.job_claim(job_id=job.pk, worker=ME).run


def test_a_job_cancelled_before_it_started_is_not_run(job) -> None:
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    assert not job_runtime.job_claim(job_id=job.pk, worker=ME).run
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_a_worker_that_lost_its_claim_cannot_write_progress(job) -> None:
    _running(job, OTHER, seconds_ago=0)
    assert not job_runtime.job_report(job_id=job.pk, worker=ME, progress=0.5)
    assert job_runtime.job_report(job_id=job.pk, worker=OTHER, progress=0.5)
    job.refresh_from_db()
    assert job.progress == 0.5


def test_a_progress_write_keeps_a_cancel_request(job) -> None:
    _running(job, ME, seconds_ago=0)
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    job_runtime.job_report(job_id=job.pk, worker=ME, progress=0.3, message="epoch 1")
    job.refresh_from_db()
    assert job.cancel_requested and job.progress == pytest.approx(0.3)
