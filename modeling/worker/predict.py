"""Interactive prediction in a worker: one image, with and without its prompt.

The worker keeps the most recently used model versions loaded (LRU of
``SIGHTLINE_PREDICT_CACHE_SIZE`` per worker process), so a prediction costs the forward passes
only. With a prompt and a VAPL version it returns ``f_o(I)`` and ``f_m(I * t(D))``
probabilities, the refined map ``t(D)`` and the Grad-CAM maps of both streams; ``t(D)`` uses
``SIGHTLINE_PREDICT_MASKS_GPU`` masks on a GPU and the reduced ``SIGHTLINE_PREDICT_MASKS_CPU`` on
a CPU (the answer states ``n_masks`` and whether it was reduced). Without a label the refinement
scores the class ``f_m`` predicts for the important pixels (``modeling.ml.vapl``).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

import torch
from django.conf import settings

from modeling.ml.explain import grad_cam, normalize_minmax
from modeling.models import Prediction, PredictionStatus
from modeling.services.predictions import prediction_complete, prediction_fail
from modeling.worker.dataset import Item, load_items, map_to_png
from modeling.worker.loading import LoadedVersion, load_version
from modeling.worker.runner import describe, pick_device

logger = logging.getLogger(__name__)

_LOADED: OrderedDict[tuple[int, str, str], LoadedVersion] = OrderedDict()


def cached_version(version: Any, device: torch.device) -> LoadedVersion:
    """The loaded model version, from this process's LRU cache when it is there."""
    # The creation time makes the key unique even where ids are reused (a restored database).
    key = (version.pk, version.created_at.isoformat(), str(device))
    if key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key]
    loaded = load_version(version, device)
    _LOADED[key] = loaded
    while len(_LOADED) > settings.SIGHTLINE_PREDICT_CACHE_SIZE:
        _LOADED.popitem(last=False)
    return loaded


def run_prediction(*, prediction_id: int) -> None:
    """Answers one prediction request (stores the result or the reason it failed)."""
    prediction = (
        Prediction.objects.select_related("model_version", "image", "prompt_version")
        .filter(pk=prediction_id, status=PredictionStatus.PENDING)
        .first()
    )
    if prediction is None:
        return
    try:
        answer = predict(prediction)
    except Exception as exc:  # the reason goes to the user, the traceback to the log
        logger.exception("prediction %s failed", prediction_id)
        prediction_fail(prediction_id=prediction_id, error=f"{type(exc).__name__}: {exc}")
        return
    prediction_complete(prediction_id=prediction_id, **answer)


def _probabilities(loaded: LoadedVersion, probs: torch.Tensor) -> dict[str, float]:
    return {name: float(p) for name, p in zip(loaded.class_names, probs.tolist(), strict=True)}


def predict(prediction: Prediction) -> dict[str, Any]:
    """The answer to a prediction request (see the module docstring)."""
    started = time.perf_counter()
    device = pick_device()
    loaded = cached_version(prediction.model_version, device)
    load_ms = (time.perf_counter() - started) * 1000
    version_id = prediction.prompt_version_id if prediction.use_prompt else None
    image = prediction.image
    data = load_items(
        [Item(image.pk, image.label, version_id)],
        class_names=loaded.class_names,
        size=loaded.input_size,
        channels=loaded.channels,
        with_gt=False,
    )
    item = data.dataset[0]
    size = data.sizes[0]
    x = item["image"][None].to(device)
    probs_o = loaded.probabilities(x)[0]
    predicted_o = int(probs_o.argmax())
    gradcam_o = normalize_minmax(loaded.gradcam(x, torch.tensor([predicted_o], device=device)))
    on_gpu = device.type == "cuda"
    n_masks = (
        settings.SIGHTLINE_PREDICT_MASKS_GPU if on_gpu else settings.SIGHTLINE_PREDICT_MASKS_CPU
    )
    result: dict[str, Any] = {
        "probabilities_o": _probabilities(loaded, probs_o),
        "predicted_o": loaded.class_names[predicted_o],
        "probabilities_m": None,
        "predicted_m": None,
        "method": loaded.method,
        "device": describe(device),
        "maps": ["gradcam"],
        "map_definition": "Grad-CAM at layer4 of the predicted class, per-image min-max",
    }
    answer: dict[str, Any] = {
        "gradcam_png": map_to_png(gradcam_o[0], size),
        "gradcam_m_png": None,
        "refined_png": None,
        "n_masks": 0,
    }
    if prediction.use_prompt and item["has_prompt"]:
        if loaded.vapl is None:
            result["note"] = f"{loaded.method} has no prompt stream: only f_o predicts"
        else:
            _with_prompt(loaded, x, item["prompt"][None].to(device), n_masks, size, result, answer)
            trained_n = int(loaded.vapl.config.n_masks)
            result["n_masks"] = n_masks
            result["n_masks_trained"] = trained_n
            result["n_masks_reduced"] = n_masks < trained_n
            answer["n_masks"] = n_masks
    result["load_ms"] = round(load_ms, 1)
    result["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    answer["result"] = result
    return answer


def _with_prompt(
    loaded: LoadedVersion,
    x: torch.Tensor,
    prompt: torch.Tensor,
    n_masks: int,
    size: tuple[int, int],
    result: dict[str, Any],
    answer: dict[str, Any],
) -> None:
    vapl = loaded.vapl
    trained = vapl.config
    vapl.config = trained.with_changes(n_masks=n_masks)
    try:
        refined = vapl.refine(x, prompt)
    finally:
        vapl.config = trained
    masked = x * refined
    with torch.no_grad():
        probs_m = torch.softmax(vapl.f_m(masked).float(), dim=1)[0]
    predicted_m = int(probs_m.argmax())
    cam_m, _ = grad_cam(vapl.f_m, masked, torch.tensor([predicted_m], device=x.device))
    result.update(
        probabilities_m=_probabilities(loaded, probs_m),
        predicted_m=loaded.class_names[predicted_m],
        maps=["gradcam", "gradcam_m", "refined"],
        refined_definition=(
            "t(D): 1 on important, 0 on unimportant pixels, the self-normalised estimator "
            "rescaled to [0, 1] on unclear pixels"
        ),
    )
    answer["gradcam_m_png"] = map_to_png(normalize_minmax(cam_m.detach())[0], size)
    answer["refined_png"] = map_to_png(refined[0], size)
