"""The permission matrix: every endpoint against every persona.

Each row lists the status expected for (anonymous, outsider, reviewer, annotator, admin). The
personas are tried in that order on one database: refused calls change nothing, so the admin's
write comes last and sees the same state as the others did.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labeling import services
from tests.labeling.conftest import grey_png, prompt_png, sample_prompt

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "outsider", "reviewer", "annotator", "owner")


@dataclass(frozen=True)
class World:
    project: int
    image: int
    prompt: int
    reviewer: int
    make_png: Callable[..., bytes]


def _upload(w: World) -> dict[str, Any]:
    return {"data": {"files": [SimpleUploadedFile("new.png", w.make_png(8, 8, seed=9))]}}


def _prompt_put(w: World) -> dict[str, Any]:
    return {
        "data": prompt_png(sample_prompt(12, 16)),
        "content_type": "image/png",
        "HTTP_IF_MATCH": '"1"',
    }


def _import_zip(w: World) -> dict[str, Any]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("labels.csv", "image,label,split\nz.png,normal,train\n")
        archive.writestr("images/z.png", w.make_png(8, 8, seed=5))
    return {"data": {"file": SimpleUploadedFile("d.zip", buffer.getvalue())}}


def _json(body: dict[str, Any]) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"data": body, "format": "json"}


def _none(w: World) -> dict[str, Any]:
    return {}


P, IMG, R = "/api/v1/projects/{w.project}", "/api/v1/images/{w.image}", "/api/v1/prompts/{w.prompt}"
MATRIX = [
    # name, method, url, body, (anonymous, outsider, reviewer, annotator, owner)
    ("me", "get", "/api/v1/auth/me/", _none, (403, 200, 200, 200, 200)),
    ("project list", "get", "/api/v1/projects/", _none, (403, 200, 200, 200, 200)),
    ("project create", "post", "/api/v1/projects/", None, (403, 201, 201, 201, 201)),
    ("project read", "get", P + "/", _none, (403, 404, 200, 200, 200)),
    ("project edit", "patch", P + "/", _json({"description": "d"}), (403, 404, 403, 403, 200)),
    ("project delete", "delete", P + "/", _none, (403, 404, 403, 403, 204)),
    ("member list", "get", P + "/members/", _none, (403, 404, 200, 200, 200)),
    (
        "member add",
        "post",
        P + "/members/",
        _json({"username": "outsider", "role": "reviewer"}),
        (403, 404, 403, 403, 201),
    ),
    (
        "member edit",
        "patch",
        P + "/members/{w.reviewer}/",
        _json({"role": "annotator"}),
        (403, 404, 403, 403, 200),
    ),
    ("member remove", "delete", P + "/members/{w.reviewer}/", _none, (403, 404, 403, 403, 204)),
    ("image list", "get", P + "/images/", _none, (403, 404, 200, 200, 200)),
    ("image upload", "post", P + "/images/", _upload, (403, 404, 403, 403, 201)),
    ("import", "post", P + "/imports/", _import_zip, (403, 404, 403, 403, 200)),
    ("export", "get", P + "/export/", _none, (403, 404, 403, 403, 200)),
    ("image read", "get", IMG + "/", _none, (403, 404, 200, 200, 200)),
    ("image edit", "patch", IMG + "/", _json({"split": "val"}), (403, 404, 403, 403, 200)),
    ("image delete", "delete", IMG + "/", _none, (403, 404, 403, 403, 204)),
    ("display", "get", IMG + "/display/", _none, (403, 404, 200, 200, 200)),
    ("thumbnail", "get", IMG + "/thumbnail/", _none, (403, 404, 200, 200, 200)),
    ("original", "get", IMG + "/original/", _none, (403, 404, 200, 200, 200)),
    ("explanation", "get", IMG + "/explanation/", _none, (403, 404, 200, 403, 200)),
    ("image prompts", "get", IMG + "/prompts/", _none, (403, 404, 200, 200, 200)),
    # The reviewer may read but has drawn no prompt of its own: 404, not 403.
    ("my prompt read", "get", IMG + "/prompts/mine/", _none, (403, 404, 404, 200, 200)),
    ("my prompt save", "put", IMG + "/prompts/mine/", _prompt_put, (403, 404, 403, 200, 200)),
    ("prompt read", "get", R + "/", _none, (403, 404, 200, 200, 200)),
    ("prompt mask", "get", R + "/mask/", _none, (403, 404, 200, 200, 200)),
    ("prompt history", "get", R + "/history/", _none, (403, 404, 200, 200, 200)),
]


@pytest.fixture
def world(project, image, owner, annotator, reviewer, make_png) -> World:
    mask = sample_prompt(12, 16)
    services.prompt_save(
        image=image, annotator=owner, target_class="abnormal", mask=mask, base_version=0
    )
    prompt, _ = services.prompt_save(
        image=image, annotator=annotator, target_class="abnormal", mask=mask, base_version=0
    )
    services.explanation_set(image=image, png=grey_png(np.zeros((12, 16), np.uint8)))
    return World(project.pk, image.pk, prompt.pk, reviewer.pk, make_png)


@pytest.mark.parametrize(
    ("name", "method", "url", "body", "expected"), MATRIX, ids=[row[0] for row in MATRIX]
)
def test_each_role_gets_the_expected_status(
    name, method, url, body, expected, world, client_for, request
) -> None:
    statuses = []
    for index, persona in enumerate(PERSONAS):
        user = None if persona == "anonymous" else request.getfixturevalue(persona)
        kwargs = (
            _json({"name": f"P{index}", "class_names": ["x", "y"]})(world)
            if body is None
            else body(world)
        )
        response = getattr(client_for(user), method)(url.format(w=world), **kwargs)
        statuses.append(response.status_code)

    assert dict(zip(PERSONAS, statuses, strict=True)) == dict(zip(PERSONAS, expected, strict=True))


@pytest.mark.smoke
def test_a_refusal_uses_the_error_shape(world, outsider_client, reviewer_client) -> None:
    hidden = outsider_client.get(f"/api/v1/images/{world.image}/").json()
    refused = reviewer_client.patch(
        f"/api/v1/images/{world.image}/", {"split": "val"}, format="json"
    ).json()

    assert hidden == {"error": {"code": "not_found", "message": "Not found.", "detail": None}}
    assert refused["error"]["code"] == "permission_denied"
    assert set(refused["error"]) == {"code", "message", "detail"}


def test_anonymous_callers_are_told_to_authenticate(anonymous_client, world) -> None:
    body = anonymous_client.get(f"/api/v1/projects/{world.project}/").json()

    assert body["error"]["code"] == "not_authenticated"
