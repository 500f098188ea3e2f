"""A database or Redis outage answers 503 JSON with Retry-After, never a 500 or an HTML page."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis.exceptions
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from sightline.errors import RETRY_AFTER_SECONDS, server_error
from sightline.throttles import LoginThrottle


@contextmanager
def database_down(error: type[Exception] = OperationalError) -> Iterator[None]:
    """Every query on this connection fails as it does while PostgreSQL restarts."""

    def refuse(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        raise error("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        yield


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert "server closed" not in error["message"]  # the dependency's message stays in the log


@pytest.mark.django_db
@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_an_api_request_during_a_database_outage_is_a_503(owner_client, project, error) -> None:
    owner_client.raise_request_exception = False  # answered as in production, not re-raised
    with database_down(error):
        response = owner_client.get(f"/api/v1/projects/{project.pk}/images/")
    _assert_unavailable(response)


@pytest.mark.django_db
def test_a_prompt_save_during_a_database_outage_is_a_503_and_saves_nothing(
    owner_client, owner, project
) -> None:
    from labeling.models import PromptVersion
    from tests.modeling.helpers import add_tiny_images

    (image,) = add_tiny_images(project, owner, per_split={"train": 1}, size=32)
    before = PromptVersion.objects.count()
    owner_client.raise_request_exception = False
    with database_down():
        response = owner_client.put(
            f"/api/v1/images/{image.pk}/prompts/mine/?target_class=abnormal",
            {"mask": {"width": 32, "height": 32, "rle": [[1, 1024]]}, "base_version": 0},
            format="json",
        )
    _assert_unavailable(response)
    assert PromptVersion.objects.count() == before


@pytest.mark.django_db
def test_a_plain_django_view_during_a_database_outage_is_a_503(owner) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(owner)  # the admin reads the session and the user: both fail
    with database_down():
        response = client.get("/admin/")
    _assert_unavailable(response)


@pytest.mark.django_db
def test_a_redis_outage_on_a_throttled_endpoint_is_a_503(client, monkeypatch) -> None:
    def refuse(*args: Any) -> bool:
        raise redis.exceptions.ConnectionError("server closed the connection unexpectedly")

    monkeypatch.setattr(LoginThrottle, "allow_request", refuse)
    response = client.post("/api/v1/auth/token/", {"username": "a", "password": "b"})
    _assert_unavailable(response)


def test_other_uncaught_errors_stay_a_json_500_without_details(rf) -> None:
    try:
        raise RuntimeError("secret internals")
    except RuntimeError:
        response = server_error(rf.get("/admin/"))
    assert response.status_code == 500
    assert b"secret internals" not in response.content
    assert json.loads(response.content)["error"]["code"] == "server_error"


def test_persistent_connections_are_health_checked_by_default(settings) -> None:
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
