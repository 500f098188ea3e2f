"""Create the demo users and projects (idempotent: running it again changes nothing).

Users ``admin`` (superuser), ``annotator`` and ``reviewer`` with the fixed passwords below, and
two projects imported from the benchmarks of ``modeling.ml.benchmarks`` (METHODS.md section 6):
"Demo: DecoyDigits" and "Demo: CT nodules". The benchmark writers import numpy, scikit-learn,
Pillow and pydicom only, never torch, so this stays cheap for the web side.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from labeling import services
from labeling.models import Project, Role

USERS = {
    "admin": ("sightline-admin", Role.ADMIN),
    "annotator": ("sightline-annotator", Role.ANNOTATOR),
    "reviewer": ("sightline-reviewer", Role.REVIEWER),
}
DEMO_DIGITS = "Demo: DecoyDigits"
DEMO_CT = "Demo: CT nodules"


class Command(BaseCommand):
    help = "Create demo users and the DecoyDigits and CT nodules demo projects (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=0, help="benchmark seed (default 0)")

    def handle(self, *args: Any, **options: Any) -> None:
        from modeling.ml.benchmarks import write_ct_nodules, write_decoy_digits

        users = self._users()
        self._project(
            DEMO_DIGITS,
            "DecoyDigits: digits with a colour swatch that encodes the "
            "class in train and val but not in test.",
            write_decoy_digits,
            users,
            options["seed"],
            window=None,
        )
        self._project(
            DEMO_CT,
            "Synthetic CT nodule patches (DICOM) with a spurious marker.",
            write_ct_nodules,
            users,
            options["seed"],
            window=(-600.0, 1500.0),
        )
        for username, (password, _) in USERS.items():
            self.stdout.write(f"user {username} password {password}")

    @transaction.atomic
    def _users(self) -> dict[str, Any]:
        user_model = get_user_model()
        users = {}
        for username, (password, role) in USERS.items():
            user, created = user_model.objects.get_or_create(username=username)
            if created:
                user.is_superuser = user.is_staff = role == Role.ADMIN
                user.set_password(password)
                user.save()
            users[username] = user
        return users

    def _project(
        self,
        name: str,
        description: str,
        writer: Callable[..., Path],
        users: dict[str, Any],
        seed: int,
        *,
        window: tuple[float, float] | None,
    ) -> None:
        if Project.objects.filter(name=name).exists():
            self.stdout.write(f"{name}: exists, left as it is")
            return
        with tempfile.TemporaryDirectory(prefix="sightline-demo-") as tmp:
            folder = writer(Path(tmp) / "dataset", seed=seed)
            classes = services.dataset_class_names(folder)
            extra = {"window_center": window[0], "window_width": window[1]} if window else {}
            project = services.project_create(
                name=name,
                description=description,
                class_names=classes,
                creator=users["admin"],
                **extra,
            )
            for username in ("annotator", "reviewer"):
                services.member_add(project=project, username=username, role=USERS[username][1])
            result = services.dataset_import(project=project, source=folder, user=users["admin"])
        self.stdout.write(f"{name}: {result.summary}")
        for rejection in result.rejected:
            self.stdout.write(f"  rejected {rejection.file}: {rejection.reason}")
