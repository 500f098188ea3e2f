"""The model registry: new versions from training jobs, and the project's active version."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from labeling.models import Project
from modeling.models import Job, ModelVersion


@transaction.atomic
def model_version_create(
    *,
    project: Project,
    job: Job | None,
    architecture: str,
    method: str,
    hyperparameters: dict[str, Any],
    snapshot: dict[str, Any],
    class_names: list[str],
    preprocessing: dict[str, Any],
    metrics: dict[str, Any],
    history: list[dict[str, Any]],
    checkpoint: str,
    checkpoint_bytes: int,
    parent: ModelVersion | None = None,
    activate_if_first: bool = True,
) -> ModelVersion:
    """Registers a trained model under the project's next version number.

    The project's first version becomes active; later ones wait for an admin to activate them.
    Creating the version of a job twice (a worker that died after registering) returns the one
    that exists.
    """
    Project.objects.select_for_update().filter(pk=project.pk).first()  # serialises numbering
    if job is not None:
        existing = ModelVersion.objects.filter(job=job).first()
        if existing is not None:
            return existing
    number = (ModelVersion.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
    has_active = ModelVersion.objects.filter(project=project, is_active=True).exists()
    version = ModelVersion(
        project=project,
        number=number,
        architecture=architecture,
        method=method,
        hyperparameters=hyperparameters,
        snapshot=snapshot,
        class_names=class_names,
        preprocessing=preprocessing,
        metrics=metrics,
        history=history,
        checkpoint=checkpoint,
        checkpoint_bytes=checkpoint_bytes,
        parent=parent,
        job=job,
        created_by=job.created_by if job else None,
        is_active=activate_if_first and not has_active,
        activated_at=timezone.now() if activate_if_first and not has_active else None,
    )
    version.full_clean()
    version.save()
    return version


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Makes ``version`` the project's active version (switching back is the same action)."""
    # Lock the project's versions so two concurrent activations cannot both win.
    list(ModelVersion.objects.select_for_update().filter(project_id=version.project_id))
    ModelVersion.objects.filter(project_id=version.project_id, is_active=True).exclude(
        pk=version.pk
    ).update(is_active=False)
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True, activated_at=timezone.now())
    version.refresh_from_db()
    return version


@transaction.atomic
def model_version_metrics_update(*, version_id: int, split: str, metrics: dict[str, Any]) -> None:
    """Stores the metrics of an evaluation of ``version_id`` on ``split``."""
    version = ModelVersion.objects.select_for_update().get(pk=version_id)
    version.metrics = {**(version.metrics or {}), split: metrics}
    version.save(update_fields=["metrics"])
