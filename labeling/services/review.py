"""Writes of the reasonability review: stored predictions (and the attention energy outside the
prompt), reviewers' assessments and admins' adjudications (METHODS.md section 5)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from PIL import Image as PILImage
from rest_framework import status

from labeling import imaging
from labeling.models import (
    Adjudication,
    Assessment,
    Image,
    ImagePrediction,
    PromptVersion,
)
from labeling.selectors.review import (
    DEFAULT_MAP_METHOD,
    current_prompt_versions,
    explanation_map_files,
)
from labeling.storage import read_file
from modeling.models import ModelVersion
from sightline.errors import ApplicationError


@transaction.atomic
def image_predictions_record(
    *, model_version: ModelVersion, probabilities: Iterable[tuple[int, Mapping[str, float]]]
) -> int:
    """Stores (or replaces) a version's predictions: ``(image_id, {class: probability})``.

    The predicted class is the most probable one and the confidence its probability. A new
    prediction forgets the stored attention energy (the map may have changed with it).

    Returns:
        How many predictions were stored.
    """
    stored = 0
    for image_id, probs in probabilities:
        if not probs:
            raise ApplicationError(f"no class probabilities for image {image_id}", code="invalid")
        predicted = max(probs, key=lambda name: probs[name])
        confidence = min(1.0, max(0.0, float(probs[predicted])))
        ImagePrediction.objects.update_or_create(
            model_version=model_version,
            image_id=image_id,
            defaults={
                "predicted_class": predicted,
                "confidence": confidence,
                "probabilities": {name: float(p) for name, p in probs.items()},
                "outside_energy": None,
                "energy_prompt_version": None,
                "energy_map": "",
            },
        )
        stored += 1
    return stored


def outside_energy(attention: np.ndarray, prompt: np.ndarray) -> float | None:
    """Share of a map's energy outside the prompt's important region.

    Args:
        attention: [H, W] map in [0, 1] (non-negative).
        prompt: [H, W] in {-1, 0, 1}; important = +1.

    Returns:
        ``sum_{D != +1} M / sum M``; None when the map has no energy.
    """
    total = float(attention.sum())
    if total <= 0.0:
        return None
    return float(attention[prompt != imaging.IMPORTANT].sum()) / total


def _grey(data: bytes) -> np.ndarray:
    with PILImage.open(io.BytesIO(data)) as pil:
        return np.asarray(pil.convert("L"), dtype=np.float64) / 255.0


@transaction.atomic
def prediction_energies_refresh(
    *, model_version: ModelVersion, method: str = DEFAULT_MAP_METHOD
) -> int:
    """Recomputes ``outside_energy`` where the image's prompt or map changed since last time.

    The map is the stored 8-bit map of ``method`` (value / 255, so min-max normalised as the
    explain job stores it); the prompt is the one that stands for the image
    (``current_prompt_versions``). Images without either get None.

    Returns:
        How many predictions were updated.
    """
    predictions = list(
        ImagePrediction.objects.filter(model_version=model_version).select_related("image")
    )
    prompts = current_prompt_versions(p.image_id for p in predictions)
    masks = dict(
        PromptVersion.objects.filter(pk__in=list(prompts.values())).values_list("pk", "mask_png")
    )
    maps = explanation_map_files(model_version_id=model_version.pk, method=method)
    updated = 0
    for prediction in predictions:
        image: Image = prediction.image
        candidates = maps.get(image.pk, {})
        map_name = candidates.get(image.label) or next(iter(candidates.values()), "")
        prompt_id = prompts.get(image.pk)
        # Prompt versions are immutable and a new prediction clears the key: same key, same value.
        if prediction.energy_prompt_version_id == prompt_id and prediction.energy_map == map_name:
            continue
        energy = None
        if map_name and prompt_id is not None:
            size = (image.width, image.height)
            prompt = imaging.prompt_from_png(bytes(masks[prompt_id]), size=size)
            attention = _grey(read_file(map_name))
            if attention.shape == prompt.shape:
                energy = outside_energy(attention, prompt)
        ImagePrediction.objects.filter(pk=prediction.pk).update(
            outside_energy=energy, energy_prompt_version_id=prompt_id, energy_map=map_name
        )
        updated += 1
    return updated


@transaction.atomic
def assessment_submit(
    *,
    model_version: ModelVersion,
    image: Image,
    reviewer: AbstractBaseUser,
    q1_needed: bool,
    q2_unneeded: bool,
    map_method: str = DEFAULT_MAP_METHOD,
) -> Assessment:
    """Records (or changes) a reviewer's Q1/Q2 answers on an image's map of a version.

    The predicted class stored with the answers is the version's stored prediction, the one the
    reviewer was shown.

    Raises:
        ApplicationError: the image is not in the version's project, or the version has no
            stored prediction for it (run an explain job first).
    """
    if image.project_id != model_version.project_id:
        raise ApplicationError(
            "the image and the model version belong to different projects",
            code="invalid",
        )
    prediction = ImagePrediction.objects.filter(model_version=model_version, image=image).first()
    if prediction is None:
        raise ApplicationError(
            f"model version {model_version.number} has no stored prediction for image "
            f"{image.name!r}; explain the image with this version first",
            code="no_prediction",
            status_code=status.HTTP_409_CONFLICT,
        )
    assessment = Assessment.objects.filter(
        model_version=model_version, image=image, reviewer=reviewer
    ).first() or Assessment(model_version=model_version, image=image, reviewer=reviewer)
    assessment.q1_needed = bool(q1_needed)
    assessment.q2_unneeded = bool(q2_unneeded)
    assessment.predicted_class = prediction.predicted_class
    assessment.map_method = map_method
    assessment.full_clean(validate_unique=False)
    assessment.save()
    return assessment


@transaction.atomic
def adjudication_set(
    *,
    model_version: ModelVersion,
    image: Image,
    reasonable: bool,
    decided_by: AbstractBaseUser,
    note: str = "",
) -> Adjudication:
    """An admin's final decision on an image's reasonability for a version: it overrides the
    reviewers' votes, and decides an image nobody assessed yet."""
    if image.project_id != model_version.project_id:
        raise ApplicationError(
            "the image and the model version belong to different projects", code="invalid"
        )
    if not ImagePrediction.objects.filter(model_version=model_version, image=image).exists():
        raise ApplicationError(
            f"model version {model_version.number} has no stored prediction for image "
            f"{image.name!r}",
            code="no_prediction",
            status_code=status.HTTP_409_CONFLICT,
        )
    adjudication, _ = Adjudication.objects.update_or_create(
        model_version=model_version,
        image=image,
        defaults={"reasonable": bool(reasonable), "note": note, "decided_by": decided_by},
    )
    return adjudication


@transaction.atomic
def adjudication_clear(*, model_version: ModelVersion, image: Image) -> None:
    """Removes an adjudication; the image is decided by the vote again."""
    Adjudication.objects.filter(model_version=model_version, image=image).delete()
