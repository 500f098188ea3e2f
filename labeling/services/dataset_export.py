"""Exporting a project in the interchange format (METHODS.md section 7), to a folder or a zip.

``labels.csv`` lists every image (``label`` empty when unlabelled, ``split`` empty when
unassigned); ``images/`` holds the files as uploaded (DICOM always with ``.dcm``);
``prompts/<stem>.png`` holds, per image, the current version of the prompt updated most
recently, whatever its annotator and target class (ties: the newest prompt), because the format
has one prompt per image; ``explanations/<stem>.png`` the ground truth. Names that would collide
in the folder get the image id appended (``scan-17.png``). The format has no notion of frames:
each frame of a multi-frame DICOM imported with all frames is written as its own copy of the file
(``scan#frame3.dcm``), and importing those copies again keeps only the first (same checksum).
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from django.db.models import QuerySet

from labeling.models import AttentionPrompt, ExplanationMask, Image, Project, PromptVersion, Split
from labeling.storage import read_file

_BATCH = 200


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    images: int
    prompts: int
    explanations: int


class _Writer:
    """Writes relative paths into a folder or a zip archive."""

    def __init__(self, out: str | os.PathLike[str] | IO[bytes]) -> None:
        self._folder = Path(out) if isinstance(out, str | os.PathLike) else None
        self._zip = None if self._folder else zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)

    def write(self, rel: str, data: bytes) -> None:
        if self._zip is not None:
            # Originals are mostly compressed already; only text and masks gain from deflate.
            kind = zipfile.ZIP_STORED if rel.startswith("images/") else zipfile.ZIP_DEFLATED
            self._zip.writestr(rel, data, compress_type=kind)
            return
        assert self._folder is not None
        target = self._folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def dataset_export(*, project: Project, out: str | os.PathLike[str] | IO[bytes]) -> ExportResult:
    """Write ``project`` to the folder ``out`` (created if needed) or into the binary file ``out``
    as a zip archive."""
    writer = _Writer(out)
    latest = _latest_prompt_versions(project)
    names: set[str] = set()
    stems: set[str] = set()
    rows: list[tuple[str, str, str]] = []
    prompts = explanations = 0
    try:
        for batch in _batches(Image.objects.filter(project=project).order_by("pk")):
            ids = [image.pk for image in batch]
            masks = PromptVersion.objects.in_bulk([latest[i] for i in ids if i in latest])
            truths = {e.image_id: e for e in ExplanationMask.objects.filter(image_id__in=ids)}
            for image in batch:
                name = _export_name(image, names, stems)
                stem = str(PurePosixPath(name).with_suffix(""))
                writer.write(f"images/{name}", read_file(image.original.name))
                split = "" if image.split == Split.UNASSIGNED else image.split
                rows.append((name, image.label or "", split))
                if image.pk in latest:
                    writer.write(f"prompts/{stem}.png", bytes(masks[latest[image.pk]].mask_png))
                    prompts += 1
                if image.pk in truths:
                    writer.write(f"explanations/{stem}.png", bytes(truths[image.pk].mask_png))
                    explanations += 1
        writer.write("labels.csv", _labels_csv(rows))
    finally:
        writer.close()
    return ExportResult(images=len(rows), prompts=prompts, explanations=explanations)


def _latest_prompt_versions(project: Project) -> dict[int, int]:
    """Image id -> id of the current version of its most recently updated prompt."""
    latest: dict[int, int] = {}
    rows = (
        AttentionPrompt.objects.filter(image__project=project, current__isnull=False)
        .order_by("image_id", "-updated_at", "-pk")
        .values_list("image_id", "current_id")
    )
    for image_id, version_id in rows.iterator():
        latest.setdefault(image_id, version_id)
    return latest


def _batches(queryset: QuerySet[Image]) -> Iterator[list[Image]]:
    batch: list[Image] = []
    for image in queryset.iterator(chunk_size=_BATCH):
        batch.append(image)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _export_name(image: Image, names: set[str], stems: set[str]) -> str:
    path = PurePosixPath(image.name)
    suffix = ".dcm" if image.is_dicom and path.suffix.lower() != ".dcm" else ""
    name = f"{image.name}{suffix}"
    stem = str(PurePosixPath(name).with_suffix(""))
    if name.lower() in names or stem.lower() in stems:
        renamed = PurePosixPath(name)
        name = f"{renamed.stem}-{image.pk}{renamed.suffix}"
        stem = str(PurePosixPath(name).with_suffix(""))
    names.add(name.lower())
    stems.add(stem.lower())
    return name


def _labels_csv(rows: list[tuple[str, str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["image", "label", "split"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
