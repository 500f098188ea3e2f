"""Saving rule-based selections and sending them on (annotation queue, rating study)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from labeling.models import Project, Selection
from labeling.selectors.selections import SelectionRules, selection_image_ids
from labeling.services.review import prediction_energies_refresh
from modeling.models import ModelVersion
from sightline.errors import ApplicationError


def _version(project: Project, version_id: int | None) -> ModelVersion | None:
    if version_id is None:
        return None
    version = ModelVersion.objects.filter(project=project, pk=version_id).first()
    if version is None:
        raise ApplicationError(
            f"model version {version_id} does not exist in this project",
            code="invalid",
            detail={"model_version": "not a model version of this project"},
        )
    return version


@transaction.atomic
def selection_evaluate(*, project: Project, rules: SelectionRules) -> list[int]:
    """The ids matching ``rules``, first refreshing stored attention energies when a rule
    reads them (a write, hence a service)."""
    rules.check()
    version = _version(project, rules.model_version)
    if version is not None and rules.uses_energy:
        prediction_energies_refresh(model_version=version)
    return selection_image_ids(project=project, rules=rules)


@transaction.atomic
def selection_create(
    *,
    project: Project,
    name: str,
    rules: SelectionRules,
    created_by: AbstractBaseUser | None,
) -> Selection:
    """Saves the images matching ``rules`` now (the list is frozen) under a unique name."""
    if Selection.objects.filter(project=project, name=name).exists():
        raise ApplicationError(f"a selection named {name!r} already exists", code="duplicate")
    ids = selection_evaluate(project=project, rules=rules)
    if not ids:
        raise ApplicationError("no image matches these rules", code="empty_selection")
    selection = Selection(
        project=project, name=name, rules=rules.as_dict(), image_ids=ids, created_by=created_by
    )
    selection.full_clean()
    selection.save()
    return selection


@transaction.atomic
def selection_delete(*, selection: Selection) -> None:
    selection.delete()


@transaction.atomic
def selection_queue_for_annotation(*, selection: Selection) -> Selection:
    """Puts the selection's images on the project's annotation queue."""
    if selection.queued_for_annotation_at is None:
        selection.queued_for_annotation_at = timezone.now()
        selection.save(update_fields=["queued_for_annotation_at"])
    return selection


@transaction.atomic
def selection_unqueue(*, selection: Selection) -> Selection:
    """Takes the selection's images off the annotation queue."""
    selection.queued_for_annotation_at = None
    selection.save(update_fields=["queued_for_annotation_at"])
    return selection
