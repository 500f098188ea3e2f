"""Jobs, the model registry and the artifacts jobs leave behind.

The job row is the source of truth for background work: status, progress, heartbeat, cancel flag,
errors and metrics live here, never in the Celery result backend. Workers write to a job only with
targeted ``UPDATE``s of the columns they own (``modeling.services.jobs``), so a cancel request
written by the web process is never overwritten by a progress update.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobKind(models.TextChoices):
    TRAIN = "train", "Train"
    REFINE = "refine", "Refine prompts"
    EXPLAIN = "explain", "Explain"
    EVALUATE = "evaluate", "Evaluate"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class Method(models.TextChoices):
    """Training methods of the modeling core (METHODS.md sections 3 and 4)."""

    BASELINE = "baseline", "Baseline (cross-entropy)"
    GRADIA = "gradia", "GRADIA"
    HAICS = "haics", "HAICS"
    RES_G = "res-g", "RES-G"
    RES_L = "res-l", "RES-L"
    ENERGY = "energy", "Energy"
    RRR = "rrr", "RRR"
    VAPL = "vapl", "VAPL"


class Job(models.Model):
    """A unit of background work on a project, run by one worker at a time.

    ``heartbeat_at`` is refreshed by the running worker every few seconds; a running job whose
    heartbeat stopped belongs to a dead worker and is resumed or failed by the reconciler.
    ``enqueued_at`` stays empty while the broker could not be reached, so the reconciler knows
    which queued jobs still have to be sent; ``sends`` counts the messages sent, so a job whose
    message the broker lost is sent again after a wait that doubles with each send.
    """

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    parameters = models.JSONField(default=dict)
    snapshot = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(default=0.0)
    progress_step = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_message = models.CharField(max_length=300, blank=True, default="")
    model_version = models.ForeignKey(
        "ModelVersion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="jobs",
        help_text="The model version a refine, explain or evaluate job works with.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    enqueue_error = models.CharField(max_length=300, blank=True, default="")
    sends = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker_host = models.CharField(max_length=255, blank=True, default="")
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    device = models.CharField(max_length=64, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    error_message = models.TextField(blank=True, default="")
    log_tail = models.TextField(blank=True, default="")
    log_lines = models.PositiveIntegerField(default=0)
    checkpoint = models.CharField(max_length=255, blank=True, default="")
    checkpoint_epoch = models.PositiveIntegerField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=JobKind.values), name="modeling_job_kind"),
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="modeling_job_status"
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0.0, progress__lte=1.0), name="modeling_job_progress"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="modeling_job_project_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="modeling_job_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class JobMetric(models.Model):
    """One point of a job's metrics time series (an epoch or a step)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="metric_points")
    step = models.PositiveIntegerField()
    epoch = models.PositiveIntegerField(null=True, blank=True)
    values = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job_id", "step"]
        constraints = [
            models.UniqueConstraint(fields=["job", "step"], name="modeling_jobmetric_unique"),
        ]

    def __str__(self) -> str:
        return f"job {self.job_id} step {self.step}"


class ModelVersion(models.Model):
    """A trained model in the project's registry, with the exact data it was trained on.

    ``snapshot`` records which images (by split), which prompt versions and which assessments the
    training saw; ``checkpoint`` is a storage name of the safetensors checkpoint.
    """

    project = models.ForeignKey(
        "labeling.Project", on_delete=models.CASCADE, related_name="model_versions"
    )
    number = models.PositiveIntegerField()
    architecture = models.CharField(max_length=32)
    method = models.CharField(max_length=16, choices=Method.choices)
    hyperparameters = models.JSONField(default=dict)
    snapshot = models.JSONField(default=dict)
    class_names = models.JSONField(default=list)
    preprocessing = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict, blank=True)
    history = models.JSONField(default=list, blank=True)
    checkpoint = models.CharField(max_length=255)
    checkpoint_bytes = models.PositiveBigIntegerField(default=0)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="produced_version"
    )
    is_active = models.BooleanField(default=False)
    activated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "number"], name="modeling_modelversion_number"
            ),
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(is_active=True),
                name="modeling_modelversion_one_active",
            ),
            models.CheckConstraint(
                condition=Q(method__in=Method.values), name="modeling_modelversion_method"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.number} ({self.method})"

    @property
    def has_prompt_stream(self) -> bool:
        """Whether the version predicts with a prompt (VAPL's ``f_m``)."""
        return self.method == Method.VAPL


class ExplanationMap(models.Model):
    """A model explanation of one image by one model version, as an 8-bit PNG in storage.

    ``definition`` names how the map was computed (method, layer, normalisation, resizing, target
    class rule, RISE masks), so every stored map can be reproduced and compared.
    """

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="explanation_maps"
    )
    image = models.ForeignKey(
        "labeling.Image", on_delete=models.CASCADE, related_name="model_explanations"
    )
    method = models.CharField(max_length=16)
    target_class = models.CharField(max_length=200)
    file = models.CharField(max_length=255)
    definition = models.JSONField(default=dict)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["image_id", "method"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "image", "method", "target_class"],
                name="modeling_explanationmap_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} of image {self.image_id} by version {self.model_version_id}"


class RefinedPrompt(models.Model):
    """The refined prompt ``t(D)`` of one prompt version by one VAPL model version (8-bit PNG)."""

    prompt_version = models.ForeignKey(
        "labeling.PromptVersion", on_delete=models.CASCADE, related_name="refinements"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="refined_prompts"
    )
    file = models.CharField(max_length=255)
    definition = models.JSONField(default=dict)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prompt_version_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prompt_version", "model_version"], name="modeling_refinedprompt_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"t(D) of prompt version {self.prompt_version_id} by {self.model_version_id}"


class PredictionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Prediction(models.Model):
    """An interactive prediction: the handoff row between the web process and a worker.

    The web process writes the request and waits briefly for the worker to fill in the result;
    the small PNG maps are kept on the row (they are shown once, next to the answer).
    """

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="predictions"
    )
    image = models.ForeignKey("labeling.Image", on_delete=models.CASCADE, related_name="+")
    prompt_version = models.ForeignKey(
        "labeling.PromptVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    use_prompt = models.BooleanField(default=True)
    n_masks = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=PredictionStatus.choices, default=PredictionStatus.PENDING
    )
    result = models.JSONField(default=dict, blank=True)
    gradcam_png = models.BinaryField(null=True, blank=True)
    gradcam_m_png = models.BinaryField(null=True, blank=True)
    refined_png = models.BinaryField(null=True, blank=True)
    error_message = models.CharField(max_length=500, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PredictionStatus.values), name="modeling_prediction_status"
            ),
        ]
        indexes = [
            models.Index(
                fields=["model_version", "image", "prompt_version", "use_prompt"],
                name="modeling_prediction_key_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"prediction {self.pk} ({self.status})"
