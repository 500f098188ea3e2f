"""Writes on images: upload (decode, de-duplicate, store), edits, deletion, explanations.

Stored files are named by the SHA-256 of the uploaded file
(``images/<project>/<sha[:2]>/<sha>.<ext>``, display and thumbnail renditions beside it), so the
layout works unchanged on any Django storage backend (local disk today, S3 later).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from labeling import imaging, listcache
from labeling.models import ExplanationMask, Image, Project, Split
from labeling.storage import cleanup_files_on_error, delete_files_on_commit, store_file
from sightline.errors import ApplicationError

_UNSET: Any = object()
_SUFFIX = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "dicom": ".dcm"}


@dataclass(frozen=True)
class Rejection:
    """A file that was not imported and why."""

    file: str
    reason: str


@dataclass
class UploadResult:
    """Images created by an upload and the files rejected, in upload order."""

    created: list[Image] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


@cleanup_files_on_error
@transaction.atomic
def image_create(
    *,
    project: Project,
    name: str,
    data: bytes,
    created_by: AbstractBaseUser | None,
    label: str | None = None,
    split: str = Split.UNASSIGNED,
    all_frames: bool = False,
) -> list[Image]:
    """Decode, store and record one uploaded file.

    Returns one image, or one per frame for a multi-frame DICOM file with ``all_frames``.
    Raises ``ApplicationError`` whose message is the reason shown to the user when the file is
    too large, a duplicate (same SHA-256 in the project) or cannot be decoded.
    """
    name = PurePath(name.replace("\\", "/")).name or "unnamed"
    _validate_label(project, label)
    limit = settings.SIGHTLINE_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise ApplicationError(
            f"file is {len(data)} bytes, more than the limit of {limit}", code="too_large"
        )
    checksum = hashlib.sha256(data).hexdigest()
    duplicate = Image.objects.filter(project=project, checksum=checksum).order_by("pk").first()
    if duplicate is not None:
        raise ApplicationError(
            f"duplicate of image {duplicate.pk} ({duplicate.name})", code="duplicate"
        )
    try:
        decoded = imaging.decode_image(
            data,
            name,
            window=(project.window_center, project.window_width),
            frames="all" if all_frames else "middle",
            max_pixels=settings.SIGHTLINE_MAX_IMAGE_PIXELS,
        )
    except imaging.ImageRejected as exc:
        raise ApplicationError(str(exc), code="rejected_file") from exc
    base = f"images/{project.pk}/{checksum[:2]}/{checksum}"
    original = store_file(base + _SUFFIX[decoded[0].format], data)
    images = []
    for item in decoded:
        tag = "" if item.frame_index is None or len(decoded) == 1 else f".f{item.frame_index}"
        image = Image(
            project=project,
            name=_frame_name(name, item.frame_index) if len(decoded) > 1 else name,
            original=original,
            display=store_file(f"{base}{tag}.display.png", imaging.encode_png(item.display)),
            thumbnail=store_file(f"{base}{tag}.thumb.png", imaging.make_thumbnail(item.display)),
            format=item.format,
            width=item.width,
            height=item.height,
            checksum=checksum,
            label=label,
            split=split,
            frame_index=item.frame_index,
            window_center=item.window[0] if item.window else None,
            window_width=item.window[1] if item.window else None,
            metadata=item.metadata,
            created_by=created_by,
        )
        image.full_clean()
        image.save()
        images.append(image)
    listcache.project_changed(project_id=project.pk)
    return images


def image_create_many(
    *,
    project: Project,
    files: Iterable[tuple[str, bytes | IO[bytes]]],
    created_by: AbstractBaseUser | None,
    label: str | None = None,
    split: str = Split.UNASSIGNED,
) -> UploadResult:
    """Create images from several files; each file is committed or rejected on its own.

    Files are read one at a time, so only one is held in memory.
    """
    _validate_label(project, label)
    result = UploadResult()
    limit = settings.SIGHTLINE_MAX_UPLOAD_BYTES
    for name, source in files:
        size = len(source) if isinstance(source, bytes) else getattr(source, "size", None)
        if size is not None and size > limit:  # refused before it is read into memory
            reason = f"file is {size} bytes, more than the limit of {limit}"
            result.rejected.append(Rejection(file=name, reason=reason))
            continue
        data = source if isinstance(source, bytes) else source.read()
        try:
            result.created += image_create(
                project=project,
                name=name,
                data=data,
                created_by=created_by,
                label=label,
                split=split,
            )
        except ApplicationError as exc:
            result.rejected.append(Rejection(file=name, reason=exc.message))
        except IntegrityError:  # the same file uploaded concurrently by another request
            result.rejected.append(
                Rejection(file=name, reason="duplicate of an image uploaded now")
            )
    return result


@transaction.atomic
def image_update(*, image: Image, label: str | None = _UNSET, split: str = _UNSET) -> Image:
    """Change an image's label (``None`` clears it) and/or split."""
    image = Image.objects.select_for_update().select_related("project").get(pk=image.pk)
    if label is not _UNSET:
        image.label = label
    if split is not _UNSET:
        image.split = split
    image.full_clean()
    image.save(update_fields=["label", "split"])
    listcache.project_changed(project_id=image.project_id)
    return image


@transaction.atomic
def image_delete(*, image: Image) -> None:
    """Delete an image and its prompts; its files go after commit unless another frame uses them."""
    names = {image.original.name, image.display.name, image.thumbnail.name}
    image.delete()
    listcache.project_changed(project_id=image.project_id)
    still_used = set(Image.objects.filter(original__in=names).values_list("original", flat=True))
    delete_files_on_commit(sorted(names - still_used))


@transaction.atomic
def explanation_set(*, image: Image, png: bytes) -> ExplanationMask:
    """Attach (or replace) the binary ground-truth explanation of ``image``.

    The PNG must have the image's size and only the values 0 and 255; it is stored re-encoded.
    """
    try:
        mask = imaging.explanation_from_png(png, size=(image.width, image.height))
    except imaging.MaskError as exc:
        raise ApplicationError(f"explanation: {exc}", code="invalid_explanation") from exc
    explanation = ExplanationMask.objects.filter(image=image).first() or ExplanationMask(
        image=image
    )
    explanation.mask_png = imaging.explanation_to_png(mask)
    explanation.full_clean()
    explanation.save()
    return explanation


def _validate_label(project: Project, label: str | None) -> None:
    if label is not None and label not in project.class_names:
        classes = ", ".join(project.class_names)
        raise ApplicationError(
            f"label {label!r} is not one of the project's classes: {classes}", code="invalid"
        )


def _frame_name(name: str, frame_index: int | None) -> str:
    path = PurePath(name)
    return f"{path.stem}#frame{frame_index}{path.suffix}"
