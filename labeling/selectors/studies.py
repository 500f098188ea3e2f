"""Reads of rating studies: visibility, a reviewer's items, the blind maps, the report, exports.

Visibility: a project's admins see all its studies; anyone else sees only the studies they
rate in (annotators are never raters, so they see none: a study is blind), and a reviewer reads
only their own presentations.

Maps of a condition for an image:
- ``model_map``: the stored explanation map (``map_method``) of the condition's model version,
  for the image's label when there are several;
- ``refined_prompt``: the stored refined prompt ``t(D)`` of the condition's (VAPL) version for
  the prompt version recorded with the study image;
- ``raw_prompt``: that prompt version as drawn, important region 255, everything else 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from labeling import imaging, review_stats
from labeling.models import (
    ConditionKind,
    Image,
    ImagePrediction,
    Project,
    PromptVersion,
    Rating,
    RatingStudy,
    Role,
    StudyCondition,
    StudyImage,
    StudyPresentation,
    StudyReviewer,
)
from labeling.selectors.common import AnyUser, not_found, role_expression, visible_projects_q
from labeling.selectors.review import explanation_map_files
from labeling.storage import read_file
from modeling.models import RefinedPrompt

LIKERT_ANCHORS = {
    1: "Only unneeded attention",
    2: "Mostly unneeded attention, little of what is needed",
    3: "Needed and unneeded attention in similar measure",
    4: "Mostly needed attention, a little unneeded",
    5: "Needed attention clearly, no unneeded attention",
}


class _Spec(Protocol):
    name: str
    kind: str
    model_version: Any
    map_method: str


def _version_id(spec: _Spec) -> int | None:
    value = spec.model_version
    return getattr(value, "pk", value)


def missing_maps(
    *, specs: Sequence[_Spec], images: Sequence[Image], prompt_versions: Mapping[int, int]
) -> dict[str, list[str]]:
    """Per condition name, the names of the images it has no map for (one query a condition)."""
    missing: dict[str, list[str]] = {}
    for spec in specs:
        version_id = _version_id(spec)
        if spec.kind == ConditionKind.MODEL_MAP:
            files = explanation_map_files(model_version_id=version_id, method=spec.map_method)
            lacking = [image.name for image in images if image.pk not in files]
        elif spec.kind == ConditionKind.REFINED_PROMPT:
            refined = set(
                RefinedPrompt.objects.filter(
                    model_version_id=version_id, prompt_version_id__in=prompt_versions.values()
                ).values_list("prompt_version_id", flat=True)
            )
            lacking = [i.name for i in images if prompt_versions.get(i.pk) not in refined]
        else:
            lacking = [image.name for image in images if image.pk not in prompt_versions]
        if lacking:
            missing[spec.name] = lacking
    return missing


def _participant(user: AnyUser) -> Exists:
    return Exists(StudyReviewer.objects.filter(study_id=OuterRef("pk"), user_id=user.pk))


def _studies(user: AnyUser) -> QuerySet[RatingStudy]:
    complete = (
        Rating.objects.filter(
            presentation__study_id=OuterRef("pk"),
            presentation__reviewer_id=user.pk,
            complete=True,
        )
        .order_by()
        .values("presentation__study_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    presented = (
        StudyPresentation.objects.filter(study_id=OuterRef("pk"), reviewer_id=user.pk)
        .order_by()
        .values("study_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    counts = {
        name: Subquery(
            model.objects.filter(study_id=OuterRef("pk"))
            .order_by()
            .values("study_id")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        )
        for name, model in (("condition_count", StudyCondition), ("reviewer_count", StudyReviewer))
    }
    images = StudyImage.objects.filter(study_id=OuterRef("pk"))
    return (
        RatingStudy.objects.filter(visible_projects_q(user, "project_id"))
        .annotate(
            my_role=role_expression(user, "project_id"),
            is_participant=_participant(user),
            image_count=Coalesce(
                Subquery(
                    images.order_by().values("study_id").annotate(n=Count("pk")).values("n"),
                    output_field=IntegerField(),
                ),
                0,
            ),
            my_presented=Coalesce(Subquery(presented, output_field=IntegerField()), 0),
            my_done=Coalesce(Subquery(complete, output_field=IntegerField()), 0),
            **{k: Coalesce(v, 0) for k, v in counts.items()},
        )
        .filter(Q(my_role=Role.ADMIN) | Q(is_participant=True))
        .select_related("created_by")
    )


def study_list_for_user(*, user: AnyUser, project: Project) -> QuerySet[RatingStudy]:
    """The studies of a project the caller administers or rates in, newest first."""
    return _studies(user).filter(project=project).order_by("-created_at", "-pk")


def study_get_for_user(*, user: AnyUser, study_id: int) -> RatingStudy:
    """One study the caller administers or rates in; 404 otherwise."""
    study = _studies(user).filter(pk=study_id).first()
    if study is None:
        raise not_found()
    return study


def study_conditions(*, study: RatingStudy) -> list[StudyCondition]:
    return list(StudyCondition.objects.filter(study=study).order_by("position"))


def _presentations(user: AnyUser) -> QuerySet[StudyPresentation]:
    done = (
        Rating.objects.filter(presentation_id=OuterRef("pk"), complete=True)
        .order_by()
        .values("presentation_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        StudyPresentation.objects.filter(reviewer_id=user.pk)
        .select_related("study", "study_image__image")
        .defer("study_image__image__metadata")
        .annotate(done=Coalesce(Subquery(done, output_field=IntegerField()), 0))
    )


def presentation_list(*, study: RatingStudy, user: AnyUser) -> QuerySet[StudyPresentation]:
    """The caller's items of a study in their own order, each with ``done`` (complete slots)."""
    return _presentations(user).filter(study=study).order_by("position")


def presentation_next(*, study: RatingStudy, user: AnyUser) -> StudyPresentation | None:
    """The caller's first item with an unanswered slot (None when every item is done)."""
    for item in presentation_list(study=study, user=user):
        if item.done < len(item.order):
            return item
    return None


def presentation_get_for_user(*, user: AnyUser, presentation_id: int) -> StudyPresentation:
    """One of the caller's own items; 404 for anyone else's."""
    item = _presentations(user).filter(pk=presentation_id).first()
    if item is None:
        raise not_found()
    return item


def presentation_ratings(*, presentation: StudyPresentation) -> dict[int, Rating]:
    """The saved ratings of an item by slot."""
    return {r.slot: r for r in Rating.objects.filter(presentation=presentation)}


def study_map_png(*, presentation: StudyPresentation, slot: int) -> bytes:
    """The map shown in one slot of an item (8-bit grey PNG at the image's size); 404 if none."""
    if not 1 <= slot <= len(presentation.order):
        raise not_found()
    condition = StudyCondition.objects.filter(pk=presentation.order[slot - 1]).first()
    study_image = presentation.study_image
    image = study_image.image
    if condition is None:
        raise not_found()
    if condition.kind == ConditionKind.MODEL_MAP:
        files = explanation_map_files(
            model_version_id=condition.model_version_id, method=condition.map_method
        ).get(image.pk, {})
        name = files.get(image.label) or next(iter(files.values()), None)
        if name is None:
            raise not_found()
        return read_file(name)
    if study_image.prompt_version_id is None:
        raise not_found()
    if condition.kind == ConditionKind.REFINED_PROMPT:
        refined = RefinedPrompt.objects.filter(
            model_version_id=condition.model_version_id,
            prompt_version_id=study_image.prompt_version_id,
        ).first()
        if refined is None:
            raise not_found()
        return read_file(refined.file)
    mask = PromptVersion.objects.values_list("mask_png", flat=True).get(
        pk=study_image.prompt_version_id
    )
    prompt = imaging.prompt_from_png(bytes(mask), size=(image.width, image.height))
    return imaging.encode_png(np.where(prompt == imaging.IMPORTANT, 255, 0).astype(np.uint8))


def study_progress(*, study: RatingStudy) -> list[dict[str, Any]]:
    """Per reviewer: complete ratings and ratings expected (items x conditions)."""
    n_conditions = StudyCondition.objects.filter(study=study).count()
    items = dict(
        StudyPresentation.objects.filter(study=study)
        .values("reviewer__username")
        .annotate(n=Count("pk"))
        .values_list("reviewer__username", "n")
    )
    done = dict(
        Rating.objects.filter(presentation__study=study, complete=True)
        .values("presentation__reviewer__username")
        .annotate(n=Count("pk"))
        .values_list("presentation__reviewer__username", "n")
    )
    return [
        {"username": name, "complete": done.get(name, 0), "expected": n * n_conditions}
        for name, n in sorted(items.items())
    ]


def study_rating_rows(*, study: RatingStudy) -> list[dict[str, Any]]:
    """Every saved rating of a study, one row each (the export, and the report's input)."""
    conditions = {c.pk: c for c in StudyCondition.objects.filter(study=study)}
    rows = (
        Rating.objects.filter(presentation__study=study)
        .order_by("presentation__reviewer__username", "presentation__position", "slot")
        .values_list(
            "presentation__reviewer__username",
            "presentation__study_image__image_id",
            "presentation__study_image__image__name",
            "presentation__study_image__image__label",
            "presentation__position",
            "condition_id",
            "slot",
            "q1_needed",
            "q2_unneeded",
            "likert",
            "complete",
            "updated_at",
        )
    )
    out = []
    for user, image_id, name, label, position, cid, slot, q1, q2, likert, complete, at in rows:
        condition = conditions[cid]
        reasonable = None if q1 is None or q2 is None else review_stats.is_reasonable(q1, q2)
        out.append(
            {
                "study": study.name,
                "reviewer": user,
                "image_id": image_id,
                "image": name,
                "label": label,
                "item_position": position + 1,
                "condition": condition.name,
                "condition_kind": condition.kind,
                "model_version": condition.model_version_id,
                "slot": slot,
                "q1_needed": q1,
                "q2_unneeded": q2,
                "reasonable": reasonable,
                "likert": likert,
                "complete": complete,
                "updated_at": at.isoformat(),
            }
        )
    return out


def _condition_matrix(
    condition: StudyCondition, votes: Mapping[int, list[bool]], labels: Mapping[int, str | None]
) -> dict[str, Any] | None:
    """Reasonability matrix of one condition: per image the reviewers' majority, accuracy from
    the condition's version's stored prediction (None without a model version)."""
    if condition.model_version_id is None:
        return None
    predicted = dict(
        ImagePrediction.objects.filter(
            model_version_id=condition.model_version_id, image_id__in=list(votes)
        ).values_list("image_id", "predicted_class")
    )
    counts = dict.fromkeys(review_stats.QUADRANTS, 0)
    for image_id, image_votes in votes.items():
        decided = review_stats.majority_vote(image_votes)
        label = labels.get(image_id)
        if decided is None or label is None or image_id not in predicted:
            continue
        accurate = predicted[image_id] == label
        counts[review_stats.quadrant(reasonable=decided, accurate=accurate)] += 1
    return {"counts": counts, **review_stats.matrix_rates(counts)}


def study_report(*, study: RatingStudy) -> dict[str, Any]:
    """Per condition: Likert mean, SD and distribution, share reasonable and its matrix; the
    Kruskal-Wallis H and Dunn's test across conditions; agreement between reviewers."""
    conditions = study_conditions(study=study)
    rows = study_rating_rows(study=study)
    likert: dict[str, list[int]] = {c.name: [] for c in conditions}
    reasonable: dict[str, list[bool]] = {c.name: [] for c in conditions}
    votes: dict[str, dict[int, list[bool]]] = {c.name: defaultdict(list) for c in conditions}
    by_slot: dict[int, list[int]] = defaultdict(list)
    labels: dict[int, str | None] = {}
    likert_answers: dict[str, dict[tuple[int, str], int]] = defaultdict(dict)
    reasonable_answers: dict[str, dict[tuple[int, str], bool]] = defaultdict(dict)
    for row in rows:
        name, key = row["condition"], (row["image_id"], row["condition"])
        labels[row["image_id"]] = row["label"]
        if row["likert"] is not None:
            likert[name].append(row["likert"])
            by_slot[row["slot"]].append(row["likert"])
            likert_answers[row["reviewer"]][key] = row["likert"]
        if row["reasonable"] is not None:
            reasonable[name].append(row["reasonable"])
            votes[name][row["image_id"]].append(row["reasonable"])
            reasonable_answers[row["reviewer"]][key] = row["reasonable"]
    per_condition = []
    for condition in conditions:
        values, answers = likert[condition.name], reasonable[condition.name]
        per_condition.append(
            {
                "id": condition.pk,
                "name": condition.name,
                "kind": condition.kind,
                "model_version": condition.model_version_id,
                "map_method": condition.map_method,
                "likert": {
                    **review_stats.describe(values),
                    "distribution": {str(k): values.count(k) for k in LIKERT_ANCHORS},
                },
                "reasonable": {
                    "n": len(answers),
                    "share": (sum(answers) / len(answers)) if answers else None,
                },
                "matrix": _condition_matrix(condition, votes[condition.name], labels),
            }
        )
    levels = list(LIKERT_ANCHORS)
    return {
        "study": {"id": study.pk, "name": study.name, "status": study.status},
        "questions": list(study.questions),
        "likert_anchors": {str(k): v for k, v in LIKERT_ANCHORS.items()},
        "conditions": per_condition,
        "kruskal_wallis": review_stats.kruskal_wallis(likert),
        "dunn": review_stats.dunn_test(likert, correction=study.correction),
        "likert_by_slot": {str(s): review_stats.describe(v) for s, v in sorted(by_slot.items())},
        "agreement": {
            "likert": {
                "cohen_quadratic": review_stats.pairwise_cohen(
                    likert_answers, categories=levels, weights="quadratic"
                ),
                "fleiss": review_stats.fleiss_over_complete(likert_answers, levels),
            },
            "reasonable": {
                "cohen": review_stats.pairwise_cohen(reasonable_answers, categories=[True, False]),
                "fleiss": review_stats.fleiss_over_complete(reasonable_answers, [True, False]),
            },
        },
        "progress": study_progress(study=study),
        "definitions": {
            "reasonable": "Q1 (needed details highlighted) yes and Q2 (unneeded details) no",
            "likert": "1 = only unneeded attention ... 5 = needed attention clearly, no unneeded",
            "sd": "sample standard deviation (ddof 1)",
            "kruskal_wallis": "scipy.stats.kruskal on the Likert ratings of each condition, "
            "tie-corrected, chi-squared p with k - 1 df; every rating is one observation",
            "dunn": f"Dunn (1964) z on pooled average ranks with the tie correction, two-sided "
            f"normal p, {study.correction} correction over all pairs",
            "agreement": "items are (image, condition) pairs; Cohen's kappa per pair of "
            "reviewers (quadratic weights for Likert), Fleiss' kappa over items every "
            "reviewer answered",
            "matrix": "per image the majority of reviewers (ties left out); accuracy from the "
            "condition's model version's stored prediction against the current label",
        },
    }
