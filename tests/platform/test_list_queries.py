"""Every list endpoint runs the same number of queries whatever the page size (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling import services
from labeling.models import Role
from tests.labeling.conftest import sample_prompt

pytestmark = pytest.mark.django_db
ROWS = 4


@pytest.fixture
def lists(project, owner, annotator, reviewer, make_user, make_png) -> dict[str, str]:
    """``ROWS`` or more rows behind every list, and the URL of each list."""
    from modeling.models import Job
    from tests.labeling.review_support import make_version

    for i in range(ROWS):
        services.project_create(name=f"Other {i}", class_names=["a", "b"], creator=owner)
        services.member_add(
            project=project, username=make_user(f"m{i}").username, role=Role.REVIEWER
        )
        Job.objects.create(project=project, kind="train", created_by=owner)
        make_version(project)
    images = []
    for i in range(ROWS):
        (image,) = services.image_create(
            project=project, name=f"{i}.png", data=make_png(16, 12, seed=i), created_by=owner
        )
        images.append(image)
        for user in (owner, annotator):
            services.prompt_save(
                image=image,
                annotator=user,
                target_class="abnormal",
                mask=sample_prompt(12, 16, i),
                base_version=0,
            )
    prompt = None
    for version in range(1, ROWS + 1):
        prompt, _ = services.prompt_save(
            image=images[0],
            annotator=reviewer,
            target_class="abnormal",
            mask=sample_prompt(12, 16, version),
            base_version=version - 1,
        )
    return {
        "projects": "/api/v1/projects/",
        "members": f"/api/v1/projects/{project.pk}/members/",
        "images": f"/api/v1/projects/{project.pk}/images/",
        "image prompts": f"/api/v1/images/{images[0].pk}/prompts/",
        "prompt history": f"/api/v1/prompts/{prompt.pk}/history/",
        "jobs": "/api/v1/jobs/",
        "model versions": "/api/v1/model-versions/",
    }


def _queries(client, url: str) -> tuple[int, int]:
    separator = "&" if "?" in url else "?"
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{url}{separator}page_size=1")
    assert response.status_code == 200
    small = len(captured)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{url}{separator}page_size={ROWS}")
    assert response.status_code == 200
    assert len(response.json()["results"]) >= min(ROWS, 3), url
    return small, len(captured)


@pytest.mark.parametrize(
    "name",
    ["projects", "members", "images", "image prompts", "prompt history", "jobs", "model versions"],
)
def test_a_list_runs_a_constant_number_of_queries_whatever_the_page_size(
    name: str, lists: dict[str, str], owner_client
) -> None:
    owner_client.get(lists[name])  # warm per-process caches (content types, session)
    small, large = _queries(owner_client, lists[name])
    assert small == large
