"""Shared fixtures: an isolated media root and the personas of the permission matrix."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_media(settings: object, tmp_path: Path) -> Path:
    """Every test writes media under its own temporary folder, never into ./var."""
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media  # type: ignore[attr-defined]
    return media


@pytest.fixture
def make_user(db: None, django_user_model: type):
    def make(username: str, *, password: str = "correct-horse-battery", **extra: object):
        return django_user_model.objects.create_user(username=username, password=password, **extra)

    return make
