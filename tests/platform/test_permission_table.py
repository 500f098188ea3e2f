"""Every ``/api/v1/`` endpoint, every method, every role: the expected status, from one table.

The resolver is walked for every pattern under ``api/v1/``; an endpoint or method without a row
in ``TABLE`` fails ``test_every_api_endpoint_has_a_permission_row``, so a new endpoint cannot
ship without deciding who may call it. Statuses are listed for (anonymous, outsider, reviewer,
annotator, admin), tried in that order on one database: refused calls change nothing, so the
admin's write comes last and sees the state the others saw.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from labeling import services
from tests.labeling.conftest import grey_png, prompt_png, sample_prompt

PERSONAS = ("anonymous", "outsider", "reviewer", "annotator", "owner")
METHODS = ("get", "post", "put", "patch", "delete")
Statuses = tuple[int, int, int, int, int]


def api_endpoints() -> Iterator[tuple[str, str]]:
    """(URL name with namespace, method) of every view mounted under ``api/v1/``."""

    def walk(patterns: list, prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                view = getattr(pattern.callback, "view_class", None) or pattern.callback
                name = f"{namespace}{pattern.name}"
                for method in METHODS:
                    if hasattr(view, method):
                        yield name, method

    yield from walk(get_resolver().url_patterns, "", "")


@dataclass(frozen=True)
class World:
    """Primary keys of one object of every kind, in the personas' project."""

    project: int
    image: int
    prompt: int
    reviewer: int
    job: int
    version: int
    explanation_map: int
    refined: int
    prediction: int
    users: dict[str, Any]
    review: dict[str, int]


Body = Callable[[World, str], dict[str, Any]]


def _none(w: World, persona: str) -> dict[str, Any]:
    return {}


def _json(body: dict[str, Any]) -> Body:
    return lambda w, persona: {
        "data": {k: v(w) if callable(v) else v for k, v in body.items()},
        "format": "json",
    }


def _credentials(w: World, persona: str) -> dict[str, Any]:
    username = "nobody" if persona == "anonymous" else w.users[persona].username
    return {"data": {"username": username, "password": "correct-horse-battery"}, "format": "json"}


def _new_project(w: World, persona: str) -> dict[str, Any]:
    return {"data": {"name": f"P-{persona}", "class_names": ["x", "y"]}, "format": "json"}


def _upload(w: World, persona: str) -> dict[str, Any]:
    png = grey_png(np.full((8, 8), 7, np.uint8))
    return {"data": {"files": [SimpleUploadedFile("new.png", png)]}}


def _import_zip(w: World, persona: str) -> dict[str, Any]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("labels.csv", "image,label,split\nz.png,normal,train\n")
        archive.writestr("images/z.png", grey_png(np.full((8, 8), 9, np.uint8)))
    return {"data": {"file": SimpleUploadedFile("d.zip", buffer.getvalue())}}


def _prompt_put(w: World, persona: str) -> dict[str, Any]:
    return {
        "data": prompt_png(sample_prompt(12, 16)),
        "content_type": "image/png",
        "HTTP_IF_MATCH": '"1"',
    }


P, IM, R = (
    "/api/v1/projects/{w.project}/",
    "/api/v1/images/{w.image}/",
    "/api/v1/prompts/{w.prompt}/",
)
J, V = "/api/v1/jobs/{w.job}/", "/api/v1/model-versions/{w.version}/"
READ_MEMBERS: Statuses = (403, 404, 200, 200, 200)
ADMIN_WRITE: Statuses = (403, 404, 403, 403, 200)

# url name -> method -> (url template, request body, statuses)
TABLE: dict[str, dict[str, tuple[str, Body, Statuses]]] = {
    "labeling:auth-login": {
        "post": ("/api/v1/auth/login/", _credentials, (400, 200, 200, 200, 200))
    },
    "labeling:auth-logout": {"post": ("/api/v1/auth/logout/", _none, (204, 204, 204, 204, 204))},
    "labeling:auth-me": {"get": ("/api/v1/auth/me/", _none, (403, 200, 200, 200, 200))},
    "labeling:auth-token": {
        "post": ("/api/v1/auth/token/", _credentials, (400, 200, 200, 200, 200))
    },
    "labeling:project-list": {
        "get": ("/api/v1/projects/", _none, (403, 200, 200, 200, 200)),
        "post": ("/api/v1/projects/", _new_project, (403, 201, 201, 201, 201)),
    },
    "labeling:project-detail": {
        "get": (P, _none, READ_MEMBERS),
        "patch": (P, _json({"description": "d"}), ADMIN_WRITE),
        "delete": (P, _none, (403, 404, 403, 403, 204)),
    },
    "labeling:member-list": {
        "get": (P + "members/", _none, READ_MEMBERS),
        "post": (
            P + "members/",
            _json({"username": "outsider", "role": "reviewer"}),
            (403, 404, 403, 403, 201),
        ),
    },
    "labeling:member-detail": {
        "patch": (P + "members/{w.reviewer}/", _json({"role": "annotator"}), ADMIN_WRITE),
        "delete": (P + "members/{w.reviewer}/", _none, (403, 404, 403, 403, 204)),
    },
    "labeling:image-list": {
        "get": (P + "images/", _none, READ_MEMBERS),
        "post": (P + "images/", _upload, (403, 404, 403, 403, 201)),
    },
    "labeling:import": {"post": (P + "imports/", _import_zip, ADMIN_WRITE)},
    "labeling:export": {"get": (P + "export/", _none, ADMIN_WRITE)},
    "labeling:image-detail": {
        "get": (IM, _none, READ_MEMBERS),
        "patch": (IM, _json({"split": "val"}), ADMIN_WRITE),
        "delete": (IM, _none, (403, 404, 403, 403, 204)),
    },
    "labeling:image-display": {"get": (IM + "display/", _none, READ_MEMBERS)},
    "labeling:image-thumbnail": {"get": (IM + "thumbnail/", _none, READ_MEMBERS)},
    "labeling:image-original": {"get": (IM + "original/", _none, READ_MEMBERS)},
    "labeling:image-explanation": {"get": (IM + "explanation/", _none, (403, 404, 200, 403, 200))},
    "labeling:image-prompts": {"get": (IM + "prompts/", _none, READ_MEMBERS)},
    "labeling:my-prompt": {
        # The reviewer may read but has drawn no prompt: 404, not 403.
        "get": (IM + "prompts/mine/", _none, (403, 404, 404, 200, 200)),
        "put": (IM + "prompts/mine/", _prompt_put, (403, 404, 403, 200, 200)),
    },
    "labeling:prompt-detail": {"get": (R, _none, READ_MEMBERS)},
    "labeling:prompt-mask": {"get": (R + "mask/", _none, READ_MEMBERS)},
    "labeling:prompt-history": {"get": (R + "history/", _none, READ_MEMBERS)},
    "modeling:job-list": {
        "get": ("/api/v1/jobs/", _none, (403, 200, 200, 200, 200)),
        "post": (
            "/api/v1/jobs/",
            _json(
                {
                    "project": lambda w: w.project,
                    "kind": "evaluate",
                    "parameters": lambda w: {"model_version": w.version},
                }
            ),
            (403, 404, 403, 403, 201),
        ),
    },
    "modeling:job-schema": {"get": ("/api/v1/jobs/schema/", _none, (403, 200, 200, 200, 200))},
    "modeling:job-detail": {"get": (J, _none, READ_MEMBERS)},
    "modeling:job-cancel": {"post": (J + "cancel/", _none, ADMIN_WRITE)},
    "modeling:job-logs": {"get": (J + "logs/", _none, READ_MEMBERS)},
    "modeling:job-metrics": {"get": (J + "metrics/", _none, READ_MEMBERS)},
    "modeling:job-progress": {"get": (J + "progress/", _none, READ_MEMBERS)},
    "modeling:model-version-list": {
        "get": ("/api/v1/model-versions/", _none, (403, 200, 200, 200, 200))
    },
    "modeling:model-version-compare": {
        "get": ("/api/v1/model-versions/compare/?a={w.version}&b={w.version}", _none, READ_MEMBERS)
    },
    "modeling:model-version-detail": {"get": (V, _none, READ_MEMBERS)},
    "modeling:model-version-activate": {"post": (V + "activate/", _none, ADMIN_WRITE)},
    "modeling:model-version-checkpoint": {"get": (V + "checkpoint/", _none, ADMIN_WRITE)},
    "modeling:explanation-map-list": {"get": (V + "explanations/", _none, READ_MEMBERS)},
    "modeling:refined-prompt-list": {"get": (V + "refined-prompts/", _none, READ_MEMBERS)},
    "modeling:explanation-map-png": {
        "get": ("/api/v1/explanation-maps/{w.explanation_map}/png/", _none, READ_MEMBERS)
    },
    "modeling:refined-prompt-png": {
        "get": ("/api/v1/refined-prompts/{w.refined}/png/", _none, READ_MEMBERS)
    },
    "modeling:prediction-create": {
        # Every member may ask; the world's finished prediction of the same key answers at once.
        "post": (
            "/api/v1/predictions/",
            _json(
                {
                    "image": lambda w: w.image,
                    "use_prompt": False,
                    "wait_ms": 0,
                    "model_version": lambda w: w.version,
                }
            ),
            (403, 404, 200, 200, 200),
        )
    },
    "modeling:prediction-detail": {
        "get": ("/api/v1/predictions/{w.prediction}/", _none, READ_MEMBERS)
    },
    "modeling:prediction-map": {
        "get": ("/api/v1/predictions/{w.prediction}/maps/gradcam/", _none, READ_MEMBERS)
    },
}
MV = "/api/v1/model-versions/{w.version}/"
SEL, ST = "/api/v1/selections/{w.review[selection]}/", "/api/v1/studies/{w.review[study]}/"
ITEM = "/api/v1/study-items/{w.review[item]}/"
REVIEWERS_WRITE: Statuses = (403, 404, 200, 403, 200)
# Rating studies are blinded: annotators cannot even see that one exists.
STUDY_READ: Statuses = (403, 404, 200, 404, 200)
STUDY_ADMIN: Statuses = (403, 404, 403, 404, 200)
# Reasonability review, selections and rating studies (labeling.apis.review, selections, studies).
TABLE |= {
    "labeling:review-queue": {"get": (MV + "review/queue/", _none, READ_MEMBERS)},
    "labeling:review-matrix": {"get": (MV + "review/matrix/", _none, READ_MEMBERS)},
    "labeling:review-cell": {"get": (MV + "review/cell/?quadrant=RA", _none, READ_MEMBERS)},
    "labeling:review-disagreements": {"get": (MV + "review/disagreements/", _none, READ_MEMBERS)},
    "labeling:assessment-list": {"get": (MV + "assessments/", _none, READ_MEMBERS)},
    "labeling:my-assessment": {
        # Only the reviewer has answered: the others read a 404; reviewers and admins answer.
        "get": (MV + "assessments/{w.image}/", _none, (403, 404, 200, 404, 404)),
        "put": (
            MV + "assessments/{w.image}/",
            _json({"q1_needed": True, "q2_unneeded": False}),
            REVIEWERS_WRITE,
        ),
    },
    "labeling:adjudication": {
        "put": (MV + "adjudications/{w.image}/", _json({"reasonable": True}), ADMIN_WRITE),
        "delete": (MV + "adjudications/{w.image}/", _none, (403, 404, 403, 403, 204)),
    },
    "labeling:selection-list": {
        "get": (P + "selections/", _none, READ_MEMBERS),
        "post": (
            P + "selections/",
            _json({"name": "new", "rules": {"split": "train"}}),
            (403, 404, 403, 403, 201),
        ),
    },
    # A preview changes nothing, so every member may ask for one.
    "labeling:selection-preview": {
        "post": (P + "selections/preview/", _json({"split": "train"}), READ_MEMBERS)
    },
    "labeling:annotation-queue": {"get": (P + "annotation-queue/", _none, READ_MEMBERS)},
    "labeling:selection-detail": {
        "get": (SEL, _none, READ_MEMBERS),
        "delete": (SEL, _none, (403, 404, 403, 403, 204)),
    },
    "labeling:selection-images": {"get": (SEL + "images/", _none, READ_MEMBERS)},
    "labeling:selection-queue": {
        "post": (SEL + "annotation-queue/", _none, ADMIN_WRITE),
        "delete": (SEL + "annotation-queue/", _none, ADMIN_WRITE),
    },
    "labeling:selection-study": {
        "post": (
            SEL + "study/",
            _json(
                {
                    "name": "from selection",
                    "conditions": lambda w: [
                        {"name": "v1", "kind": "model_map", "model_version": w.version},
                        {"name": "v2", "kind": "model_map", "model_version": w.review["second"]},
                    ],
                    "reviewers": ["reviewer"],
                }
            ),
            (403, 404, 403, 403, 201),
        )
    },
    "labeling:study-list": {
        "get": (P + "studies/", _none, READ_MEMBERS),
        "post": (
            P + "studies/",
            _json(
                {
                    "name": "new study",
                    "image_ids": lambda w: [w.image],
                    "conditions": lambda w: [
                        {"name": "v1", "kind": "model_map", "model_version": w.version},
                        {"name": "v2", "kind": "model_map", "model_version": w.review["second"]},
                    ],
                    "reviewers": ["reviewer"],
                }
            ),
            (403, 404, 403, 403, 201),
        ),
    },
    "labeling:study-detail": {
        "get": (ST, _none, STUDY_READ),
        "delete": (ST, _none, (403, 404, 403, 404, 204)),
    },
    "labeling:study-close": {"post": (ST + "close/", _none, STUDY_ADMIN)},
    "labeling:study-items": {"get": (ST + "items/", _none, STUDY_READ)},
    "labeling:study-next-item": {"get": (ST + "items/next/", _none, STUDY_READ)},
    "labeling:study-report": {"get": (ST + "report/", _none, STUDY_ADMIN)},
    "labeling:study-export": {"get": (ST + "export/", _none, STUDY_ADMIN)},
    # A study item is one rater's presentation: only that rater (the reviewer) sees it.
    "labeling:study-item": {"get": (ITEM, _none, (403, 404, 200, 404, 404))},
    "labeling:study-item-map": {"get": (ITEM + "maps/1/", _none, (403, 404, 200, 404, 404))},
    "labeling:study-rating": {
        "put": (ITEM + "ratings/1/", _json({"likert": 4}), (403, 404, 200, 404, 404))
    },
}
ROWS = [(name, method) for name, methods in TABLE.items() for method in methods]


def test_every_api_endpoint_has_a_permission_row() -> None:
    missing = sorted({endpoint for endpoint in api_endpoints() if endpoint not in set(ROWS)})
    assert missing == [], f"endpoints without a row in TABLE: {missing}"


def test_the_table_has_no_row_for_an_endpoint_that_does_not_exist() -> None:
    stale = sorted(set(ROWS) - set(api_endpoints()))
    assert stale == []


def _review_world(
    project: Any, owner: Any, reviewer: Any, image: Any, version: Any
) -> dict[str, int]:
    """Two versions with predictions and maps of the image, the reviewer's assessment, a
    selection and an open study."""
    import random

    from labeling.selectors.selections import SelectionRules
    from labeling.services import review as review_services
    from labeling.services import selections as selection_services
    from labeling.services import studies as study_services
    from labeling.services.studies import ConditionSpec
    from tests.labeling.review_support import make_version, predict

    predict(version, image, "abnormal")
    review_services.assessment_submit(
        model_version=version, image=image, reviewer=reviewer, q1_needed=True, q2_unneeded=False
    )
    second = make_version(project)
    predict(second, image, "abnormal")
    selection = selection_services.selection_create(
        project=project, name="all", rules=SelectionRules(split="train"), created_by=owner
    )
    study = study_services.study_create(
        project=project,
        name="Study",
        image_ids=[image.pk],
        conditions=[
            ConditionSpec(name="v1", kind="model_map", model_version=version.pk),
            ConditionSpec(name="v2", kind="model_map", model_version=second.pk),
        ],
        reviewers=["reviewer"],
        created_by=owner,
        rng=random.Random(7),
    )
    item = study.presentations.order_by("pk").first()
    return {"second": second.pk, "selection": selection.pk, "study": study.pk, "item": item.pk}


@pytest.fixture
def world(project, owner, annotator, reviewer, outsider) -> World:
    from modeling.models import ExplanationMap, Job, ModelVersion, Prediction, RefinedPrompt

    png = grey_png(np.zeros((12, 16), np.uint8))
    (image,) = services.image_create(
        project=project,
        name="a.png",
        data=grey_png(np.arange(192, dtype=np.uint8).reshape(12, 16)),
        created_by=owner,
        label="abnormal",
        split="train",
    )
    mask = sample_prompt(12, 16)
    services.prompt_save(
        image=image, annotator=owner, target_class="abnormal", mask=mask, base_version=0
    )
    prompt, _ = services.prompt_save(
        image=image, annotator=annotator, target_class="abnormal", mask=mask, base_version=0
    )
    services.explanation_set(image=image, png=png)
    job = Job.objects.create(project=project, kind="train", created_by=owner)
    version = ModelVersion.objects.create(
        project=project,
        number=1,
        architecture="resnet18",
        method="baseline",
        class_names=["normal", "abnormal"],
        job=job,
        checkpoint=default_storage.save("checkpoints/v1.safetensors", ContentFile(b"0" * 16)),
    )
    explanation = ExplanationMap.objects.create(
        model_version=version,
        image=image,
        method="gradcam",
        target_class="abnormal",
        file=default_storage.save("maps/m.png", ContentFile(png)),
    )
    refined = RefinedPrompt.objects.create(
        prompt_version=prompt.current,
        model_version=version,
        file=default_storage.save("maps/r.png", ContentFile(png)),
    )
    prediction = Prediction.objects.create(
        model_version=version, image=image, use_prompt=False, status="done", gradcam_png=png
    )
    users = {"outsider": outsider, "reviewer": reviewer, "annotator": annotator, "owner": owner}
    review = _review_world(project, owner, reviewer, image, version)
    return World(
        project.pk,
        image.pk,
        prompt.pk,
        reviewer.pk,
        job.pk,
        version.pk,
        explanation.pk,
        refined.pk,
        prediction.pk,
        users,
        review,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), ROWS, ids=[f"{n}-{m}" for n, m in ROWS])
def test_each_role_gets_the_expected_status(
    name: str, method: str, world: World, client_for
) -> None:
    url, body, expected = TABLE[name][method]
    statuses = []
    for persona in PERSONAS:
        client = client_for(None if persona == "anonymous" else world.users[persona])
        response = getattr(client, method)(url.format(w=world), **body(world, persona))
        statuses.append(response.status_code)
    assert dict(zip(PERSONAS, statuses, strict=True)) == dict(zip(PERSONAS, expected, strict=True))
