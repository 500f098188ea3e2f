"""50 concurrent saves of one prompt version over HTTP against a live server: one winner.

Needs PostgreSQL (row locks; CI runs there): with SQLite, writers are serialised by the database
file lock and threads of a live server share one in-memory database, so the test is skipped.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from labeling import services
from labeling.models import PromptVersion
from tests.labeling.conftest import prompt_png, sample_prompt

SAVES = 50

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (DATABASE_URL=postgres://...): SQLite has no row locks",
    ),
]


@pytest.fixture
def image(project, owner, make_png):
    (created,) = services.image_create(
        project=project, name="a.png", data=make_png(16, 12), created_by=owner, label="abnormal"
    )
    return created


def _put(url: str, token: str, body: bytes) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="PUT",
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": "image/png",
            "If-Match": '"1"',
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        assert json.loads(exc.read())["error"]["code"] in {"conflict"}, exc.code
        return exc.code


def test_fifty_concurrent_saves_give_one_winner_and_keep_every_attempt(
    live_server, image, annotator
) -> None:
    prompt, _ = services.prompt_save(
        image=image,
        annotator=annotator,
        target_class="abnormal",
        mask=sample_prompt(12, 16),
        base_version=0,
    )
    token = Token.objects.create(user=annotator).key
    url = f"{live_server.url}/api/v1/images/{image.pk}/prompts/mine/?target_class=abnormal"
    bodies = [prompt_png(sample_prompt(12, 16, seed=seed)) for seed in range(1, SAVES + 1)]

    with ThreadPoolExecutor(max_workers=SAVES) as pool:
        statuses = list(pool.map(lambda body: _put(url, token, body), bodies))

    assert sorted(statuses) == [200] + [409] * (SAVES - 1)
    versions = PromptVersion.objects.filter(prompt=prompt)
    assert sorted(v for v in versions.values_list("version", flat=True) if v) == [1, 2]
    assert versions.filter(status="conflict").count() == SAVES - 1
