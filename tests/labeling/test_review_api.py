"""The review API: who may answer, the matrix over HTTP, cells, disagreements, adjudication."""

from __future__ import annotations

import pytest

from labeling import services
from labeling.models import Assessment, Role
from tests.labeling.review_support import make_images, make_version, predict

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(project):
    return make_version(project)


@pytest.fixture
def images(project, owner, version):
    created = make_images(project, owner, ["abnormal", "normal"])
    predict(version, created[0], "abnormal")
    predict(version, created[1], "abnormal")
    return created


def assess_url(version, image) -> str:
    return f"/api/v1/model-versions/{version.pk}/assessments/{image.pk}/"


def test_a_reviewer_answers_q1_and_q2(reviewer_client, reviewer, version, images) -> None:
    response = reviewer_client.put(
        assess_url(version, images[0]), {"q1_needed": True, "q2_unneeded": False}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["reasonable"] is True and body["predicted_class"] == "abnormal"
    assert Assessment.objects.get(reviewer=reviewer, image=images[0]).q1_needed


def test_an_annotator_cannot_answer(annotator_client, version, images) -> None:
    response = annotator_client.put(
        assess_url(version, images[0]), {"q1_needed": True, "q2_unneeded": False}, format="json"
    )
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_an_outsider_does_not_see_the_version(outsider_client, version, images) -> None:
    response = outsider_client.get(f"/api/v1/model-versions/{version.pk}/review/matrix/")
    assert response.status_code == 404


def test_both_answers_are_required(reviewer_client, version, images) -> None:
    response = reviewer_client.put(
        assess_url(version, images[0]), {"q1_needed": True}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["detail"]["q2_unneeded"]


def test_the_queue_shows_prediction_map_and_my_answer(reviewer_client, version, images) -> None:
    reviewer_client.put(
        assess_url(version, images[0]), {"q1_needed": False, "q2_unneeded": True}, format="json"
    )
    response = reviewer_client.get(f"/api/v1/model-versions/{version.pk}/review/queue/")
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first["image"]["id"] == images[0].pk
    assert first["predicted_class"] == "abnormal" and first["confidence"] == pytest.approx(0.9)
    assert first["my_answer"] == {"q1_needed": False, "q2_unneeded": True}
    assert second["my_answer"] is None
    assert reviewer_client.get(first["map_url"]).status_code == 200


def test_the_matrix_follows_the_answers(reviewer_client, version, images) -> None:
    url = f"/api/v1/model-versions/{version.pk}/review/matrix/"
    assert reviewer_client.get(url).json()["total"] == 0
    reviewer_client.put(
        assess_url(version, images[0]), {"q1_needed": True, "q2_unneeded": False}, format="json"
    )
    reviewer_client.put(
        assess_url(version, images[1]), {"q1_needed": True, "q2_unneeded": True}, format="json"
    )
    body = reviewer_client.get(url).json()
    assert body["counts"] == {"RA": 1, "UA": 0, "RIA": 0, "UIA": 1}
    assert body["ra_performance"] == 0.5 and body["attention_accuracy"] == 0.5
    cell = reviewer_client.get(
        f"/api/v1/model-versions/{version.pk}/review/cell/", {"quadrant": "UIA"}
    ).json()
    assert [row["image"] for row in cell] == [images[1].pk]
    assert cell[0]["votes"][0]["reviewer"] == "reviewer"


def test_disagreements_are_listed_and_an_admin_adjudicates(
    project, make_user, client_for, reviewer_client, owner_client, version, images
) -> None:
    other = make_user("reviewer2")
    services.member_add(project=project, username="reviewer2", role=Role.REVIEWER)
    reviewer_client.put(
        assess_url(version, images[0]), {"q1_needed": True, "q2_unneeded": False}, format="json"
    )
    client_for(other).put(
        assess_url(version, images[0]), {"q1_needed": False, "q2_unneeded": False}, format="json"
    )
    disputed = reviewer_client.get(
        f"/api/v1/model-versions/{version.pk}/review/disagreements/"
    ).json()
    assert [row["image"] for row in disputed] == [images[0].pk]
    assert disputed[0]["majority"] is None

    url = f"/api/v1/model-versions/{version.pk}/adjudications/{images[0].pk}/"
    assert reviewer_client.put(url, {"reasonable": True}, format="json").status_code == 403
    response = owner_client.put(url, {"reasonable": True, "note": "clear"}, format="json")
    assert response.status_code == 200
    matrix = owner_client.get(f"/api/v1/model-versions/{version.pk}/review/matrix/").json()
    assert matrix["counts"]["RA"] == 1
    assert owner_client.delete(url).status_code == 204
    matrix = owner_client.get(f"/api/v1/model-versions/{version.pk}/review/matrix/").json()
    assert matrix["counts"]["RA"] == 0 and matrix["undecided"] == 1


def test_the_matrix_list_endpoint_checks_the_split(reviewer_client, version) -> None:
    response = reviewer_client.get(
        f"/api/v1/model-versions/{version.pk}/review/matrix/", {"split": "nope"}
    )
    assert response.status_code == 400
