"""Reads on projects and memberships."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from labeling.models import AttentionPrompt, Image, Membership, Project, Role
from labeling.selectors.common import (
    AnyUser,
    fetch_row,
    not_found,
    role_expression,
    visible_projects_q,
)


def project_list_for_user(*, user: AnyUser) -> QuerySet[Project]:
    """The projects ``user`` may see, with ``my_role``, ``image_count`` and
    ``prompted_image_count`` annotated (one query whatever the number of projects)."""
    images = Image.objects.filter(project_id=OuterRef("pk")).order_by().values("project_id")
    counted = images.annotate(n=Count("pk")).values("n")
    # EXISTS, not a join and COUNT(DISTINCT): a semi-join that never sorts 100 000 image ids.
    current = AttentionPrompt.objects.filter(image_id=OuterRef("pk"), current_version__gt=0)
    prompted = images.filter(Exists(current)).annotate(n=Count("pk")).values("n")
    return (
        Project.objects.filter(visible_projects_q(user))
        .annotate(
            my_role=role_expression(user),
            image_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0),
            prompted_image_count=Coalesce(Subquery(prompted, output_field=IntegerField()), 0),
        )
        .order_by("name")
    )


def project_get_for_user(*, user: AnyUser, project_id: int) -> Project:
    """One visible project with the annotations of ``project_list_for_user``; 404 otherwise."""
    project = project_list_for_user(user=user).filter(pk=project_id).first()
    if project is None:
        raise not_found()
    return project


@dataclass(frozen=True)
class ProjectRole:
    """A visible project's id and the caller's role in it (what permission classes read)."""

    pk: int
    my_role: str


@functools.cache
def _role_sql() -> str:
    project, member = Project._meta.db_table, Membership._meta.db_table
    return (
        f"SELECT p.id, m.role FROM {project} p "
        f"LEFT JOIN {member} m ON m.project_id = p.id AND m.user_id = %s WHERE p.id = %s"
    )


def project_get_with_role(*, user: AnyUser, project_id: int) -> ProjectRole:
    """A visible project's id and the caller's role (superusers: admin); 404 otherwise.

    For requests on a project's contents (its image list, on every screen): one parameterised
    statement built once, no model instance. The image counts of ``project_get_for_user`` scan
    every image of the project, which on 100 000 images costs more than the page itself, and
    the ORM query was a third of a cached image page's CPU time.
    """
    if not user.is_authenticated:
        raise not_found()
    fields = [Project._meta.pk, Membership._meta.get_field("role")]
    row = fetch_row(Project, _role_sql(), [user.pk, project_id], fields)
    if row is None:
        raise not_found()
    role = Role.ADMIN if user.is_superuser else row[1]
    if role is None:
        raise not_found()
    return ProjectRole(pk=row[0], my_role=role)


def member_list(*, project: Project) -> QuerySet[Membership]:
    """The members of a project (already checked visible), by username."""
    return (
        Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("user__username", "pk")
    )


def member_get(*, project: Project, user_id: int) -> Membership:
    """The membership of ``user_id`` in ``project``; 404 when there is none."""
    membership = member_list(project=project).filter(user_id=user_id).first()
    if membership is None:
        raise not_found()
    return membership
