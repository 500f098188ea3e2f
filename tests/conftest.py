"""Shared fixtures: an isolated media root and the personas of the permission matrix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rest_framework.test import APIClient

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from labeling.models import Project

ClientFactory = Callable[["User | None"], APIClient]


@pytest.fixture(autouse=True)
def _isolated_media(settings: object, tmp_path: Path) -> Path:
    """Every test writes media under its own temporary folder, never into ./var."""
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media  # type: ignore[attr-defined]
    return media


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    """Personas are created in almost every test; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit counters (sightline.throttles) live in the cache: each test starts at zero."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_user(db: None, django_user_model: type):
    def make(username: str, *, password: str = "correct-horse-battery", **extra: object):
        return django_user_model.objects.create_user(username=username, password=password, **extra)

    return make


# --- personas ----------------------------------------------------------------------------------
# One project with an admin ("owner"), an annotator and a reviewer; an outsider who belongs to
# no project. Each persona has an API client logged in through the session.


@pytest.fixture
def owner(make_user: Callable[..., User]) -> User:
    return make_user("owner")


@pytest.fixture
def annotator(make_user: Callable[..., User]) -> User:
    return make_user("annotator")


@pytest.fixture
def reviewer(make_user: Callable[..., User]) -> User:
    return make_user("reviewer")


@pytest.fixture
def outsider(make_user: Callable[..., User]) -> User:
    return make_user("outsider")


@pytest.fixture
def project(owner: User, annotator: User, reviewer: User) -> Project:
    """A binary project ("normal", "abnormal") with the three personas as members."""
    from labeling import services
    from labeling.models import Role

    created = services.project_create(
        name="Chest", class_names=["normal", "abnormal"], creator=owner
    )
    services.member_add(project=created, username=annotator.username, role=Role.ANNOTATOR)
    services.member_add(project=created, username=reviewer.username, role=Role.REVIEWER)
    return created


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    """An API client logged in as the given user (``None``: anonymous)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def owner_client(client_for: ClientFactory, owner: User) -> APIClient:
    return client_for(owner)


@pytest.fixture
def annotator_client(client_for: ClientFactory, annotator: User) -> APIClient:
    return client_for(annotator)


@pytest.fixture
def reviewer_client(client_for: ClientFactory, reviewer: User) -> APIClient:
    return client_for(reviewer)


@pytest.fixture
def outsider_client(client_for: ClientFactory, outsider: User) -> APIClient:
    return client_for(outsider)


@pytest.fixture
def anonymous_client(client_for: ClientFactory) -> APIClient:
    return client_for(None)


# --- tiny images --------------------------------------------------------------------------------


@pytest.fixture
def make_png() -> Callable[..., bytes]:
    """PNG bytes of a small random image: ``make_png(width, height, rgb=False, seed=0)``."""
    import io

    import numpy as np
    from PIL import Image

    def make(width: int = 16, height: int = 12, *, rgb: bool = False, seed: int = 0) -> bytes:
        rng = np.random.default_rng(seed)
        shape = (height, width, 3) if rgb else (height, width)
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(buffer, format="PNG")
        return buffer.getvalue()

    return make
