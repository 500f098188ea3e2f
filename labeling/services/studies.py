"""Writes of rating studies: creating a study (with every reviewer's random, recorded order),
saving ratings answer by answer, closing and deleting a study.

Blindness: a reviewer sees the conditions of an image as numbered slots in an order drawn once
per (reviewer, image) when the study is created and stored with the presentation; images come
in an order drawn once per reviewer. Nothing is pre-selected: a rating starts empty and is
complete once every question the study asks has an answer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from labeling.models import (
    QUESTIONS,
    ConditionKind,
    Correction,
    Image,
    Membership,
    Project,
    Rating,
    RatingStudy,
    Role,
    Selection,
    StudyCondition,
    StudyImage,
    StudyPresentation,
    StudyReviewer,
    StudyStatus,
)
from labeling.selectors.review import current_prompt_versions
from labeling.selectors.studies import missing_maps
from modeling.models import ModelVersion
from sightline.errors import ApplicationError

_UNSET: Any = object()
RATER_ROLES = frozenset({Role.REVIEWER, Role.ADMIN})


@dataclass(frozen=True)
class ConditionSpec:
    """A condition to create: its (admin-visible) name and where its maps come from."""

    name: str
    kind: str
    model_version: int | None = None
    map_method: str = "gradcam"


def _check_conditions(project: Project, specs: Sequence[ConditionSpec]) -> None:
    if len(specs) < 2:
        raise ApplicationError("a study compares at least two conditions", code="invalid")
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ApplicationError("condition names must be unique", code="invalid")
    versions = set(ModelVersion.objects.filter(project=project).values_list("pk", flat=True))
    for spec in specs:
        if spec.kind not in ConditionKind.values:
            raise ApplicationError(f"unknown condition kind {spec.kind!r}", code="invalid")
        if spec.kind == ConditionKind.RAW_PROMPT:
            if spec.model_version is not None:
                raise ApplicationError(
                    f"condition {spec.name!r}: a raw prompt takes no model version",
                    code="invalid",
                )
        elif spec.model_version not in versions:
            raise ApplicationError(
                f"condition {spec.name!r}: choose a model version of this project",
                code="invalid",
            )


def _raters(project: Project, usernames: Sequence[str]) -> list[AbstractBaseUser]:
    if not usernames:
        raise ApplicationError("a study needs at least one reviewer", code="invalid")
    users = {u.username: u for u in get_user_model().objects.filter(username__in=usernames)}
    roles = dict(
        Membership.objects.filter(project=project, user__username__in=usernames).values_list(
            "user__username", "role"
        )
    )
    for name in usernames:
        if name not in users or name not in roles:
            raise ApplicationError(f"{name!r} is not a member of this project", code="invalid")
        if roles[name] not in RATER_ROLES:
            raise ApplicationError(
                f"{name!r} is an {roles[name]}: only reviewers and admins rate",
                code="invalid",
            )
    return [users[name] for name in dict.fromkeys(usernames)]


@transaction.atomic
def study_create(
    *,
    project: Project,
    name: str,
    image_ids: Sequence[int],
    conditions: Sequence[ConditionSpec],
    reviewers: Sequence[str],
    created_by: AbstractBaseUser | None,
    questions: Sequence[str] = QUESTIONS,
    correction: str = Correction.HOLM,
    description: str = "",
    selection: Selection | None = None,
    rng: random.Random | None = None,
) -> RatingStudy:
    """Creates an open study with every reviewer's presentations (random orders recorded).

    Raises:
        ApplicationError: a duplicate name, fewer than two conditions, images outside the
            project, a reviewer who is not a reviewer or admin member, or a condition without a
            map for some image (the message names them).
    """
    if RatingStudy.objects.filter(project=project, name=name).exists():
        raise ApplicationError(f"a study named {name!r} already exists", code="duplicate")
    _check_conditions(project, conditions)
    ids = list(dict.fromkeys(int(i) for i in image_ids))
    images = {
        image.pk: image
        for image in Image.objects.filter(project=project, pk__in=ids).only("pk", "name", "label")
    }
    if not ids or len(images) != len(ids):
        raise ApplicationError("choose one or more images of this project", code="invalid")
    users = _raters(project, reviewers)
    prompts = current_prompt_versions(ids)
    missing = missing_maps(
        specs=conditions, images=[images[i] for i in ids], prompt_versions=prompts
    )
    if missing:
        listed = "; ".join(f"{cond}: {', '.join(names[:5])}" for cond, names in missing.items())
        raise ApplicationError(
            f"some conditions have no map for some images ({listed})",
            code="missing_maps",
            detail=missing,
        )
    study = RatingStudy(
        project=project,
        name=name,
        description=description,
        questions=list(questions),
        correction=correction,
        selection=selection,
        created_by=created_by,
    )
    study.full_clean()
    study.save()
    rows = [
        StudyCondition(
            study=study,
            name=spec.name,
            kind=spec.kind,
            model_version_id=spec.model_version,
            map_method=spec.map_method,
            position=k,
        )
        for k, spec in enumerate(conditions)
    ]
    condition_ids = [c.pk for c in StudyCondition.objects.bulk_create(rows)]
    study_images = StudyImage.objects.bulk_create(
        StudyImage(study=study, image_id=i, position=k, prompt_version_id=prompts.get(i))
        for k, i in enumerate(ids)
    )
    StudyReviewer.objects.bulk_create(StudyReviewer(study=study, user=u) for u in users)
    draw = rng or random.SystemRandom()
    presentations = []
    for user in users:
        shown = list(study_images)
        draw.shuffle(shown)
        for position, study_image in enumerate(shown):
            order = list(condition_ids)
            draw.shuffle(order)
            presentations.append(
                StudyPresentation(
                    study=study,
                    study_image=study_image,
                    reviewer=user,
                    position=position,
                    order=order,
                )
            )
    StudyPresentation.objects.bulk_create(presentations)
    return study


def _check_answer(study: RatingStudy, question: str, value: Any) -> None:
    if value is _UNSET:
        return
    if question not in study.questions:
        raise ApplicationError(f"this study does not ask {question}", code="invalid")
    if question == "likert":
        ok = value is None or (isinstance(value, int) and not isinstance(value, bool))
        if not ok or (value is not None and not 1 <= value <= 5):
            raise ApplicationError("likert must be 1, 2, 3, 4 or 5", code="invalid")
    elif value is not None and not isinstance(value, bool):
        raise ApplicationError(f"{question} must be true or false", code="invalid")


@transaction.atomic
def rating_save(
    *,
    presentation: StudyPresentation,
    slot: int,
    q1_needed: bool | None = _UNSET,
    q2_unneeded: bool | None = _UNSET,
    likert: int | None = _UNSET,
) -> Rating:
    """Saves the answers given so far on one slot (unsent answers keep their stored value).

    Raises:
        ApplicationError: the study is closed (409), the slot does not exist, or an answer is
            not valid for the study's questions.
    """
    study = presentation.study
    if study.status != StudyStatus.OPEN:
        raise ApplicationError(
            "this study is closed", code="study_closed", status_code=status.HTTP_409_CONFLICT
        )
    if not 1 <= slot <= len(presentation.order):
        raise ApplicationError(f"slot must be 1 to {len(presentation.order)}", code="invalid")
    for question, value in (("q1", q1_needed), ("q2", q2_unneeded), ("likert", likert)):
        _check_answer(study, question, value)
    rating, _ = Rating.objects.select_for_update().get_or_create(
        presentation=presentation,
        condition_id=presentation.order[slot - 1],
        defaults={"slot": slot},
    )
    if q1_needed is not _UNSET:
        rating.q1_needed = q1_needed
    if q2_unneeded is not _UNSET:
        rating.q2_unneeded = q2_unneeded
    if likert is not _UNSET:
        rating.likert = likert
    answers = {"q1": rating.q1_needed, "q2": rating.q2_unneeded, "likert": rating.likert}
    rating.complete = all(answers[q] is not None for q in study.questions)
    rating.full_clean(validate_unique=False)
    rating.save()
    return rating


@transaction.atomic
def study_close(*, study: RatingStudy) -> RatingStudy:
    """Closes a study: its ratings stay, no new answer is accepted."""
    if study.status != StudyStatus.CLOSED:
        study.status = StudyStatus.CLOSED
        study.closed_at = timezone.now()
        study.save(update_fields=["status", "closed_at"])
    return study


@transaction.atomic
def study_delete(*, study: RatingStudy) -> None:
    study.delete()
