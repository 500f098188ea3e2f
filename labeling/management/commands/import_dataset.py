"""Import a folder or .zip in the interchange format into a project.

Prints one line ``rejected <file>: <reason>`` per rejected file, then exactly
``imported N images, M prompts, K explanations; rejected R files``. Exit status: 0 when nothing
was rejected, 1 when something was, 2 for a usage error (missing path, unknown project).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from labeling import services
from labeling.models import Project
from labeling.services import ImportResult, Rejection
from sightline.errors import ApplicationError


class Command(BaseCommand):
    help = "Import a dataset (folder or .zip, interchange format) into a project."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="folder or .zip in the interchange format")
        parser.add_argument("--project", required=True, help="project name")
        parser.add_argument("--create", action="store_true", help="create the project if missing")
        parser.add_argument(
            "--classes", help="comma-separated class names for --create (default: from labels.csv)"
        )
        parser.add_argument(
            "--all-frames", action="store_true", help="one image per frame of multi-frame DICOM"
        )
        parser.add_argument(
            "--user", help="username recorded as uploader and prompt author (default: an admin)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"{path} does not exist", returncode=2)
        user = self._user(options["user"])
        project = self._project(options, path, user)
        try:
            result = services.dataset_import(
                project=project, source=path, user=user, all_frames=options["all_frames"]
            )
        except ApplicationError as exc:
            result = ImportResult(rejected=[Rejection(file=str(path), reason=exc.message)])
        for rejection in result.rejected:
            self.stdout.write(f"rejected {rejection.file}: {rejection.reason}")
        self.stdout.write(result.summary)
        if result.rejected:
            self.stdout.flush()
            sys.exit(1)

    def _user(self, username: str | None) -> Any:
        if username is None:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}", returncode=2)
        return user

    def _project(self, options: dict[str, Any], path: Path, user: Any) -> Project:
        project = Project.objects.filter(name=options["project"]).first()
        if project is not None:
            return project
        if not options["create"]:
            raise CommandError(
                f"no project named {options['project']!r} (pass --create to create it)",
                returncode=2,
            )
        if options["classes"]:
            classes = [name.strip() for name in options["classes"].split(",") if name.strip()]
        else:
            try:
                classes = services.dataset_class_names(path)
            except ApplicationError as exc:
                raise CommandError(exc.message, returncode=2) from exc
        if len(classes) < 2:
            raise CommandError(
                "a project needs at least two classes: pass --classes a,b", returncode=2
            )
        try:
            return services.project_create(
                name=options["project"], class_names=classes, creator=user
            )
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=2) from exc
