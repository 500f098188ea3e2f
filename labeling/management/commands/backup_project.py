"""Back up one project (rows, full prompt history, review and modeling rows, files) to a zip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from labeling.models import Project
from labeling.services.backup import project_backup


class Command(BaseCommand):
    help = "Write a project and everything in it to OUT.zip (see labeling.services.backup)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="path of the archive to write (must not exist)")
        parser.add_argument("--project", required=True, help="project name")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"no project named {options['project']!r}", returncode=2)
        out = Path(options["out"])
        if out.exists():
            raise CommandError(f"{out} exists already", returncode=2)
        with out.open("wb") as handle:
            result = project_backup(project=project, out=handle)
        self.stdout.write(
            f"backed up {project.name!r}: {result.rows} rows, {result.users} users, "
            f"{result.files} files to {out}"
        )
