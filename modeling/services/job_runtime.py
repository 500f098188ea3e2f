"""Writes a worker makes to the job it runs: claim, heartbeat, progress, logs, metrics, the end.

Every write is a targeted ``UPDATE`` of the columns the worker owns, guarded by the claim (status
``running`` and this worker's host and pid), so a cancel request from the web process is never
overwritten and a worker that lost its claim cannot overwrite the one that took over.
No torch here: these functions are plain Django.

The writes a running job makes (progress, metrics, checkpoint, the end) ride out a database
restart: each is idempotent, so ``_survives_db_outage`` closes the broken connection and
retries it with backoff for up to ``SIGHTLINE_JOB_DB_RETRY_SECONDS``, then raises
``DatabaseUnavailable`` (the runner fails the job with its message). The claim is not retried:
it is not idempotent, and a job that cannot be claimed is simply delivered again later.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from modeling.models import Job, JobMetric, JobStatus

logger = logging.getLogger(__name__)

LOG_TAIL_LINES = 200
# Waits between two tries of a write while the database is down: 0.5 s doubling up to 5 s.
_FIRST_WAIT, _LONGEST_WAIT = 0.5, 5.0

P = ParamSpec("P")
R = TypeVar("R")


class DatabaseUnavailable(Exception):
    """The database stayed unreachable longer than a running job waits for it."""


def _survives_db_outage(write: Callable[P, R]) -> Callable[P, R]:
    """Retries an idempotent write through a database outage (see the module docstring).

    Inside a transaction a broken connection cannot be replaced, so the error is raised at once.
    """

    @functools.wraps(write)
    def retrying(*args: P.args, **kwargs: P.kwargs) -> R:
        budget = settings.SIGHTLINE_JOB_DB_RETRY_SECONDS
        deadline, wait, tries = time.monotonic() + budget, _FIRST_WAIT, 0
        while True:
            try:
                return write(*args, **kwargs)
            except (OperationalError, InterfaceError) as exc:
                if connection.in_atomic_block:
                    raise
                tries += 1
                connection.close()  # the next try opens a new connection
                if time.monotonic() + wait > deadline:
                    raise DatabaseUnavailable(
                        f"The database was unreachable for more than {budget} seconds "
                        f"({tries} tries to {write.__name__.removeprefix('job_')}); the job "
                        f"stopped: {type(exc).__name__}: {str(exc).strip()[:200]}"
                    ) from exc
                logger.warning(
                    "%s failed (%s); retrying in %.1f s", write.__name__, type(exc).__name__, wait
                )
                time.sleep(wait)
                wait = min(wait * 2, _LONGEST_WAIT)

    return retrying


@dataclass(frozen=True)
class Worker:
    """Identity of the process running a job (the claim)."""

    host: str
    pid: int

    @classmethod
    def current(cls) -> Worker:
        return cls(host=socket.gethostname(), pid=os.getpid())


@dataclass(frozen=True)
class Claim:
    """Outcome of ``job_claim``: whether to run, and whether from a checkpoint."""

    run: bool
    reason: str
    resume: bool = False
    attempt: int = 0


def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.SIGHTLINE_JOB_STALE_SECONDS)


def _process_is_dead(job: Job, worker: Worker) -> bool:
    """True when the job's recorded worker process provably no longer exists.

    Only decidable on the same host (another machine's processes are judged by the heartbeat
    alone); a process with the same pid may be this one running several jobs (thread pools), so
    that too is left to the heartbeat.
    """
    if job.worker_host != worker.host or not job.worker_pid or job.worker_pid == worker.pid:
        return False
    try:
        os.kill(job.worker_pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by another user
        return False
    return False


@transaction.atomic
def job_claim(*, job_id: int, worker: Worker, device: str = "") -> Claim:
    """Takes a job for ``worker`` unless it is finished or alive elsewhere.

    A running job whose heartbeat is fresh belongs to a live worker (a redelivered message, for
    example after a visibility timeout): the claim is refused, so the job never runs twice. A
    running job whose heartbeat stopped, or whose process on this host is gone, was abandoned by
    a dead worker: it is resumed from its checkpoint, or failed once it used up its attempts.
    """
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        return Claim(False, "the job no longer exists")
    if job.is_terminal:
        return Claim(False, f"the job already {job.status}")
    now = timezone.now()
    if job.status == JobStatus.RUNNING:
        alive = job.heartbeat_at is not None and job.heartbeat_at >= _stale_before(now)
        if alive and not _process_is_dead(job, worker):
            return Claim(False, f"running on {job.worker_host} pid {job.worker_pid}")
        if job.cancel_requested:
            _finish(job.pk, JobStatus.CANCELLED, "cancelled while its worker was lost")
            return Claim(False, "cancelled")
        if job.attempts >= settings.SIGHTLINE_JOB_MAX_ATTEMPTS:
            _finish(
                job.pk,
                JobStatus.FAILED,
                "worker lost",
                error=f"the worker running this job stopped ({job.attempts} attempts)",
            )
            return Claim(False, "out of attempts")
    elif job.cancel_requested:
        _finish(job.pk, JobStatus.CANCELLED, "cancelled before it started")
        return Claim(False, "cancelled")
    resume = bool(job.checkpoint)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        started_at=job.started_at or now,
        heartbeat_at=now,
        worker_host=worker.host,
        worker_pid=worker.pid,
        device=device,
        attempts=job.attempts + 1,
        enqueued_at=job.enqueued_at or now,
        progress_message=(
            f"resuming from the checkpoint of epoch {job.checkpoint_epoch}" if resume else "started"
        ),
    )
    return Claim(True, "claimed", resume=resume, attempt=job.attempts + 1)


def _owned(job_id: int, worker: Worker):  # -> QuerySet[Job]
    return Job.objects.filter(
        pk=job_id, status=JobStatus.RUNNING, worker_host=worker.host, worker_pid=worker.pid
    )


def job_heartbeat(*, job_id: int, worker: Worker) -> bool | None:
    """Refreshes the heartbeat; returns the cancel flag, or None when the claim was lost."""
    now = timezone.now()
    if not _owned(job_id, worker).update(heartbeat_at=now):
        return None
    return Job.objects.filter(pk=job_id).values_list("cancel_requested", flat=True).first()


@_survives_db_outage
def job_cancel_requested(*, job_id: int) -> bool:
    """The job's cancel flag (True also when the job was removed)."""
    flag = Job.objects.filter(pk=job_id).values_list("cancel_requested", flat=True).first()
    return True if flag is None else bool(flag)


@_survives_db_outage
def job_report(
    *,
    job_id: int,
    worker: Worker,
    progress: float | None = None,
    step: int | None = None,
    total: int | None = None,
    message: str | None = None,
    log_tail: str | None = None,
    log_count: int | None = None,
) -> bool:
    """Writes progress and the log tail, and refreshes the heartbeat. False: claim lost."""
    fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
    if progress is not None:
        fields["progress"] = min(1.0, max(0.0, float(progress)))
    if step is not None:
        fields["progress_step"] = max(0, int(step))
    if total is not None:
        fields["progress_total"] = max(0, int(total))
    if message is not None:
        fields["progress_message"] = message[:300]
    if log_tail is not None:
        fields["log_tail"] = log_tail
    if log_count is not None:
        fields["log_lines"] = log_count
    return bool(_owned(job_id, worker).update(**fields))


@_survives_db_outage
def job_metric_add(*, job_id: int, step: int, values: dict[str, Any], epoch: int | None) -> None:
    """Records one point of the metrics time series (replacing a point of the same step, which
    a resumed job writes again)."""
    JobMetric.objects.update_or_create(
        job_id=job_id, step=step, defaults={"values": values, "epoch": epoch}
    )


@_survives_db_outage
def job_checkpoint_set(*, job_id: int, worker: Worker, name: str, epoch: int) -> bool:
    """Points the job at its newest checkpoint in storage (what a resumed attempt starts from)."""
    return bool(_owned(job_id, worker).update(checkpoint=name, checkpoint_epoch=epoch))


def _finish(job_id: int, status: str, message: str, *, error: str = "", **fields: Any) -> int:
    now = timezone.now()
    values: dict[str, Any] = {
        "status": status,
        "finished_at": now,
        "progress_message": message[:300],
        "error_message": error,
        **fields,
    }
    return Job.objects.filter(pk=job_id).exclude(status__in=_TERMINAL).update(**values)


_TERMINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@_survives_db_outage
def job_succeed(
    *, job_id: int, worker: Worker, result: dict[str, Any], message: str = "done"
) -> bool:
    """Marks the job succeeded with its result summary (progress 100%)."""
    return bool(
        _owned(job_id, worker).update(
            status=JobStatus.SUCCEEDED,
            finished_at=timezone.now(),
            progress=1.0,
            progress_message=message[:300],
            result=result,
        )
    )


@_survives_db_outage
def job_fail(*, job_id: int, worker: Worker | None, error: str) -> bool:
    """Marks the job failed with a message for users (never a traceback: that goes to the log)."""
    queryset = _owned(job_id, worker) if worker else Job.objects.filter(pk=job_id)
    return bool(
        queryset.exclude(status__in=_TERMINAL).update(
            status=JobStatus.FAILED,
            finished_at=timezone.now(),
            progress_message="failed",
            error_message=error[:2000],
        )
    )


@_survives_db_outage
def job_mark_cancelled(*, job_id: int, worker: Worker) -> bool:
    """Marks a running job cancelled (after its worker stopped at a batch boundary)."""
    return bool(
        _owned(job_id, worker).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now(), progress_message="cancelled"
        )
    )
