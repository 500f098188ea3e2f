"""The reconciler: no job stays queued unsent or lost, or running without a live worker.

Run periodically (Celery beat, ``modeling.tasks.reconcile_jobs``), when a worker starts, or by
hand (``manage.py reconcile_jobs``). It is idempotent and safe to run from several machines at
once: every decision re-reads the row under a lock, and a job sent twice still runs once (the
claim in ``modeling.services.job_runtime`` refuses a job whose heartbeat is fresh).

Redis runs without persistence, so a restart loses the messages no worker has taken yet. A job
sent ``SIGHTLINE_JOB_RESEND_SECONDS`` ago and still queued is therefore sent again. It may only be
waiting behind a long job (one job at a time per gpu worker), so the wait doubles with each send
(up to 16 times) and the duplicate costs one refused claim when it is finally delivered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from modeling.models import Job, JobStatus, Prediction, PredictionStatus
from modeling.services.jobs import job_enqueue

logger = logging.getLogger(__name__)

# Pending predictions older than this were lost (their worker died or the broker was down).
PREDICTION_TIMEOUT = timedelta(minutes=2)
# Finished predictions are a short-lived handoff; they are deleted after this.
PREDICTION_RETENTION = timedelta(days=1)
# The wait before a resend doubles with each send, up to this factor.
RESEND_BACKOFF_LIMIT = 16


@dataclass
class ReconcileReport:
    """What one pass did, by job id."""

    sent: list[int] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    predictions_expired: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, resent {self.resent}, requeued {self.requeued}, "
            f"failed {self.failed}, cancelled {self.cancelled}, "
            f"predictions expired {self.predictions_expired}"
        )


def jobs_reconcile() -> ReconcileReport:
    """Sends unsent queued jobs, resends queued jobs whose message the broker may have lost, and
    resumes or fails running jobs whose heartbeat stopped."""
    report = ReconcileReport()
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.SIGHTLINE_JOB_STALE_SECONDS)
    stale = Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=stale_before)
    for job_id in stale.values_list("pk", flat=True):
        if _reconcile_stale(job_id, stale_before, report):
            job_enqueue(job_id=job_id)
    unsent = Job.objects.filter(status=JobStatus.QUEUED, enqueued_at__isnull=True)
    for job_id in unsent.order_by("created_at").values_list("pk", flat=True):
        if job_enqueue(job_id=job_id):
            report.sent.append(job_id)
        else:
            break  # the broker is still down; the next pass tries again
    else:
        _resend_lost(now, report)
    report.predictions_expired = _expire_predictions(now)
    if report.sent or report.resent or report.requeued or report.failed or report.cancelled:
        logger.info("reconciled jobs: %s", report)
    return report


def _resend_lost(now: datetime, report: ReconcileReport) -> None:
    """Sends again the queued jobs whose last message is older than their resend wait."""
    base = settings.SIGHTLINE_JOB_RESEND_SECONDS
    waiting = Job.objects.filter(
        status=JobStatus.QUEUED, enqueued_at__lt=now - timedelta(seconds=base)
    ).order_by("enqueued_at")
    for job_id, sent_at, sends in waiting.values_list("pk", "enqueued_at", "sends"):
        factor = min(2 ** max(sends - 1, 0), RESEND_BACKOFF_LIMIT)
        if sent_at >= now - timedelta(seconds=base * factor):
            continue
        # Taking the row's send time first: of several reconcilers running at once, one resends.
        taken = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED, enqueued_at=sent_at)
        if not taken.update(enqueued_at=now):
            continue
        if not job_enqueue(job_id=job_id):
            break  # left unsent (enqueued_at empty): the next pass sends it
        report.resent.append(job_id)
        logger.warning("job %s: sent %s time(s) and not started, sent again", job_id, sends)


def _reconcile_stale(job_id: int, stale_before: object, report: ReconcileReport) -> bool:
    """Decides the fate of one abandoned job; True when it was put back in the queue."""
    with transaction.atomic():
        job = (
            Job.objects.select_for_update()
            .filter(pk=job_id, status=JobStatus.RUNNING, heartbeat_at__lt=stale_before)
            .first()
        )
        if job is None:  # it came back to life or was finished meanwhile
            return False
        now = timezone.now()
        lost = f"its worker {job.worker_host} (pid {job.worker_pid}) stopped"
        if job.cancel_requested:
            Job.objects.filter(pk=job.pk).update(
                status=JobStatus.CANCELLED, finished_at=now, progress_message="cancelled"
            )
            report.cancelled.append(job.pk)
        elif job.attempts >= settings.SIGHTLINE_JOB_MAX_ATTEMPTS:
            Job.objects.filter(pk=job.pk).update(
                status=JobStatus.FAILED,
                finished_at=now,
                progress_message="failed",
                error_message=f"The job was lost: {lost} after {job.attempts} attempts.",
            )
            report.failed.append(job.pk)
        else:
            where = (
                f"from the checkpoint of epoch {job.checkpoint_epoch}"
                if job.checkpoint
                else "from the start"
            )
            Job.objects.filter(pk=job.pk).update(
                status=JobStatus.QUEUED,
                enqueued_at=None,
                progress_message=f"{lost}; it will resume {where}",
            )
            report.requeued.append(job.pk)
    logger.warning("job %s: heartbeat stopped, handled by the reconciler", job_id)
    return job_id in report.requeued


def _expire_predictions(now: object) -> int:
    expired = Prediction.objects.filter(
        status=PredictionStatus.PENDING, created_at__lt=now - PREDICTION_TIMEOUT
    ).update(
        status=PredictionStatus.FAILED,
        finished_at=now,
        error_message="no worker answered in time",
    )
    Prediction.objects.filter(created_at__lt=now - PREDICTION_RETENTION).delete()
    return expired
