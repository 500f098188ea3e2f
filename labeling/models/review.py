"""Review and rating studies: stored predictions, reasonability assessments, adjudications,
saved selections, and blind rating studies (METHODS.md section 5).

Model versions and their explanation maps belong to the ``modeling`` app; these rows point at
them by lazy references (``"modeling.ModelVersion"``), so this module imports nothing from it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from labeling.models.core import Image, Project, PromptVersion


class Quadrant(models.TextChoices):
    RA = "RA", "Reasonable, accurate"
    UA = "UA", "Unreasonable, accurate"
    RIA = "RIA", "Reasonable, inaccurate"
    UIA = "UIA", "Unreasonable, inaccurate"


class ImagePrediction(models.Model):
    """A model version's prediction for one image, stored by the jobs that run the model.

    ``outside_energy`` is the share of the stored attention map's energy outside the important
    region of the image's prompt (``sum_{D != +1} M / sum M``, ``M`` the stored 8-bit map / 255),
    computed from ``energy_prompt_version``; None without a prompt, a map or any energy.
    """

    model_version = models.ForeignKey(
        "modeling.ModelVersion", on_delete=models.CASCADE, related_name="image_predictions"
    )
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="model_predictions")
    predicted_class = models.CharField(max_length=200)
    confidence = models.FloatField()
    probabilities = models.JSONField(default=dict)
    outside_energy = models.FloatField(null=True, blank=True)
    energy_prompt_version = models.ForeignKey(
        PromptVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    energy_map = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_version_id", "image_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "image"], name="labeling_imageprediction_unique"
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0.0, confidence__lte=1.0),
                name="labeling_imageprediction_confidence",
            ),
            models.CheckConstraint(
                condition=Q(outside_energy__isnull=True)
                | Q(outside_energy__gte=0.0, outside_energy__lte=1.0),
                name="labeling_imageprediction_energy",
            ),
        ]
        indexes = [
            models.Index(
                fields=["model_version", "predicted_class"], name="labeling_pred_class_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.predicted_class} ({self.confidence:.2f}) for image {self.image_id}"


class Assessment(models.Model):
    """One reviewer's answers on one image's attention map of one model version.

    Q1: the highlighted area contains the details needed to decide the class. Q2: it contains
    details not needed. ``predicted_class`` is the prediction the reviewer was shown.
    """

    model_version = models.ForeignKey(
        "modeling.ModelVersion", on_delete=models.CASCADE, related_name="assessments"
    )
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="assessments")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assessments"
    )
    q1_needed = models.BooleanField()
    q2_unneeded = models.BooleanField()
    predicted_class = models.CharField(max_length=200)
    map_method = models.CharField(max_length=16, default="gradcam")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_version_id", "image_id", "reviewer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "image", "reviewer"], name="labeling_assessment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"assessment of image {self.image_id} by {self.reviewer_id}"

    @property
    def reasonable(self) -> bool:
        return self.q1_needed and not self.q2_unneeded


class Adjudication(models.Model):
    """An admin's final word on an image the reviewers disagree about (overrides the vote)."""

    model_version = models.ForeignKey(
        "modeling.ModelVersion", on_delete=models.CASCADE, related_name="adjudications"
    )
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="adjudications")
    reasonable = models.BooleanField()
    note = models.TextField(blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_version_id", "image_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "image"], name="labeling_adjudication_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"adjudication of image {self.image_id}"


class Selection(models.Model):
    """A saved set of images chosen by rules; ``image_ids`` is frozen when it is saved."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="selections")
    name = models.CharField(max_length=200)
    rules = models.JSONField(default=dict)
    image_ids = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    queued_for_annotation_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="labeling_selection_name"),
        ]

    def __str__(self) -> str:
        return self.name


class StudyStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Correction(models.TextChoices):
    HOLM = "holm", "Holm"
    BONFERRONI = "bonferroni", "Bonferroni"


class ConditionKind(models.TextChoices):
    MODEL_MAP = "model_map", "Attention map of a model version"
    REFINED_PROMPT = "refined_prompt", "Refined prompt t(D) of a VAPL model version"
    RAW_PROMPT = "raw_prompt", "The prompt as drawn (important region)"


QUESTIONS = ("q1", "q2", "likert")


class RatingStudy(models.Model):
    """A blind human-evaluation study: images x conditions, rated by chosen reviewers."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="rating_studies")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    status = models.CharField(max_length=8, choices=StudyStatus.choices, default=StudyStatus.OPEN)
    questions = models.JSONField(default=list)
    correction = models.CharField(
        max_length=16, choices=Correction.choices, default=Correction.HOLM
    )
    selection = models.ForeignKey(
        Selection, null=True, blank=True, on_delete=models.SET_NULL, related_name="studies"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="labeling_study_name"),
            models.CheckConstraint(
                condition=Q(status__in=StudyStatus.values), name="labeling_study_status"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        questions = self.questions
        if (
            not isinstance(questions, list)
            or not questions
            or any(q not in QUESTIONS for q in questions)
            or len(set(questions)) != len(questions)
        ):
            raise ValidationError(
                {"questions": f"questions must be a non-empty subset of {', '.join(QUESTIONS)}"}
            )


class StudyCondition(models.Model):
    """One condition of a study: where the map shown for an image comes from."""

    study = models.ForeignKey(RatingStudy, on_delete=models.CASCADE, related_name="conditions")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=ConditionKind.choices)
    model_version = models.ForeignKey(
        "modeling.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="study_conditions",
    )
    map_method = models.CharField(max_length=16, default="gradcam")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["study_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "name"], name="labeling_condition_name"),
            models.CheckConstraint(
                condition=Q(kind=ConditionKind.RAW_PROMPT, model_version__isnull=True)
                | Q(
                    kind__in=[ConditionKind.MODEL_MAP, ConditionKind.REFINED_PROMPT],
                    model_version__isnull=False,
                ),
                name="labeling_condition_version",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StudyImage(models.Model):
    """An image of a study; ``prompt_version`` is the prompt that stood for the image when the
    study was created (prompt conditions show it, or its refinement, for the whole study)."""

    study = models.ForeignKey(RatingStudy, on_delete=models.CASCADE, related_name="study_images")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    prompt_version = models.ForeignKey(
        PromptVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["study_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "image"], name="labeling_studyimage_unique"),
        ]

    def __str__(self) -> str:
        return f"image {self.image_id} in study {self.study_id}"


class StudyReviewer(models.Model):
    study = models.ForeignKey(RatingStudy, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["study_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="labeling_studyreviewer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in study {self.study_id}"


class StudyPresentation(models.Model):
    """What one reviewer sees for one study image: their own random image position and the
    random order of the conditions (``order``: condition ids, slot 1 first), recorded when the
    study is created."""

    study = models.ForeignKey(RatingStudy, on_delete=models.CASCADE, related_name="presentations")
    study_image = models.ForeignKey(
        StudyImage, on_delete=models.CASCADE, related_name="presentations"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    position = models.PositiveIntegerField()
    order = models.JSONField(default=list)

    class Meta:
        ordering = ["study_id", "reviewer_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["study_image", "reviewer"], name="labeling_presentation_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.position} of study {self.study_id} for {self.reviewer_id}"


class Rating(models.Model):
    """A reviewer's answers on one condition of one presented image; saved per answer."""

    presentation = models.ForeignKey(
        StudyPresentation, on_delete=models.CASCADE, related_name="ratings"
    )
    condition = models.ForeignKey(StudyCondition, on_delete=models.CASCADE, related_name="ratings")
    slot = models.PositiveIntegerField()
    q1_needed = models.BooleanField(null=True, blank=True)
    q2_unneeded = models.BooleanField(null=True, blank=True)
    likert = models.PositiveSmallIntegerField(null=True, blank=True)
    complete = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["presentation_id", "slot"]
        constraints = [
            models.UniqueConstraint(
                fields=["presentation", "condition"], name="labeling_rating_unique"
            ),
            models.CheckConstraint(
                condition=Q(likert__isnull=True) | Q(likert__gte=1, likert__lte=5),
                name="labeling_rating_likert_range",
            ),
        ]

    def __str__(self) -> str:
        return f"rating of slot {self.slot} on presentation {self.presentation_id}"
