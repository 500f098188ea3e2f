"""Writes on projects and their memberships."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from labeling import listcache
from labeling.models import Image, Membership, Project, Role
from labeling.storage import delete_files_on_commit
from sightline.errors import ApplicationError

_UNSET: Any = object()


@transaction.atomic
def project_create(
    *,
    name: str,
    class_names: list[str],
    creator: AbstractBaseUser | None,
    description: str = "",
    positive_class: str | None = None,
    window_center: float = -600.0,
    window_width: float = 1500.0,
) -> Project:
    """Create a project; its creator (when given) becomes its first admin.

    ``positive_class`` defaults to ``class_names[1]`` (the usual "abnormal" class of a binary
    project).
    """
    if Project.objects.filter(name=name).exists():
        raise ApplicationError(f"a project named {name!r} already exists", code="duplicate")
    if positive_class is None:
        positive_class = class_names[1] if len(class_names) > 1 else ""
    project = Project(
        name=name,
        description=description,
        class_names=list(class_names),
        positive_class=positive_class,
        window_center=window_center,
        window_width=window_width,
    )
    project.full_clean()
    project.save()
    if creator is not None:
        membership = Membership(project=project, user=creator, role=Role.ADMIN)
        membership.full_clean()
        membership.save()
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    name: str = _UNSET,
    description: str = _UNSET,
    class_names: list[str] = _UNSET,
    positive_class: str = _UNSET,
    window_center: float = _UNSET,
    window_width: float = _UNSET,
) -> Project:
    """Change the given fields; class names still used by a label cannot be removed.

    The display window of images already stored is kept (each image records the window its
    display rendition was made with); the new window applies to later uploads.
    """
    project = Project.objects.select_for_update().get(pk=project.pk)
    changes = {
        "name": name,
        "description": description,
        "class_names": class_names,
        "positive_class": positive_class,
        "window_center": window_center,
        "window_width": window_width,
    }
    for field, value in changes.items():
        if value is not _UNSET:
            setattr(project, field, value)
    if name is not _UNSET and Project.objects.filter(name=name).exclude(pk=project.pk).exists():
        raise ApplicationError(f"a project named {name!r} already exists", code="duplicate")
    if class_names is not _UNSET:
        used = set(
            Image.objects.filter(project=project, label__isnull=False)
            .values_list("label", flat=True)
            .distinct()
        )
        missing = sorted(used - set(class_names))
        if missing:
            raise ApplicationError(
                f"classes still used as labels cannot be removed: {', '.join(missing)}",
                code="class_in_use",
            )
        if positive_class is _UNSET and project.positive_class not in class_names:
            project.positive_class = class_names[1] if len(class_names) > 1 else ""
    project.full_clean()
    project.save()
    listcache.project_changed(project_id=project.pk)  # a class rename changes what lists show
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    """Delete a project with its images, prompts and stored files (files after commit)."""
    names: set[str] = set()
    for row in Image.objects.filter(project=project).values("original", "display", "thumbnail"):
        names.update(row.values())
    pk = project.pk
    project.delete()
    listcache.project_changed(project_id=pk)  # a project restored with this id starts afresh
    delete_files_on_commit(sorted(names))


@transaction.atomic
def member_add(*, project: Project, username: str, role: str) -> Membership:
    """Give the user named ``username`` a role in ``project``."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ApplicationError(f"no user named {username!r}", code="unknown_user")
    if Membership.objects.filter(project=project, user=user).exists():
        raise ApplicationError(
            f"{username} is already a member of this project", code="already_member"
        )
    membership = Membership(project=project, user=user, role=role)
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def member_update(*, membership: Membership, role: str) -> Membership:
    """Change a member's role; the last admin of a project cannot be demoted."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        _ensure_another_admin(membership)
    membership.role = role
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def member_remove(*, membership: Membership) -> None:
    """Remove a member; the last admin of a project cannot be removed."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.ADMIN:
        _ensure_another_admin(membership)
    membership.delete()


def _ensure_another_admin(membership: Membership) -> None:
    # Locking every admin row serialises concurrent demotions, so two admins cannot demote each
    # other at the same time and leave the project without one.
    admins = list(
        Membership.objects.select_for_update()
        .filter(project_id=membership.project_id, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if [pk for pk in admins if pk != membership.pk]:
        return
    raise ApplicationError(
        "the last admin of a project cannot be removed or demoted", code="last_admin"
    )
