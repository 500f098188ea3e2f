"""Interactive predictions: the web process writes a request row and waits briefly for a worker.

The web process never runs a model: it records the request, publishes it to the prediction
queue after commit, and polls the row for a few seconds (``SIGHTLINE_PREDICT_WAIT_MS``). If the
worker is slower, the API answers 202 and the client polls the prediction. An identical request
answered within the last hour is served from its row without asking a worker again.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from labeling.models import Image, PromptVersion
from modeling.models import ModelVersion, Prediction, PredictionStatus
from sightline.errors import ApplicationError

logger = logging.getLogger(__name__)

REUSE_FOR = timedelta(hours=1)
_POLL_SECONDS = 0.05


@transaction.atomic
def prediction_request(
    *,
    user: AbstractBaseUser | None,
    model_version: ModelVersion,
    image: Image,
    prompt_version: PromptVersion | None,
    use_prompt: bool,
) -> Prediction:
    """Records a prediction request and sends it to a worker after commit.

    Raises:
        ApplicationError: the image belongs to another project than the model version.
    """
    if image.project_id != model_version.project_id:
        raise ApplicationError(
            "the image and the model version belong to different projects", code="invalid"
        )
    if not use_prompt:
        prompt_version = None
    recent = (
        Prediction.objects.filter(
            model_version=model_version,
            image=image,
            prompt_version=prompt_version,
            use_prompt=use_prompt,
            status=PredictionStatus.DONE,
            created_at__gte=timezone.now() - REUSE_FOR,
        )
        .order_by("-created_at")
        .first()
    )
    if recent is not None:
        return recent
    prediction = Prediction(
        model_version=model_version,
        image=image,
        prompt_version=prompt_version,
        use_prompt=use_prompt,
        requested_by=user,
    )
    prediction.full_clean()
    prediction.save()
    prediction_id = prediction.pk
    transaction.on_commit(lambda: prediction_enqueue(prediction_id=prediction_id))
    return prediction


def prediction_enqueue(*, prediction_id: int) -> bool:
    """Publishes a prediction; when the broker is down it fails at once (nothing to resume)."""
    from modeling.tasks import run_prediction

    try:
        run_prediction.apply_async(
            args=[prediction_id],
            retry=True,
            retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
            expires=120,
        )
    except Exception as exc:  # any broker failure
        logger.warning("prediction %s not sent, broker unreachable: %s", prediction_id, exc)
        Prediction.objects.filter(pk=prediction_id).update(
            status=PredictionStatus.FAILED,
            finished_at=timezone.now(),
            error_message="no worker can be reached right now (broker unavailable)",
        )
        return False
    return True


def prediction_wait(*, prediction: Prediction, timeout_ms: int | None = None) -> Prediction:
    """Polls the row until the worker answered or ``timeout_ms`` passed; returns the row.

    Raises:
        ApplicationError: 503 ``broker_unavailable`` when the request could not be sent.
    """
    timeout = settings.SIGHTLINE_PREDICT_WAIT_MS if timeout_ms is None else timeout_ms
    deadline = time.monotonic() + timeout / 1000
    while prediction.status == PredictionStatus.PENDING and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        prediction.refresh_from_db(fields=["status"])
    prediction.refresh_from_db()
    if prediction.status == PredictionStatus.FAILED and "broker" in prediction.error_message:
        raise ApplicationError(
            prediction.error_message,
            code="broker_unavailable",
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return prediction


def prediction_complete(
    *,
    prediction_id: int,
    result: dict[str, Any],
    n_masks: int,
    gradcam_png: bytes | None,
    gradcam_m_png: bytes | None,
    refined_png: bytes | None,
) -> None:
    """Stores a worker's answer."""
    Prediction.objects.filter(pk=prediction_id).update(
        status=PredictionStatus.DONE,
        result=result,
        n_masks=n_masks,
        gradcam_png=gradcam_png,
        gradcam_m_png=gradcam_m_png,
        refined_png=refined_png,
        finished_at=timezone.now(),
    )


def prediction_fail(*, prediction_id: int, error: str) -> None:
    """Stores why a prediction could not be made (no traceback)."""
    Prediction.objects.filter(pk=prediction_id).update(
        status=PredictionStatus.FAILED, error_message=error[:500], finished_at=timezone.now()
    )
