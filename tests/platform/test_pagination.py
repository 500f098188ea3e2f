"""Pages past the middle are read backwards from the far end: the same rows, the same order."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling import services
from labeling.models import Image
from sightline.pagination import NearerEndPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def seven_images(project, owner, make_png) -> list[int]:
    for k in range(7):
        services.image_create(
            project=project,
            name=f"img-{k % 3}-{k}.png",  # names share prefixes; created_at order differs
            data=make_png(8, 8, seed=100 + k),
            created_by=owner,
            label="normal" if k % 2 else None,
        )
    return list(Image.objects.filter(project=project).values_list("pk", flat=True))


@pytest.mark.parametrize("ordering", ["name", "-name", "created_at", "-created_at", "label"])
@pytest.mark.parametrize("per_page,orphans", [(2, 0), (3, 0), (3, 1), (7, 0), (50, 0)])
def test_every_page_holds_the_rows_of_a_forward_read(seven_images, ordering, per_page, orphans):
    rows = Image.objects.filter(pk__in=seven_images).order_by(ordering, "pk")
    expected = [image.pk for image in rows]
    paginator = NearerEndPaginator(rows, per_page, orphans=orphans)

    pages = [[image.pk for image in paginator.page(n)] for n in paginator.page_range]

    assert [pk for page in pages for pk in page] == expected
    assert all(pages)  # orphans fold into the last page, never an empty one


def test_the_last_page_skips_no_rows(seven_images) -> None:
    rows = Image.objects.filter(pk__in=seven_images).order_by("name", "pk")
    paginator = NearerEndPaginator(rows, 2)
    paginator.count  # noqa: B018 - counted before the captured page query

    with CaptureQueriesContext(connection) as captured:
        list(paginator.page(4))

    (query,) = captured.captured_queries
    assert "OFFSET" not in query["sql"].upper()
    assert "DESC" in query["sql"].upper()


def test_the_api_pages_match_through_the_middle(owner_client, project, seven_images) -> None:
    url = f"/api/v1/projects/{project.pk}/images/?page_size=2&ordering=-created_at"
    ids = []
    for page in range(1, 5):
        ids += [row["id"] for row in owner_client.get(f"{url}&page={page}").json()["results"]]

    expected = Image.objects.filter(project=project).order_by("-created_at", "pk")
    assert ids == [image.pk for image in expected]
