"""Images through the API: uploads, filters, pagination, renditions."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage
from rest_framework.response import Response
from rest_framework.test import APIClient

from labeling import services
from labeling.models import Image, Project
from tests.labeling.conftest import sample_prompt

pytestmark = pytest.mark.django_db


def _upload(
    client: APIClient, project: Project, *files: tuple[str, bytes], **fields: str
) -> Response:
    data = {"files": [SimpleUploadedFile(name, content) for name, content in files], **fields}
    return client.post(f"/api/v1/projects/{project.pk}/images/", data)


@pytest.mark.smoke
def test_an_admin_uploads_several_files_at_once(owner_client, project, make_png) -> None:
    response = _upload(
        owner_client,
        project,
        ("a.png", make_png(20, 10)),
        ("b.png", make_png(8, 8, seed=1)),
        label="normal",
        split="val",
    )

    assert response.status_code == 201, response.json()
    created = response.json()["created"]
    assert [(i["name"], i["width"], i["height"]) for i in created] == [
        ("a.png", 20, 10),
        ("b.png", 8, 8),
    ]
    assert {(i["label"], i["split"], i["format"]) for i in created} == {("normal", "val", "png")}
    assert response.json()["rejected"] == []
    assert Image.objects.filter(project=project).count() == 2


@pytest.mark.smoke
def test_a_duplicate_upload_names_the_existing_image(
    owner_client, project, image, make_png
) -> None:
    response = _upload(owner_client, project, ("again.png", make_png(16, 12)))

    assert response.status_code == 400
    assert response.json() == {
        "created": [],
        "rejected": [{"file": "again.png", "reason": f"duplicate of image {image.pk} (first.png)"}],
    }


def test_a_bad_file_is_rejected_with_a_reason_and_the_good_ones_kept(
    owner_client, project, make_png
) -> None:
    response = _upload(
        owner_client,
        project,
        ("good.png", make_png()),
        ("notes.txt", b"hello"),
        ("broken.png", b"\x89PNG\r\n\x1a\n broken"),
    )

    assert response.status_code == 201
    body = response.json()
    assert [i["name"] for i in body["created"]] == ["good.png"]
    assert [r["file"] for r in body["rejected"]] == ["notes.txt", "broken.png"]
    assert all(r["reason"] for r in body["rejected"])
    assert Image.objects.filter(project=project).count() == 1


def test_an_upload_with_an_unknown_label_is_refused(owner_client, project, make_png) -> None:
    response = _upload(owner_client, project, ("a.png", make_png()), label="cat")

    assert response.status_code == 400
    assert "not one of the project's classes" in response.json()["error"]["message"]


def test_a_rejected_file_leaves_no_file_in_storage(owner_client, project, _isolated_media) -> None:
    _upload(owner_client, project, ("broken.png", b"\x89PNG\r\n\x1a\n broken"))

    assert not [p for p in _isolated_media.rglob("*") if p.is_file()]


def test_the_detail_has_metadata_and_explanation_flag(reviewer_client, image) -> None:
    body = reviewer_client.get(f"/api/v1/images/{image.pk}/").json()

    assert body["metadata"] == image.metadata
    assert body["has_explanation"] is False
    assert body["is_dicom"] is False
    assert body["window_center"] is None
    assert body["display_url"] == f"/api/v1/images/{image.pk}/display/"


def test_an_admin_relabels_an_image(owner_client, image) -> None:
    response = owner_client.patch(
        f"/api/v1/images/{image.pk}/", {"label": None, "split": "test"}, format="json"
    )

    assert response.status_code == 200
    image.refresh_from_db()
    assert (image.label, image.split) == (None, "test")


def test_a_label_outside_the_classes_is_a_400(owner_client, image) -> None:
    response = owner_client.patch(f"/api/v1/images/{image.pk}/", {"label": "cat"}, format="json")

    assert response.status_code == 400
    image.refresh_from_db()
    assert image.label == "abnormal"


def test_deleting_an_image_removes_its_files_after_commit(
    owner_client, image, _isolated_media, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.delete(f"/api/v1/images/{image.pk}/")

    assert response.status_code == 204
    assert not [p for p in _isolated_media.rglob("*") if p.is_file()]


def test_the_renditions_are_pngs_of_the_right_size(annotator_client, image, make_png) -> None:
    display = annotator_client.get(f"/api/v1/images/{image.pk}/display/")
    thumb = annotator_client.get(f"/api/v1/images/{image.pk}/thumbnail/")
    original = annotator_client.get(f"/api/v1/images/{image.pk}/original/")

    assert display["Content-Type"] == thumb["Content-Type"] == "image/png"
    assert PILImage.open(io.BytesIO(display.content)).size == (16, 12)
    assert max(PILImage.open(io.BytesIO(b"".join(thumb.streaming_content))).size) <= 256
    assert b"".join(original.streaming_content) == make_png(16, 12)


def test_a_client_that_accepts_only_png_still_gets_the_rendition(annotator_client, image) -> None:
    response = annotator_client.get(f"/api/v1/images/{image.pk}/display/", HTTP_ACCEPT="image/png")

    assert response.status_code == 200


def test_a_window_on_a_non_dicom_image_is_a_400(annotator_client, image) -> None:
    response = annotator_client.get(
        f"/api/v1/images/{image.pk}/display/?window_center=40&window_width=400"
    )

    assert response.status_code == 400


# --- filters and pagination ---------------------------------------------------------------------


@pytest.fixture
def gallery(
    project: Project, owner: User, annotator: User, make_png: Callable[..., bytes]
) -> list[Image]:
    """Six images: labels normal/abnormal/none, splits train/val, two prompted by annotator."""
    images = []
    for i, (label, split) in enumerate(
        [
            ("normal", "train"),
            ("abnormal", "train"),
            (None, "val"),
            ("normal", "val"),
            ("abnormal", "test"),
            (None, "train"),
        ]
    ):
        (created,) = services.image_create(
            project=project,
            name=f"scan{i}.png",
            data=make_png(6, 5, seed=50 + i),
            created_by=owner,
            label=label,
            split=split,
        )
        images.append(created)
    for target in images[:2]:
        services.prompt_save(
            image=target,
            annotator=annotator,
            target_class="abnormal",
            mask=sample_prompt(5, 6),
            base_version=0,
        )
    return images


def _names(client: APIClient, project: Project, query: str = "") -> list[str]:
    response = client.get(f"/api/v1/projects/{project.pk}/images/?{query}")
    assert response.status_code == 200, response.json()
    return [i["name"] for i in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("split=val", ["scan2.png", "scan3.png"]),
        ("label=normal", ["scan0.png", "scan3.png"]),
        ("label=none", ["scan2.png", "scan5.png"]),
        ("has_prompt=true", ["scan0.png", "scan1.png"]),
        ("has_prompt=false", ["scan2.png", "scan3.png", "scan4.png", "scan5.png"]),
        ("annotator=annotator", ["scan0.png", "scan1.png"]),
        ("annotator=owner", []),
        ("annotator=nobody-by-that-name", []),
        ("search=AN4", ["scan4.png"]),
        ("split=train&label=abnormal", ["scan1.png"]),
        ("ordering=-name&split=train", ["scan5.png", "scan1.png", "scan0.png"]),
    ],
)
def test_the_image_list_filters(reviewer_client, project, gallery, query, expected) -> None:
    assert _names(reviewer_client, project, query) == expected


def test_the_list_reports_prompt_counts(reviewer_client, project, gallery) -> None:
    body = reviewer_client.get(f"/api/v1/projects/{project.pk}/images/?has_prompt=true").json()

    assert [(i["has_prompt"], i["prompt_count"]) for i in body["results"]] == [(True, 1)] * 2


def test_a_bad_filter_value_is_a_400(reviewer_client, project, gallery) -> None:
    response = reviewer_client.get(f"/api/v1/projects/{project.pk}/images/?split=holdout")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.smoke
def test_the_list_is_paginated(reviewer_client, project, gallery) -> None:
    body = reviewer_client.get(f"/api/v1/projects/{project.pk}/images/?page=2&page_size=4").json()

    assert body["count"] == 6
    assert [i["name"] for i in body["results"]] == ["scan4.png", "scan5.png"]
    assert body["next"] is None
    assert "page_size=4" in body["previous"]


@pytest.mark.parametrize("page_size", [5, 50])
def test_the_list_runs_a_fixed_number_of_queries(
    reviewer_client, project, owner, make_png, annotator, django_assert_max_num_queries, page_size
) -> None:
    for i in range(page_size):
        (created,) = services.image_create(
            project=project,
            name=f"n{i}.png",
            data=make_png(4, 4, seed=1000 + i),
            created_by=owner,
        )
        services.prompt_save(
            image=created,
            annotator=annotator,
            target_class="abnormal",
            mask=np.zeros((4, 4), np.int8),
            base_version=0,
        )
    url = f"/api/v1/projects/{project.pk}/images/?page_size={page_size}"

    # session + user, project with role, count, page, the page's prompt counts: the same
    # whatever the page size.
    with django_assert_max_num_queries(6):
        response = reviewer_client.get(url)

    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("page_size", [5, 50])
def test_the_project_list_runs_a_fixed_number_of_queries(
    client_for, owner, django_assert_max_num_queries, page_size
) -> None:
    for i in range(page_size):
        services.project_create(name=f"p{i:03}", class_names=["x", "y"], creator=owner)
    client = client_for(owner)

    # session + user, count, page.
    with django_assert_max_num_queries(4):
        response = client.get(f"/api/v1/projects/?page_size={page_size}")

    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("page_size", [5, 50])
def test_the_member_list_runs_a_fixed_number_of_queries(
    owner_client, project, make_user, django_assert_max_num_queries, page_size
) -> None:
    for i in range(page_size):
        services.member_add(
            project=project, username=make_user(f"m{i:03}").username, role="reviewer"
        )

    with django_assert_max_num_queries(5):
        response = owner_client.get(f"/api/v1/projects/{project.pk}/members/?page_size={page_size}")

    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("page_size", [5, 50])
def test_the_prompt_history_runs_a_fixed_number_of_queries(
    annotator_client, image, annotator, django_assert_max_num_queries, page_size
) -> None:
    for version in range(page_size):
        prompt, _ = services.prompt_save(
            image=image,
            annotator=annotator,
            target_class="abnormal",
            mask=sample_prompt(12, 16, version),
            base_version=version,
        )

    with django_assert_max_num_queries(5):
        response = annotator_client.get(
            f"/api/v1/prompts/{prompt.pk}/history/?page_size={page_size}"
        )

    assert len(response.json()["results"]) == page_size


def test_a_file_over_the_size_limit_is_rejected_unread(
    owner_client, project, make_png, settings
) -> None:
    settings.SIGHTLINE_MAX_UPLOAD_BYTES = 100

    response = _upload(owner_client, project, ("big.png", make_png(64, 64)))

    assert response.status_code == 400
    (rejection,) = response.json()["rejected"]
    assert rejection["reason"].startswith("file is ") and "limit of 100" in rejection["reason"]
