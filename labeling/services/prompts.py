"""Saving attention prompts: immutable versions with optimistic concurrency.

Each save names the version it was based on. Under a row lock on the prompt, a save based on the
current version becomes the next version; any other save is stale: its mask is still kept in the
history as an unnumbered ``conflict`` version (so no drawing is ever lost) and the caller gets a
409. On PostgreSQL the lock serialises concurrent saves, so N saves based on the same version
give exactly one winner; on SQLite ``select_for_update`` is a no-op but SQLite serialises
writers itself, and the version check still runs inside the transaction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework import status

from labeling import imaging
from labeling.models import AttentionPrompt, Image, PromptVersion, VersionStatus
from sightline.errors import ApplicationError


class PromptConflict(ApplicationError):
    """A stale save: the mask was kept as a conflict version and did not become current."""

    def __init__(self, *, prompt: AttentionPrompt, rejected: PromptVersion) -> None:
        super().__init__(
            f"the prompt is at version {prompt.current_version}, "
            f"but this save was based on version {rejected.based_on}",
            code="conflict",
            status_code=status.HTTP_409_CONFLICT,
            detail={
                "current_version": prompt.current_version,
                "your_version_id": rejected.pk,
                "current": None,
            },
        )
        self.prompt = prompt
        self.rejected = rejected


def prompt_decode(*, image: Image, mask: bytes | dict[str, Any]) -> np.ndarray:
    """Decode a prompt sent as PNG bytes or as an RLE object, checked against the image size.

    Returns:
        int8 ``[H, W]`` in {-1 (unclear), 0 (unimportant), +1 (important)}.
    """
    size = (image.width, image.height)
    try:
        if isinstance(mask, bytes | bytearray):
            return imaging.prompt_from_png(bytes(mask), size=size)
        if isinstance(mask, dict):
            return imaging.prompt_from_rle(mask, size=size)
    except imaging.MaskError as exc:
        raise ApplicationError(str(exc), code="invalid_prompt") from exc
    raise ApplicationError("the prompt must be a PNG or an RLE object", code="invalid_prompt")


def prompt_save(
    *,
    image: Image,
    annotator: AbstractBaseUser,
    target_class: str,
    mask: bytes | dict[str, Any] | np.ndarray,
    base_version: int | None,
    window_center: float | None = None,
    window_width: float | None = None,
) -> tuple[AttentionPrompt, PromptVersion]:
    """Save a new version of ``annotator``'s prompt for ``target_class`` on ``image``.

    Args:
        mask: PNG bytes, an RLE object, or an int8 ``[H, W]`` array in {-1, 0, 1}.
        base_version: the version the drawing started from (0 when creating).
        window_center: display window the prompt was drawn with; defaults to the image's.

    Returns:
        The prompt (now at the new version) and the new accepted version.

    Raises:
        ApplicationError: 428 without a base version, 400 for a bad mask or class.
        PromptConflict: 409 when ``base_version`` is not the current version.
    """
    if base_version is None:
        raise ApplicationError(
            "saving a prompt needs the version it is based on (If-Match or base_version; "
            "0 when creating)",
            code="precondition_required",
            status_code=status.HTTP_428_PRECONDITION_REQUIRED,
        )
    if base_version < 0:
        raise ApplicationError("base_version cannot be negative", code="invalid")
    if target_class not in image.project.class_names:
        classes = ", ".join(image.project.class_names)
        raise ApplicationError(
            f"target class {target_class!r} is not one of the project's classes: {classes}",
            code="invalid",
        )
    array = mask if isinstance(mask, np.ndarray) else prompt_decode(image=image, mask=mask)
    if array.shape != (image.height, image.width):
        raise ApplicationError(
            f"prompt is {array.shape[1]}x{array.shape[0]} but the image is "
            f"{image.width}x{image.height}",
            code="invalid_prompt",
        )
    if window_center is None or window_width is None:
        window_center, window_width = image.window_center, image.window_width
    prompt, version = _record_version(
        image=image,
        annotator=annotator,
        target_class=target_class,
        png=imaging.prompt_to_png(array),
        counts=imaging.prompt_counts(array),
        base_version=base_version,
        window=(window_center, window_width),
    )
    # Raised after the transaction committed, so the conflict version stays in the history.
    if version.status == VersionStatus.CONFLICT:
        raise PromptConflict(prompt=prompt, rejected=version)
    return prompt, version


@transaction.atomic
def _record_version(
    *,
    image: Image,
    annotator: AbstractBaseUser,
    target_class: str,
    png: bytes,
    counts: dict[str, int],
    base_version: int,
    window: tuple[float | None, float | None],
) -> tuple[AttentionPrompt, PromptVersion]:
    key = {"image": image, "annotator": annotator, "target_class": target_class}
    # Every save after the first finds its prompt with the lock's own query.
    prompt = AttentionPrompt.objects.select_for_update().filter(**key).first()
    if prompt is None:
        created, _ = AttentionPrompt.objects.get_or_create(**key)
        prompt = AttentionPrompt.objects.select_for_update().get(pk=created.pk)
    prompt.annotator = annotator  # the row's own user: the answer needs no query to read it
    accepted = base_version == prompt.current_version
    version = PromptVersion(
        prompt=prompt,
        version=prompt.current_version + 1 if accepted else None,
        status=VersionStatus.ACCEPTED if accepted else VersionStatus.CONFLICT,
        based_on=base_version,
        author=annotator,
        mask_png=png,
        window_center=window[0],
        window_width=window[1],
        counts=counts,
        size_bytes=len(png),
    )
    # The related rows were loaded in this transaction (the prompt under its lock), and the
    # constraints are the database's: checking them again in Python costs a query each, half
    # of a save's time. Field values and clean() are still checked.
    version.full_clean(exclude=["prompt", "author"], validate_constraints=False)
    version.save()
    if accepted:
        prompt.current_version = version.version
        prompt.current = version
        prompt.full_clean(exclude=["image", "annotator", "current"], validate_constraints=False)
        prompt.save(update_fields=["current_version", "current", "updated_at"])
    return prompt, version
