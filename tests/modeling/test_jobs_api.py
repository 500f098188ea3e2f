"""Jobs API: launching (admins only), listing, detail, progress polling, cancel, broker down."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from modeling.models import Job, JobMetric, JobStatus
from tests.modeling.helpers import celery_broker

pytestmark = pytest.mark.django_db

URL = "/api/v1/jobs/"


def _launch(client, project, params, capture, kind="train"):
    with capture(execute=True):
        return client.post(
            URL, {"project": project.pk, "kind": kind, "parameters": params}, format="json"
        )


def test_an_admin_launches_a_training_job_that_is_queued_and_sent(
    owner_client, project, tiny_images, quick_train, django_capture_on_commit_callbacks
) -> None:
    response = _launch(owner_client, project, quick_train, django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["kind"] == "train"
    assert body["parameters"]["epochs"] == 2 and body["parameters"]["small_input"] is True
    job = Job.objects.get(pk=body["id"])
    assert job.enqueued_at is not None  # sent once the transaction committed
    assert len(job.snapshot["splits"]["train"]) == 8
    assert len(job.snapshot["prompt_versions"]) == 10  # odd images + every test image


@pytest.mark.parametrize("persona", ["annotator_client", "reviewer_client"])
def test_only_admins_launch_jobs(request, persona, project, tiny_images, quick_train) -> None:
    client = request.getfixturevalue(persona)
    response = client.post(
        URL, {"project": project.pk, "kind": "train", "parameters": quick_train}, format="json"
    )
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_an_outsider_cannot_see_the_project(outsider_client, project, quick_train) -> None:
    response = outsider_client.post(
        URL, {"project": project.pk, "kind": "train", "parameters": quick_train}, format="json"
    )
    assert response.status_code == 404


def test_invalid_parameters_are_named(owner_client, project, tiny_images) -> None:
    response = owner_client.post(
        URL, {"project": project.pk, "kind": "train", "parameters": {"epochs": -1}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameters"
    assert "epochs" in response.json()["error"]["detail"]


def test_a_project_without_training_data_cannot_be_trained(owner_client, project) -> None:
    response = owner_client.post(URL, {"project": project.pk, "kind": "train"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_enough_data"


def test_launching_while_the_broker_is_down_answers_fast_and_keeps_the_job(
    owner_client, project, tiny_images, quick_train, django_capture_on_commit_callbacks
) -> None:
    with celery_broker("redis://127.0.0.1:1/0", {"socket_connect_timeout": 0.5}):
        started = time.monotonic()
        response = _launch(owner_client, project, quick_train, django_capture_on_commit_callbacks)
        elapsed = time.monotonic() - started
    assert response.status_code == 201
    assert elapsed < 2.0
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == JobStatus.QUEUED and job.enqueued_at is None
    assert "broker unreachable" in job.enqueue_error


def test_the_job_list_shows_only_the_callers_projects(
    owner_client, outsider_client, project, django_assert_max_num_queries
) -> None:
    for _ in range(3):
        Job.objects.create(project=project, kind="train", parameters={})
    with django_assert_max_num_queries(4):
        body = owner_client.get(URL, {"project": project.pk}).json()
    assert body["count"] == 3
    assert outsider_client.get(URL).json()["count"] == 0


def test_the_progress_endpoint_returns_new_metric_points_and_the_log(
    reviewer_client, project
) -> None:
    job = Job.objects.create(
        project=project,
        kind="train",
        parameters={},
        status=JobStatus.RUNNING,
        progress=0.5,
        progress_message="epoch 2/4",
        log_tail="a\nb\nc",
        log_lines=3,
    )
    for step in (1, 2, 3):
        JobMetric.objects.create(job=job, step=step, epoch=step, values={"train_loss": 1 / step})
    body = reviewer_client.get(f"{URL}{job.pk}/progress/", {"after_step": 1}).json()
    assert body["job"]["progress"] == {
        "fraction": 0.5,
        "step": 0,
        "total": 0,
        "message": "epoch 2/4",
    }
    assert [p["step"] for p in body["metrics"]] == [2, 3]
    assert body["log"] == {"lines": ["a", "b", "c"], "total": 3}


def test_the_metrics_and_logs_endpoints(reviewer_client, project) -> None:
    job = Job.objects.create(project=project, kind="train", parameters={}, log_tail="x\ny")
    JobMetric.objects.create(job=job, step=1, values={"val_accuracy": 0.5})
    metrics = reviewer_client.get(f"{URL}{job.pk}/metrics/").json()
    assert metrics["results"][0]["values"] == {"val_accuracy": 0.5}
    assert reviewer_client.get(f"{URL}{job.pk}/logs/").json()["lines"] == ["x", "y"]


def test_cancelling_a_queued_job_ends_it_at_once(owner_client, project) -> None:
    job = Job.objects.create(project=project, kind="train", parameters={})
    body = owner_client.post(f"{URL}{job.pk}/cancel/").json()
    assert body["status"] == "cancelled" and body["finished_at"]


def test_cancelling_a_running_job_sets_its_flag(owner_client, project) -> None:
    job = Job.objects.create(project=project, kind="train", parameters={}, status=JobStatus.RUNNING)
    body = owner_client.post(f"{URL}{job.pk}/cancel/").json()
    assert body["status"] == "running" and body["cancel_requested"] is True


def test_a_finished_job_cannot_be_cancelled(owner_client, project) -> None:
    job = Job.objects.create(
        project=project,
        kind="train",
        parameters={},
        status=JobStatus.SUCCEEDED,
        finished_at=timezone.now(),
    )
    response = owner_client.post(f"{URL}{job.pk}/cancel/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "job_finished"


def test_a_reviewer_cannot_cancel(reviewer_client, project) -> None:
    job = Job.objects.create(project=project, kind="train", parameters={})
    assert reviewer_client.post(f"{URL}{job.pk}/cancel/").status_code == 403


def test_the_schema_lists_methods_and_presets(reviewer_client) -> None:
    body = reviewer_client.get(f"{URL}schema/").json()
    names = {p["name"] for p in body["kinds"]["train"]}
    assert {"method", "epochs", "lambda_expl", "n_masks"} <= names
    assert "vapl" in body["presets"]


def test_anonymous_callers_are_refused(anonymous_client) -> None:
    assert anonymous_client.get(URL).status_code == 403
