"""Backup and restore of one project as a single zip archive.

The archive holds ``manifest.json`` (format version, project name, row counts, file list),
``rows.json`` (every row of the project in Django's JSON serialization: the project, members,
images, prompts with their full version history, explanations, and every row of the
``labeling`` and ``modeling`` apps that reaches the project through foreign keys: predictions,
assessments, adjudications, selections, studies, ratings, jobs, job metrics, model versions,
explanation maps, refined prompts), ``users.json`` (the accounts those rows refer to, with their
password hashes) and ``files/<storage name>`` for every stored file (originals, display and
thumbnail renditions, checkpoints, explanation maps).

Which rows belong to the project is found by walking foreign keys, so a model added later to
either app is included without a change here.

Restore is meant for an empty instance (disaster recovery, moving a project to a new server):
rows keep their primary keys, so every id and URL in the API answers is the same as before.
Users are matched by username; a missing user is created (keeping its id when free). Restoring
into an instance that already holds any of the project's rows or its name is refused
(``ApplicationError``), not merged. Not included: API tokens, sessions, and Celery state (jobs
that were queued or running are restored with that status and picked up by the reconciler).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.db import connection, models, transaction

from labeling import listcache
from labeling.models import Project
from sightline.errors import ApplicationError

FORMAT_VERSION = 1
USER_FIELDS = (
    "username",
    "password",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
    "date_joined",
)
APPS = ("labeling", "modeling")
# Storage names kept in plain character fields rather than FileFields.
STORAGE_CHAR_FIELDS = {
    "modeling.job": ("checkpoint",),
    "modeling.modelversion": ("checkpoint",),
    "modeling.explanationmap": ("file",),
    "modeling.refinedprompt": ("file",),
}


@dataclass(frozen=True)
class BackupResult:
    rows: int
    files: int
    users: int


def _project_lookup(model: type[models.Model], depth: int = 0) -> str | None:
    """The ORM lookup from ``model`` to its project (``"image__project"``), or ``None``."""
    if model is Project:
        return "pk"
    if depth > 4:
        return None
    for field in model._meta.get_fields():
        if not (field.many_to_one or field.one_to_one) or not field.concrete:
            continue
        target = field.related_model
        if target is Project:
            return field.name
        if target is None or target._meta.app_label not in APPS or target is model:
            continue
        inner = _project_lookup(target, depth + 1)
        if inner is not None:
            return f"{field.name}__{inner}"
    return None


def _project_querysets(project: Project) -> Iterator[models.QuerySet]:
    for app_label in APPS:
        for model in apps.get_app_config(app_label).get_models():
            lookup = _project_lookup(model)
            if lookup is not None:
                yield model.objects.filter(**{lookup: project.pk}).order_by("pk")


def _storage_names(obj: models.Model) -> list[str]:
    names = [
        getattr(obj, field.attname).name
        for field in obj._meta.concrete_fields
        if isinstance(field, models.FileField)
    ]
    names += [getattr(obj, name) for name in STORAGE_CHAR_FIELDS.get(obj._meta.label_lower, ())]
    return [name for name in names if name]


def _user_ids(obj: models.Model) -> set[int]:
    user_model = get_user_model()
    return {
        getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if field.is_relation and field.related_model is user_model and getattr(obj, field.attname)
    }


def _dumps(rows: list[dict[str, Any]]) -> str:
    """JSON of serialized rows; times keep their microseconds (Django's JSON encoder cuts them
    to milliseconds, which would change every timestamp the API shows)."""

    def default(value: object) -> str:
        if isinstance(value, datetime | date | time):
            return value.isoformat()
        return str(value)  # Decimal, UUID

    return json.dumps(rows, default=default)


def project_backup(*, project: Project, out: IO[bytes]) -> BackupResult:
    """Write ``project`` with its history, review and modeling rows and files to ``out`` (zip)."""
    rows: list[models.Model] = []
    for queryset in _project_querysets(project):
        rows.extend(queryset)
    user_ids = set().union(*(_user_ids(row) for row in rows))
    users = list(get_user_model().objects.filter(pk__in=user_ids).order_by("pk"))
    files = sorted({name for row in rows for name in _storage_names(row)})
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("rows.json", _dumps(serializers.serialize("python", rows)))
        archive.writestr(
            "users.json",
            _dumps(serializers.serialize("python", users, fields=USER_FIELDS)),
        )
        for name in files:
            if default_storage.exists(name):
                with default_storage.open(name, "rb") as handle:
                    archive.writestr(f"files/{name}", handle.read())
        manifest = {
            "format": FORMAT_VERSION,
            "project": project.name,
            "rows": len(rows),
            "users": len(users),
            "files": files,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return BackupResult(rows=len(rows), files=len(files), users=len(users))


def _read_archive(source: IO[bytes] | str) -> tuple[dict[str, Any], zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(source)
        manifest = json.loads(archive.read("manifest.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ApplicationError(
            f"not a Sightline project backup: {exc}", code="invalid_backup"
        ) from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise ApplicationError(
            f"backup format {manifest.get('format')!r} is not {FORMAT_VERSION}",
            code="invalid_backup",
        )
    return manifest, archive


def _restore_timestamps(obj: models.Model) -> None:
    """Put back ``auto_now``/``auto_now_add`` values, which ``save()`` overwrites even raw."""
    stamped = {
        field.attname: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    }
    if stamped:
        type(obj)._base_manager.filter(pk=obj.pk).update(**stamped)


def _reset_sequences(model_classes: set[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_classes))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


@transaction.atomic
def project_restore(*, source: IO[bytes] | str) -> Project:
    """Restore a backup written by :func:`project_backup` into this (empty) instance.

    Raises:
        ApplicationError: not a backup, an unknown format, or rows that exist already.
    """
    manifest, archive = _read_archive(source)
    if Project.objects.filter(name=manifest["project"]).exists():
        raise ApplicationError(
            f"a project named {manifest['project']!r} exists already", code="conflict"
        )
    mapping = _restore_users_keeping_ids(archive)
    user_model = get_user_model()
    objects = list(serializers.deserialize("python", json.loads(archive.read("rows.json"))))
    for item in objects:
        model = type(item.object)
        if model.objects.filter(pk=item.object.pk).exists():
            raise ApplicationError(
                f"{model._meta.label} {item.object.pk} exists already; restore into an empty "
                "instance",
                code="conflict",
            )
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is user_model:
                old = getattr(item.object, field.attname)
                if old is not None:
                    setattr(item.object, field.attname, mapping[old])
    with connection.constraint_checks_disabled():
        for item in objects:
            item.save()
            _restore_timestamps(item.object)
    connection.check_constraints(
        table_names=sorted({type(item.object)._meta.db_table for item in objects})
    )
    _reset_sequences({type(item.object) for item in objects} | {user_model})
    _restore_files(archive, manifest["files"])
    restored = Project.objects.get(name=manifest["project"])
    listcache.project_changed(project_id=restored.pk)
    return restored


def _restore_users_keeping_ids(archive: zipfile.ZipFile) -> dict[int, int]:
    user_model = get_user_model()
    mapping: dict[int, int] = {}
    for item in serializers.deserialize("python", json.loads(archive.read("users.json"))):
        archived = item.object
        old_pk = archived.pk
        existing = user_model.objects.filter(username=archived.username).first()
        if existing is None:
            if user_model.objects.filter(pk=old_pk).exists():
                archived.pk = None
            archived.save()
            existing = archived
        mapping[old_pk] = existing.pk
    return mapping


def _restore_files(archive: zipfile.ZipFile, names: list[str]) -> None:
    members = set(archive.namelist())
    for name in names:
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts:
            raise ApplicationError(f"unsafe file name in the backup: {name}", code="invalid_backup")
        member = f"files/{name}"
        if member not in members:
            continue
        if default_storage.exists(name):
            default_storage.delete(name)
        saved = default_storage.save(name, ContentFile(archive.read(member)))
        if saved != name:  # storage backends may rename; names are referenced by rows
            raise ApplicationError(f"storage renamed {name} to {saved}", code="conflict")
