"""Modeling fixtures: a tiny project that trains in seconds, and an in-process broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.modeling.helpers import QUICK_TRAIN, add_tiny_images, celery_broker


@pytest.fixture
def tiny_images(project, owner) -> list:
    return add_tiny_images(project, owner)


@pytest.fixture
def quick_train() -> dict:
    return dict(QUICK_TRAIN)


@pytest.fixture(autouse=True)
def _memory_broker() -> Iterator[None]:
    """Tests publish to an in-process broker, never to ./var's filesystem queue."""
    with celery_broker("memory://"):
        yield
