"""Training jobs: the project's snapshot -> a trained model -> a new model version.

The data is the job's snapshot (images, labels and prompt versions recorded at launch). The
method's trainer lives in ``modeling.worker.guided`` (explanation-guided methods, resumable) or
``modeling.worker.vapl``; this module loads the data, describes the preprocessing, and registers
the result.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import torch

from labeling.models import Split
from modeling.ml.backbones import BackboneConfig
from modeling.ml.checkpoints import save_checkpoint
from modeling.ml.data import augmentation
from modeling.models import Job, Method, ModelVersion
from modeling.services.artifacts import artifact_store
from modeling.services.versions import model_version_create
from modeling.worker.common import JobError
from modeling.worker.dataset import RESIZE_RULE, Item, channel_stats, load_items
from modeling.worker.guided import train_guided
from modeling.worker.reporter import JobReporter
from modeling.worker.vapl import train_vapl_job

__all__ = ["JobError", "run_train", "snapshot_items"]

logger = logging.getLogger(__name__)


def snapshot_items(snapshot: dict[str, Any], split: str) -> list[Item]:
    """The items of one split of a training snapshot, with their prompt versions."""
    prompts = {int(image_id): int(version) for image_id, version in snapshot["prompt_versions"]}
    return [
        Item(int(image_id), label, prompts.get(int(image_id)))
        for image_id, label in snapshot["splits"].get(split, [])
    ]


def run_train(*, job: Job, reporter: JobReporter, device: torch.device, resume: bool) -> dict:
    """Trains the job's method on its snapshot and registers a model version.

    Returns:
        The job's result summary: ``{"model_version", "number", "best_epoch", "metrics"}``.
    """
    params = job.parameters
    snapshot = job.snapshot
    class_names = list(snapshot["class_names"])
    size = int(params["input_size"])
    reporter.progress(0.0, message="loading images", force=True)
    train = load_items(
        snapshot_items(snapshot, Split.TRAIN), class_names=class_names, size=size, with_gt=False
    )
    channels = train.dataset.channels
    val = load_items(
        snapshot_items(snapshot, Split.VAL), class_names=class_names, size=size, channels=channels
    )
    test = load_items(
        snapshot_items(snapshot, Split.TEST), class_names=class_names, size=size, channels=channels
    )
    mean, std = channel_stats(train.dataset)
    backbone = BackboneConfig(
        arch=params["arch"],
        num_classes=len(class_names),
        in_channels=channels,
        small_input=bool(params["small_input"]),
        mean=mean,
        std=std,
    )
    preprocessing = {
        "input_size": size,
        "channels": channels,
        "source": "display rendition (8-bit, DICOM windowed as stored with the image)",
        "resize": RESIZE_RULE,
        "mean": list(mean),
        "std": list(std),
    }
    if params.get("augment_flip"):
        train.dataset.transform = augmentation(size, hflip=True)
    prompted = sum(bool(p) for p in train.dataset.has_prompt.tolist())
    reporter.log(
        f"data: {len(train.items)} train ({prompted} prompted), {len(val.items)} val, "
        f"{len(test.items)} test images at {size}x{size}x{channels}; device {device}"
    )
    positive = _positive_index(job, class_names)
    if params["method"] == Method.VAPL:
        trained = train_vapl_job(
            job, reporter, device, backbone, train, val, test, positive, resume
        )
    else:
        trained = train_guided(job, reporter, device, backbone, train, val, test, positive, resume)
    states, metrics, history, best_epoch, hyper = trained
    reporter.progress(0.99, message="saving the model", force=True)
    version = _register(job, backbone, class_names, preprocessing, states, metrics, history, hyper)
    reporter.log(f"registered model version {version.number}")
    return {
        "model_version": version.pk,
        "number": version.number,
        "best_epoch": best_epoch,
        "metrics": metrics,
    }


def _positive_index(job: Job, class_names: list[str]) -> int | None:
    if len(class_names) != 2:
        return None
    positive = job.project.positive_class
    return class_names.index(positive) if positive in class_names else 1


def _register(
    job: Job,
    backbone: BackboneConfig,
    class_names: list[str],
    preprocessing: dict[str, Any],
    states: dict[str, Any],
    metrics: dict[str, Any],
    history: list[dict[str, Any]],
    hyper: dict[str, Any],
) -> ModelVersion:
    params = job.parameters
    method = params["method"]
    with tempfile.TemporaryDirectory(prefix="sightline-ckpt-") as tmp:
        path = Path(tmp) / "model.safetensors"
        save_checkpoint(
            path,
            model_state=states if len(states) > 1 else states["model"],
            config=backbone,
            class_names=class_names,
            preprocessing=preprocessing,
            method=method,
            hyperparameters=hyper,
            metrics=metrics,
            extra={"history": history, "job": job.pk},
        )
        data = path.read_bytes()
    name = artifact_store(
        f"models/project-{job.project_id}/job-{job.pk}-{method}.safetensors", data
    )
    parent = None
    if params.get("parent_version"):
        parent = ModelVersion.objects.filter(pk=params["parent_version"]).first()
    return model_version_create(
        project=job.project,
        job=job,
        architecture=backbone.arch,
        method=method,
        hyperparameters={
            **hyper,
            "method": method,
            "arch": backbone.arch,
            "small_input": backbone.small_input,
        },
        snapshot=job.snapshot,
        class_names=class_names,
        preprocessing=preprocessing,
        metrics=metrics,
        history=history,
        checkpoint=name,
        checkpoint_bytes=len(data),
        parent=parent,
    )
