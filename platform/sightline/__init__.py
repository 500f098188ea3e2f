"""The Sightline Django project package (importable as ``sightline``; see STYLE: ``platform/``)."""

from sightline.celery_app import app as celery_app

__all__ = ["celery_app"]
