"""The Celery application.

The broker defaults to kombu's filesystem transport under the data directory, so the embedded
default needs no server; production sets ``CELERY_BROKER_URL`` to Redis. Importing this module has
no side effects beyond building the app object.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sightline.settings")

app = Celery("sightline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
