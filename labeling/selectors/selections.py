"""Rule-based image selection over stored values, saved selections and the annotation queue.

Rules combine with AND. Prediction rules (predicted class, confidence, correctness, attention
energy outside the prompt) read the stored predictions of one model version; quadrant rules read
its reasonability decisions (``labeling.selectors.review``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from labeling.models import AttentionPrompt, Image, ImagePrediction, Project, Selection
from labeling.selectors.common import AnyUser, not_found, role_expression, visible_projects_q
from labeling.selectors.review import review_decisions
from sightline.errors import ApplicationError

QUADRANT_RULES = ("RA", "UA", "RIA", "UIA", "undecided", "unassessed")
_PREDICTION_RULES = (
    "predicted_class",
    "confidence_min",
    "confidence_max",
    "correct",
    "outside_energy_min",
    "outside_energy_max",
    "quadrants",
)


@dataclass(frozen=True)
class SelectionRules:
    """Rules of a selection; ``None`` means "any".

    Attributes:
        model_version: id of the model version the prediction and quadrant rules read.
        label: a class name, or ``"none"`` for unlabelled images.
        confidence_min, confidence_max: inclusive bounds of the predicted class's probability.
        correct: the stored prediction equals the label (unlabelled images never match).
        quadrants: any of RA, UA, RIA, UIA, ``undecided`` (assessed, tie) and ``unassessed``.
        outside_energy_min, outside_energy_max: inclusive bounds of the share of attention
            energy outside the prompt's important region (images without it never match).
        has_prompt: whether the image has a saved prompt.
        annotator: username of someone who saved a prompt on the image.
    """

    model_version: int | None = None
    split: str | None = None
    label: str | None = None
    predicted_class: str | None = None
    confidence_min: float | None = None
    confidence_max: float | None = None
    correct: bool | None = None
    quadrants: tuple[str, ...] | None = None
    outside_energy_min: float | None = None
    outside_energy_max: float | None = None
    has_prompt: bool | None = None
    annotator: str | None = None
    search: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SelectionRules:
        values = {k: v for k, v in data.items() if v is not None and v != ""}
        if "quadrants" in values:
            values["quadrants"] = tuple(values["quadrants"]) or None
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """Only the rules that are set (what a saved selection records)."""
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(self).items()
            if v is not None
        }

    @property
    def uses_energy(self) -> bool:
        return self.outside_energy_min is not None or self.outside_energy_max is not None

    def check(self) -> None:
        """Raises ``ApplicationError`` for rules that cannot be evaluated."""
        needs_version = [name for name in _PREDICTION_RULES if getattr(self, name) is not None]
        if needs_version and self.model_version is None:
            raise ApplicationError(
                f"choose a model version for the rules {', '.join(needs_version)}",
                code="invalid",
                detail={"model_version": "required by " + ", ".join(needs_version)},
            )
        if self.quadrants and any(q not in QUADRANT_RULES for q in self.quadrants):
            raise ApplicationError(
                f"quadrants must be among {', '.join(QUADRANT_RULES)}", code="invalid"
            )


def _prediction_filter(rules: SelectionRules) -> Q:
    predictions = ImagePrediction.objects.filter(
        model_version_id=rules.model_version, image_id=OuterRef("pk")
    )
    if rules.predicted_class is not None:
        predictions = predictions.filter(predicted_class=rules.predicted_class)
    if rules.confidence_min is not None:
        predictions = predictions.filter(confidence__gte=rules.confidence_min)
    if rules.confidence_max is not None:
        predictions = predictions.filter(confidence__lte=rules.confidence_max)
    if rules.correct is True:
        predictions = predictions.filter(predicted_class=OuterRef("label"))
    elif rules.correct is False:
        predictions = predictions.exclude(predicted_class=OuterRef("label"))
    if rules.outside_energy_min is not None:
        predictions = predictions.filter(outside_energy__gte=rules.outside_energy_min)
    if rules.outside_energy_max is not None:
        predictions = predictions.filter(outside_energy__lte=rules.outside_energy_max)
    return Q(Exists(predictions))


def _quadrant_ids(rules: SelectionRules, candidates: list[int]) -> set[int]:
    decisions = review_decisions(model_version_id=rules.model_version, image_ids=candidates)
    wanted = set(rules.quadrants or ())
    chosen = {
        d.image_id
        for d in decisions
        if (d.quadrant in wanted) or ("undecided" in wanted and d.reasonable is None)
    }
    if "unassessed" in wanted:
        chosen |= set(candidates) - {d.image_id for d in decisions}
    return chosen


def selection_image_ids(*, project: Project, rules: SelectionRules) -> list[int]:
    """Ids of the project's images that match every rule, in name order."""
    rules.check()
    images = Image.objects.filter(project=project)
    if rules.split:
        images = images.filter(split=rules.split)
    if rules.label == "none":
        images = images.filter(label__isnull=True)
    elif rules.label:
        images = images.filter(label=rules.label)
    if rules.search:
        images = images.filter(name__icontains=rules.search)
    if rules.has_prompt is not None:
        prompted = Exists(
            AttentionPrompt.objects.filter(image_id=OuterRef("pk"), current_version__gt=0)
        )
        images = images.filter(prompted if rules.has_prompt else ~prompted)
    if rules.annotator:
        images = images.filter(
            Exists(
                AttentionPrompt.objects.filter(
                    image_id=OuterRef("pk"),
                    current_version__gt=0,
                    annotator__username=rules.annotator,
                )
            )
        )
    if rules.model_version is not None and any(
        getattr(rules, name) is not None for name in _PREDICTION_RULES if name != "quadrants"
    ):
        images = images.filter(_prediction_filter(rules))
    if rules.correct is False:
        images = images.filter(label__isnull=False)
    ids = list(images.order_by("name", "pk").values_list("pk", flat=True))
    if rules.quadrants:
        keep = _quadrant_ids(rules, ids)
        ids = [i for i in ids if i in keep]
    return ids


def _selections(user: AnyUser) -> QuerySet[Selection]:
    return (
        Selection.objects.filter(visible_projects_q(user, "project_id"))
        .annotate(my_role=role_expression(user, "project_id"))
        .select_related("created_by")
    )


def selection_list_for_user(*, user: AnyUser, project: Project) -> QuerySet[Selection]:
    """The saved selections of a (visible) project, newest first."""
    return _selections(user).filter(project=project).order_by("-created_at", "-pk")


def selection_get_for_user(*, user: AnyUser, selection_id: int) -> Selection:
    """One saved selection of a project the caller belongs to; 404 otherwise."""
    selection = _selections(user).filter(pk=selection_id).first()
    if selection is None:
        raise not_found()
    return selection


def annotation_queue_image_ids(
    *, project: Project, user: AnyUser, unprompted_only: bool = False
) -> list[int]:
    """Images of the selections sent to the annotation queue, in name order.

    Args:
        unprompted_only: leave out images the caller already saved a prompt on.
    """
    ids: set[int] = set()
    queued = Selection.objects.filter(project=project, queued_for_annotation_at__isnull=False)
    for image_ids in queued.values_list("image_ids", flat=True):
        ids.update(int(i) for i in image_ids)
    images = Image.objects.filter(project=project, pk__in=ids)
    if unprompted_only:
        mine = AttentionPrompt.objects.filter(
            image_id=OuterRef("pk"), current_version__gt=0, annotator_id=user.pk
        )
        images = images.exclude(Exists(mine))
    return list(images.order_by("name", "pk").values_list("pk", flat=True))


def images_in_order(*, ids: list[int], queryset: QuerySet[Image]) -> list[Image]:
    """Rows of ``queryset`` for ``ids``, in the order of ``ids`` (missing ids are skipped)."""
    rows = {image.pk: image for image in queryset.filter(pk__in=ids)}
    return [rows[i] for i in ids if i in rows]
