"""Importing a dataset in the interchange format (METHODS.md section 7) from a folder or a .zip.

Layout: ``labels.csv`` (``image,label,split``), ``images/<name>``, optional
``prompts/<stem>.png`` (tri-valued) and ``explanations/<stem>.png`` (binary). Every image file
is committed in its own savepoint together with its prompt and explanation, or rejected as a
whole with a reason, so a bad prompt never leaves a half-imported image. Archives are unpacked
by ``labeling.imaging.safe_extract_zip`` into a temporary folder first.

Choices the format leaves open: an archive whose files sit in a single top folder is accepted;
without ``labels.csv`` every image is imported unlabelled; with it, an image file it does not
list is rejected; prompts are stored for the image's label (else the positive class) as the
importing user's, or, without one, as the first admin's of the project, a superuser's, or a
dedicated inactive ``sightline-import`` user's.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from labeling import imaging
from labeling.models import Membership, Project, Role, Split
from labeling.services.images import Rejection, explanation_set, image_create
from labeling.services.prompts import prompt_save
from labeling.storage import file_guard
from sightline.errors import ApplicationError

IMPORT_USERNAME = "sightline-import"
_SPLITS = {"": Split.UNASSIGNED, **{value: value for value in Split.values}}
_IGNORED_DIRS = {"__MACOSX"}


@dataclass
class ImportResult:
    """Counts of what was imported and every rejected file with its reason."""

    imported: int = 0
    prompts: int = 0
    explanations: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return (
            f"imported {self.imported} images, {self.prompts} prompts, "
            f"{self.explanations} explanations; rejected {len(self.rejected)} files"
        )


@dataclass(frozen=True)
class _Row:
    label: str | None
    split: str


def dataset_import(
    *,
    project: Project,
    source: str | os.PathLike[str] | IO[bytes],
    user: AbstractBaseUser | None,
    all_frames: bool = False,
) -> ImportResult:
    """Import a folder or a .zip (path or binary file object) into ``project``.

    Raises:
        ApplicationError: when the source as a whole is unusable (not a folder or zip archive,
            too many members, an unreadable ``labels.csv``); nothing is imported then.
    """
    if isinstance(source, str | os.PathLike) and Path(source).is_dir():
        return _import_folder(project, Path(source), user, all_frames, ImportResult())
    with tempfile.TemporaryDirectory(prefix="sightline-import-") as tmp:
        try:
            skipped = imaging.safe_extract_zip(
                source,
                Path(tmp),
                max_members=settings.SIGHTLINE_MAX_ARCHIVE_MEMBERS,
                max_total_bytes=settings.SIGHTLINE_MAX_ARCHIVE_BYTES,
                max_member_bytes=settings.SIGHTLINE_MAX_UPLOAD_BYTES,
            )
        except imaging.ArchiveRejected as exc:
            raise ApplicationError(str(exc), code="invalid_archive") from exc
        result = ImportResult(rejected=[Rejection(file=n, reason=r) for n, r in skipped])
        return _import_folder(project, Path(tmp), user, all_frames, result)


def dataset_class_names(source: str | os.PathLike[str]) -> list[str]:
    """The distinct labels of a dataset's ``labels.csv``, sorted (to create its project)."""
    path = Path(source)
    if path.is_dir():
        root = _find_root(path)
        text = (root / "labels.csv").read_text("utf-8-sig") if root else ""
    else:
        try:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if PurePosixPath(n).name == "labels.csv"]
                names.sort(key=lambda n: len(PurePosixPath(n).parts))
                text = archive.read(names[0]).decode("utf-8-sig") if names else ""
        except (zipfile.BadZipFile, OSError) as exc:
            raise ApplicationError(f"not a zip archive: {exc}", code="invalid_archive") from exc
    labels = {(row.get("label") or "").strip() for row in csv.DictReader(io.StringIO(text))}
    return sorted(label for label in labels if label)


def _import_folder(
    project: Project,
    folder: Path,
    user: AbstractBaseUser | None,
    all_frames: bool,
    result: ImportResult,
) -> ImportResult:
    root = _find_root(folder) or folder
    rows = _read_labels(root, result) if (root / "labels.csv").is_file() else None
    images = _files_under(root / "images")
    prompts = {_stem(rel): rel for rel in _files_under(root / "prompts")}
    explanations = {_stem(rel): rel for rel in _files_under(root / "explanations")}
    owner = _PromptOwner(project, user)
    seen: dict[str, str] = {}
    for rel in images:
        stem = _stem(rel)
        name = f"images/{rel}"
        if stem in seen:
            result.rejected.append(Rejection(name, f"same name stem as images/{seen[stem]}"))
            continue
        seen[stem] = rel
        if rows is not None and rel not in rows:
            result.rejected.append(Rejection(name, "not listed in labels.csv"))
            continue
        row = rows[rel] if rows is not None else _Row(None, Split.UNASSIGNED)
        if row is None:  # its labels.csv row was rejected already
            continue
        _import_one(
            project,
            root,
            rel,
            row,
            prompts.get(stem),
            explanations.get(stem),
            owner,
            all_frames,
            result,
        )
    for rel in sorted(set(rows or {}) - set(images)):
        result.rejected.append(Rejection(f"images/{rel}", "listed in labels.csv but missing"))
    for folder_name, found in (("prompts", prompts), ("explanations", explanations)):
        for stem in sorted(set(found) - set(seen)):
            result.rejected.append(
                Rejection(f"{folder_name}/{found[stem]}", f"no image named {stem}.* in images/")
            )
    return result


def _import_one(
    project: Project,
    root: Path,
    rel: str,
    row: _Row,
    prompt_rel: str | None,
    explanation_rel: str | None,
    owner: _PromptOwner,
    all_frames: bool,
    result: ImportResult,
) -> None:
    where = f"images/{rel}"
    try:
        with file_guard(), transaction.atomic():
            created = image_create(
                project=project,
                name=PurePosixPath(rel).name,
                data=(root / "images" / rel).read_bytes(),
                created_by=owner.user,
                label=row.label,
                split=row.split,
                all_frames=all_frames,
            )
            for folder_name, rel_mask in (
                ("prompts", prompt_rel),
                ("explanations", explanation_rel),
            ):
                if rel_mask is None:
                    continue
                where = f"{folder_name}/{rel_mask}"
                if len(created) != 1:
                    raise ApplicationError(f"{len(created)} frames imported: mask is ambiguous")
                data = (root / folder_name / rel_mask).read_bytes()
                if folder_name == "prompts":
                    target = row.label or project.positive_class
                    prompt_save(
                        image=created[0],
                        annotator=owner.get(),
                        target_class=target,
                        mask=data,
                        base_version=0,
                    )
                else:
                    explanation_set(image=created[0], png=data)
    except ApplicationError as exc:
        reason = exc.message if where.startswith("images/") else f"{where}: {exc.message}"
        result.rejected.append(Rejection(f"images/{rel}", reason))
        return
    except ValidationError as exc:
        result.rejected.append(Rejection(f"images/{rel}", "; ".join(exc.messages)))
        return
    except IntegrityError:  # the same file imported concurrently
        result.rejected.append(Rejection(f"images/{rel}", "duplicate of an image imported now"))
        return
    result.imported += len(created)
    result.prompts += prompt_rel is not None
    result.explanations += explanation_rel is not None


def _read_labels(root: Path, result: ImportResult) -> dict[str, _Row | None]:
    """Rows of labels.csv by image path; ``None`` marks a row already rejected."""
    try:
        text = (root / "labels.csv").read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ApplicationError(f"labels.csv cannot be read: {exc}", code="invalid") from exc
    reader = csv.DictReader(io.StringIO(text))
    if "image" not in (reader.fieldnames or []):
        raise ApplicationError("labels.csv needs the header image,label,split", code="invalid")
    rows: dict[str, _Row | None] = {}
    for line, record in enumerate(reader, start=2):
        rel = (record.get("image") or "").strip().removeprefix("images/")
        label = (record.get("label") or "").strip() or None
        split = (record.get("split") or "").strip().lower()
        if not rel:
            continue
        reason = None
        if rel in rows:
            reason = f"labels.csv line {line}: listed twice"
        elif split not in _SPLITS:
            reason = f"labels.csv line {line}: split {split!r} is not train, val or test"
        if reason is not None:
            if rows.get(rel) is not None or rel not in rows:
                result.rejected.append(Rejection(f"images/{rel}", reason))
            rows[rel] = None
        else:
            rows[rel] = _Row(label, _SPLITS[split])
    return rows


def _find_root(folder: Path) -> Path | None:
    """The folder holding the dataset: ``folder`` itself or its single top-level subfolder."""
    if (folder / "labels.csv").is_file() or (folder / "images").is_dir():
        return folder
    subfolders = [
        p
        for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name not in _IGNORED_DIRS
    ]
    if len(subfolders) == 1:
        sub = subfolders[0]
        if (sub / "labels.csv").is_file() or (sub / "images").is_dir():
            return sub
    return None


def _files_under(folder: Path) -> list[str]:
    """Relative POSIX paths of the regular, non-hidden files under ``folder``, sorted."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") or part in _IGNORED_DIRS for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            found.append(rel.as_posix())
    return sorted(found)


def _stem(rel: str) -> str:
    path = PurePosixPath(rel)
    return str(path.with_suffix("")) if path.suffix else rel


class _PromptOwner:
    """The author of imported prompts, looked up (or created) only when a prompt needs one."""

    def __init__(self, project: Project, user: AbstractBaseUser | None) -> None:
        self.project = project
        self.user = user
        self._resolved = user

    def get(self) -> AbstractBaseUser:
        if self._resolved is None:
            self._resolved = _import_user(self.project)
        return self._resolved


def _import_user(project: Project) -> AbstractBaseUser:
    """Who owns prompts imported without an acting user (see the module docstring)."""
    membership = (
        Membership.objects.filter(project=project, role=Role.ADMIN)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if membership is not None:
        return membership.user
    user_model = get_user_model()
    superuser = user_model.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if superuser is not None:
        return superuser
    user, created = user_model.objects.get_or_create(
        username=IMPORT_USERNAME, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
