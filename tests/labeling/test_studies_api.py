"""The rating-study API: who sees which study, blind items, answers, report and exports."""

from __future__ import annotations

import csv
import io

import pytest

from labeling import services
from labeling.models import Rating, RatingStudy, Role
from tests.labeling.review_support import make_images, make_version, predict

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_reviewer(project, make_user):
    user = make_user("reviewer2")
    services.member_add(project=project, username=user.username, role=Role.REVIEWER)
    return user


@pytest.fixture
def versions(project, owner):
    images = make_images(project, owner, ["abnormal", "normal"])
    first, second = make_version(project), make_version(project)
    for image in images:
        predict(first, image, "abnormal")
        predict(second, image, image.label)
    return images, first, second


def study_body(images, first, second, reviewers) -> dict:
    return {
        "name": "Maps",
        "image_ids": [image.pk for image in images],
        "conditions": [
            {"name": "version 1", "kind": "model_map", "model_version": first.pk},
            {"name": "version 2", "kind": "model_map", "model_version": second.pk},
        ],
        "reviewers": reviewers,
        "questions": ["q1", "q2", "likert"],
        "correction": "bonferroni",
    }


@pytest.fixture
def study(project, owner_client, versions, second_reviewer) -> dict:
    response = owner_client.post(
        f"/api/v1/projects/{project.pk}/studies/",
        study_body(*versions, ["reviewer"]),
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_an_admin_creates_a_study_and_sees_its_conditions(study) -> None:
    assert study["image_count"] == 2 and study["condition_count"] == 2
    assert [c["name"] for c in study["conditions"]] == ["version 1", "version 2"]
    assert study["correction"] == "bonferroni"


def test_a_reviewer_cannot_create_a_study(project, reviewer_client, versions) -> None:
    response = reviewer_client.post(
        f"/api/v1/projects/{project.pk}/studies/",
        study_body(*versions, ["reviewer"]),
        format="json",
    )
    assert response.status_code == 403
    assert not RatingStudy.objects.exists()


def test_a_participant_sees_the_study_blind(reviewer_client, study) -> None:
    body = reviewer_client.get(f"/api/v1/studies/{study['id']}/").json()
    assert body["condition_count"] == 2
    assert "conditions" not in body and "progress" not in body
    assert body["my_progress"] == {"done": 0, "total": 4}


def test_reviewers_not_in_a_study_do_not_see_it(project, client_for, second_reviewer, study):
    client = client_for(second_reviewer)
    assert client.get(f"/api/v1/studies/{study['id']}/").status_code == 404
    assert client.get(f"/api/v1/projects/{project.pk}/studies/").json()["count"] == 0


def test_annotators_do_not_see_or_rate_studies(project, annotator_client, study) -> None:
    assert annotator_client.get(f"/api/v1/studies/{study['id']}/").status_code == 404
    assert annotator_client.get(f"/api/v1/studies/{study['id']}/items/next/").status_code == 404
    assert annotator_client.get(f"/api/v1/projects/{project.pk}/studies/").json()["count"] == 0
    item = RatingStudy.objects.get().presentations.first()
    response = annotator_client.put(
        f"/api/v1/study-items/{item.pk}/ratings/1/", {"likert": 5}, format="json"
    )
    assert response.status_code == 404
    assert not Rating.objects.exists()


def test_an_annotator_cannot_be_made_a_rater(project, owner_client, versions, annotator) -> None:
    response = owner_client.post(
        f"/api/v1/projects/{project.pk}/studies/",
        study_body(*versions, ["annotator"]),
        format="json",
    )
    assert response.status_code == 400
    assert "only reviewers and admins rate" in response.json()["error"]["message"]


def test_a_reviewer_rates_slot_by_slot_and_resumes(reviewer_client, study) -> None:
    next_url = f"/api/v1/studies/{study['id']}/items/next/"
    item = reviewer_client.get(next_url).json()["item"]
    assert [slot["slot"] for slot in item["slots"]] == [1, 2]
    assert all(slot["likert"] is None and slot["q1_needed"] is None for slot in item["slots"])
    map_response = reviewer_client.get(item["slots"][0]["map_url"])
    assert map_response.status_code == 200 and map_response["Content-Type"] == "image/png"
    rating_url = f"/api/v1/study-items/{item['id']}/ratings/1/"
    saved = reviewer_client.put(rating_url, {"q1_needed": True}, format="json").json()
    assert saved["complete"] is False

    resumed = reviewer_client.get(next_url).json()["item"]
    assert resumed["id"] == item["id"]
    assert resumed["slots"][0]["q1_needed"] is True and resumed["slots"][0]["likert"] is None


def test_a_likert_answer_outside_one_to_five_is_refused(reviewer_client, study) -> None:
    item = reviewer_client.get(f"/api/v1/studies/{study['id']}/items/next/").json()["item"]
    response = reviewer_client.put(
        f"/api/v1/study-items/{item['id']}/ratings/1/", {"likert": 6}, format="json"
    )
    assert response.status_code == 400


def test_a_reviewer_cannot_read_another_reviewers_item(
    project, owner_client, client_for, versions, second_reviewer
) -> None:
    body = study_body(*versions, ["reviewer", "reviewer2"])
    created = owner_client.post(f"/api/v1/projects/{project.pk}/studies/", body, format="json")
    study = RatingStudy.objects.get(pk=created.json()["id"])
    theirs = study.presentations.get(reviewer=second_reviewer, position=0)
    mine = client_for(study.reviewers.get(user__username="reviewer").user)
    assert mine.get(f"/api/v1/study-items/{theirs.pk}/").status_code == 404


def test_only_admins_read_the_report(reviewer_client, owner_client, study) -> None:
    assert reviewer_client.get(f"/api/v1/studies/{study['id']}/report/").status_code == 403
    report = owner_client.get(f"/api/v1/studies/{study['id']}/report/").json()
    assert [c["name"] for c in report["conditions"]] == ["version 1", "version 2"]
    assert report["dunn"]["correction"] == "bonferroni"


def test_the_csv_export_lists_every_rating(reviewer_client, owner_client, study) -> None:
    item = reviewer_client.get(f"/api/v1/studies/{study['id']}/items/next/").json()["item"]
    for slot in (1, 2):
        reviewer_client.put(
            f"/api/v1/study-items/{item['id']}/ratings/{slot}/",
            {"q1_needed": True, "q2_unneeded": False, "likert": 3 + slot},
            format="json",
        )
    response = owner_client.get(f"/api/v1/studies/{study['id']}/export/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sorted(int(row["likert"]) for row in rows) == [4, 5]
    assert {row["reasonable"] for row in rows} == {"True"}
    as_json = owner_client.get(f"/api/v1/studies/{study['id']}/export/", {"format": "json"})
    assert len(as_json.json()["ratings"]) == 2


def test_a_closed_study_refuses_answers(reviewer_client, owner_client, study) -> None:
    item = reviewer_client.get(f"/api/v1/studies/{study['id']}/items/next/").json()["item"]
    assert owner_client.post(f"/api/v1/studies/{study['id']}/close/").json()["status"] == "closed"
    response = reviewer_client.put(
        f"/api/v1/study-items/{item['id']}/ratings/1/", {"likert": 3}, format="json"
    )
    assert response.status_code == 409


def test_a_study_is_created_from_a_selection_in_one_call(project, owner, owner_client, versions):
    from labeling.selectors.selections import SelectionRules
    from labeling.services.selections import selection_create

    images, first, second = versions
    selection = selection_create(
        project=project, name="normals", rules=SelectionRules(label="normal"), created_by=owner
    )
    body = study_body(images, first, second, ["reviewer"])
    del body["image_ids"]
    response = owner_client.post(f"/api/v1/selections/{selection.pk}/study/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["image_count"] == 1
