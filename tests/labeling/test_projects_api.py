"""Projects and members through the API."""

from __future__ import annotations

import pytest

from labeling.models import Membership, Project, Role

pytestmark = pytest.mark.django_db

PROJECTS = "/api/v1/projects/"


@pytest.mark.smoke
def test_creating_a_project_makes_the_caller_its_admin(outsider_client, outsider) -> None:
    response = outsider_client.post(
        PROJECTS, {"name": "Lungs", "class_names": ["healthy", "nodule"]}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["positive_class"] == "nodule"
    assert (body["window_center"], body["window_width"]) == (-600.0, 1500.0)
    assert body["my_role"] == "admin"
    assert (body["image_count"], body["prompted_image_count"]) == (0, 0)
    assert Membership.objects.get(project_id=body["id"], user=outsider).role == Role.ADMIN


def test_a_project_needs_two_unique_classes(owner_client) -> None:
    response = owner_client.post(
        PROJECTS, {"name": "Bad", "class_names": ["x", "x"]}, format="json"
    )

    assert response.status_code == 400
    assert "unique" in response.json()["error"]["message"]
    assert not Project.objects.filter(name="Bad").exists()


def test_the_positive_class_must_be_a_class(owner_client) -> None:
    response = owner_client.post(
        PROJECTS, {"name": "Bad", "class_names": ["x", "y"], "positive_class": "z"}, format="json"
    )

    assert response.status_code == 400
    assert "positive class" in response.json()["error"]["message"]


def test_a_duplicate_project_name_is_rejected(owner_client, project) -> None:
    response = owner_client.post(
        PROJECTS, {"name": project.name, "class_names": ["x", "y"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "duplicate"


def test_the_list_shows_only_the_callers_projects_with_their_role(
    annotator_client, outsider_client, project, image
) -> None:
    mine = annotator_client.get(PROJECTS).json()
    theirs = outsider_client.get(PROJECTS).json()

    assert [p["name"] for p in mine["results"]] == ["Chest"]
    assert mine["results"][0]["my_role"] == "annotator"
    assert mine["results"][0]["image_count"] == 1
    assert theirs["count"] == 0


def test_a_superuser_sees_every_project_as_admin(client_for, make_user, project) -> None:
    root = make_user("root", is_superuser=True)

    body = client_for(root).get(f"{PROJECTS}{project.pk}/").json()

    assert body["my_role"] == "admin"


def test_an_admin_edits_the_project(owner_client, project) -> None:
    response = owner_client.patch(
        f"{PROJECTS}{project.pk}/",
        {"description": "x-rays", "window_center": 40, "window_width": 400},
        format="json",
    )

    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.description, project.window_center, project.window_width) == (
        "x-rays",
        40.0,
        400.0,
    )


def test_a_class_used_by_a_label_cannot_be_removed(owner_client, project, image) -> None:
    response = owner_client.patch(
        f"{PROJECTS}{project.pk}/", {"class_names": ["normal", "other"]}, format="json"
    )

    assert response.status_code == 400
    assert "abnormal" in response.json()["error"]["message"]


def test_an_admin_deletes_the_project_and_its_files(
    owner_client, project, image, _isolated_media, django_capture_on_commit_callbacks
) -> None:
    assert any(_isolated_media.rglob("*.png"))

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.delete(f"{PROJECTS}{project.pk}/")

    assert response.status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not any(p for p in _isolated_media.rglob("*") if p.is_file())


def test_members_are_listed_with_their_roles(reviewer_client, project) -> None:
    body = reviewer_client.get(f"{PROJECTS}{project.pk}/members/").json()

    roles = {m["user"]["username"]: m["role"] for m in body["results"]}
    assert roles == {"annotator": "annotator", "owner": "admin", "reviewer": "reviewer"}


def test_an_admin_adds_a_member(owner_client, project, outsider) -> None:
    response = owner_client.post(
        f"{PROJECTS}{project.pk}/members/",
        {"username": "outsider", "role": "reviewer"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json() == {
        "user": {"id": outsider.pk, "username": "outsider", "is_superuser": False},
        "role": "reviewer",
    }


def test_adding_an_unknown_user_is_a_400(owner_client, project) -> None:
    response = owner_client.post(
        f"{PROJECTS}{project.pk}/members/",
        {"username": "ghost", "role": "reviewer"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_user"


def test_the_last_admin_cannot_be_demoted(owner_client, project, owner) -> None:
    response = owner_client.patch(
        f"{PROJECTS}{project.pk}/members/{owner.pk}/", {"role": "reviewer"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "last_admin"
    assert Membership.objects.get(project=project, user=owner).role == Role.ADMIN


def test_the_last_admin_cannot_be_removed(owner_client, project, owner) -> None:
    response = owner_client.delete(f"{PROJECTS}{project.pk}/members/{owner.pk}/")

    assert response.status_code == 400
    assert Membership.objects.filter(project=project, user=owner).exists()


def test_an_admin_can_step_down_once_there_is_another(
    owner_client, project, owner, annotator
) -> None:
    owner_client.patch(
        f"{PROJECTS}{project.pk}/members/{annotator.pk}/", {"role": "admin"}, format="json"
    )

    response = owner_client.delete(f"{PROJECTS}{project.pk}/members/{owner.pk}/")

    assert response.status_code == 204
    assert not Membership.objects.filter(project=project, user=owner).exists()
