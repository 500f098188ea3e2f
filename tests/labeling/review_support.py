"""Builders shared by the review, selection and study tests: model versions, stored maps and
predictions made directly through the services that jobs use (no model runs)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image as PILImage

from labeling import services
from labeling.models import Image, Project
from labeling.services import review as review_services
from modeling.models import ModelVersion
from modeling.services.artifacts import explanation_map_save
from modeling.services.versions import model_version_create


def grey_png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(array.astype(np.uint8), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def make_version(project: Project, *, method: str = "baseline") -> ModelVersion:
    """A registered model version with no real checkpoint (nothing here loads it)."""
    return model_version_create(
        project=project,
        job=None,
        architecture="resnet18",
        method=method,
        hyperparameters={"method": method},
        snapshot={"splits": {}},
        class_names=list(project.class_names),
        preprocessing={"input_size": 8},
        metrics={},
        history=[],
        checkpoint="versions/none.safetensors",
        checkpoint_bytes=0,
    )


def make_images(
    project: Project, owner: object, labels: list[str | None], *, split: str = "test", size: int = 8
) -> list[Image]:
    """Distinct tiny grey images named ``img0.png``, ``img1.png`` ... with the given labels."""
    images = []
    for i, label in enumerate(labels):
        array = np.full((size, size), 10 + 7 * i, dtype=np.uint8)
        array[0, 0] = i  # distinct checksums
        (image,) = services.image_create(
            project=project,
            name=f"img{i}.png",
            data=grey_png(array),
            created_by=owner,
            label=label,
            split=split,
        )
        images.append(image)
    return images


def store_map(version: ModelVersion, image: Image, array: np.ndarray | None = None) -> None:
    """A stored Grad-CAM map of ``image`` (default: bright left half) for its label."""
    if array is None:
        array = np.zeros((image.height, image.width), dtype=np.uint8)
        array[:, : image.width // 2] = 255
    explanation_map_save(
        model_version=version,
        image_id=image.pk,
        method="gradcam",
        target_class=image.label or version.class_names[0],
        png=grey_png(array),
        definition={"method": "gradcam"},
        job=None,
    )


def predict(version: ModelVersion, image: Image, predicted: str, confidence: float = 0.9) -> None:
    """Stores a prediction of ``version`` for ``image`` (two classes) and its map."""
    other = next(name for name in version.class_names if name != predicted)
    review_services.image_predictions_record(
        model_version=version,
        probabilities=[(image.pk, {predicted: confidence, other: 1.0 - confidence})],
    )
    store_map(version, image)
