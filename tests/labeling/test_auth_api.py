"""Login, logout, the current user and API tokens."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"
CREDENTIALS = {"username": "owner", "password": "correct-horse-battery"}


def _csrf_client() -> tuple[APIClient, str]:
    """A client that enforces CSRF like a browser, holding the cookie the SPA shell sets."""
    client = APIClient(enforce_csrf_checks=True)
    client.get("/api/v1/auth/me/")
    return client, client.cookies["csrftoken"].value


@pytest.mark.smoke
def test_login_with_the_csrf_header_starts_a_session(owner) -> None:
    client, token = _csrf_client()

    response = client.post(LOGIN, CREDENTIALS, format="json", HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 200
    assert response.json() == {"user": {"id": owner.pk, "username": "owner", "is_superuser": False}}
    assert client.get("/api/v1/auth/me/").json()["user"]["username"] == "owner"


def test_login_without_the_csrf_header_is_refused(owner) -> None:
    client, _ = _csrf_client()

    response = client.post(LOGIN, CREDENTIALS, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    assert client.get("/api/v1/auth/me/").status_code == 403


def test_a_wrong_password_is_invalid_credentials(owner, anonymous_client) -> None:
    response = anonymous_client.post(
        LOGIN, {"username": "owner", "password": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_an_inactive_user_cannot_log_in(owner, anonymous_client) -> None:
    owner.is_active = False
    owner.save()

    response = anonymous_client.post(LOGIN, CREDENTIALS, format="json")

    assert response.status_code == 400


def test_me_is_refused_to_anonymous_callers(anonymous_client) -> None:
    response = anonymous_client.get("/api/v1/auth/me/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_authenticated"


def test_logout_ends_the_session(owner_client) -> None:
    response = owner_client.post("/api/v1/auth/logout/")

    assert response.status_code == 204
    assert owner_client.get("/api/v1/auth/me/").status_code == 403


def test_a_token_authenticates_scripts(owner, anonymous_client) -> None:
    response = anonymous_client.post("/api/v1/auth/token/", CREDENTIALS, format="json")
    key = response.json()["token"]

    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 200
    assert Token.objects.get(user=owner).key == key
    assert script.get("/api/v1/auth/me/").json()["user"]["username"] == "owner"


def test_asking_twice_gives_the_same_token(owner, anonymous_client) -> None:
    first = anonymous_client.post("/api/v1/auth/token/", CREDENTIALS, format="json").json()
    second = anonymous_client.post("/api/v1/auth/token/", CREDENTIALS, format="json").json()

    assert first == second


def test_a_token_needs_the_right_password(owner, anonymous_client) -> None:
    response = anonymous_client.post(
        "/api/v1/auth/token/", {"username": "owner", "password": "x"}, format="json"
    )

    assert response.status_code == 400
    assert not Token.objects.exists()
