"""Reads on attention prompts and their version history."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.functions import Coalesce

from labeling.models import AttentionPrompt, Image, PromptVersion, VersionStatus
from labeling.selectors.common import (
    AnyUser,
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


def prompt_get_mine_on_image(
    *, user: AnyUser, image_id: int, target_class: str | None
) -> AttentionPrompt:
    """``user``'s prompt on a visible image, with ``my_role``, in one query; 404 otherwise.

    Without ``target_class`` the target is the image's label, else its project's positive class,
    as in ``MyPromptApi``. An invisible image and a missing prompt give the same 404.
    """
    target = target_class or Coalesce("image__label", "image__project__positive_class")
    prompts = (
        _prompts()
        .filter(visible_projects_q(user, "image__project_id"))
        .filter(image_id=image_id, annotator_id=user.pk, target_class=target)
        .filter(current_version__gt=0)
        .annotate(my_role=role_expression(user, "image__project_id"))
    )
    try:  # at most one row (labeling_prompt_unique); get() compiles no ORDER BY, unlike first()
        return prompts.get()
    except AttentionPrompt.DoesNotExist:
        raise not_found() from None


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
