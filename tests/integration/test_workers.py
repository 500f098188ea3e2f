"""Jobs through real Celery workers: lifecycle, cancel, SIGKILL, broker down, redelivery.

See conftest.py for how workers, Redis and the shared PostgreSQL test database are set up.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.management import call_command

from modeling.models import Job, JobMetric, JobStatus, ModelVersion
from tests.integration.conftest import job_row, wait_for
from tests.modeling.helpers import celery_broker

QUICK = {"method": "baseline", "input_size": 32, "batch_size": 4, "lr": 1e-3, "patience": None}
TERMINAL = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


def _launch(client, project, **params) -> int:
    response = client.post(
        "/api/v1/jobs/",
        {"project": project.pk, "kind": "train", "parameters": {**QUICK, **params}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _watch(job_id: int, seconds: float) -> tuple[Job, list[str], list[float]]:
    """Polls the job until it ends; returns it, the statuses seen and the progress values."""
    statuses, progress = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = job_row(job_id)
        if not statuses or statuses[-1] != job.status:
            statuses.append(job.status)
        progress.append(job.progress)
        if job.status in TERMINAL:
            return job, statuses, progress
        time.sleep(0.2)
    pytest.fail(f"job {job_id} did not end in {seconds} s: {job_row(job_id).status}")


def test_a_small_training_job_runs_to_a_new_model_version(
    redis_broker, start_worker, owner_client, small_project
) -> None:
    start_worker()
    job_id = _launch(owner_client, small_project, epochs=2)
    job, statuses, progress = _watch(job_id, 600)
    assert statuses[0] == JobStatus.QUEUED or statuses[0] == JobStatus.RUNNING
    assert JobStatus.RUNNING in statuses and statuses[-1] == JobStatus.SUCCEEDED, job.error_message
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert any(0 < p < 1 for p in progress)
    assert job.worker_host and job.device == "cpu" and job.attempts == 1
    assert JobMetric.objects.filter(job=job).count() == 2
    version = ModelVersion.objects.get(job=job)
    assert "accuracy" in version.metrics["test"]


def test_cancel_reaches_cancelled_within_one_batch(
    redis_broker, start_worker, owner_client, small_project
) -> None:
    start_worker()
    job_id = _launch(owner_client, small_project, epochs=200, batch_size=2)
    wait_for(lambda: job_row(job_id).progress > 0, 300, "the first batch")
    before = job_row(job_id)
    cancelled_at = time.monotonic()
    assert owner_client.post(f"/api/v1/jobs/{job_id}/cancel/").status_code == 200
    job, _, _ = _watch(job_id, 120)
    latency = time.monotonic() - cancelled_at
    print(f"\ncancel latency: {latency:.2f} s")
    assert job.status == JobStatus.CANCELLED
    # At most the batch in flight finished: the epoch counter moved by one at most.
    assert job.progress_step <= before.progress_step + 1
    assert not ModelVersion.objects.exists()


def test_a_worker_killed_mid_job_never_leaves_it_running(
    redis_broker, start_worker, owner_client, small_project
) -> None:
    first = start_worker(CELERY_VISIBILITY_TIMEOUT="8")
    job_id = _launch(owner_client, small_project, epochs=3)
    wait_for(lambda: job_row(job_id).checkpoint_epoch, 600, "the first epoch's checkpoint")
    first.kill()
    assert job_row(job_id).status == JobStatus.RUNNING
    # A new worker gets the unacknowledged message back once the visibility timeout passed;
    # the heartbeat has gone stale by then, so the job is taken over and resumed.
    second = start_worker(CELERY_VISIBILITY_TIMEOUT="8")
    job, _, _ = _watch(job_id, 900)
    print(f"\nafter SIGKILL: {job.status}, attempts {job.attempts}, {job.progress_message!r}")
    assert job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
    if job.status == JobStatus.SUCCEEDED:
        assert job.attempts == 2
        assert "resumed after epoch" in job.log_tail, second.output()[-2000:]
        assert JobMetric.objects.filter(job=job).count() == 3
    else:
        assert job.error_message


def test_a_job_longer_than_the_visibility_timeout_runs_once(
    redis_broker, start_worker, owner_client, small_project
) -> None:
    # Two workers; the idle one gets the message again when Redis's 3 s visibility timeout
    # passes while the busy one still runs the job.
    workers = [start_worker(wait=False, CELERY_VISIBILITY_TIMEOUT="3") for _ in range(2)]
    for worker in workers:
        wait_for(lambda w=worker: " ready." in w.output(), 300, f"worker {worker.name}")
    # Long enough to outlast the timeout on a fast machine too (4 epochs once ended too soon).
    epochs = 12
    job_id = _launch(owner_client, small_project, epochs=epochs)
    job, _, _ = _watch(job_id, 900)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    output = lambda: "".join(w.output() for w in workers)  # noqa: E731
    wait_for(lambda: "not run (running on" in output(), 60, "a redelivery refused by the claim")
    assert job_row(job_id).attempts == 1
    assert ModelVersion.objects.filter(job=job).count() == 1
    assert JobMetric.objects.filter(job=job).count() == epochs  # one row per epoch


def test_launching_with_the_broker_down_answers_fast_and_loses_nothing(
    redis_broker, start_worker, owner_client, small_project
) -> None:
    with celery_broker("redis://127.0.0.1:1/0", {"socket_connect_timeout": 0.5}):
        started = time.monotonic()
        job_id = _launch(owner_client, small_project, epochs=1)
        elapsed = time.monotonic() - started
    print(f"\nlaunch with the broker down answered in {elapsed:.2f} s")
    assert elapsed < 2.0
    job = job_row(job_id)
    assert job.status == JobStatus.QUEUED and job.enqueued_at is None
    # The broker is back: a reconcile pass sends the job, a worker runs it.
    call_command("reconcile_jobs")
    assert job_row(job_id).enqueued_at is not None
    start_worker()
    job, _, _ = _watch(job_id, 600)
    assert job.status == JobStatus.SUCCEEDED, job.error_message


def test_the_embedded_filesystem_broker_runs_the_same_job(
    shared_db, start_worker, owner_client, small_project, tmp_path: Path
) -> None:
    queue = tmp_path / "data" / "broker" / "queue"
    queue.mkdir(parents=True)
    (tmp_path / "data" / "broker" / "processed").mkdir()
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(tmp_path / "data" / "broker" / "processed"),
        "store_processed": False,
    }
    start_worker(broker_url=None)  # no CELERY_BROKER_URL: the filesystem default
    with celery_broker("filesystem://", options):
        job_id = _launch(owner_client, small_project, epochs=1)
        job, _, _ = _watch(job_id, 600)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert ModelVersion.objects.filter(job=job).exists()
