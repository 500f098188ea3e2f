"""Model registry API: list, detail, activate (switching back is one action), compare, download."""

from __future__ import annotations

import pytest

from modeling.models import ModelVersion
from tests.modeling.helpers import make_version

pytestmark = pytest.mark.django_db

URL = "/api/v1/model-versions/"


def _version(project, number, **fields) -> ModelVersion:
    values = {"architecture": "resnet18", "method": "baseline", "checkpoint": "x"}
    values.update(fields)
    return ModelVersion.objects.create(project=project, number=number, **values)


def test_versions_are_listed_newest_first_with_their_metrics(
    reviewer_client, project, django_assert_max_num_queries
) -> None:
    _version(project, 1, metrics={"test": {"accuracy": 0.7}})
    _version(project, 2, method="gradia", metrics={"test": {"accuracy": 0.8}})
    with django_assert_max_num_queries(4):
        body = reviewer_client.get(URL, {"project": project.pk}).json()
    assert [v["number"] for v in body["results"]] == [2, 1]
    assert body["results"][0]["metrics"]["test"]["accuracy"] == 0.8


def test_an_admin_activates_a_version_and_switches_back(owner_client, project) -> None:
    first = _version(project, 1, is_active=True)
    second = _version(project, 2)
    assert owner_client.post(f"{URL}{second.pk}/activate/").json()["is_active"] is True
    first.refresh_from_db()
    assert not first.is_active
    assert owner_client.post(f"{URL}{first.pk}/activate/").status_code == 200
    assert list(ModelVersion.objects.filter(is_active=True)) == [first]


def test_a_reviewer_cannot_activate(reviewer_client, project) -> None:
    version = _version(project, 1)
    assert reviewer_client.post(f"{URL}{version.pk}/activate/").status_code == 403


def test_an_outsider_does_not_see_versions(outsider_client, project) -> None:
    version = _version(project, 1)
    assert outsider_client.get(f"{URL}{version.pk}/").status_code == 404


def test_comparing_two_versions_gives_metric_deltas_and_differing_settings(
    reviewer_client, project
) -> None:
    a = _version(project, 1, metrics={"test": {"accuracy": 0.5}}, hyperparameters={"lr": 0.1})
    b = _version(
        project,
        2,
        method="vapl",
        metrics={"test": {"accuracy": 0.75}},
        hyperparameters={"lr": 0.1, "n_masks": 10},
    )
    body = reviewer_client.get(f"{URL}compare/", {"a": a.pk, "b": b.pk}).json()
    assert body["metrics"] == [
        {"split": "test", "metric": "accuracy", "a": 0.5, "b": 0.75, "delta": 0.25}
    ]
    assert {row["name"] for row in body["hyperparameters"]} == {"method", "n_masks"}


def test_the_detail_includes_the_training_snapshot(reviewer_client, project) -> None:
    version = _version(project, 1, snapshot={"splits": {"train": [[1, "normal"]]}})
    body = reviewer_client.get(f"{URL}{version.pk}/").json()
    assert body["snapshot"]["splits"]["train"] == [[1, "normal"]]


def test_only_admins_download_a_checkpoint(owner_client, reviewer_client, project) -> None:
    version = make_version(project)
    response = owner_client.get(f"{URL}{version.pk}/checkpoint/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:8]  # safetensors header length
    assert reviewer_client.get(f"{URL}{version.pk}/checkpoint/").status_code == 403
