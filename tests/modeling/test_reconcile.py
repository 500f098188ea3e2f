"""The reconciler: unsent jobs are sent, abandoned jobs resumed or failed, none stays running."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from modeling.models import Job, JobStatus, ModelVersion, Prediction, PredictionStatus
from modeling.services.reconcile import jobs_reconcile
from tests.modeling.helpers import celery_broker

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(project) -> Job:
    return Job.objects.create(project=project, kind="train", parameters={})


def _abandon(job: Job, settings, *, attempts: int = 1) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.SIGHTLINE_JOB_STALE_SECONDS + 1),
        worker_host="gone",
        worker_pid=1,
        attempts=attempts,
    )


def test_a_queued_job_the_broker_never_got_is_sent(job) -> None:
    report = jobs_reconcile()
    job.refresh_from_db()
    assert report.sent == [job.pk]
    assert job.enqueued_at is not None and job.sends == 1


def test_an_unsent_job_stays_queued_while_the_broker_is_down(job) -> None:
    with celery_broker("redis://127.0.0.1:1/0", {"socket_connect_timeout": 0.5}):
        report = jobs_reconcile()
    job.refresh_from_db()
    assert report.sent == []
    assert job.status == JobStatus.QUEUED and job.enqueued_at is None
    assert "broker unreachable" in job.enqueue_error


def test_a_job_whose_worker_died_is_requeued(job, settings) -> None:
    _abandon(job, settings)
    report = jobs_reconcile()
    job.refresh_from_db()
    assert report.requeued == [job.pk]
    assert job.status == JobStatus.QUEUED
    assert job.enqueued_at is not None
    assert "stopped" in job.progress_message


def test_a_job_whose_worker_died_too_often_fails(job, settings) -> None:
    _abandon(job, settings, attempts=settings.SIGHTLINE_JOB_MAX_ATTEMPTS)
    report = jobs_reconcile()
    job.refresh_from_db()
    assert report.failed == [job.pk]
    assert job.status == JobStatus.FAILED and "lost" in job.error_message


def test_a_cancelled_job_whose_worker_died_ends_cancelled(job, settings) -> None:
    _abandon(job, settings)
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    jobs_reconcile()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(job) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now(), enqueued_at=timezone.now()
    )
    report = jobs_reconcile()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert not (report.requeued or report.failed or report.sent)


def _sent(job: Job, *, seconds_ago: float, sends: int = 1) -> None:
    Job.objects.filter(pk=job.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=seconds_ago), sends=sends
    )


def test_a_job_sent_long_ago_and_never_started_is_sent_again(job, settings) -> None:
    _sent(job, seconds_ago=settings.SIGHTLINE_JOB_RESEND_SECONDS + 1)
    report = jobs_reconcile()
    job.refresh_from_db()
    assert report.resent == [job.pk]
    assert job.status == JobStatus.QUEUED and job.sends == 2
    assert job.enqueued_at > timezone.now() - timedelta(seconds=5)


def test_a_job_sent_recently_is_not_sent_again(job, settings) -> None:
    _sent(job, seconds_ago=settings.SIGHTLINE_JOB_RESEND_SECONDS - 5)
    report = jobs_reconcile()
    job.refresh_from_db()
    assert report.resent == [] and job.sends == 1


def test_the_wait_before_a_resend_doubles_with_each_send(job, settings) -> None:
    _sent(job, seconds_ago=settings.SIGHTLINE_JOB_RESEND_SECONDS * 1.5, sends=2)
    assert jobs_reconcile().resent == []
    _sent(job, seconds_ago=settings.SIGHTLINE_JOB_RESEND_SECONDS * 2 + 1, sends=2)
    assert jobs_reconcile().resent == [job.pk]


def test_a_running_job_sent_long_ago_is_not_sent_again(job, settings) -> None:
    _sent(job, seconds_ago=settings.SIGHTLINE_JOB_RESEND_SECONDS * 10)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now(), attempts=1
    )
    report = jobs_reconcile()
    job.refresh_from_db()
    assert report.resent == [] and job.sends == 1 and job.status == JobStatus.RUNNING


def test_a_resend_while_the_broker_is_down_leaves_the_job_unsent(job, settings) -> None:
    _sent(job, seconds_ago=settings.SIGHTLINE_JOB_RESEND_SECONDS + 1)
    with celery_broker("redis://127.0.0.1:1/0", {"socket_connect_timeout": 0.5}):
        report = jobs_reconcile()
    job.refresh_from_db()
    assert report.resent == [] and job.enqueued_at is None  # the next pass sends it


def test_a_prediction_no_worker_answered_expires(project, tiny_images) -> None:
    version = ModelVersion.objects.create(
        project=project, number=1, architecture="resnet18", method="baseline", checkpoint="x"
    )
    prediction = Prediction.objects.create(model_version=version, image=tiny_images[0])
    Prediction.objects.filter(pk=prediction.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert jobs_reconcile().predictions_expired == 1
    prediction.refresh_from_db()
    assert prediction.status == PredictionStatus.FAILED


def test_the_management_command_runs_a_pass(job, capsys) -> None:
    call_command("reconcile_jobs")
    assert f"sent [{job.pk}]" in capsys.readouterr().out
