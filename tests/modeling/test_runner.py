"""Running jobs in-process through the worker's runner (the code a Celery worker executes)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from modeling import services
from modeling.models import Job, JobMetric, JobStatus, ModelVersion
from modeling.worker import guided, runner, train
from modeling.worker import vapl as vapl_worker
from tests.modeling.helpers import QUICK_TRAIN, add_tiny_images

pytestmark = pytest.mark.django_db

SMALL = {"train": 4, "val": 2, "test": 2}


@pytest.fixture
def small_images(project, owner) -> list:
    return add_tiny_images(project, owner, per_split=SMALL)


def _job(project, owner, capture, **params) -> Job:
    with capture(execute=False):
        return services.job_create(
            project=project, user=owner, kind="train", parameters={**QUICK_TRAIN, **params}
        )


def _cancel_when_loading(monkeypatch, job: Job) -> None:
    """Requests the job's cancellation as its worker starts reading the training data."""
    real_load = train.load_items

    def load_then_cancel(*args, **kwargs):
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(train, "load_items", load_then_cancel)


@pytest.mark.slow
def test_a_training_job_succeeds_with_progress_metrics_and_a_new_active_version(
    project, owner, small_images, django_capture_on_commit_callbacks
) -> None:
    job = _job(project, owner, django_capture_on_commit_callbacks, epochs=2)
    assert runner.run_job(job_id=job.pk, heartbeat=False) == "succeeded"
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.progress == 1.0
    assert job.started_at <= job.finished_at and job.attempts == 1
    points = list(JobMetric.objects.filter(job=job).order_by("step"))
    assert [p.step for p in points] == [1, 2]
    assert {"train_loss", "val_accuracy"} <= set(points[0].values)
    version = ModelVersion.objects.get(job=job)
    assert version.is_active and version.number == 1
    assert version.snapshot == job.snapshot
    assert {"val", "test"} <= set(version.metrics)
    assert "accuracy" in version.metrics["test"] and "expl_iou" in version.metrics["test"]
    assert job.result["model_version"] == version.pk
    assert "epoch 2/2" in job.log_tail


def test_a_cancelled_job_stops_within_one_batch(
    project, owner, small_images, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    job = _job(project, owner, django_capture_on_commit_callbacks, batch_size=2, epochs=3)
    _cancel_when_loading(monkeypatch, job)
    steps = []
    real_step = guided.guided_step

    def counted_step(*args, **kwargs):
        steps.append(1)
        return real_step(*args, **kwargs)

    monkeypatch.setattr(guided, "guided_step", counted_step)
    assert runner.run_job(job_id=job.pk, heartbeat=False) == "cancelled"
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.finished_at
    assert len(steps) <= 1
    assert not ModelVersion.objects.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("worker", "params"),
    [
        (guided, {"method": "baseline"}),
        (vapl_worker, {"method": "vapl", "n_masks": 8, "batch_size": 4}),
    ],
    ids=["guided", "vapl"],
)
def test_a_job_whose_worker_died_resumes_from_its_last_epoch(
    worker,
    params,
    project,
    owner,
    small_images,
    django_capture_on_commit_callbacks,
    monkeypatch,
    settings,
) -> None:
    job = _job(project, owner, django_capture_on_commit_callbacks, epochs=2, **params)
    real_save = worker._save_resume_state

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        raise SystemExit("killed")  # not an Exception: like SIGKILL, nothing is recorded

    monkeypatch.setattr(worker, "_save_resume_state", save_then_die)
    with pytest.raises(SystemExit):
        runner.run_job(job_id=job.pk, heartbeat=False)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.checkpoint_epoch == 1
    assert job.checkpoint == f"jobs/{job.pk}/training-state.pt"
    monkeypatch.setattr(worker, "_save_resume_state", real_save)
    stale = timezone.now() - timedelta(seconds=settings.SIGHTLINE_JOB_STALE_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=stale)
    assert runner.run_job(job_id=job.pk, heartbeat=False) == "succeeded", job.error_message
    job.refresh_from_db()
    assert job.attempts == 2 and job.checkpoint_epoch == 2
    assert "resumed after epoch 1" in job.log_tail
    assert [p.step for p in JobMetric.objects.filter(job=job).order_by("step")] == [1, 2]
    version = ModelVersion.objects.get(job=job)
    assert version.method == params["method"]
    assert [r["epoch"] for r in version.history] == [1, 2]


def test_an_unexpected_error_fails_the_job_without_a_traceback(
    project, owner, small_images, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    job = _job(project, owner, django_capture_on_commit_callbacks)

    def broken(**kwargs):
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setitem(runner.HANDLERS, "train", broken)
    assert runner.run_job(job_id=job.pk, heartbeat=False) == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "RuntimeError: CUDA out of memory" in job.error_message
    assert "Traceback" not in job.error_message and "File " not in job.error_message


def test_a_second_delivery_of_a_finished_job_does_nothing(
    project, owner, small_images, django_capture_on_commit_callbacks
) -> None:
    job = _job(project, owner, django_capture_on_commit_callbacks)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    assert runner.run_job(job_id=job.pk, heartbeat=False).startswith("skipped")


@pytest.mark.slow
def test_a_vapl_job_trains_both_streams_and_reports_vapl_p(
    project, owner, small_images, django_capture_on_commit_callbacks
) -> None:
    job = _job(
        project,
        owner,
        django_capture_on_commit_callbacks,
        method="vapl",
        epochs=1,
        n_masks=8,
        batch_size=4,
    )
    assert runner.run_job(job_id=job.pk, heartbeat=False) == "succeeded", job.error_message
    version = ModelVersion.objects.get(job=job)
    assert version.method == "vapl" and version.hyperparameters["n_masks"] == 8
    assert "test_prompted" in version.metrics
    assert JobMetric.objects.filter(job=job).count() == 1


def test_a_cancelled_vapl_job_stops_while_reading_its_first_batch(
    project, owner, small_images, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    job = _job(project, owner, django_capture_on_commit_callbacks, method="vapl", n_masks=8)
    _cancel_when_loading(monkeypatch, job)
    assert runner.run_job(job_id=job.pk, heartbeat=False) == "cancelled"
