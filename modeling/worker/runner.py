"""Running one job in a worker: claim it, run its kind, record how it ended, free the GPU.

The claim (``modeling.services.job_runtime.job_claim``) makes a redelivered or duplicated message
harmless: a job that is finished, or running with a fresh heartbeat elsewhere, is left alone.
Users see a short error message; the traceback goes to the worker log only. Whatever happens,
the job row never stays ``running`` after this function returns (except when another worker
took the job over, which then owns the row).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable

import torch
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from modeling.ml.training import Cancelled
from modeling.models import Job, JobKind
from modeling.services import job_runtime
from modeling.services.job_runtime import DatabaseUnavailable, Worker
from modeling.worker.analysis import run_evaluate, run_explain, run_refine
from modeling.worker.common import JobError
from modeling.worker.reporter import ClaimLost, JobCancelled, JobReporter
from modeling.worker.train import run_train

logger = logging.getLogger(__name__)

Handler = Callable[..., dict]

HANDLERS: dict[str, Handler] = {
    JobKind.TRAIN: run_train,
    JobKind.REFINE: run_refine,
    JobKind.EXPLAIN: run_explain,
    JobKind.EVALUATE: run_evaluate,
}


def pick_device() -> torch.device:
    """The GPU this worker process sees (``CUDA_VISIBLE_DEVICES`` selects it), else the CPU.

    Also applies ``SIGHTLINE_WORKER_TORCH_THREADS`` (CPU threads of torch in this process).
    """
    threads = settings.SIGHTLINE_WORKER_TORCH_THREADS
    if threads and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{device.index or 0} ({torch.cuda.get_device_name(device)})"
    return "cpu"


def run_job(*, job_id: int, redelivered: bool = False, heartbeat: bool = True) -> str:
    """Runs job ``job_id`` to its end and returns the outcome (for the worker log).

    Args:
        job_id: the job row.
        redelivered: the broker says this message was delivered before (logged only: the claim
            decides, from the job row).
        heartbeat: run the heartbeat thread (off only in single-threaded in-process tests).
    """
    worker = Worker.current()
    device = pick_device()
    claim = job_runtime.job_claim(job_id=job_id, worker=worker, device=describe(device))
    if not claim.run:
        logger.info("job %s not run (%s)%s", job_id, claim.reason, " [redelivered]" * redelivered)
        return f"skipped: {claim.reason}"
    period = settings.SIGHTLINE_JOB_HEARTBEAT_SECONDS if heartbeat else None
    outcome, error = "succeeded", ""
    result: dict = {}
    with JobReporter(job_id=job_id, worker=worker, heartbeat_seconds=period) as reporter:
        try:
            job = Job.objects.select_related("project", "model_version").get(pk=job_id)
            where = f"resuming from epoch {job.checkpoint_epoch}" if claim.resume else "starting"
            reporter.log(
                f"attempt {claim.attempt} on {worker.host} (pid {worker.pid}, "
                f"{describe(device)}): {where}"
            )
            result = HANDLERS[job.kind](
                job=job, reporter=reporter, device=device, resume=claim.resume
            )
        except (JobCancelled, Cancelled):
            outcome = "lost" if reporter.claim_lost else "cancelled"
            if outcome == "cancelled":
                reporter.log("stopped at a batch boundary: the job was cancelled")
        except ClaimLost:
            outcome = "lost"
        except SoftTimeLimitExceeded:
            outcome = "failed"
            error = (
                f"The job exceeded its time limit of {settings.SIGHTLINE_JOB_SOFT_TIME_LIMIT} "
                "seconds and was stopped."
            )
        except JobError as exc:
            outcome, error = "failed", str(exc)
            reporter.log(f"failed: {exc}")
        except DatabaseUnavailable as exc:
            outcome, error = "failed", str(exc)
            logger.error("job %s: %s", job_id, exc)
        except Exception as exc:  # unexpected: the traceback goes to the worker log only
            logger.exception("job %s failed", job_id)
            outcome = "failed"
            error = f"The job failed unexpectedly ({type(exc).__name__}: {str(exc)[:300]})."
            reporter.log(f"failed with {type(exc).__name__}; the traceback is in the worker log")
    _free_memory(device)
    return _record(job_id, worker, outcome, error, result)


def _record(job_id: int, worker: Worker, outcome: str, error: str, result: dict) -> str:
    try:
        outcome = _write_outcome(job_id, worker, outcome, error, result)
    except DatabaseUnavailable:  # the row stays running; the reconciler resumes or fails it
        logger.error("job %s %s, but the database is down: not recorded", job_id, outcome)
        return f"{outcome} (not recorded)"
    if outcome == "lost":
        logger.warning("job %s was taken over by another worker; this attempt stops", job_id)
    logger.info("job %s %s", job_id, outcome)
    return outcome


def _write_outcome(job_id: int, worker: Worker, outcome: str, error: str, result: dict) -> str:
    if outcome == "succeeded":
        done = job_runtime.job_succeed(job_id=job_id, worker=worker, result=result)
        if not done:
            outcome = "lost"
    elif outcome == "cancelled":
        job_runtime.job_mark_cancelled(job_id=job_id, worker=worker)
    elif outcome == "failed":
        job_runtime.job_fail(job_id=job_id, worker=worker, error=error)
    return outcome


def _free_memory(device: torch.device) -> None:
    """Releases what the job left on the GPU (its tensors are unreachable by now)."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
