"""Reads on attention prompts and their version history."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, NamedTuple

from django.db.models import Field, QuerySet

from labeling.models import (
    AttentionPrompt,
    Image,
    Membership,
    Project,
    PromptVersion,
    VersionStatus,
)
from labeling.selectors.common import (
    AnyUser,
    fetch_row,
    not_found,
    role_expression,
    visible_projects_q,
)


def _prompts() -> QuerySet[AttentionPrompt]:
    # The current version rides along in the same query, without its mask bytes.
    return AttentionPrompt.objects.select_related("annotator", "current").defer("current__mask_png")


def prompt_list_for_image(*, image: Image) -> QuerySet[AttentionPrompt]:
    """The current prompt of each annotator and target class on a visible image."""
    return _prompts().filter(image=image, current_version__gt=0).order_by("-updated_at", "-pk")


def prompt_get_mine(*, image: Image, user: AnyUser, target_class: str) -> AttentionPrompt:
    """``user``'s prompt for ``target_class`` on ``image``; 404 before its first version."""
    prompt = (
        _prompts()
        .filter(image=image, annotator_id=user.pk, target_class=target_class)
        .filter(current_version__gt=0)
        .first()
    )
    if prompt is None:
        raise not_found()
    return prompt


@functools.cache
def _mine_sql(*, superuser: bool, with_target: bool) -> str:
    """The SQL of :func:`prompt_get_mine_on_image`, built once per variant from model metadata.

    Parameters in order: image id, annotator id, [target class], [user id for membership].
    """
    prompt, version = AttentionPrompt._meta, PromptVersion._meta
    image, project, member = Image._meta, Project._meta, Membership._meta
    if with_target:
        target = "%s"
    else:  # the image's label, else its project's positive class (as MyPromptApi decides)
        target = f"COALESCE(i.label, (SELECT pr.positive_class FROM {project.db_table} pr "
        target += "WHERE pr.id = i.project_id))"
    visible = (
        ""
        if superuser
        else f"AND EXISTS (SELECT 1 FROM {member.db_table} m "
        "WHERE m.project_id = i.project_id AND m.user_id = %s)"
    )
    return (
        "SELECT p.id, p.target_class, p.current_version, p.current_id, p.updated_at, "
        "v.window_center, v.window_width, v.counts "
        f"FROM {prompt.db_table} p "
        f"JOIN {image.db_table} i ON i.id = p.image_id "
        f"LEFT JOIN {version.db_table} v ON v.id = p.current_id "
        "WHERE p.image_id = %s AND p.annotator_id = %s AND p.current_version > 0 "
        f"AND p.target_class = {target} {visible}"
    )


class PromptRow(NamedTuple):
    """The columns of a prompt and its current version that ``PromptSerializer`` shows."""

    id: int
    image_id: int
    target_class: str
    current_version: int
    current_id: int | None
    updated_at: datetime
    window_center: float | None
    window_width: float | None
    counts: dict[str, int] | None


def prompt_get_mine_on_image(
    *, user: AnyUser, image_id: int, target_class: str | None
) -> PromptRow:
    """``user``'s prompt on a visible image, as a row; 404 otherwise.

    The hot read of the annotation canvas (every image opened asks for it), so it is one
    parameterised SQL statement built once (:func:`_mine_sql`) and a plain row, which
    ``labeling.serializers.prompt_data`` turns into ``PromptSerializer``'s exact output (a test
    compares the two for every role): compiling the ORM query and running the serializer were
    two thirds of the request's CPU (5.9 ms -> 2.5 ms, deploy/README.md). Every member may read
    their own prompt (``CanWritePrompts``), so visibility is the whole permission check.
    Without ``target_class`` the target is the image's label, else its project's positive
    class, as in ``MyPromptApi``. An invisible image and a missing prompt give the same 404.
    """
    if not user.is_authenticated:
        raise not_found()
    superuser = bool(user.is_superuser)
    params: list[Any] = [image_id, user.pk]
    if target_class:
        params.append(target_class)
    if not superuser:
        params.append(user.pk)
    sql = _mine_sql(superuser=superuser, with_target=bool(target_class))
    row = fetch_row(AttentionPrompt, sql, params, _mine_fields())
    if row is None:
        raise not_found()
    pk, target, version, current_id, updated_at, center, width, counts = row
    return PromptRow(pk, image_id, target, version, current_id, updated_at, center, width, counts)


@functools.cache
def _mine_fields() -> list[Field]:
    """The model fields of :func:`_mine_sql`'s columns, in order (for their converters)."""
    prompt, version = AttentionPrompt._meta, PromptVersion._meta
    names = ("id", "target_class", "current_version", "current", "updated_at")
    return [prompt.get_field(name) for name in names] + [
        version.get_field(name) for name in ("window_center", "window_width", "counts")
    ]


def prompt_get_for_user(*, user: AnyUser, prompt_id: int) -> AttentionPrompt:
    """One prompt whose project ``user`` may see, with ``my_role``; 404 otherwise."""
    prompt = (
        _prompts()
        .filter(visible_projects_q(user, "image__project_id"))
        .annotate(my_role=role_expression(user, "image__project_id"))
        .filter(pk=prompt_id)
        .first()
    )
    if prompt is None:
        raise not_found()
    return prompt


def prompt_version_list(*, prompt: AttentionPrompt) -> QuerySet[PromptVersion]:
    """Every version of a prompt, accepted and conflicting, oldest first (masks not loaded)."""
    return (
        PromptVersion.objects.filter(prompt=prompt)
        .select_related("author")
        .defer("mask_png")
        .order_by("created_at", "pk")
    )


def prompt_version_get(
    *, prompt: AttentionPrompt, version: int | None = None, version_id: int | None = None
) -> PromptVersion:
    """A version by number, by id (conflicts have no number), or else the current one."""
    versions = PromptVersion.objects.filter(prompt=prompt)
    if version_id is not None:
        found = versions.filter(pk=version_id).first()
    elif version is not None:
        found = versions.filter(version=version, status=VersionStatus.ACCEPTED).first()
    else:
        found = versions.filter(pk=prompt.current_id).first() if prompt.current_id else None
    if found is None:
        raise not_found()
    return found
