"""Visibility and role rules shared by every selector: the one place they live."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import CharField, Exists, Expression, OuterRef, Q, Subquery, Value
from rest_framework import status

from labeling.models import Membership, Role
from sightline.errors import ApplicationError

AnyUser = AbstractBaseUser | AnonymousUser


def not_found() -> ApplicationError:
    """The answer for anything missing or invisible to the caller (outsiders learn nothing)."""
    return ApplicationError("Not found.", code="not_found", status_code=status.HTTP_404_NOT_FOUND)


def visible_projects_q(user: AnyUser, project_field: str = "pk") -> Q:
    """Rows whose project (reached through ``project_field``) ``user`` may see."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    member = Membership.objects.filter(project_id=OuterRef(project_field), user_id=user.pk)
    return Q(Exists(member))


def role_expression(user: AnyUser, project_field: str = "pk") -> Expression:
    """The caller's role in the row's project (superusers act as admins everywhere)."""
    if user.is_authenticated and user.is_superuser:
        return Value(Role.ADMIN, output_field=CharField())
    role = Membership.objects.filter(project_id=OuterRef(project_field), user_id=user.pk)
    return Subquery(role.values("role")[:1], output_field=CharField())
