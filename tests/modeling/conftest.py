"""Modeling fixtures: a tiny project that trains in seconds, and an in-process broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone

from modeling.models import Job, JobStatus
from tests.modeling.helpers import ME, QUICK_TRAIN, add_tiny_images, celery_broker


@pytest.fixture
def tiny_images(project, owner) -> list:
    return add_tiny_images(project, owner)


@pytest.fixture
def quick_train() -> dict:
    return dict(QUICK_TRAIN)


@pytest.fixture
def running_job(project) -> Job:
    """A train job running on ``ME`` with a fresh heartbeat (no parameters, nothing trained)."""
    return Job.objects.create(
        project=project,
        kind="train",
        parameters={},
        status=JobStatus.RUNNING,
        worker_host=ME.host,
        worker_pid=ME.pid,
        heartbeat_at=timezone.now(),
    )


@pytest.fixture(autouse=True)
def _memory_broker() -> Iterator[None]:
    """Tests publish to an in-process broker, never to ./var's filesystem queue."""
    with celery_broker("memory://"):
        yield
