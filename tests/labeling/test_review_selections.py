"""Rule-based selections over stored values, saved selections, the annotation queue."""

from __future__ import annotations

import numpy as np
import pytest

from labeling import services
from labeling.models import Selection
from labeling.selectors.selections import SelectionRules, selection_image_ids
from labeling.services import review as review_services
from labeling.services import selections as selection_services
from sightline.errors import ApplicationError
from tests.labeling.review_support import make_images, make_version, predict

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(project):
    return make_version(project)


@pytest.fixture
def images(project, owner, annotator, version):
    """img0 abnormal predicted abnormal 0.95 (prompted by the annotator), img1 normal predicted
    abnormal 0.6, img2 normal predicted normal 0.8, img3 unlabelled without a prediction."""
    created = make_images(project, owner, ["abnormal", "normal", "normal", None])
    predict(version, created[0], "abnormal", 0.95)
    predict(version, created[1], "abnormal", 0.6)
    predict(version, created[2], "normal", 0.8)
    prompt = np.full((8, 8), -1, dtype=np.int8)
    prompt[:, :2] = 1
    services.prompt_save(
        image=created[0], annotator=annotator, target_class="abnormal", mask=prompt, base_version=0
    )
    return created


def ids(project, **rules) -> list[int]:
    return selection_services.selection_evaluate(project=project, rules=SelectionRules(**rules))


def test_rules_on_the_predicted_class_and_confidence(project, version, images) -> None:
    assert ids(project, model_version=version.pk, predicted_class="abnormal") == [
        images[0].pk,
        images[1].pk,
    ]
    assert ids(project, model_version=version.pk, confidence_min=0.7, confidence_max=0.9) == [
        images[2].pk
    ]


def test_a_rule_on_correctness_compares_prediction_and_label(project, version, images) -> None:
    assert ids(project, model_version=version.pk, correct=True) == [images[0].pk, images[2].pk]
    assert ids(project, model_version=version.pk, correct=False) == [images[1].pk]


def test_rules_on_prompts_and_annotators(project, images) -> None:
    assert ids(project, has_prompt=True) == [images[0].pk]
    assert ids(project, has_prompt=False) == [i.pk for i in images[1:]]
    assert ids(project, annotator="annotator") == [images[0].pk]
    assert ids(project, annotator="owner") == []


def test_a_rule_on_quadrants_reads_the_review(project, version, images, reviewer) -> None:
    review_services.assessment_submit(
        model_version=version, image=images[1], reviewer=reviewer, q1_needed=True, q2_unneeded=True
    )
    assert ids(project, model_version=version.pk, quadrants=("UIA",)) == [images[1].pk]
    assert ids(project, model_version=version.pk, quadrants=("unassessed",)) == [
        images[0].pk,
        images[2].pk,
        images[3].pk,
    ]


def test_a_rule_on_energy_outside_the_prompt_refreshes_it_first(project, version, images) -> None:
    # The stored map lights columns 0-3; the prompt marks columns 0-1: half lies outside.
    assert ids(project, model_version=version.pk, outside_energy_min=0.4) == [images[0].pk]
    assert ids(project, model_version=version.pk, outside_energy_max=0.4) == []


def test_prediction_rules_need_a_model_version(project, images) -> None:
    with pytest.raises(ApplicationError, match="model version"):
        selection_image_ids(project=project, rules=SelectionRules(correct=True))


def test_a_saved_selection_freezes_its_images(project, owner, owner_client, images) -> None:
    response = owner_client.post(
        f"/api/v1/projects/{project.pk}/selections/",
        {"name": "no prompt", "rules": {"has_prompt": False, "split": "test"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["count"] == 3 and body["rules"] == {"split": "test", "has_prompt": False}
    services.prompt_save(
        image=images[1],
        annotator=owner,
        target_class="normal",
        mask=np.ones((8, 8), dtype=np.int8),
        base_version=0,
    )
    listed = owner_client.get(f"/api/v1/selections/{body['id']}/images/").json()
    assert [row["id"] for row in listed["results"]] == [i.pk for i in images[1:]]


def test_a_selection_matching_nothing_is_not_saved(project, owner_client, images) -> None:
    response = owner_client.post(
        f"/api/v1/projects/{project.pk}/selections/",
        {"name": "none", "rules": {"annotator": "nobody"}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "empty_selection"


def test_an_admin_previews_rules_without_saving(project, owner_client, version, images) -> None:
    preview = owner_client.post(
        f"/api/v1/projects/{project.pk}/selections/preview/",
        {"model_version": version.pk, "correct": False},
        format="json",
    )
    assert preview.status_code == 200
    assert preview.json()["count"] == 1
    assert preview.json()["images"][0]["name"] == "img1.png"
    assert not Selection.objects.exists()


def test_a_reviewer_previews_but_cannot_save(project, reviewer_client, images) -> None:
    preview = reviewer_client.post(
        f"/api/v1/projects/{project.pk}/selections/preview/", {"has_prompt": True}, format="json"
    )
    assert preview.status_code == 200 and preview.json()["count"] == 1
    saved = reviewer_client.post(
        f"/api/v1/projects/{project.pk}/selections/",
        {"name": "x", "rules": {"has_prompt": True}},
        format="json",
    )
    assert saved.status_code == 403


def test_a_queued_selection_feeds_the_annotation_queue(
    project, owner, owner_client, annotator_client, images
) -> None:
    selection = selection_services.selection_create(
        project=project,
        name="all test",
        rules=SelectionRules(split="test"),
        created_by=owner,
    )
    queue_url = f"/api/v1/projects/{project.pk}/annotation-queue/"
    assert annotator_client.get(queue_url).json()["count"] == 0
    response = owner_client.post(f"/api/v1/selections/{selection.pk}/annotation-queue/")
    assert response.status_code == 200 and response.json()["queued_for_annotation_at"]
    assert annotator_client.get(queue_url).json()["count"] == 4
    pending = annotator_client.get(queue_url, {"unprompted": "true"}).json()
    assert [row["id"] for row in pending["results"]] == [i.pk for i in images[1:]]
