"""Celery tasks of the modeling app: thin wrappers that take ids and call one runner or service.

``run_job`` and ``run_prediction`` go to the gpu queue (settings.CELERY_TASK_ROUTES); they are
acknowledged late and rejected (requeued) when their worker process dies, and the job row's
claim makes a redelivered message harmless. Torch is imported only inside the task bodies, so the
web process, which imports this module to publish, never loads it.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_init, worker_ready
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(
    name="modeling.tasks.run_job",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.SIGHTLINE_JOB_SOFT_TIME_LIMIT,
    time_limit=settings.SIGHTLINE_JOB_TIME_LIMIT,
    ignore_result=True,
)
def run_job(self: Any, job_id: int) -> str:
    """Runs one job (train, refine, explain, evaluate) to its end; returns the outcome."""
    from modeling.worker.runner import run_job as run

    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    return run(job_id=job_id, redelivered=redelivered)


@shared_task(
    name="modeling.tasks.run_prediction",
    acks_late=True,
    reject_on_worker_lost=False,
    soft_time_limit=60,
    time_limit=90,
    ignore_result=True,
)
def run_prediction(prediction_id: int) -> None:
    """Answers one interactive prediction (models stay loaded between calls)."""
    from modeling.worker.predict import run_prediction as run

    run(prediction_id=prediction_id)


@shared_task(name="modeling.tasks.reconcile_jobs", ignore_result=True)
def reconcile_jobs() -> str:
    """Sends unsent jobs and resumes or fails jobs whose worker stopped (periodic)."""
    from modeling.services.reconcile import jobs_reconcile

    return str(jobs_reconcile())


@worker_ready.connect
def _reconcile_when_a_worker_starts(sender: Any = None, **kwargs: Any) -> None:
    """A worker that starts (often after a crash) asks for a reconcile pass."""
    try:
        reconcile_jobs.apply_async(
            retry=True, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY
        )
    except Exception:  # a missing broker only delays the pass until the next beat
        logger.warning("could not request a reconcile pass at worker start", exc_info=True)


@worker_init.connect
def _preload_the_modeling_core(sender: Any = None, **kwargs: Any) -> None:
    """Imports torch and the modeling core once in the worker's main process, before its pool
    forks, so a job starts without seconds of imports (the web process never runs this).

    Only pure modules are imported (nothing touches CUDA or Django here). Workers that serve
    only light queues can skip it with ``SIGHTLINE_WORKER_PRELOAD=0``.
    """
    if not settings.SIGHTLINE_WORKER_PRELOAD:
        return
    import modeling.ml.training
    import modeling.ml.vapl  # noqa: F401
