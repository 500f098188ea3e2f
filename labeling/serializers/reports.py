"""Shapes of the review, selection and study answers that views build as dicts (matrix, report,
preview, item rows), and of their query parameters: for the OpenAPI description only."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from labeling.models import Split
from labeling.serializers.core import ImageSerializer
from labeling.serializers.review import PresentationSerializer

_COUNTS = inline_serializer(
    name="QuadrantCounts",
    fields={q: serializers.IntegerField() for q in ("RA", "UA", "RIA", "UIA")},
)


class MatrixSerializer(serializers.Serializer):
    """``review_matrix``'s answer (see its docstring for the meaning of each key)."""

    model_version = serializers.IntegerField()
    split = serializers.ChoiceField(choices=Split.choices, allow_null=True)
    counts = _COUNTS
    total = serializers.IntegerField()
    ra_performance = serializers.FloatField(allow_null=True)
    attention_accuracy = serializers.FloatField(allow_null=True)
    assessed_images = serializers.IntegerField()
    undecided = serializers.IntegerField()
    unlabelled = serializers.IntegerField()
    predicted_images = serializers.IntegerField()
    disagreements = serializers.IntegerField()
    reviewers = inline_serializer(
        name="ReviewerAssessments",
        fields={"username": serializers.CharField(), "assessments": serializers.IntegerField()},
        many=True,
    )
    agreement = serializers.DictField(help_text="Cohen's kappa per pair and Fleiss' kappa.")
    definition = serializers.CharField()


class SelectionPreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    image_ids = serializers.ListField(child=serializers.IntegerField())
    images = ImageSerializer(many=True, help_text="The first 100 matching images, by name.")
    rules = serializers.DictField()


class StudyItemRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    done = serializers.IntegerField()
    slots = serializers.IntegerField()
    image_name = serializers.CharField()


class StudyNextItemSerializer(serializers.Serializer):
    item = PresentationSerializer(allow_null=True, help_text="null when every item is done")
    progress = inline_serializer(
        name="StudyProgress",
        fields={"done": serializers.IntegerField(), "total": serializers.IntegerField()},
    )
    status = serializers.CharField()


class StudyReportSerializer(serializers.Serializer):
    """``study_report``'s answer (see its docstring; nested statistics stay free-form)."""

    study = inline_serializer(
        name="StudyReference",
        fields={
            "id": serializers.IntegerField(),
            "name": serializers.CharField(),
            "status": serializers.CharField(),
        },
    )
    questions = serializers.ListField(child=serializers.CharField())
    likert_anchors = serializers.DictField(child=serializers.CharField())
    conditions = serializers.ListField(child=serializers.DictField())
    kruskal_wallis = serializers.DictField()
    dunn = serializers.DictField()
    likert_by_slot = serializers.DictField()
    agreement = serializers.DictField()
    progress = serializers.ListField(child=serializers.DictField())
    definitions = serializers.DictField(child=serializers.CharField())


class AssessmentFilterInput(serializers.Serializer):
    reviewer = serializers.CharField(required=False, max_length=150)


class AnnotationQueueInput(serializers.Serializer):
    unprompted = serializers.BooleanField(
        required=False, help_text="only the images the caller has not prompted yet"
    )
