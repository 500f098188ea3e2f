"""Serializers of the review, selection and rating-study endpoints (no side effects)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from labeling.models import (
    QUESTIONS,
    ConditionKind,
    Correction,
    Image,
    Quadrant,
    Role,
    Split,
)
from labeling.selectors.review import Decision
from labeling.selectors.selections import QUADRANT_RULES
from labeling.selectors.studies import LIKERT_ANCHORS
from labeling.serializers.core import UserSerializer

# --- output -------------------------------------------------------------------------------------


class ImageBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True, allow_null=True)
    split = serializers.CharField(read_only=True)
    width = serializers.IntegerField(read_only=True)
    height = serializers.IntegerField(read_only=True)
    display_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    def get_display_url(self, image: Image) -> str:
        return reverse("labeling:image-display", args=[image.pk])

    def get_thumbnail_url(self, image: Image) -> str:
        return reverse("labeling:image-thumbnail", args=[image.pk])


class ReviewItemSerializer(serializers.Serializer):
    """An ``ImagePrediction`` annotated by ``review_queue``."""

    image = ImageBriefSerializer(read_only=True)
    predicted_class = serializers.CharField(read_only=True)
    confidence = serializers.FloatField(read_only=True)
    probabilities = serializers.JSONField(read_only=True)
    outside_energy = serializers.FloatField(read_only=True, allow_null=True)
    map_url = serializers.SerializerMethodField()
    my_answer = serializers.SerializerMethodField()

    def get_map_url(self, item: Any) -> str | None:
        if item.map_id is None:
            return None
        return reverse("modeling:explanation-map-png", args=[item.map_id])

    def get_my_answer(self, item: Any) -> dict[str, bool] | None:
        if item.my_q1 is None:
            return None
        return {"q1_needed": item.my_q1, "q2_unneeded": item.my_q2}


class AssessmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    model_version = serializers.IntegerField(source="model_version_id", read_only=True)
    image = serializers.IntegerField(source="image_id", read_only=True)
    reviewer = UserSerializer(read_only=True)
    q1_needed = serializers.BooleanField(read_only=True)
    q2_unneeded = serializers.BooleanField(read_only=True)
    reasonable = serializers.BooleanField(read_only=True)
    predicted_class = serializers.CharField(read_only=True)
    map_method = serializers.CharField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class DecisionSerializer(serializers.Serializer):
    image = serializers.IntegerField(source="image_id", read_only=True)
    image_name = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True, allow_null=True)
    predicted_class = serializers.CharField(read_only=True)
    votes = serializers.SerializerMethodField()
    majority = serializers.BooleanField(read_only=True, allow_null=True)
    adjudicated = serializers.BooleanField(read_only=True, allow_null=True)
    reasonable = serializers.BooleanField(read_only=True, allow_null=True)
    accurate = serializers.BooleanField(read_only=True, allow_null=True)
    quadrant = serializers.CharField(read_only=True, allow_null=True)
    thumbnail_url = serializers.SerializerMethodField()

    def get_votes(self, decision: Decision) -> list[dict[str, Any]]:
        return [
            {
                "reviewer": name,
                "q1_needed": q1,
                "q2_unneeded": q2,
                "reasonable": decision.votes[name],
            }
            for name, (q1, q2) in sorted(decision.answers.items())
        ]

    def get_thumbnail_url(self, decision: Decision) -> str:
        return reverse("labeling:image-thumbnail", args=[decision.image_id])


class AdjudicationSerializer(serializers.Serializer):
    model_version = serializers.IntegerField(source="model_version_id", read_only=True)
    image = serializers.IntegerField(source="image_id", read_only=True)
    reasonable = serializers.BooleanField(read_only=True)
    note = serializers.CharField(read_only=True)
    decided_by = UserSerializer(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True)


class SelectionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    project = serializers.IntegerField(source="project_id", read_only=True)
    name = serializers.CharField(read_only=True)
    rules = serializers.JSONField(read_only=True)
    count = serializers.SerializerMethodField()
    image_ids = serializers.JSONField(read_only=True)
    created_by = UserSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    queued_for_annotation_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_count(self, selection: Any) -> int:
        return len(selection.image_ids)


class ConditionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)
    model_version = serializers.IntegerField(source="model_version_id", read_only=True)
    map_method = serializers.CharField(read_only=True)


class StudySerializer(serializers.Serializer):
    """A study; condition names and the reviewers' progress only for the project's admins (a
    reviewer learns how many conditions there are, never which)."""

    id = serializers.IntegerField(read_only=True)
    project = serializers.IntegerField(source="project_id", read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    questions = serializers.JSONField(read_only=True)
    correction = serializers.CharField(read_only=True)
    image_count = serializers.IntegerField(read_only=True)
    condition_count = serializers.IntegerField(read_only=True)
    reviewer_count = serializers.IntegerField(read_only=True)
    my_role = serializers.CharField(read_only=True, allow_null=True)
    is_participant = serializers.BooleanField(read_only=True)
    my_progress = serializers.SerializerMethodField()
    likert_anchors = serializers.SerializerMethodField()
    created_by = UserSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_my_progress(self, study: Any) -> dict[str, int]:
        return {"done": study.my_done, "total": study.my_presented * study.condition_count}

    def get_likert_anchors(self, study: Any) -> dict[str, str]:
        return {str(k): v for k, v in LIKERT_ANCHORS.items()}

    def to_representation(self, study: Any) -> dict[str, Any]:
        data = super().to_representation(study)
        extra = self.context.get("admin_details")
        if study.my_role == Role.ADMIN and extra is not None:
            data["conditions"] = ConditionSerializer(extra["conditions"], many=True).data
            data["progress"] = extra["progress"]
        return data


class SlotSerializer(serializers.Serializer):
    slot = serializers.IntegerField(read_only=True)
    map_url = serializers.CharField(read_only=True)
    q1_needed = serializers.BooleanField(read_only=True, allow_null=True)
    q2_unneeded = serializers.BooleanField(read_only=True, allow_null=True)
    likert = serializers.IntegerField(read_only=True, allow_null=True)
    complete = serializers.BooleanField(read_only=True)


class PresentationSerializer(serializers.Serializer):
    """One item of a reviewer: the original image and its blind, numbered slots."""

    id = serializers.IntegerField(read_only=True)
    study = serializers.IntegerField(source="study_id", read_only=True)
    position = serializers.SerializerMethodField()
    image = ImageBriefSerializer(source="study_image.image", read_only=True)
    done = serializers.IntegerField(read_only=True)
    slots = serializers.SerializerMethodField()

    def get_position(self, item: Any) -> int:
        return item.position + 1

    def get_slots(self, item: Any) -> list[dict[str, Any]]:
        ratings = self.context.get("ratings", {}).get(item.pk, {})
        slots = []
        for slot in range(1, len(item.order) + 1):
            rating = ratings.get(slot)
            slots.append(
                {
                    "slot": slot,
                    "map_url": reverse("labeling:study-item-map", args=[item.pk, slot]),
                    "q1_needed": getattr(rating, "q1_needed", None),
                    "q2_unneeded": getattr(rating, "q2_unneeded", None),
                    "likert": getattr(rating, "likert", None),
                    "complete": bool(getattr(rating, "complete", False)),
                }
            )
        return SlotSerializer(slots, many=True).data


class RatingSerializer(serializers.Serializer):
    slot = serializers.IntegerField(read_only=True)
    q1_needed = serializers.BooleanField(read_only=True, allow_null=True)
    q2_unneeded = serializers.BooleanField(read_only=True, allow_null=True)
    likert = serializers.IntegerField(read_only=True, allow_null=True)
    complete = serializers.BooleanField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


# --- input --------------------------------------------------------------------------------------


class ReviewQueueInput(serializers.Serializer):
    split = serializers.ChoiceField(choices=Split.choices, required=False)
    pending = serializers.BooleanField(required=False, default=False)


class MatrixInput(serializers.Serializer):
    split = serializers.ChoiceField(choices=Split.choices, required=False)
    reviewer = serializers.CharField(required=False, max_length=150)


class CellInput(serializers.Serializer):
    quadrant = serializers.ChoiceField(choices=Quadrant.choices)
    split = serializers.ChoiceField(choices=Split.choices, required=False)


class AssessmentInput(serializers.Serializer):
    q1_needed = serializers.BooleanField()
    q2_unneeded = serializers.BooleanField()


class AdjudicationInput(serializers.Serializer):
    reasonable = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SelectionRulesInput(serializers.Serializer):
    model_version = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    split = serializers.ChoiceField(choices=Split.choices, required=False, allow_null=True)
    label = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    predicted_class = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    confidence_min = serializers.FloatField(
        required=False, allow_null=True, min_value=0.0, max_value=1.0
    )
    confidence_max = serializers.FloatField(
        required=False, allow_null=True, min_value=0.0, max_value=1.0
    )
    correct = serializers.BooleanField(required=False, allow_null=True, default=None)
    quadrants = serializers.ListField(
        child=serializers.ChoiceField(choices=QUADRANT_RULES), required=False, allow_null=True
    )
    outside_energy_min = serializers.FloatField(
        required=False, allow_null=True, min_value=0.0, max_value=1.0
    )
    outside_energy_max = serializers.FloatField(
        required=False, allow_null=True, min_value=0.0, max_value=1.0
    )
    has_prompt = serializers.BooleanField(required=False, allow_null=True, default=None)
    annotator = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    search = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class SelectionCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    rules = SelectionRulesInput()


class ConditionInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=ConditionKind.choices)
    model_version = serializers.IntegerField(required=False, allow_null=True, default=None)
    map_method = serializers.ChoiceField(choices=["gradcam", "rise"], default="gradcam")


class StudySetupInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    conditions = ConditionInput(many=True)
    reviewers = serializers.ListField(child=serializers.CharField(max_length=150), min_length=1)
    questions = serializers.ListField(
        child=serializers.ChoiceField(choices=QUESTIONS), default=list(QUESTIONS), min_length=1
    )
    correction = serializers.ChoiceField(choices=Correction.choices, default=Correction.HOLM)


class StudyCreateInput(StudySetupInput):
    image_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=None, allow_null=True
    )
    selection = serializers.IntegerField(required=False, allow_null=True, default=None)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("image_ids") and data.get("selection") is None:
            raise serializers.ValidationError("give image_ids or a selection")
        return data


class RatingInput(serializers.Serializer):
    q1_needed = serializers.BooleanField(required=False, allow_null=True)
    q2_unneeded = serializers.BooleanField(required=False, allow_null=True)
    likert = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5)


class ExportInput(serializers.Serializer):
    format = serializers.ChoiceField(choices=["csv", "json"], default="csv")
