"""Jobs in a real browser with a real worker: launch a quick VAPL training, watch it finish,
read the new version's metrics, and compare f_o and f_m predictions on an image.

The worker is a Celery subprocess on the embedded filesystem broker, sharing the PostgreSQL test
database (tests/integration/conftest.py); without PostgreSQL the test skips, except in CI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from labeling.models import AttentionPrompt
from modeling.models import ModelVersion
from tests.e2e.conftest import sign_in
from tests.integration.conftest import shared_db, start_worker  # noqa: F401 (fixtures)
from tests.modeling.helpers import add_tiny_images, celery_broker

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TRAINING_MS = 600_000
PREDICTION_MS = 180_000


@pytest.fixture
def filesystem_broker(tmp_path: Path):
    """The embedded broker in this test's data folder, for the live server and the worker."""
    broker = tmp_path / "data" / "broker"
    for folder in ("queue", "processed", "control"):
        (broker / folder).mkdir(parents=True)
    options = {
        "data_folder_in": str(broker / "queue"),
        "data_folder_out": str(broker / "queue"),
        "processed_folder": str(broker / "processed"),
        "control_folder": str(broker / "control"),
        "store_processed": False,
    }
    with celery_broker("filesystem://", options):
        yield


def test_an_admin_trains_a_model_and_compares_its_predictions(
    page: Page,
    project,
    owner,
    filesystem_broker,
    start_worker,  # noqa: F811
) -> None:
    images = add_tiny_images(project, owner, per_split={"train": 6, "val": 2, "test": 2})
    start_worker(broker_url=None, SIGHTLINE_PREDICT_MASKS_CPU="16")
    sign_in(page, owner.username)

    page.goto(f"/projects/{project.pk}/jobs")
    form = page.get_by_test_id("launch-form")
    form.locator("select[name=method]").select_option("vapl")
    form.get_by_role("button", name="Quick (small project, CPU)").click()
    form.locator("input[name=epochs]").fill("1")
    form.locator("input[name=n_masks]").fill("8")
    form.locator("input[name=batch_size]").fill("4")
    form.get_by_role("button", name="Launch").click()
    page.wait_for_url(re.compile(r"/jobs/\d+$"))

    progress = page.get_by_test_id("job-progress")
    expect(progress).to_have_attribute("aria-valuenow", "100", timeout=TRAINING_MS)
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded")
    metrics = page.get_by_test_id("job-metrics")
    expect(metrics).to_contain_text("test")
    expect(metrics).to_contain_text(re.compile(r"0\.\d{3}|1\.000"))

    page.get_by_test_id("version-link").click()
    table = page.get_by_test_id("versions-table")
    expect(table).to_contain_text("version 1")
    expect(table).to_contain_text("vapl")

    version = ModelVersion.objects.get(project=project)
    prompted = next(
        image
        for image in images
        if image.split == "test" and AttentionPrompt.objects.filter(image=image).exists()
    )
    detail = page.get_by_test_id("version-detail")
    expect(detail).to_contain_text("Training history")
    detail.get_by_role("link", name=prompted.name).click()
    page.wait_for_url(re.compile(rf"/images/{prompted.pk}/compare\?version={version.pk}$"))
    for panel in ("prediction-o", "prediction-m"):
        probabilities = page.get_by_test_id(panel).get_by_test_id("probabilities")
        expect(probabilities).to_contain_text("Predicted:", timeout=PREDICTION_MS)
    expect(page.get_by_role("img", name="Refined prompt")).to_be_visible()

    page.get_by_test_id("use-prompt").uncheck()
    expect(page.get_by_test_id("prediction-m")).to_contain_text(
        "Prediction without the prompt", timeout=PREDICTION_MS
    )
    expect(page.get_by_test_id("prediction-o")).to_contain_text("Predicted:")
