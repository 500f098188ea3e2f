"""Django admin: browse and fix projects, members, images and prompts.

Prompt versions and masks are immutable history, so the admin shows them read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from labeling.models import (
    Adjudication,
    Assessment,
    AttentionPrompt,
    ExplanationMask,
    Image,
    ImagePrediction,
    Membership,
    Project,
    PromptVersion,
    Rating,
    RatingStudy,
    Selection,
    StudyCondition,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "positive_class", "window_center", "window_width", "created_at"]
    search_fields = ["name", "description"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__name"]
    autocomplete_fields = ["user"]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "format", "width", "height", "label", "split", "created_at"]
    list_filter = ["project", "split", "format"]
    search_fields = ["name", "checksum"]
    list_select_related = ["project"]
    readonly_fields = [
        "original",
        "display",
        "thumbnail",
        "format",
        "width",
        "height",
        "checksum",
        "frame_index",
        "window_center",
        "window_width",
        "metadata",
        "created_by",
        "created_at",
    ]


class PromptVersionInline(admin.TabularInline):
    model = PromptVersion
    fk_name = "prompt"
    extra = 0
    can_delete = False
    fields = ["version", "status", "based_on", "author", "counts", "size_bytes", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AttentionPrompt)
class AttentionPromptAdmin(admin.ModelAdmin):
    list_display = ["id", "image", "annotator", "target_class", "current_version", "updated_at"]
    list_filter = ["target_class", "image__project"]
    search_fields = ["image__name", "annotator__username"]
    list_select_related = ["image", "annotator"]
    readonly_fields = ["image", "annotator", "current_version", "current", "updated_at"]
    inlines = [PromptVersionInline]


@admin.register(PromptVersion)
class PromptVersionAdmin(admin.ModelAdmin):
    list_display = ["id", "prompt", "version", "status", "based_on", "author", "created_at"]
    list_filter = ["status"]
    list_select_related = ["prompt", "author"]
    exclude = ["mask_png"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ExplanationMask)
class ExplanationMaskAdmin(admin.ModelAdmin):
    list_display = ["image", "updated_at"]
    list_select_related = ["image"]
    exclude = ["mask_png"]
    readonly_fields = ["image", "updated_at"]


# Review and studies: answers are the reviewers' own, so the admin lists them read-only.
class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(ImagePrediction)
class ImagePredictionAdmin(_ReadOnlyAdmin):
    list_display = ["image", "model_version", "predicted_class", "confidence", "outside_energy"]
    list_select_related = ["image", "model_version"]


@admin.register(Assessment)
class AssessmentAdmin(_ReadOnlyAdmin):
    list_display = ["image", "model_version", "reviewer", "predicted_class", "updated_at"]
    list_select_related = ["image", "model_version", "reviewer"]


@admin.register(Adjudication)
class AdjudicationAdmin(admin.ModelAdmin):
    list_display = ["image", "model_version", "reasonable", "decided_by", "updated_at"]
    list_select_related = ["image", "model_version", "decided_by"]


@admin.register(Selection)
class SelectionAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "created_by", "created_at", "queued_for_annotation_at"]
    list_filter = ["project"]


class StudyConditionInline(admin.TabularInline):
    model = StudyCondition
    extra = 0


@admin.register(RatingStudy)
class RatingStudyAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "status", "correction", "created_at", "closed_at"]
    list_filter = ["status", "project"]
    inlines = [StudyConditionInline]


@admin.register(Rating)
class RatingAdmin(_ReadOnlyAdmin):
    list_display = ["presentation", "condition", "slot", "likert", "complete", "updated_at"]
