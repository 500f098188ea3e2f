"""Reads on images: filtered lists, details, windowed display renditions, explanations."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import router
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from labeling import imaging
from labeling.models import AttentionPrompt, ExplanationMask, Image, Membership, Project, Role
from labeling.selectors.common import (
    AnyUser,
    fetch_row,
    not_found,
    role_expression,
    visible_projects_q,
)
from labeling.selectors.projects import ProjectRole
from labeling.storage import read_file
from sightline.errors import ApplicationError

ORDERINGS = ("name", "-name", "created_at", "-created_at")
_DISPLAY_CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ImageFilters:
    """Filters of the image list; ``label="none"`` selects unlabelled images."""

    split: str | None = None
    label: str | None = None
    has_prompt: bool | None = None
    annotator: str | None = None
    search: str | None = None
    ordering: str = "name"


def _current_prompts() -> QuerySet[AttentionPrompt]:
    return AttentionPrompt.objects.filter(image_id=OuterRef("pk"), current_version__gt=0)


def _prompt_count() -> Coalesce:
    count = _current_prompts().order_by().values("image_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def _annotated(user: AnyUser) -> QuerySet[Image]:
    return Image.objects.filter(visible_projects_q(user, "project_id")).annotate(
        prompt_count=_prompt_count(),
        has_explanation=Exists(ExplanationMask.objects.filter(image_id=OuterRef("pk"))),
        my_role=role_expression(user, "project_id"),
    )


def image_list_for_user(
    *, user: AnyUser, project: Project | ProjectRole, filters: ImageFilters
) -> QuerySet[Image]:
    """The images of ``project``, filtered and ordered (a page costs three queries).

    ``project`` comes from a selector that checked ``user`` may see it (``project_get_*``), so
    every image of it is visible: no per-row membership check (on a deep page of 100 000
    images that check alone cost more than the page). Rows carry ``prompt_count`` only (what
    a list shows), not the role and explanation of ``image_get_for_user``, and the counts are
    read for the fetched page only (``ImageQuerySet.with_prompt_count``). ``has_prompt``
    filters with EXISTS, which PostgreSQL runs as a semi-join instead of counting every
    image's prompts.
    """
    images = Image.objects.filter(project_id=project.pk).defer("metadata").with_prompt_count()
    if filters.split:
        images = images.filter(split=filters.split)
    if filters.label == "none":
        images = images.filter(label__isnull=True)
    elif filters.label:
        images = images.filter(label=filters.label)
    if filters.has_prompt is not None:
        prompted = Exists(_current_prompts())
        images = images.filter(prompted if filters.has_prompt else ~prompted)
    if filters.annotator:
        # The annotator's id as a scalar subquery, not a join on the username inside EXISTS:
        # PostgreSQL then estimates the prompts from the index statistics of that one user and
        # hash-joins them (cold count at 100 000 images: 85 -> 23 ms), instead of probing the
        # images one prompt at a time. An unknown name gives NULL and so no image.
        user = get_user_model().objects.filter(username=filters.annotator).values("pk")[:1]
        by_annotator = _current_prompts().filter(annotator_id=Subquery(user))
        images = images.filter(Exists(by_annotator))
    if filters.search:
        images = images.filter(name__icontains=filters.search)
    if filters.ordering not in ORDERINGS:
        raise ApplicationError(f"ordering must be one of {', '.join(ORDERINGS)}", code="invalid")
    return images.order_by(filters.ordering, "pk")


def image_get_for_user(*, user: AnyUser, image_id: int) -> Image:
    """One visible image with ``my_role``, ``prompt_count`` and ``has_explanation``; 404 else."""
    image = _annotated(user).select_related("project").filter(pk=image_id).first()
    if image is None:
        raise not_found()
    return image


def image_get_with_role(*, user: AnyUser, image_id: int) -> Image:
    """One visible image with its project and ``my_role`` only (no counts); 404 otherwise.

    For requests that act on an image rather than show it (a prompt's save): one SQL statement
    built once per variant (``_with_role_sql``), the row turned into model instances with the
    ORM's own converters (``fetch_row``). Compiling the equivalent ORM query (visibility
    EXISTS, role subquery, ORDER BY of first()) was most of a prompt save's CPU for a member.
    """
    if not user.is_authenticated:
        raise not_found()
    superuser = bool(user.is_superuser)
    params = [image_id] if superuser else [user.pk, image_id]
    image_fields, project_fields = Image._meta.concrete_fields, Project._meta.concrete_fields
    role = Membership._meta.get_field("role")
    row = fetch_row(
        Image, _with_role_sql(superuser=superuser), params, [*image_fields, *project_fields, role]
    )
    if row is None:
        raise not_found()
    db, split = router.db_for_read(Image), len(image_fields)
    image = Image.from_db(db, [f.attname for f in image_fields], row[:split])
    image.project = Project.from_db(db, [f.attname for f in project_fields], row[split:-1])
    image.my_role = row[-1]
    return image


@functools.cache
def _with_role_sql(*, superuser: bool) -> str:
    image, project, member = Image._meta, Project._meta, Membership._meta
    columns = [f"i.{f.column}" for f in image.concrete_fields]
    columns += [f"p.{f.column}" for f in project.concrete_fields]
    if superuser:
        role, join = f"'{Role.ADMIN}'", ""
    else:
        role = "m.role"
        join = f"JOIN {member.db_table} m ON m.project_id = i.project_id AND m.user_id = %s "
    return (
        f"SELECT {', '.join(columns)}, {role} FROM {image.db_table} i "
        f"JOIN {project.db_table} p ON p.id = i.project_id {join}WHERE i.id = %s"
    )


def image_display_png(
    *, image: Image, window_center: float | None = None, window_width: float | None = None
) -> bytes:
    """The display rendition, re-windowed from the stored DICOM original when a window is given.

    Re-windowed renditions are cached (keyed by checksum, frame and window), so dragging the
    window/level control over the same values decodes the original only once.
    """
    if window_center is None and window_width is None:
        return read_file(image.display.name)
    if not image.is_dicom:
        raise ApplicationError("a display window applies to DICOM images only", code="invalid")
    if window_center is None or window_width is None or window_width < 1:
        raise ApplicationError(
            "window_center and a window_width of at least 1 are both required", code="invalid"
        )
    if not str(image.metadata.get("photometric_interpretation", "")).startswith("MONOCHROME"):
        return read_file(image.display.name)  # colour DICOM is shown without windowing
    raw = f"{image.checksum}:{image.frame_index}:{window_center!r}:{window_width!r}"
    key = "labeling:display:" + hashlib.sha256(raw.encode()).hexdigest()
    png = cache.get(key)
    if png is None:
        try:
            hu, _ = imaging.read_dicom_hu(read_file(image.original.name), frame=image.frame_index)
        except imaging.ImageRejected as exc:
            raise ApplicationError(str(exc), code="rejected_file") from exc
        display = imaging.apply_window(hu, window_center, window_width)
        if image.metadata.get("photometric_interpretation") == "MONOCHROME1":
            display = 255 - display  # MONOCHROME1 shows low values bright, as at import
        png = imaging.encode_png(display)
        cache.set(key, png, _DISPLAY_CACHE_SECONDS)
    return png


def explanation_get(*, image: Image) -> ExplanationMask:
    """The ground-truth explanation of ``image``; 404 when it has none."""
    explanation = ExplanationMask.objects.filter(image=image).first()
    if explanation is None:
        raise not_found()
    return explanation
