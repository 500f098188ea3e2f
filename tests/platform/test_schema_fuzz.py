"""Property-based calls of every documented operation (schemathesis, in-process WSGI).

Authenticated with a token of a project admin whose project, image and prompt exist, so path
ids of 1 hit real rows. Checks: no 5xx, and status codes, content types and bodies as the
OpenAPI schema at ``/api/schema/`` documents them. ``SIGHTLINE_SCHEMA_EXAMPLES`` sets the
examples per operation (default 5, about a minute or two on two cores).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from labeling import services
from tests.labeling.conftest import grey_png, sample_prompt

EXAMPLES = int(os.environ.get("SIGHTLINE_SCHEMA_EXAMPLES", "5"))


@pytest.fixture
def _keep_test_connection() -> Iterator[None]:
    """Keep the test's database connection open across the in-process WSGI requests.

    Django's handler closes the connection at the end of each request (CONN_MAX_AGE=0), which
    inside the test's transaction would close it for good on PostgreSQL; Django's own test
    client disconnects these signal handlers for the same reason.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db, django_user_model) -> str:
    from rest_framework.authtoken.models import Token

    admin = django_user_model.objects.create_user("fuzz-admin", password="correct-horse-battery")
    project = services.project_create(
        name="Fuzz", class_names=["normal", "abnormal"], creator=admin
    )
    (image,) = services.image_create(
        project=project,
        name="a.png",
        data=grey_png(np.arange(192, dtype=np.uint8).reshape(12, 16)),
        created_by=admin,
        label="abnormal",
        split="train",
    )
    prompt, _ = services.prompt_save(
        image=image,
        annotator=admin,
        target_class="abnormal",
        mask=sample_prompt(12, 16),
        base_version=0,
    )
    REAL_IDS.update(project_id=project.pk, image_id=image.pk, prompt_id=prompt.pk)
    return Token.objects.create(user=admin).key


# Path parameters that name the fixture's rows; each example whose path names only these is
# sent a second time with them (except DELETE), so that answers about real rows are checked too.
REAL_IDS: dict[str, int] = {}


def _fuzz(operation: object, token: str, checks: list) -> str | None:
    """Run one operation's examples under ``checks``; the first failure's summary, or ``None``."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=operation.as_strategy())
    def run(case: object) -> None:
        headers = {"Authorization": f"Token {token}"}
        case.call_and_validate(headers=headers, checks=checks)
        names = set(case.path_parameters or {})
        if names and names <= set(REAL_IDS) and case.method != "DELETE":
            case.path_parameters = {name: REAL_IDS[name] for name in names}
            case.call_and_validate(headers=headers, checks=checks)

    try:
        run()
    except BaseException as exc:  # FailureGroup is a BaseExceptionGroup; all are collected
        if isinstance(exc, KeyboardInterrupt):
            raise
        return " ".join(str(exc).split())[:400]
    return None


def _failures(token: str, checks: list) -> dict[str, str]:
    # schemathesis' own pytest plugin does not run under this pytest version, so the
    # operations are walked here with hypothesis directly.
    from sightline.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        failure = _fuzz(operation, token, checks)
        if failure:
            failures[operation.label] = failure
    return failures


@pytest.mark.slow
@pytest.mark.usefixtures("_keep_test_connection")
def test_every_operation_answers_with_a_documented_status_and_body(
    admin_token: str,
) -> None:
    checks = [
        not_a_server_error,
        status_code_conformance,
        response_schema_conformance,
        content_type_conformance,
    ]
    failures = _failures(admin_token, checks)
    assert failures == {}, "\n".join(f"{k}: {v}" for k, v in failures.items())
