"""Create the data directory tree (database folder, media, embedded broker) if it is missing."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the data directory, media root and embedded broker folders."

    def handle(self, *args: object, **options: object) -> None:
        broker = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        folders = [settings.DATA_DIR, settings.MEDIA_ROOT]
        keys = ("data_folder_in", "processed_folder", "control_folder")
        folders += [broker[key] for key in keys if key in broker]
        for folder in folders:
            Path(folder).mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"data directory ready: {settings.DATA_DIR}")
