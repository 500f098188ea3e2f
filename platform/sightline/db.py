"""Server-side prepared statements for the few hot reads, on PostgreSQL.

Django's ClientCursor sends every statement as text with its parameters inlined, so PostgreSQL
parses and plans it on each request: for the prompt GET's three-table join that was about
150 us of the 190 us of PostgreSQL CPU it cost, and about 35 us more of the web process than a
prepared execution (measured with psycopg on this machine, 5 000 executions each). Django keeps
psycopg's preparation off on its connections (``prepare_threshold=None``, so that transaction
poolers work), which suits the ORM's many one-off statements. :func:`prepared_cursor` is for
the other kind: fixed statements built once and run on nearly every request
(``labeling.selectors.common.fetch_row``). Each is prepared on the connection at its first use
and then executed by name. The connection's setting stays as configured for everything else.

``DATABASE_PREPARED_STATEMENTS=0`` turns this off (behind a transaction-mode PgBouncer older
than 1.21, which cannot keep a session's prepared statements); other databases use Django's
cursor. psycopg keeps the statements' names per connection: a rollback deallocates them and the
next use prepares again, and a new connection starts with none.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

# psycopg prepares a statement only while the connection's threshold is not None; executions
# ask for preparation explicitly, so the threshold itself is never reached.
_ASKED_ONLY = sys.maxsize


def prepared_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor whose statements are prepared on the server (PostgreSQL with psycopg 3), else
    ``connection.cursor()``.

    Built as ``BaseDatabaseWrapper._cursor`` builds Django's own (the connection health check,
    the connection itself, the debug wrapper when queries are logged, execute wrappers), so
    query counting, error translation and ``CONN_HEALTH_CHECKS`` behave as with any cursor.
    """
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = _postgresql()[0](connection.connection)
    _use_connection_timezone(connection, raw)
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def _use_connection_timezone(connection: BaseDatabaseWrapper, cursor: Any) -> None:
    """As Django's ``create_cursor``: timestamps in the connection's time zone."""
    _, timestamptz_oid, text_format, register_tzloader = _postgresql()
    loader = connection.connection.adapters.get_loader(timestamptz_oid, text_format)
    if connection.timezone != loader.timezone:
        register_tzloader(connection.timezone, cursor)


@functools.cache
def _postgresql() -> tuple[type, int, Any, Any]:
    """Django's server-binding cursor made to prepare every statement it executes, and what
    the time zone check needs (imported only when PostgreSQL is in use)."""
    from django.db.backends.postgresql.base import ServerBindingCursor
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg import adapters
    from psycopg.pq import Format

    class PreparingCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs["prepare"] = True
            pg = self.connection
            configured = pg.prepare_threshold
            if configured is None:
                pg.prepare_threshold = _ASKED_ONLY
            try:
                return super().execute(query, params, **kwargs)
            finally:
                pg.prepare_threshold = configured

    return PreparingCursor, adapters.types["timestamptz"].oid, Format.TEXT, register_tzloader
