"""Input and output serializers of the modeling API (no side effects: services do the writes)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from labeling.serializers import UserSerializer
from modeling.models import (
    ExplanationMap,
    Job,
    JobKind,
    JobMetric,
    JobStatus,
    ModelVersion,
    Prediction,
    RefinedPrompt,
)

# --- output -------------------------------------------------------------------------------------


class VersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    number = serializers.IntegerField(read_only=True)
    method = serializers.CharField(read_only=True)


class JobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    worker = serializers.SerializerMethodField()
    created_by = UserSerializer(read_only=True, allow_null=True)
    model_version = VersionRefSerializer(read_only=True, allow_null=True)
    produced_version = serializers.SerializerMethodField()
    enqueued = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "project",
            "kind",
            "status",
            "parameters",
            "progress",
            "created_by",
            "created_at",
            "enqueued",
            "enqueued_at",
            "enqueue_error",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "worker",
            "attempts",
            "cancel_requested",
            "error_message",
            "checkpoint_epoch",
            "log_lines",
            "result",
            "model_version",
            "produced_version",
        ]
        read_only_fields = fields

    def get_progress(self, job: Job) -> dict[str, Any]:
        return {
            "fraction": job.progress,
            "step": job.progress_step,
            "total": job.progress_total,
            "message": job.progress_message,
        }

    def get_worker(self, job: Job) -> dict[str, Any]:
        return {"host": job.worker_host, "pid": job.worker_pid, "device": job.device}

    def get_enqueued(self, job: Job) -> bool:
        return job.enqueued_at is not None

    def get_produced_version(self, job: Job) -> dict[str, Any] | None:
        version = getattr(job, "produced_version", None)
        if version is None:
            return None
        return {"id": version.pk, "number": version.number, "method": version.method}


class JobMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobMetric
        fields = ["step", "epoch", "values", "created_at"]
        read_only_fields = fields


class JobLogSerializer(serializers.Serializer):
    lines = serializers.ListField(child=serializers.CharField(), read_only=True)
    total = serializers.IntegerField(read_only=True)


class JobProgressSerializer(serializers.Serializer):
    job = JobSerializer(read_only=True)
    metrics = JobMetricSerializer(many=True, read_only=True)
    log = JobLogSerializer(read_only=True)


class ModelVersionSerializer(serializers.ModelSerializer):
    created_by = UserSerializer(read_only=True, allow_null=True)
    checkpoint_url = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "project",
            "number",
            "architecture",
            "method",
            "hyperparameters",
            "class_names",
            "preprocessing",
            "metrics",
            "checkpoint_bytes",
            "checkpoint_url",
            "parent",
            "job",
            "is_active",
            "activated_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_checkpoint_url(self, version: ModelVersion) -> str:
        return reverse("modeling:model-version-checkpoint", args=[version.pk])


class ModelVersionDetailSerializer(ModelVersionSerializer):
    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "snapshot", "history"]
        read_only_fields = fields


class ExplanationMapSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ExplanationMap
        fields = [
            "id",
            "model_version",
            "image",
            "method",
            "target_class",
            "definition",
            "job",
            "created_at",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, record: ExplanationMap) -> str:
        return reverse("modeling:explanation-map-png", args=[record.pk])


class RefinedPromptSerializer(serializers.ModelSerializer):
    prompt = serializers.IntegerField(source="prompt_version.prompt_id", read_only=True)
    prompt_version_number = serializers.IntegerField(
        source="prompt_version.version", read_only=True
    )
    image = serializers.IntegerField(source="prompt_version.prompt.image_id", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = RefinedPrompt
        fields = [
            "id",
            "model_version",
            "prompt",
            "prompt_version",
            "prompt_version_number",
            "image",
            "definition",
            "job",
            "created_at",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, record: RefinedPrompt) -> str:
        return reverse("modeling:refined-prompt-png", args=[record.pk])


class PredictionSerializer(serializers.ModelSerializer):
    maps = serializers.SerializerMethodField()

    class Meta:
        model = Prediction
        fields = [
            "id",
            "status",
            "model_version",
            "image",
            "prompt_version",
            "use_prompt",
            "n_masks",
            "result",
            "error_message",
            "created_at",
            "finished_at",
            "maps",
        ]
        read_only_fields = fields

    def get_maps(self, prediction: Prediction) -> dict[str, str | None]:
        available = set((prediction.result or {}).get("maps", []))

        def url(which: str) -> str | None:
            if which not in available:
                return None
            return reverse("modeling:prediction-map", args=[prediction.pk, which])

        return {"gradcam": url("gradcam"), "gradcam_m": url("gradcam_m"), "refined": url("refined")}


class ComparisonRowSerializer(serializers.Serializer):
    split = serializers.CharField(read_only=True)
    metric = serializers.CharField(read_only=True)
    a = serializers.JSONField(read_only=True)
    b = serializers.JSONField(read_only=True)
    delta = serializers.FloatField(read_only=True, allow_null=True)


class SettingDifferenceSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    a = serializers.JSONField(read_only=True)
    b = serializers.JSONField(read_only=True)


class ComparisonSerializer(serializers.Serializer):
    a = ModelVersionSerializer(read_only=True)
    b = ModelVersionSerializer(read_only=True)
    metrics = ComparisonRowSerializer(many=True, read_only=True)
    hyperparameters = SettingDifferenceSerializer(many=True, read_only=True)


# --- input --------------------------------------------------------------------------------------


class JobCreateInput(serializers.Serializer):
    project = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=JobKind.choices)
    parameters = serializers.DictField(required=False, default=dict)


class JobFilterInput(serializers.Serializer):
    project = serializers.IntegerField(min_value=1, required=False)
    status = serializers.ChoiceField(choices=JobStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=JobKind.choices, required=False)


class JobProgressInput(serializers.Serializer):
    after_step = serializers.IntegerField(
        min_value=-1, required=False, allow_null=True, default=None
    )
    log_lines = serializers.IntegerField(min_value=0, max_value=200, required=False, default=50)


class ProjectFilterInput(serializers.Serializer):
    project = serializers.IntegerField(min_value=1, required=False)


class CompareInput(serializers.Serializer):
    a = serializers.IntegerField(min_value=1)
    b = serializers.IntegerField(min_value=1)


class ArtifactFilterInput(serializers.Serializer):
    image = serializers.IntegerField(min_value=1, required=False)
    prompt = serializers.IntegerField(min_value=1, required=False)
    method = serializers.CharField(required=False)


class PredictionCreateInput(serializers.Serializer):
    image = serializers.IntegerField(min_value=1)
    model_version = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    prompt = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    use_prompt = serializers.BooleanField(required=False, default=True)
    wait_ms = serializers.IntegerField(
        min_value=0, max_value=10_000, required=False, allow_null=True
    )
