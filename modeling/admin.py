"""Admin views of jobs, model versions and artifacts (read-mostly: workflows live in services)."""

from __future__ import annotations

from django.contrib import admin

from modeling.models import ExplanationMap, Job, JobMetric, ModelVersion, Prediction, RefinedPrompt


class JobMetricInline(admin.TabularInline):
    model = JobMetric
    extra = 0
    can_delete = False
    readonly_fields = ["step", "epoch", "values", "created_at"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "kind", "status", "progress", "attempts", "worker_host"]
    list_filter = ["status", "kind"]
    search_fields = ["project__name", "worker_host"]
    readonly_fields = [
        "heartbeat_at",
        "started_at",
        "finished_at",
        "enqueued_at",
        "worker_host",
        "worker_pid",
        "device",
        "attempts",
        "log_tail",
    ]
    inlines = [JobMetricInline]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "number", "method", "architecture", "is_active", "created_at"]
    list_filter = ["method", "is_active"]
    search_fields = ["project__name"]
    readonly_fields = ["checkpoint", "checkpoint_bytes", "snapshot", "history", "job"]


@admin.register(ExplanationMap)
class ExplanationMapAdmin(admin.ModelAdmin):
    list_display = ["id", "model_version", "image", "method", "target_class", "created_at"]
    list_filter = ["method"]


@admin.register(RefinedPrompt)
class RefinedPromptAdmin(admin.ModelAdmin):
    list_display = ["id", "model_version", "prompt_version", "created_at"]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["id", "model_version", "image", "use_prompt", "status", "created_at"]
    list_filter = ["status"]
    exclude = ["gradcam_png", "gradcam_m_png", "refined_png"]
