"""Writing files through Django's storage API so that a failed transaction leaves none behind.

The database cannot roll back a file, so every service that stores files runs inside
``cleanup_files_on_error``: the names written while it runs are remembered and deleted again
when it raises. Guards nest: an inner guard that succeeds hands its names to the enclosing
guard, so a later failure of the enclosing block (for example the per-file savepoint of an
import) still removes them. Deletions of files that belong to committed rows happen only after
commit (``delete_files_on_commit``), so a rolled-back delete keeps its files.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_written: ContextVar[list[str] | None] = ContextVar("labeling_files_written", default=None)


@contextlib.contextmanager
def file_guard() -> Iterator[list[str]]:
    """Delete the files stored inside the block if the block raises."""
    names: list[str] = []
    outer = _written.get()
    token = _written.set(names)
    try:
        yield names
    except BaseException:
        _delete_now(names)
        raise
    finally:
        _written.reset(token)
    if outer is not None:
        outer.extend(names)


def cleanup_files_on_error(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of ``file_guard`` for services (put it above ``transaction.atomic``)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with file_guard():
            return func(*args, **kwargs)

    return wrapper


def store_file(name: str, data: bytes) -> str:
    """Save ``data`` under ``name`` (the storage may pick a free variant) and return the name."""
    stored = default_storage.save(name, ContentFile(data))
    names = _written.get()
    if names is not None:
        names.append(stored)
    return stored


def read_file(name: str) -> bytes:
    """The stored bytes of ``name``."""
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def delete_files_on_commit(names: Iterable[str]) -> None:
    """Delete ``names`` from storage once the current transaction commits."""
    pending = [name for name in names if name]
    if pending:
        transaction.on_commit(functools.partial(_delete_now, pending))


def _delete_now(names: Iterable[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # a leftover file is harmless; a failed request is not
            logger.warning("could not delete stored file %s", name, exc_info=True)
