"""Restore a project backup written by ``backup_project`` into this (empty) instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from labeling.services.backup import project_restore
from sightline.errors import ApplicationError


class Command(BaseCommand):
    help = "Restore a project from IN.zip (ids are kept; the instance must not hold its rows)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="a .zip written by backup_project")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["archive"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file", returncode=2)
        try:
            project = project_restore(source=str(path))
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=1) from exc
        self.stdout.write(f"restored project {project.name!r} (id {project.pk})")
