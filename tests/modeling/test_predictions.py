"""Interactive predictions: the web process hands off to a worker and never runs a model."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from labeling.models import AttentionPrompt
from modeling.models import Prediction, PredictionStatus
from modeling.worker.predict import run_prediction
from tests.modeling.helpers import celery_broker, make_version

pytestmark = pytest.mark.django_db

URL = "/api/v1/predictions/"


@pytest.fixture(autouse=True)
def _few_masks(settings) -> None:
    # A CPU shared by many processes: keep the refinement small.
    settings.SIGHTLINE_PREDICT_MASKS_CPU = 12


def _prompted_image(images):
    return next(image for image in images if AttentionPrompt.objects.filter(image=image).exists())


def _ask(client, image, version, **extra):
    payload = {"image": image.pk, "model_version": version.pk, "wait_ms": 0, **extra}
    return client.post(URL, payload, format="json")


def test_a_request_is_pending_until_a_worker_answers(
    annotator_client, project, tiny_images
) -> None:
    version = make_version(project)
    response = _ask(annotator_client, tiny_images[0], version, use_prompt=False)
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    run_prediction(prediction_id=response.json()["id"])
    body = annotator_client.get(f"{URL}{response.json()['id']}/").json()
    assert body["status"] == "done"
    probabilities = body["result"]["probabilities_o"]
    assert set(probabilities) == {"normal", "abnormal"}
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert body["result"]["probabilities_m"] is None
    assert body["maps"]["gradcam"] and body["maps"]["refined"] is None


def test_a_vapl_prediction_with_the_prompt_gives_both_streams_and_the_refined_map(
    annotator_client, project, tiny_images
) -> None:
    version = make_version(project, method="vapl")
    image = _prompted_image(tiny_images)
    response = _ask(annotator_client, image, version, use_prompt=True)
    run_prediction(prediction_id=response.json()["id"])
    body = annotator_client.get(f"{URL}{response.json()['id']}/").json()
    result = body["result"]
    assert result["probabilities_o"] and result["probabilities_m"]
    assert result["n_masks"] == 12 and result["n_masks_reduced"] is True  # trained with 16
    assert result["device"] == "cpu"
    refined = annotator_client.get(body["maps"]["refined"])
    assert refined["Content-Type"] == "image/png"
    pixels = PILImage.open(io.BytesIO(refined.content))
    assert pixels.size == (image.width, image.height) and pixels.mode == "L"


def test_the_cpu_reduces_the_number_of_masks_and_says_so(
    annotator_client, project, tiny_images, settings
) -> None:
    settings.SIGHTLINE_PREDICT_MASKS_CPU = 8
    settings.SIGHTLINE_PREDICT_MASKS_GPU = 5000
    version = make_version(project, method="vapl")
    response = _ask(annotator_client, _prompted_image(tiny_images), version, use_prompt=True)
    run_prediction(prediction_id=response.json()["id"])
    result = Prediction.objects.get(pk=response.json()["id"]).result
    assert result["n_masks"] == 8 and result["n_masks_reduced"] is True


def test_a_method_without_a_prompt_stream_says_so(annotator_client, project, tiny_images) -> None:
    version = make_version(project, method="gradia")
    response = _ask(annotator_client, _prompted_image(tiny_images), version, use_prompt=True)
    run_prediction(prediction_id=response.json()["id"])
    result = Prediction.objects.get(pk=response.json()["id"]).result
    assert result["probabilities_m"] is None
    assert "no prompt stream" in result["note"]


def test_an_identical_request_is_answered_from_the_earlier_result(
    annotator_client, project, tiny_images
) -> None:
    version = make_version(project)
    first = _ask(annotator_client, tiny_images[0], version, use_prompt=False).json()
    run_prediction(prediction_id=first["id"])
    again = _ask(annotator_client, tiny_images[0], version, use_prompt=False)
    assert again.status_code == 200 and again.json()["id"] == first["id"]


def test_the_active_version_is_used_by_default(annotator_client, project, tiny_images) -> None:
    version = make_version(project, is_active=True)
    response = annotator_client.post(
        URL, {"image": tiny_images[0].pk, "use_prompt": False, "wait_ms": 0}, format="json"
    )
    assert response.json()["model_version"] == version.pk


def test_without_a_version_the_answer_says_to_train_one(annotator_client, tiny_images) -> None:
    response = annotator_client.post(URL, {"image": tiny_images[0].pk}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_model_version"


def test_a_request_while_the_broker_is_down_answers_503(
    annotator_client, project, tiny_images, django_capture_on_commit_callbacks
) -> None:
    version = make_version(project)
    down = celery_broker("redis://127.0.0.1:1/0", {"socket_connect_timeout": 0.5})
    with down, django_capture_on_commit_callbacks(execute=True):
        response = _ask(annotator_client, tiny_images[0], version, use_prompt=False)
    # The row is failed by the publish after commit; the client learns it on its next poll.
    prediction = Prediction.objects.get()
    assert prediction.status == PredictionStatus.FAILED
    assert response.status_code in (202, 503)
    assert annotator_client.get(f"{URL}{prediction.pk}/").json()["status"] == "failed"


def test_an_outsider_cannot_ask(outsider_client, project, tiny_images) -> None:
    version = make_version(project)
    assert _ask(outsider_client, tiny_images[0], version).status_code == 404
