"""Every list endpoint runs the same number of queries whatever the page size (no N+1).

The resolver is walked for every GET under ``api/v1/``: each one is a paginated list (``PAGED``,
compared at page sizes ``SMALL`` and ``LARGE``), an unpaginated list or report (``SIZED``,
compared on a small and a large instance), or one object (``SINGLE``). A new GET route without
an entry fails ``test_every_get_endpoint_is_classified``, and one that the OpenAPI schema
documents as a page or an array but that is not in ``PAGED`` or ``SIZED`` fails
``test_every_documented_list_is_checked``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from labeling import services
from labeling.models import Role
from tests.labeling.conftest import sample_prompt
from tests.platform.test_permission_table import api_endpoints

SMALL, LARGE = 2, 6

# url name -> URL template (formatted with the world's ids); the page size is added.
PAGED = {
    "labeling:project-list": "/api/v1/projects/",
    "labeling:member-list": "/api/v1/projects/{project}/members/",
    "labeling:image-list": "/api/v1/projects/{project}/images/",
    "labeling:image-prompts": "/api/v1/images/{image}/prompts/",
    "labeling:prompt-history": "/api/v1/prompts/{prompt}/history/",
    "labeling:review-queue": "/api/v1/model-versions/{large_version}/review/queue/",
    "labeling:assessment-list": "/api/v1/model-versions/{large_version}/assessments/",
    "labeling:selection-list": "/api/v1/projects/{project}/selections/",
    "labeling:selection-images": "/api/v1/selections/{selection}/images/",
    "labeling:annotation-queue": "/api/v1/projects/{project}/annotation-queue/",
    "labeling:study-list": "/api/v1/projects/{project}/studies/",
    "modeling:job-list": "/api/v1/jobs/",
    "modeling:job-metrics": "/api/v1/jobs/{large_job}/metrics/",
    "modeling:model-version-list": "/api/v1/model-versions/",
    "modeling:explanation-map-list": "/api/v1/model-versions/{large_version}/explanations/",
    "modeling:refined-prompt-list": "/api/v1/model-versions/{large_version}/refined-prompts/",
}
MV, ST = "/api/v1/model-versions/{size_version}/", "/api/v1/studies/{size_study}/"
Rows = Callable[[Any], int]
# url name -> (URL template of the ``small`` or ``large`` instance, who asks, the number of
# images or points in the answer: SMALL for the small instance, LARGE for the large one).
SIZED: dict[str, tuple[str, str, Rows]] = {
    "labeling:review-cell": (MV + "review/cell/?quadrant=RA", "owner", len),
    "labeling:review-disagreements": (MV + "review/disagreements/", "owner", len),
    "labeling:review-matrix": (MV + "review/matrix/", "owner", lambda b: b["assessed_images"]),
    "labeling:study-items": (ST + "items/", "reviewer", len),
    "labeling:study-report": (
        ST + "report/",
        "owner",
        lambda b: b["conditions"][0]["likert"]["n"],
    ),
    "labeling:study-export": (
        ST + "export/?format=json",
        "owner",
        lambda b: len({row["image_id"] for row in b["ratings"]}),
    ),
    "modeling:job-progress": (
        "/api/v1/jobs/{size_job}/progress/",
        "owner",
        lambda b: len(b["metrics"]),
    ),
}
# GET endpoints of one object or file, with no list to grow.
SINGLE = {
    "labeling:auth-me",
    "labeling:project-detail",
    "labeling:export",  # a zip file streamed from storage
    "labeling:image-detail",
    "labeling:image-display",
    "labeling:image-thumbnail",
    "labeling:image-original",
    "labeling:image-explanation",
    "labeling:my-prompt",
    "labeling:prompt-detail",
    "labeling:prompt-mask",
    "labeling:my-assessment",
    "labeling:selection-detail",
    "labeling:study-detail",
    "labeling:study-next-item",
    "labeling:study-item",
    "labeling:study-item-map",
    "modeling:job-schema",
    "modeling:job-detail",
    "modeling:job-logs",
    "modeling:model-version-compare",
    "modeling:model-version-detail",
    "modeling:model-version-checkpoint",
    "modeling:explanation-map-png",
    "modeling:refined-prompt-png",
    "modeling:prediction-detail",
    "modeling:prediction-map",
}


def _gets() -> set[str]:
    return {name for name, method in api_endpoints() if method == "get"}


def test_every_get_endpoint_is_classified() -> None:
    classified = set(PAGED) | set(SIZED) | SINGLE
    assert len(classified) == len(PAGED) + len(SIZED) + len(SINGLE), "an endpoint is in two sets"
    assert sorted(_gets() - classified) == [], "new GET endpoints: add them to PAGED or SIZED"
    assert sorted(classified - _gets()) == []


def test_every_documented_list_is_checked() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    lists = set()
    for path, item in schema["paths"].items():
        ok = item.get("get", {}).get("responses", {}).get("200", {})
        body = ok.get("content", {}).get("application/json", {}).get("schema", {})
        if body.get("type") == "array" or body.get("$ref", "").split("/")[-1][:9] == "Paginated":
            lists.add(path)
    checked = {_schema_path(template) for template, _, _ in SIZED.values()} | {
        _schema_path(template) for template in PAGED.values()
    }
    assert len(lists) >= len(PAGED), "the schema no longer shows which operations are lists"
    assert sorted(lists - checked) == []


class _AnyId(dict):
    def __missing__(self, key: str) -> int:
        return 1


def _schema_path(template: str) -> str:
    """``/api/v1/jobs/{large_job}/metrics/`` -> the schema's ``/api/v1/jobs/{job_id}/metrics/``."""
    route = resolve(template.split("?")[0].format_map(_AnyId())).route
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _study(project: Any, owner: Any, name: str, images: list, versions: list) -> Any:
    from labeling.services import studies as study_services

    study = study_services.study_create(
        project=project,
        name=name,
        image_ids=[image.pk for image in images],
        conditions=[
            study_services.ConditionSpec(name=f"v{i}", kind="model_map", model_version=v.pk)
            for i, v in enumerate(versions)
        ],
        reviewers=["reviewer"],
        created_by=owner,
        rng=random.Random(0),
    )
    for item in study.presentations.all():
        for slot in range(1, len(versions) + 1):
            study_services.rating_save(
                presentation=item, slot=slot, q1_needed=True, q2_unneeded=False, likert=4
            )
    return study


def _review(version: Any, images: list, users: list) -> None:
    """Predictions and maps of ``images``; two of three reviewers find each map reasonable."""
    from labeling.services import review as review_services
    from tests.labeling.review_support import predict

    for image in images:
        predict(version, image, "abnormal")
        for i, user in enumerate(users):
            review_services.assessment_submit(
                model_version=version,
                image=image,
                reviewer=user,
                q1_needed=i < 2,
                q2_unneeded=False,
            )


@pytest.fixture
def world(project, owner, annotator, reviewer, make_user) -> dict[str, Any]:
    """``LARGE`` or more rows behind every list, and a small and a large instance of each
    unpaginated one; the ids the URL templates name."""
    from labeling.selectors.selections import SelectionRules
    from labeling.services import selections as selection_services
    from modeling.models import Job, JobMetric, RefinedPrompt
    from tests.labeling.review_support import make_images, make_version

    members = []
    for i in range(LARGE):
        services.project_create(name=f"Other {i}", class_names=["a", "b"], creator=owner)
        members.append(make_user(f"m{i}"))
        services.member_add(project=project, username=members[-1].username, role=Role.REVIEWER)
    jobs = [
        Job.objects.create(project=project, kind="train", created_by=owner) for _ in range(LARGE)
    ]
    for job, n in ((jobs[0], SMALL), (jobs[1], LARGE)):
        for step in range(n):
            JobMetric.objects.create(job=job, step=step, values={"loss": 1.0 / (step + 1)})
    images = make_images(project, owner, ["abnormal"] * LARGE, split="train")
    for image in images:
        for user in (owner, annotator):
            services.prompt_save(
                image=image,
                annotator=user,
                target_class="abnormal",
                mask=sample_prompt(8, 8, image.pk),
                base_version=0,
            )
    for i, user in enumerate(members):  # more prompts on the first image
        services.prompt_save(
            image=images[0],
            annotator=user,
            target_class="abnormal",
            mask=sample_prompt(8, 8, i),
            base_version=0,
        )
    prompt = None
    for version in range(1, LARGE + 1):
        prompt, _ = services.prompt_save(
            image=images[0],
            annotator=reviewer,
            target_class="abnormal",
            mask=sample_prompt(8, 8, 100 + version),
            base_version=version - 1,
        )
    large, small, other, *_ = (make_version(project) for _ in range(LARGE))
    raters = [reviewer, *members[:2]]
    _review(large, images, raters)
    _review(small, images[:SMALL], raters)
    _review(other, images, [])
    for image in images:
        owner_prompt = image.prompts.get(annotator=owner)
        RefinedPrompt.objects.create(
            prompt_version=owner_prompt.current,
            model_version=large,
            file=default_storage.save("maps/r.png", ContentFile(b"png")),
        )
    for i in range(LARGE):
        selection = selection_services.selection_create(
            project=project, name=f"s{i}", rules=SelectionRules(split="train"), created_by=owner
        )
    selection_services.selection_queue_for_annotation(selection=selection)
    small_study = _study(project, owner, "small", images[:SMALL], [large, other])
    large_study = _study(project, owner, "large", images, [large, other])
    for i in range(LARGE - 2):
        _study(project, owner, f"more {i}", images[:1], [large, other])
    return {
        "project": project.pk,
        "image": images[0].pk,
        "prompt": prompt.pk,
        "selection": selection.pk,
        "large_version": large.pk,
        "large_job": jobs[1].pk,
        "small": {"size_version": small.pk, "size_study": small_study.pk, "size_job": jobs[0].pk},
        "large": {"size_version": large.pk, "size_study": large_study.pk, "size_job": jobs[1].pk},
    }


def _get(client: Any, url: str) -> tuple[int, Any]:
    """(number of queries, response) of one GET."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(captured), response


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGED))
def test_a_page_runs_the_same_queries_whatever_its_size(name: str, world, owner_client) -> None:
    url = PAGED[name].format(**world)
    owner_client.get(url)  # warm per-process caches (content types, session)
    small, small_page = _get(owner_client, f"{url}?page_size={SMALL}")
    large, large_page = _get(owner_client, f"{url}?page_size={LARGE}")
    assert len(small_page.json()["results"]) == SMALL
    assert len(large_page.json()["results"]) == LARGE
    assert large == small


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SIZED))
def test_an_unpaginated_list_runs_the_same_queries_whatever_its_length(
    name: str, world, client_for, owner, reviewer
) -> None:
    template, persona, rows = SIZED[name]
    client = client_for({"owner": owner, "reviewer": reviewer}[persona])
    client.get(template.format(**world["small"]))  # warm per-process caches
    small, small_answer = _get(client, template.format(**world["small"]))
    large, large_answer = _get(client, template.format(**world["large"]))
    assert rows(json.loads(small_answer.content)) == SMALL
    assert rows(json.loads(large_answer.content)) == LARGE
    assert large == small
