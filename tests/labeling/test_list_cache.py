"""The image list's page cache: served until the project's images change, never across roles."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache

from labeling import services
from labeling.models import Image, Membership
from tests.labeling.conftest import save_sample_prompt

pytestmark = pytest.mark.django_db


def _names(client, project) -> list[str]:
    response = client.get(f"/api/v1/projects/{project.pk}/images/?ordering=name")
    assert response.status_code == 200
    return [row["name"] for row in response.json()["results"]]


def _counts(client, project) -> dict[str, int]:
    response = client.get(f"/api/v1/projects/{project.pk}/images/")
    return {row["name"]: row["prompt_count"] for row in response.json()["results"]}


def test_a_page_is_served_from_the_cache_until_a_service_changes_the_project(
    owner_client, project, image
) -> None:
    assert _names(owner_client, project) == ["first.png"]
    Image.objects.filter(pk=image.pk).update(name="renamed.png")  # behind the services' back

    assert _names(owner_client, project) == ["first.png"]  # the cached page

    services.image_update(image=image, label="normal")
    assert _names(owner_client, project) == ["renamed.png"]


def _upload(project, owner, make_png, image) -> None:
    services.image_create(
        project=project, name="second.png", data=make_png(16, 12, seed=9), created_by=owner
    )


def _delete(project, owner, make_png, image) -> None:
    services.image_delete(image=image)


def _relabel(project, owner, make_png, image) -> None:
    services.image_update(image=image, split="test")


CHANGES: dict[str, Callable[..., None]] = {"upload": _upload, "delete": _delete, "update": _relabel}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_image_change_shows_in_the_next_page(
    owner_client, project, owner, make_png, image, change
) -> None:
    before = owner_client.get(f"/api/v1/projects/{project.pk}/images/").json()

    CHANGES[change](project, owner, make_png, image)

    after = owner_client.get(f"/api/v1/projects/{project.pk}/images/").json()
    assert after != before
    assert after["count"] == Image.objects.filter(project=project).count()
    assert {row["split"] for row in after["results"]} == set(
        Image.objects.filter(project=project).values_list("split", flat=True)
    )


def test_a_first_prompt_shows_in_the_counts_of_the_next_page(
    owner_client, project, annotator, image
) -> None:
    assert _counts(owner_client, project) == {"first.png": 0}

    save_sample_prompt(image, annotator)

    assert _counts(owner_client, project) == {"first.png": 1}


def test_a_cached_page_is_still_refused_to_outsiders_and_removed_members(
    owner_client, outsider_client, annotator_client, annotator, project, image
) -> None:
    url = f"/api/v1/projects/{project.pk}/images/"
    assert owner_client.get(url).status_code == 200  # cached now
    assert annotator_client.get(url).status_code == 200

    services.member_remove(membership=Membership.objects.get(user=annotator))

    assert outsider_client.get(url).status_code == 404
    assert annotator_client.get(url).status_code == 404


def test_pages_of_other_queries_and_errors_are_not_mixed_up(owner_client, project, image):
    url = f"/api/v1/projects/{project.pk}/images/"
    assert owner_client.get(url).json()["count"] == 1
    assert owner_client.get(f"{url}?split=test").json()["count"] == 0
    for _ in range(2):  # an error is never stored as a page
        response = owner_client.get(f"{url}?page=9")
        assert response.status_code == 404
        assert response.json()["error"]["code"]


def test_the_list_works_without_a_reachable_cache(owner_client, project, image, monkeypatch):
    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", unreachable)
    monkeypatch.setattr(cache, "set", unreachable)
    monkeypatch.setattr(cache, "add", unreachable)

    assert _names(owner_client, project) == ["first.png"]
    services.image_update(image=image, label="normal")  # a write does not fail either
    assert _names(owner_client, project) == ["first.png"]


def test_the_project_detail_keeps_each_callers_role_and_follows_new_images(
    owner_client, annotator_client, project, owner, make_png, image
) -> None:
    url = f"/api/v1/projects/{project.pk}/"
    assert owner_client.get(url).json()["my_role"] == "admin"
    assert annotator_client.get(url).json()["my_role"] == "annotator"  # same cached counts
    assert annotator_client.get(url).json()["image_count"] == 1

    _upload(project, owner, make_png, image)
    services.project_update(project=project, description="changed")

    detail = annotator_client.get(url).json()
    assert (detail["image_count"], detail["description"]) == (2, "changed")


def test_a_cached_page_is_byte_for_byte_the_page_built_without_the_cache(
    owner_client, project, image, monkeypatch
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = f"/api/v1/projects/{project.pk}/images/?ordering=name"
    with CaptureQueriesContext(connection) as building:
        built = owner_client.get(url)  # computed and stored
    with CaptureQueriesContext(connection) as reading:
        cached = owner_client.get(url)
    assert len(reading) < len(building)  # no count, no rows: the page came from the cache

    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", unreachable)
    uncached = owner_client.get(url)

    assert built.status_code == cached.status_code == uncached.status_code == 200
    assert cached.content == built.content == uncached.content
    assert cached["Content-Type"] == uncached["Content-Type"] == "application/json"
    assert cached.json()["results"][0]["name"] == "first.png"


def test_a_cached_page_is_also_served_indented_and_in_the_browsable_api(
    owner_client, project, image
) -> None:
    from rest_framework.renderers import JSONRenderer

    url = f"/api/v1/projects/{project.pk}/images/"
    plain = owner_client.get(url)  # stored as compact JSON

    indented = owner_client.get(url, HTTP_ACCEPT="application/json; indent=4")
    browsable = owner_client.get(url, HTTP_ACCEPT="text/html")

    expected = JSONRenderer().render(plain.json(), "application/json; indent=4", {})
    assert indented.status_code == 200
    assert indented.content == expected
    assert indented["Content-Type"] == "application/json"
    assert browsable.status_code == 200
    assert browsable["Content-Type"].startswith("text/html")
    assert "first.png" in browsable.content.decode()
