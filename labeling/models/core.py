"""Projects, their members, images, attention prompts (with immutable versions) and explanations.

Rules that involve one row live in ``clean()``; workflows (storage, concurrency, history) live in
``labeling.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    ANNOTATOR = "annotator", "Annotator"
    REVIEWER = "reviewer", "Reviewer"


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    VAL = "val", "Validation"
    TEST = "test", "Test"
    UNASSIGNED = "unassigned", "Unassigned"


class ImageFormat(models.TextChoices):
    PNG = "png", "PNG"
    JPEG = "jpeg", "JPEG"
    TIFF = "tiff", "TIFF"
    DICOM = "dicom", "DICOM"


class VersionStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    CONFLICT = "conflict", "Conflict"


class Project(models.Model):
    """A labelling project: its classes, positive class and default DICOM display window."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    class_names = models.JSONField(default=list)
    positive_class = models.CharField(max_length=200)
    window_center = models.FloatField(default=-600.0)
    window_width = models.FloatField(default=1500.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_width__gte=1), name="labeling_project_window_width_at_least_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        names = self.class_names
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValidationError({"class_names": "class_names must be a list of strings"})
        if any(not n.strip() for n in names):
            raise ValidationError({"class_names": "class names cannot be blank"})
        if len(names) < 2:
            raise ValidationError({"class_names": "a project needs at least two classes"})
        if len(set(names)) != len(names):
            raise ValidationError({"class_names": "class names must be unique"})
        if self.positive_class not in names:
            raise ValidationError(
                {"positive_class": f"positive class {self.positive_class!r} is not a class name"}
            )


class Membership(models.Model):
    """A user's role in one project; a user has at most one role per project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="labeling_membership_unique"),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="labeling_membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} in {self.project_id}"


class ImageQuerySet(models.QuerySet):
    """Images; ``with_prompt_count()`` gives each fetched image ``prompt_count``.

    The count (prompts with an accepted version) is read with one grouped query for the rows
    just fetched. As a per-row subquery in the SELECT list it was also evaluated, by
    PostgreSQL, for every row an OFFSET skips: the last page of 100 000 images took 700 ms.
    Rows fetched with ``iterator()``, ``values()`` or ``values_list()`` carry no count.
    """

    _count_prompts = False

    def with_prompt_count(self) -> ImageQuerySet:
        clone = self._chain()
        clone._count_prompts = True
        return clone

    def _clone(self) -> ImageQuerySet:
        clone = super()._clone()
        clone._count_prompts = self._count_prompts
        return clone

    def _fetch_all(self) -> None:
        fresh = self._result_cache is None
        super()._fetch_all()
        if not (
            fresh and self._count_prompts and self._iterable_class is models.query.ModelIterable
        ):
            return
        images = self._result_cache
        if not images:
            return
        counts = dict(
            AttentionPrompt.objects.filter(image__in=images, current_version__gt=0)
            .order_by()
            .values("image_id")
            .annotate(n=models.Count("pk"))
            .values_list("image_id", "n")
        )
        for image in images:
            image.prompt_count = counts.get(image.pk, 0)


class Image(models.Model):
    """One image of a project: the file as uploaded plus its 8-bit display rendition.

    The checksum (SHA-256 of the uploaded file) is unique per project. A multi-frame DICOM file
    imported with every frame gives one image per frame, so uniqueness is per (checksum, frame)
    for DICOM (frame_index set) and per checksum otherwise.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="images")
    name = models.CharField(max_length=255)
    original = models.FileField(max_length=255)
    display = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    format = models.CharField(max_length=8, choices=ImageFormat.choices)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    checksum = models.CharField(max_length=64)
    # NULL is "unlabelled" (the API's null), kept apart from any class name.
    label = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    split = models.CharField(max_length=16, choices=Split.choices, default=Split.UNASSIGNED)
    frame_index = models.PositiveIntegerField(null=True, blank=True)
    window_center = models.FloatField(null=True, blank=True)
    window_width = models.FloatField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "checksum"],
                condition=Q(frame_index__isnull=True),
                name="labeling_image_checksum_unique",
            ),
            models.UniqueConstraint(
                fields=["project", "checksum", "frame_index"],
                condition=Q(frame_index__isnull=False),
                name="labeling_image_checksum_frame_unique",
            ),
            models.CheckConstraint(
                condition=Q(split__in=Split.values), name="labeling_image_split_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=ImageFormat.values), name="labeling_image_format_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "split"], name="labeling_img_split_idx"),
            models.Index(fields=["project", "label"], name="labeling_img_label_idx"),
            # Orderings end with the primary key, so pages come straight off these indexes.
            models.Index(fields=["project", "name", "id"], name="labeling_img_name_id_idx"),
            models.Index(
                fields=["project", "created_at", "id"], name="labeling_img_created_id_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.label is not None and self.label not in self.project.class_names:
            classes = ", ".join(self.project.class_names)
            raise ValidationError(
                {"label": f"label {self.label!r} is not one of the project's classes: {classes}"}
            )

    @property
    def is_dicom(self) -> bool:
        return self.format == ImageFormat.DICOM


class AttentionPrompt(models.Model):
    """One annotator's attention prompt for one target class on one image.

    ``current_version`` is the optimistic-concurrency token (0 until a first version is
    accepted); ``current`` points at that accepted version so reads need no extra query.
    """

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="prompts")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attention_prompts"
    )
    target_class = models.CharField(max_length=200)
    current_version = models.PositiveIntegerField(default=0)
    current = models.ForeignKey(
        "PromptVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["image", "annotator", "target_class"], name="labeling_prompt_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["image", "current_version"], name="labeling_prompt_current_idx"),
            # The image list's filter by annotator: one user's current prompts, by image.
            models.Index(
                fields=["annotator", "image"],
                condition=Q(current_version__gt=0),
                name="labeling_prompt_annotator_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"prompt {self.pk} v{self.current_version}"


class PromptVersion(models.Model):
    """An immutable saved mask; accepted versions are numbered, conflicting ones are not.

    ``mask_png`` is the 8-bit grey PNG of the prompt (255 important, 0 unimportant, 128 unclear).
    """

    prompt = models.ForeignKey(AttentionPrompt, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=VersionStatus.choices)
    based_on = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mask_png = models.BinaryField()
    window_center = models.FloatField(null=True, blank=True)
    window_width = models.FloatField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prompt", "version"],
                condition=Q(version__isnull=False),
                name="labeling_prompt_version_unique",
            ),
            models.CheckConstraint(
                condition=Q(status=VersionStatus.ACCEPTED, version__isnull=False)
                | Q(status=VersionStatus.CONFLICT, version__isnull=True),
                name="labeling_prompt_version_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"prompt {self.prompt_id} version {self.version} ({self.status})"


class ExplanationMask(models.Model):
    """Binary ground-truth explanation of an image (PNG, 255 = relevant); evaluation only."""

    image = models.OneToOneField(Image, on_delete=models.CASCADE, related_name="explanation")
    mask_png = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"explanation of image {self.image_id}"
