"""A project's image-list pages and image counts, cached until the project's images change.

Listing a project's images is the request every screen of the product starts with, and a page
costs a count over the project and fifty serialized rows (about 15 ms of web CPU and 2 ms of
PostgreSQL for a 50-row page; tests/load/profile_requests.py). Between two changes of a
project's images every member sees the same page for the same query (the list holds nothing
per user: visibility and role are checked before the cache is consulted), so the page, as the
JSON bytes it is sent as (``sightline.renderers``), is kept in the default cache (Redis in
production, shared by every web process) under
``labeling:images:<project id>:<hash of "json " and the absolute request URL>``, with the project's
*revision* at the time it was computed; a page whose revision is not the current one is a miss.

The *revision* is a random token stored per project. Services that change what a list shows
(an image created, updated or deleted, a first prompt version accepted, classes renamed, a
project deleted or restored) call :func:`project_changed`, which replaces the token, and
replaces it again **after the transaction commits**: a reader takes the token before it
queries, so a page computed from data older than a commit is stored with the token that commit
retires, and no reader accepts that token again.
Pages also expire after :data:`PAGE_SECONDS`, which bounds what a change made outside the
services (SQL, ``QuerySet.update()``) can leave visible. When the cache is unreachable the list
is computed from the database, as without it.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

PAGE_SECONDS = 300
REVISION_SECONDS = 7 * 24 * 3600


def _revision_key(project_id: int) -> str:
    return f"labeling:images:rev:{project_id}"


def project_revision(project_id: int) -> str | None:
    """The project's current revision token (created when missing); ``None`` without a cache."""
    key = _revision_key(project_id)
    try:
        revision = cache.get(key)
        if revision is None:
            cache.add(key, uuid.uuid4().hex, REVISION_SECONDS)  # a concurrent add wins: re-read
            revision = cache.get(key)
    except Exception:  # the cache is an optimisation here, never a dependency
        logger.warning("image list cache unavailable", exc_info=True)
        return None
    return revision


def project_changed(*, project_id: int) -> None:
    """Retire the project's cached pages now and again once the current transaction commits.

    The bump after commit is the one correctness rests on (see the module docstring); the
    immediate one makes the change visible to this transaction's own later reads (a test's
    transaction never commits) and costs one more write.
    """

    def bump() -> None:
        try:
            cache.set(_revision_key(project_id), uuid.uuid4().hex, REVISION_SECONDS)
        except Exception:
            logger.warning(
                "image list cache unavailable; pages of project %s may be stale for %s s",
                project_id,
                PAGE_SECONDS,
                exc_info=True,
            )

    bump()
    transaction.on_commit(bump)


def cached_page(project_id: int, url: str, build: Callable[[], Any]) -> Any:
    """``build()``'s result for ``url`` at the project's revision.

    ``url`` names what is built: a list page's JSON by ``"json "`` and its absolute request URL
    (its host, filters and page), or a fixed name for the project's detail with its image
    counts, which change with the same writes.

    One cache round trip on a hit: the page is stored with the revision it was computed at,
    and read together with the project's current revision. ``build`` runs on a miss and when
    the cache is unreachable; an exception it raises (a page out of range, a bad filter)
    propagates and nothing is stored.
    """
    revision_key = _revision_key(project_id)
    key = f"labeling:images:{project_id}:" + hashlib.sha256(url.encode()).hexdigest()
    try:
        found = cache.get_many([revision_key, key])
    except Exception:  # the cache is an optimisation here, never a dependency
        logger.warning("image list cache unavailable", exc_info=True)
        return build()
    revision = found.get(revision_key) or project_revision(project_id)
    stored = found.get(key)
    if revision is not None and stored is not None and stored[0] == revision:
        return stored[1]
    page = build()
    if revision is not None:
        try:
            cache.set(key, (revision, page), PAGE_SECONDS)
        except Exception:
            logger.warning("image list cache unavailable", exc_info=True)
    return page
