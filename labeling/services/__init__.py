"""Writes of the labeling app (HackSoft style services), split by subdomain."""

from labeling.services.dataset_export import ExportResult, dataset_export
from labeling.services.dataset_import import ImportResult, dataset_class_names, dataset_import
from labeling.services.images import (
    Rejection,
    UploadResult,
    explanation_set,
    image_create,
    image_create_many,
    image_delete,
    image_update,
)
from labeling.services.projects import (
    member_add,
    member_remove,
    member_update,
    project_create,
    project_delete,
    project_update,
)
from labeling.services.prompts import PromptConflict, prompt_decode, prompt_save

__all__ = [
    "ExportResult",
    "ImportResult",
    "PromptConflict",
    "Rejection",
    "UploadResult",
    "dataset_class_names",
    "dataset_export",
    "dataset_import",
    "explanation_set",
    "image_create",
    "image_create_many",
    "image_delete",
    "image_update",
    "member_add",
    "member_remove",
    "member_update",
    "project_create",
    "project_delete",
    "project_update",
    "prompt_decode",
    "prompt_save",
]
