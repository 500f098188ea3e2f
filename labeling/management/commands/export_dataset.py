"""Export a project in the interchange format to a folder, or to a zip when OUT ends in .zip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from labeling import services
from labeling.models import Project


class Command(BaseCommand):
    help = "Export a project (labels.csv, images/, prompts/, explanations/) to OUT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="an empty or new folder, or a path ending in .zip")
        parser.add_argument("--project", required=True, help="project name")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"no project named {options['project']!r}", returncode=2)
        out = Path(options["out"])
        if out.suffix.lower() == ".zip":
            if out.exists():
                raise CommandError(f"{out} exists already", returncode=2)
            with out.open("wb") as archive:
                result = services.dataset_export(project=project, out=archive)
        else:
            if out.exists() and (not out.is_dir() or any(out.iterdir())):
                raise CommandError(f"{out} exists and is not an empty folder", returncode=2)
            out.mkdir(parents=True, exist_ok=True)
            result = services.dataset_export(project=project, out=out)
        self.stdout.write(
            f"exported {result.images} images, {result.prompts} prompts, "
            f"{result.explanations} explanations to {out}"
        )
