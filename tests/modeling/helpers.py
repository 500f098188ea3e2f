"""Test helpers of the modeling app: tiny projects, a quick training preset, broker switching."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import kombu.pools
import numpy as np
from PIL import Image as PILImage

from labeling import services as labeling_services
from labeling.models import Project
from modeling.services.job_runtime import Worker
from sightline.celery_app import app as celery_app

# The worker the ``running_job`` fixture's job is claimed by.
ME = Worker(host="here", pid=1)

# Tiny settings: 32x32 inputs, small-input ResNet-18, one or two epochs.
QUICK_TRAIN = {
    "method": "baseline",
    "input_size": 32,
    "epochs": 2,
    "batch_size": 4,
    "lr": 1e-3,
    "patience": None,
}


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(array.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def add_tiny_images(
    project: Project, owner: object, *, per_split: dict[str, int] | None = None, size: int = 32
) -> list:
    """Grey images whose class is a bright square (abnormal) or none (normal), with a prompt
    marking the square on every other image. Returns the created images."""
    per_split = per_split or {"train": 8, "val": 4, "test": 4}
    rng = np.random.default_rng(0)
    created = []
    index = 0
    for split, count in per_split.items():
        for _ in range(count):
            label = project.class_names[index % 2]
            array = rng.integers(0, 60, (size, size)).astype(np.uint8)
            prompt = np.full((size, size), -1, dtype=np.int8)
            prompt[:4, :] = 0
            if label == project.positive_class:
                array[8:20, 8:20] = 230
                prompt[8:20, 8:20] = 1
            (image,) = labeling_services.image_create(
                project=project,
                name=f"{split}-{index}.png",
                data=_png(array),
                created_by=owner,
                label=label,
                split=split,
            )
            if index % 2 == 1 or split == "test":
                labeling_services.prompt_save(
                    image=image,
                    annotator=owner,
                    target_class=label,
                    mask=prompt,
                    base_version=0,
                )
            created.append(image)
            index += 1
    return created


@contextmanager
def celery_broker(url: str, transport_options: dict[str, Any] | None = None) -> Iterator[None]:
    """Points this process's Celery app (the publisher) at another broker for a while."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_transport_options)
    conf.broker_url = url
    conf.broker_transport_options = transport_options or {}
    _drop_connections()
    try:
        yield
    finally:
        conf.broker_url, conf.broker_transport_options = saved
        _drop_connections()


def _drop_connections() -> None:
    # Celery builds its connection and producer pools lazily from the configuration; dropping
    # them (as Celery does after a fork) makes the next publish use the new broker.
    kombu.pools.reset()
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None


def make_version(project: Project, *, method: str = "baseline", number: int = 1, **fields: Any):
    """A registered model version with an untrained small-input ResNet-18 checkpoint (32 px,
    grey), built in a second instead of trained."""
    import tempfile
    from pathlib import Path

    from modeling.ml.backbones import BackboneConfig, build_classifier
    from modeling.ml.checkpoints import save_checkpoint
    from modeling.models import ModelVersion
    from modeling.services.artifacts import artifact_store

    backbone = BackboneConfig(
        num_classes=len(project.class_names),
        in_channels=1,
        small_input=True,
        mean=(0.2,),
        std=(0.2,),
    )
    preprocessing = {"input_size": 32, "channels": 1}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.safetensors"
        if method == "vapl":
            from modeling.ml.vapl import VaplConfig, VaplModel

            config = VaplConfig.quick(n_masks=16, chunk=16)
            VaplModel.build(backbone, config).save(
                path, class_names=project.class_names, preprocessing=preprocessing
            )
            hyper = config.to_dict()
        else:
            save_checkpoint(
                path,
                model_state=build_classifier(backbone).state_dict(),
                config=backbone,
                class_names=project.class_names,
                preprocessing=preprocessing,
                method=method,
                hyperparameters={},
                metrics={},
            )
            hyper = {"lr": 0.001}
        data = path.read_bytes()
    name = artifact_store(f"models/test-{project.pk}-{number}.safetensors", data)
    defaults = {
        "architecture": "resnet18",
        "hyperparameters": hyper,
        "class_names": list(project.class_names),
        "preprocessing": preprocessing,
        "checkpoint": name,
        "checkpoint_bytes": len(data),
    }
    defaults.update(fields)
    return ModelVersion.objects.create(project=project, number=number, method=method, **defaults)
