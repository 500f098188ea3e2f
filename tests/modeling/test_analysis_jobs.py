"""Explain, evaluate and refine jobs on a registered model version (run in-process)."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from modeling import services
from modeling.models import ExplanationMap, JobStatus, RefinedPrompt
from modeling.services.artifacts import artifact_read
from modeling.worker import runner
from tests.modeling.helpers import add_tiny_images, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def images(project, owner) -> list:
    return add_tiny_images(project, owner, per_split={"train": 2, "val": 2, "test": 2})


def _run(project, owner, capture, kind, **params):
    with capture(execute=False):
        job = services.job_create(project=project, user=owner, kind=kind, parameters=params)
    outcome = runner.run_job(job_id=job.pk, heartbeat=False)
    job.refresh_from_db()
    assert outcome == "succeeded", job.error_message
    return job


def test_an_explain_job_stores_one_grad_cam_png_per_image_at_its_size(
    project, owner, images, django_capture_on_commit_callbacks
) -> None:
    version = make_version(project)
    job = _run(
        project,
        owner,
        django_capture_on_commit_callbacks,
        "explain",
        model_version=version.pk,
        split="test",
    )
    maps = list(ExplanationMap.objects.filter(model_version=version))
    assert job.result == {"images": 2, "maps": 2, "methods": ["gradcam"]}
    assert len(maps) == 2 and maps[0].definition["layer"] == "layer4"
    png = PILImage.open(io.BytesIO(artifact_read(maps[0].file)))
    assert png.mode == "L" and png.size == (32, 32)


def test_an_explain_job_computes_rise_on_request(
    project, owner, images, django_capture_on_commit_callbacks
) -> None:
    version = make_version(project)
    _run(
        project,
        owner,
        django_capture_on_commit_callbacks,
        "explain",
        model_version=version.pk,
        image_ids=[images[0].pk],
        methods=["gradcam", "rise"],
        rise_masks=8,
    )
    methods = sorted(ExplanationMap.objects.values_list("method", flat=True))
    assert methods == ["gradcam", "rise"]


def test_an_evaluate_job_stores_the_metrics_with_the_version(
    project, owner, images, django_capture_on_commit_callbacks
) -> None:
    version = make_version(project)
    _run(
        project,
        owner,
        django_capture_on_commit_callbacks,
        "evaluate",
        model_version=version.pk,
        split="val",
    )
    version.refresh_from_db()
    metrics = version.metrics["val"]
    assert {"accuracy", "precision", "recall", "f1", "auc", "expl_iou", "n"} <= set(metrics)
    assert metrics["n"] == 2 and "layer4" in metrics["definition"]["explanations"]


def test_a_refine_job_stores_t_of_d_for_every_prompt(
    project, owner, images, django_capture_on_commit_callbacks
) -> None:
    version = make_version(project, method="vapl")
    job = _run(
        project,
        owner,
        django_capture_on_commit_callbacks,
        "refine",
        model_version=version.pk,
        n_masks=8,
    )
    refined = list(RefinedPrompt.objects.filter(model_version=version))
    assert job.result["prompts"] == len(refined) > 0
    assert refined[0].definition["n_masks"] == 8
    assert refined[0].definition["rescale"] == "ratio"  # the version's own
    png = PILImage.open(io.BytesIO(artifact_read(refined[0].file)))
    assert png.size == (32, 32)


def test_refining_needs_a_vapl_version(project, owner, images) -> None:
    from sightline.errors import ApplicationError

    version = make_version(project)
    with pytest.raises(ApplicationError, match="VAPL"):
        services.job_create(
            project=project, user=owner, kind="refine", parameters={"model_version": version.pk}
        )


def test_a_job_on_a_version_of_another_project_is_refused(project, owner, images) -> None:
    from labeling import services as labeling_services
    from sightline.errors import ApplicationError

    other = labeling_services.project_create(name="Other", class_names=["a", "b"], creator=owner)
    version = make_version(other)
    with pytest.raises(ApplicationError, match="does not exist in this project"):
        services.job_create(
            project=project, user=owner, kind="evaluate", parameters={"model_version": version.pk}
        )


def test_an_explain_job_on_an_empty_split_fails_with_a_reason(
    project, owner, images, django_capture_on_commit_callbacks
) -> None:
    version = make_version(project)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.job_create(
            project=project,
            user=owner,
            kind="explain",
            parameters={"model_version": version.pk, "image_ids": [99999]},
        )
    assert runner.run_job(job_id=job.pk, heartbeat=False) == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no images to explain" in job.error_message
