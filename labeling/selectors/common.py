"""Visibility and role rules shared by every selector (the one place they live), and the runner
of the hot paths' prepared statements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connections, router
from django.db.models import (
    CharField,
    Exists,
    Expression,
    Field,
    Model,
    OuterRef,
    Q,
    Subquery,
    Value,
)
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


def fetch_row(
    model: type[Model], sql: str, params: Sequence[Any], fields: Sequence[Field]
) -> list[Any] | None:
    """One row of a prepared statement of the hot paths, its columns converted as the ORM
    converts ``fields`` (JSON text decoded, SQLite's date-time text parsed); ``None`` when no
    row. Runs on the database ``model`` is read from."""
    connection = connections[router.db_for_read(model)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for field, value in zip(fields, row, strict=True):
        col = field.cached_col
        for converter in connection.ops.get_db_converters(col) + col.get_db_converters(connection):
            value = converter(value, col, connection)
        values.append(value)
    return values
