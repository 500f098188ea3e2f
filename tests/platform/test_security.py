"""Production settings pass Django's deployment checks; logins and uploads are rate limited."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.labeling.conftest import grey_png

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "h7Qw-9vLr2pXk4Zt8Yb1Nc6Md3Fg5Sj0Ua_Ve7Wi2Oo4Pq9Rs1Tt6Uu3Vv8Ww5Xx0Yy",
    "DJANGO_HSTS_SECONDS": "31536000",
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "1",
    "DJANGO_HSTS_PRELOAD": "1",
    "DJANGO_SSL_REDIRECT": "1",
    "DJANGO_SECURE_COOKIES": "1",
    "DJANGO_BEHIND_PROXY": "1",
    "DJANGO_ALLOWED_HOSTS": "sightline.example.org",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SIGHTLINE_"))}
    clean["SIGHTLINE_ENV_FILE"] = os.devnull  # a developer's .env must not leak into the check
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_check_deploy_reports_no_security_warning_with_production_settings() -> None:
    result = _manage("check", "--deploy", env=PRODUCTION_ENV)
    output = result.stdout + result.stderr
    # drf_spectacular's W002 (a view whose response schema it cannot guess) is about the API
    # documentation, not deployment; everything else must be silent.
    issues = [
        line
        for line in output.splitlines()
        if re.match(r"^\S*: \(", line) and "(drf_spectacular." not in line
    ]
    assert result.returncode == 0, output
    assert issues == []


@pytest.mark.slow
def test_check_deploy_names_the_missing_hardening_with_defaults() -> None:
    env = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": PRODUCTION_ENV["DJANGO_SECRET_KEY"]}
    output = _manage("check", "--deploy", env=env).stderr
    assert "security.W004" in output  # HSTS
    assert "security.W008" in output  # SSL redirect


@pytest.mark.slow
def test_settings_refuse_to_start_without_a_secret_when_debug_is_off() -> None:
    result = _manage("check", env={"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_password_validators_reject_a_common_numeric_password(settings) -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("12345678")


@pytest.mark.django_db
def test_the_eleventh_failed_login_within_a_minute_is_throttled(client, make_user) -> None:
    make_user("alice")
    body = {"username": "alice", "password": "wrong"}
    statuses = [
        client.post("/api/v1/auth/login/", body, content_type="application/json").status_code
        for _ in range(10)
    ]
    eleventh = client.post("/api/v1/auth/login/", body, content_type="application/json")
    assert statuses == [400] * 10
    assert eleventh.status_code == 429
    assert eleventh.json()["error"]["code"] == "throttled"
    assert set(eleventh.json()["error"]) == {"code", "message", "detail"}
    assert int(eleventh["Retry-After"]) > 0


@pytest.mark.django_db
def test_token_requests_share_the_login_budget(client, make_user) -> None:
    make_user("alice")
    body = {"username": "alice", "password": "wrong"}
    for _ in range(10):
        client.post("/api/v1/auth/login/", body, content_type="application/json")
    response = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 429


@pytest.mark.django_db
def test_other_endpoints_are_not_throttled(owner_client) -> None:
    statuses = {owner_client.get("/api/v1/auth/me/").status_code for _ in range(15)}
    assert statuses == {200}


@pytest.mark.django_db
def test_uploads_beyond_the_rate_are_throttled(
    owner_client, project, settings, monkeypatch
) -> None:
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "upload", "2/min")
    url = f"/api/v1/projects/{project.pk}/images/"

    def upload(seed: int) -> int:
        png = grey_png(np.full((4, 4), seed, np.uint8))
        return owner_client.post(
            url, {"files": [SimpleUploadedFile(f"{seed}.png", png)]}
        ).status_code

    assert [upload(1), upload(2), upload(3)] == [201, 201, 429]
