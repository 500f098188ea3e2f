"""Launching, enqueueing and cancelling jobs (the web side of background work).

A job is written first and sent to the broker only after its transaction commits
(``transaction.on_commit``). Publishing uses a tight retry policy and short socket timeouts, so
when the broker is down the request still answers within about a second: the job stays
``queued`` with ``enqueued_at`` empty and ``enqueue_error`` set, and the reconciler
(``modeling.services.reconcile``) sends it when the broker is back. Nothing is lost and nothing
runs in the web process.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import status

from labeling.models import AttentionPrompt, Image, Project, Split
from labeling.selectors.review import gradia_quadrants_for_training
from modeling.models import Job, JobKind, JobStatus, Method, ModelVersion
from modeling.params import validate_parameters
from sightline.errors import ApplicationError

logger = logging.getLogger(__name__)

_SNAPSHOT_SPLITS = (Split.TRAIN, Split.VAL, Split.TEST)


@transaction.atomic
def job_create(
    *, project: Project, user: AbstractBaseUser | None, kind: str, parameters: dict[str, Any]
) -> Job:
    """Validates and records a job, then enqueues it once the transaction commits.

    Training jobs record the data they will train on (``snapshot``) now, so a job
    that is resumed after a worker died sees the same images, labels and prompt versions.

    Raises:
        ApplicationError: unknown kind, invalid parameters, a model version of another project
            or of the wrong method, or a project without the data the job needs.
    """
    if kind not in JobKind.values:
        raise ApplicationError(
            f"kind must be one of {', '.join(JobKind.values)}", code="invalid_parameters"
        )
    values = validate_parameters(kind, parameters)
    version = None
    snapshot: dict[str, Any] = {}
    if kind == JobKind.TRAIN:
        if values.get("parent_version") is not None:
            parent = _version_of_project(project, values["parent_version"], "parent_version")
            if parent.architecture != values["arch"]:
                raise ApplicationError(
                    f"parent_version is a {parent.architecture}, not a {values['arch']}",
                    code="invalid_parameters",
                    detail={"parent_version": "architecture differs"},
                )
        snapshot = training_snapshot(project=project)
        _check_trainable(project, snapshot)
    else:
        version = _version_of_project(project, values["model_version"], "model_version")
        if kind == JobKind.REFINE and version.method != Method.VAPL:
            raise ApplicationError(
                "prompt refinement needs a VAPL model version",
                code="invalid_parameters",
                detail={"model_version": f"version {version.number} is {version.method}"},
            )
    job = Job(
        project=project,
        kind=kind,
        parameters=values,
        snapshot=snapshot,
        created_by=user,
        model_version=version,
    )
    job.full_clean()
    job.save()
    job_id = job.pk
    transaction.on_commit(lambda: job_enqueue(job_id=job_id))
    return job


def job_enqueue(*, job_id: int) -> bool:
    """Sends a queued job to its queue; records whether the broker took it.

    Returns:
        True when the message was published, False when the broker could not be reached (the
        job stays queued for the reconciler; the reason is kept in ``enqueue_error``).
    """
    from modeling.tasks import run_job

    try:
        run_job.apply_async(
            args=[job_id],
            retry=True,
            retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
        )
    except Exception as exc:  # any broker failure: the job row keeps the work safe
        logger.warning("job %s not enqueued, broker unreachable: %s", job_id, exc)
        Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            enqueued_at=None,
            enqueue_error=(
                f"broker unreachable, will be sent when it is back ({type(exc).__name__})"
            ),
        )
        return False
    Job.objects.filter(pk=job_id).update(
        enqueued_at=timezone.now(), enqueue_error="", sends=F("sends") + 1
    )
    return True


@transaction.atomic
def job_cancel(*, job: Job) -> Job:
    """Cancels a job: a queued job at once, a running one at its next batch.

    Raises:
        ApplicationError: 409 ``job_finished`` when the job already ended.
    """
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.is_terminal:
        raise ApplicationError(
            f"the job already {job.status}",
            code="job_finished",
            status_code=status.HTTP_409_CONFLICT,
        )
    if job.status == JobStatus.QUEUED:
        now = timezone.now()
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.CANCELLED,
            cancel_requested=True,
            finished_at=now,
            progress_message="cancelled before it started",
        )
    else:
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    job.refresh_from_db()
    return job


def training_snapshot(*, project: Project) -> dict[str, Any]:
    """The labelled images of each split and the prompt version used for each image.

    The prompt of an image is the current version of a prompt whose target class is the image's
    label; with several annotators, the most recently updated one. Assessments (reasonability
    matrices feeding GRADIA weights) are recorded under ``assessments``: the quadrant of every
    decided image (``labeling.selectors.review.gradia_quadrants_for_training``); other images
    get GRADIA's weights for unassessed images.

    Returns:
        ``{"splits": {split: [[image_id, label], ...]}, "prompt_versions": [[image_id,
        prompt_version_id], ...], "assessments": {image_id: "RA" | "UA" | "RIA" | "UIA"},
        "class_names": [...], "taken_at": iso}``.
    """
    names = list(project.class_names)
    rows = (
        Image.objects.filter(project=project, split__in=_SNAPSHOT_SPLITS, label__in=names)
        .order_by("pk")
        .values_list("pk", "split", "label")
    )
    splits: dict[str, list[list[Any]]] = {split: [] for split in _SNAPSHOT_SPLITS}
    for image_id, split, label in rows:
        splits[split].append([image_id, label])
    prompts = (
        AttentionPrompt.objects.filter(
            image__project=project,
            image__split__in=_SNAPSHOT_SPLITS,
            current_version__gt=0,
            current__isnull=False,
            target_class=F("image__label"),
        )
        .order_by("image_id", "-updated_at", "-pk")
        .values_list("image_id", "current_id")
    )
    chosen: dict[int, int] = {}
    for image_id, version_id in prompts:
        chosen.setdefault(image_id, version_id)
    return {
        "splits": splits,
        "prompt_versions": [[image_id, version] for image_id, version in sorted(chosen.items())],
        "assessments": {
            str(image_id): quadrant
            for image_id, quadrant in gradia_quadrants_for_training(project=project).items()
        },
        "class_names": names,
        "taken_at": timezone.now().isoformat(),
    }


def _check_trainable(project: Project, snapshot: dict[str, Any]) -> None:
    splits = snapshot["splits"]
    missing = []
    if len(splits[Split.TRAIN]) < 2:
        missing.append("at least 2 labelled images in the train split")
    if not splits[Split.VAL]:
        missing.append("at least 1 labelled image in the val split (early stopping)")
    if missing:
        raise ApplicationError(
            f"project {project.name!r} cannot be trained yet: it needs {' and '.join(missing)}",
            code="not_enough_data",
            detail={"train": len(splits[Split.TRAIN]), "val": len(splits[Split.VAL])},
        )


def _version_of_project(project: Project, version_id: int, field: str) -> ModelVersion:
    version = ModelVersion.objects.filter(project=project, pk=version_id).first()
    if version is None:
        raise ApplicationError(
            f"model version {version_id} does not exist in this project",
            code="invalid_parameters",
            detail={field: "not a model version of this project"},
        )
    return version
