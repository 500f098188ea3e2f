"""Reads of the reasonability review: the review queue, decisions, the matrix and its cells,
disagreements to adjudicate, and the per-image quadrants that GRADIA training uses.

The review works on the model versions and attention maps of the ``modeling`` app, so this
module reads ``modeling.models`` (the registry rows only: never ``modeling.ml``, never torch).

Decisions (METHODS.md section 5): an image's reasonability is the adjudication when an admin made
one, else the majority vote of its reviewers' assessments (a tie decides nothing). Its accuracy
compares the predicted class the reviewers were shown with the image's current label
(unlabelled images are assessed but stay out of the matrix).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from labeling import review_stats
from labeling.models import (
    Adjudication,
    Assessment,
    AttentionPrompt,
    Image,
    ImagePrediction,
    Project,
)
from labeling.selectors.common import AnyUser, not_found, role_expression, visible_projects_q
from modeling.models import ExplanationMap, ModelVersion

DEFAULT_MAP_METHOD = "gradcam"


def model_version_get_for_review(*, user: AnyUser, version_id: int) -> ModelVersion:
    """A model version of a project the caller belongs to, with ``my_role``; 404 otherwise."""
    version = (
        ModelVersion.objects.filter(visible_projects_q(user, "project_id"))
        .annotate(my_role=role_expression(user, "project_id"))
        .select_related("project")
        .defer("snapshot", "history")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise not_found()
    return version


def current_prompt_versions(image_ids: Iterable[int]) -> dict[int, int]:
    """The prompt version that stands for each image (the rule of the training snapshot).

    The current version of a prompt whose target class is the image's label, the most recently
    updated one when several annotators drew one; an image without such a prompt falls back to
    its most recently updated prompt of any class. Images without a prompt are left out.
    """
    rows = (
        AttentionPrompt.objects.filter(
            image_id__in=list(image_ids), current_version__gt=0, current__isnull=False
        )
        .annotate(
            for_label=Case(
                When(target_class=F("image__label"), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("image_id", "-for_label", "-updated_at", "-pk")
        .values_list("image_id", "current_id")
    )
    chosen: dict[int, int] = {}
    for image_id, version_id in rows:
        chosen.setdefault(image_id, version_id)
    return chosen


def explanation_map_for(
    *, model_version_id: int, image_id: int, label: str | None, method: str = DEFAULT_MAP_METHOD
) -> ExplanationMap | None:
    """The stored map of an image by a version (for the image's label when there are several)."""
    maps = ExplanationMap.objects.filter(
        model_version_id=model_version_id, image_id=image_id, method=method
    )
    return maps.order_by(
        Case(When(target_class=label or "", then=Value(0)), default=Value(1)), "-pk"
    ).first()


def explanation_map_files(*, model_version_id: int, method: str) -> dict[int, dict[str, str]]:
    """Stored map files of a version by image and target class (one query), newest last."""
    files: dict[int, dict[str, str]] = defaultdict(dict)
    rows = ExplanationMap.objects.filter(model_version_id=model_version_id, method=method)
    for image_id, target, name in rows.order_by("pk").values_list(
        "image_id", "target_class", "file"
    ):
        files[image_id][target] = name
    return files


def _map_subquery(method: str) -> Coalesce:
    """The id of an image's stored map, for its label when there are several (the outer query
    annotates ``image_label``). Two correlated subqueries, as SQLite cannot order a subquery
    by an outer column."""
    maps = ExplanationMap.objects.filter(
        model_version_id=OuterRef("model_version_id"), image_id=OuterRef("image_id"), method=method
    ).order_by("-pk")
    for_label = maps.filter(target_class=OuterRef("image_label"))
    return Coalesce(
        Subquery(for_label.values("pk")[:1], output_field=IntegerField()),
        Subquery(maps.values("pk")[:1], output_field=IntegerField()),
    )


def review_queue(
    *,
    model_version: ModelVersion,
    user: AnyUser,
    split: str | None = None,
    pending_only: bool = False,
    method: str = DEFAULT_MAP_METHOD,
) -> QuerySet[ImagePrediction]:
    """The images a version has a stored prediction for, in name order, each with the id of its
    stored map (``map_id``, None when the map is missing) and the caller's own answers
    (``my_q1``, ``my_q2``: None before answering). One query whatever the page size."""
    mine = Assessment.objects.filter(
        model_version_id=OuterRef("model_version_id"),
        image_id=OuterRef("image_id"),
        reviewer_id=user.pk,
    )
    items = (
        ImagePrediction.objects.filter(model_version=model_version)
        .select_related("image")
        .defer("image__metadata")
        .annotate(image_label=F("image__label"))
        .annotate(
            map_id=_map_subquery(method),
            my_q1=Subquery(mine.values("q1_needed")[:1], output_field=BooleanField()),
            my_q2=Subquery(mine.values("q2_unneeded")[:1], output_field=BooleanField()),
        )
    )
    if split:
        items = items.filter(image__split=split)
    if pending_only:
        items = items.filter(my_q1__isnull=True)
    return items.order_by("image__name", "image_id")


def assessment_list(
    *, model_version: ModelVersion, image_id: int | None = None, reviewer: str | None = None
) -> QuerySet[Assessment]:
    """Assessments of a (visible) model version, by image and reviewer name."""
    rows = Assessment.objects.filter(model_version=model_version).select_related("reviewer")
    if image_id is not None:
        rows = rows.filter(image_id=image_id)
    if reviewer:
        rows = rows.filter(reviewer__username=reviewer)
    return rows.order_by("image_id", "reviewer__username")


@dataclass
class Decision:
    """The decided state of one assessed image.

    Attributes:
        votes: ``{reviewer username: reasonable}``.
        answers: ``{reviewer username: (q1_needed, q2_unneeded)}``.
        majority: the majority vote on reasonability (None on a tie).
        adjudicated: an admin's decision, when one was made.
        reasonable: the adjudication, else the majority.
        accurate: predicted class == label (None for an unlabelled image).
        quadrant: RA / UA / RIA / UIA, or None when undecided or unlabelled.
    """

    image_id: int
    image_name: str
    label: str | None
    predicted_class: str
    votes: dict[str, bool] = field(default_factory=dict)
    answers: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    majority: bool | None = None
    adjudicated: bool | None = None
    reasonable: bool | None = None
    accurate: bool | None = None
    quadrant: str | None = None

    @property
    def unanimous(self) -> bool:
        return len(set(self.votes.values())) <= 1


def review_decisions(
    *,
    model_version_id: int,
    split: str | None = None,
    reviewer: str | None = None,
    image_ids: Iterable[int] | None = None,
) -> list[Decision]:
    """Every assessed image of a version (two queries), decided as the module docstring says.

    Args:
        reviewer: only this reviewer's assessments (their own matrix; adjudications ignored).
    """
    image_ids = list(image_ids) if image_ids is not None else None
    rows = Assessment.objects.filter(model_version_id=model_version_id)
    if split:
        rows = rows.filter(image__split=split)
    if reviewer:
        rows = rows.filter(reviewer__username=reviewer)
    if image_ids is not None:
        rows = rows.filter(image_id__in=image_ids)
    values = rows.order_by("image_id", "updated_at", "pk").values_list(
        "image_id",
        "image__name",
        "image__label",
        "reviewer__username",
        "q1_needed",
        "q2_unneeded",
        "predicted_class",
    )
    decisions: dict[int, Decision] = {}
    for image_id, name, label, username, q1, q2, predicted in values:
        decision = decisions.get(image_id)
        if decision is None:
            decision = decisions[image_id] = Decision(image_id, name, label, predicted)
        decision.predicted_class = predicted  # the latest answer shows the stored prediction
        decision.votes[username] = review_stats.is_reasonable(q1, q2)
        decision.answers[username] = (q1, q2)
    adjudications: dict[int, bool] = {}
    if not reviewer:
        adjudicated = Adjudication.objects.filter(model_version_id=model_version_id)
        if split:
            adjudicated = adjudicated.filter(image__split=split)
        if image_ids is not None:
            adjudicated = adjudicated.filter(image_id__in=image_ids)
        stored = ImagePrediction.objects.filter(
            model_version_id=OuterRef("model_version_id"), image_id=OuterRef("image_id")
        )
        rows = adjudicated.annotate(
            predicted=Subquery(stored.values("predicted_class")[:1])
        ).values_list("image_id", "reasonable", "image__name", "image__label", "predicted")
        for image_id, reasonable, name, label, predicted in rows:
            adjudications[image_id] = reasonable
            if image_id not in decisions and predicted is not None:
                # Decided by an admin before any reviewer answered.
                decisions[image_id] = Decision(image_id, name, label, predicted)
    for decision in decisions.values():
        decision.majority = review_stats.majority_vote(list(decision.votes.values()))
        decision.adjudicated = adjudications.get(decision.image_id)
        decided = decision.adjudicated if decision.adjudicated is not None else decision.majority
        decision.reasonable = decided
        if decision.label is not None:
            decision.accurate = decision.predicted_class == decision.label
        if decided is not None and decision.accurate is not None:
            decision.quadrant = review_stats.quadrant(
                reasonable=decided, accurate=decision.accurate
            )
    return sorted(decisions.values(), key=lambda d: (d.image_name, d.image_id))


def review_matrix(
    *, model_version: ModelVersion, split: str | None = None, reviewer: str | None = None
) -> dict[str, Any]:
    """The reasonability matrix of a version (and split), with agreement between reviewers.

    Returns:
        ``{"counts": {RA, UA, RIA, UIA}, "total", "ra_performance", "attention_accuracy",
        "assessed_images", "undecided" (ties without adjudication), "unlabelled",
        "predicted_images", "disagreements", "reviewers": [{"username", "assessments"}],
        "agreement": {"cohen": [{"a", "b", "n", "kappa"}], "fleiss": {"kappa", "items",
        "raters"}}, "definition"}``.
    """
    decisions = review_decisions(model_version_id=model_version.pk, split=split, reviewer=reviewer)
    counts = dict.fromkeys(review_stats.QUADRANTS, 0)
    per_reviewer: dict[str, dict[int, bool]] = defaultdict(dict)
    for decision in decisions:
        if decision.quadrant:
            counts[decision.quadrant] += 1
        for username, vote in decision.votes.items():
            per_reviewer[username][decision.image_id] = vote
    predicted = ImagePrediction.objects.filter(model_version=model_version)
    if split:
        predicted = predicted.filter(image__split=split)
    return {
        "counts": counts,
        **review_stats.matrix_rates(counts),
        "assessed_images": len(decisions),
        "undecided": sum(1 for d in decisions if d.reasonable is None),
        "unlabelled": sum(1 for d in decisions if d.label is None),
        "predicted_images": predicted.count(),
        "disagreements": sum(1 for d in decisions if not d.unanimous),
        "reviewers": [
            {"username": name, "assessments": len(per_reviewer[name])}
            for name in sorted(per_reviewer)
        ],
        "agreement": {
            "cohen": review_stats.pairwise_cohen(per_reviewer, categories=[True, False]),
            "fleiss": review_stats.fleiss_over_complete(per_reviewer, [True, False]),
        },
        "definition": (
            "reasonable iff Q1 yes and Q2 no; per image the adjudication, else the majority "
            "vote of reviewers (ties undecided); accurate iff the predicted class shown equals "
            "the current label; RA performance = RA / total; attention accuracy = "
            "(RA + RIA) / total; Cohen's kappa per pair on shared images, Fleiss' kappa on "
            "images every reviewer assessed (categories: reasonable, unreasonable)"
        ),
    }


def review_cell(
    *, model_version: ModelVersion, quadrant: str, split: str | None = None
) -> list[Decision]:
    """The decided images in one matrix cell (``quadrant`` one of RA, UA, RIA, UIA)."""
    if quadrant not in review_stats.QUADRANTS:
        raise not_found()
    decisions = review_decisions(model_version_id=model_version.pk, split=split)
    return [d for d in decisions if d.quadrant == quadrant]


def review_disagreements(
    *, model_version: ModelVersion, split: str | None = None
) -> list[Decision]:
    """Images whose reviewers do not all agree on reasonability, for adjudication."""
    decisions = review_decisions(model_version_id=model_version.pk, split=split)
    return [d for d in decisions if not d.unanimous]


def gradia_quadrants_for_training(
    *, project: Project, model_version: ModelVersion | None = None
) -> dict[int, str]:
    """Per image, the reasonability quadrant that sets its GRADIA weights (METHODS.md section 3).

    Args:
        model_version: use the assessments of this version; None: for each image, those of
            the newest version (highest number) on which the image is decided.

    Returns:
        ``{image_id: "RA" | "UA" | "RIA" | "UIA"}`` for decided, labelled images only; other
        images take GRADIA's weights for unassessed images.
    """
    if model_version is not None:
        versions = [model_version.pk]
    else:
        versions = list(
            ModelVersion.objects.filter(project=project, assessments__isnull=False)
            .distinct()
            .order_by("number")
            .values_list("pk", flat=True)
        )
    quadrants: dict[int, str] = {}
    for version_id in versions:  # oldest first: newer versions overwrite
        for decision in review_decisions(model_version_id=version_id):
            if decision.quadrant:
                quadrants[decision.image_id] = decision.quadrant
    return quadrants


def images_of_decisions(*, decisions: list[Decision]) -> QuerySet[Image]:
    """The image rows of some decisions (for serialising a matrix cell)."""
    return Image.objects.filter(pk__in=[d.image_id for d in decisions]).defer("metadata")
