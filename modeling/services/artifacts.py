"""Artifacts of jobs in storage: Grad-CAM / RISE maps and refined prompts ``t(D)``.

Maps are stored as 8-bit grey PNGs (value ``round(255 * m)`` of a map ``m`` in ``[0, 1]``) through
Django's storage API, so any storage backend shared by the workers works. Storing a map again for
the same key replaces the previous file.
"""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from modeling.models import ExplanationMap, Job, ModelVersion, RefinedPrompt


def artifact_store(name: str, data: bytes) -> str:
    """Saves ``data`` under ``name`` in storage (replacing it) and returns the stored name."""
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(data))


def artifact_read(name: str) -> bytes:
    """The stored bytes of an artifact."""
    with default_storage.open(name, "rb") as handle:
        return handle.read()


@transaction.atomic
def explanation_map_save(
    *,
    model_version: ModelVersion,
    image_id: int,
    method: str,
    target_class: str,
    png: bytes,
    definition: dict[str, Any],
    job: Job | None,
) -> ExplanationMap:
    """Stores a model explanation of one image (replacing an earlier one of the same key)."""
    safe_class = "".join(c if c.isalnum() else "_" for c in target_class)[:40]
    name = artifact_store(
        f"artifacts/versions/{model_version.pk}/{method}/{image_id}-{safe_class}.png", png
    )
    record, _ = ExplanationMap.objects.update_or_create(
        model_version=model_version,
        image_id=image_id,
        method=method,
        target_class=target_class,
        defaults={"file": name, "definition": definition, "job": job},
    )
    return record


@transaction.atomic
def refined_prompt_save(
    *,
    model_version: ModelVersion,
    prompt_version_id: int,
    png: bytes,
    definition: dict[str, Any],
    job: Job | None,
) -> RefinedPrompt:
    """Stores ``t(D)`` of one prompt version by one VAPL model version."""
    name = artifact_store(
        f"artifacts/versions/{model_version.pk}/refined/{prompt_version_id}.png", png
    )
    record, _ = RefinedPrompt.objects.update_or_create(
        model_version=model_version,
        prompt_version_id=prompt_version_id,
        defaults={"file": name, "definition": definition, "job": job},
    )
    return record
