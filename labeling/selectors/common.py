"""Visibility and role rules shared by every selector (the one place they live), and the runner
of the hot paths' prepared statements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from weakref import WeakKeyDictionary

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
from sightline.db import prepared_cursor
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
    """One row of a fixed statement of the hot paths, its columns converted as the ORM converts
    ``fields`` (JSON text decoded, SQLite's date-time text parsed); ``None`` when no row. Runs
    on the database ``model`` is read from, prepared on the server there when it is PostgreSQL
    (``sightline.db``). ``sql`` is built once and always names the columns of ``fields``: the
    converters are looked up once per statement and connection."""
    connection = connections[router.db_for_read(model)]
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return [
        _convert(value, col, converters, connection)
        for value, (col, converters) in zip(row, _converters(connection, sql, fields), strict=True)
    ]


def _convert(value: Any, col: Any, converters: list[Callable[..., Any]], connection: Any) -> Any:
    for converter in converters:
        value = converter(value, col, connection)
    return value


# Per connection object (one per thread), as the backend's converters are its methods.
_CONVERTERS: WeakKeyDictionary[Any, dict[str, list[tuple[Any, list[Callable[..., Any]]]]]] = (
    WeakKeyDictionary()
)


def _converters(
    connection: Any, sql: str, fields: Sequence[Field]
) -> list[tuple[Any, list[Callable[..., Any]]]]:
    """Each column's expression and the ORM's converters for it on ``connection``."""
    known = _CONVERTERS.setdefault(connection, {})
    found = known.get(sql)
    if found is None:
        found = known[sql] = [
            (
                col := field.cached_col,
                connection.ops.get_db_converters(col) + col.get_db_converters(connection),
            )
            for field in fields
        ]
    return found
