"""Explanation-guided training jobs (baseline, GRADIA, HAICS, RES-G/L, Energy, RRR).

The epoch loop is built from the modeling core's public pieces (``guided_step``, ``run_epoch``,
``ModelSelector``, ``validation_metrics``: the same steps as ``modeling.ml.training.fit``), with
what a job needs on top: a resumable training state in storage after every epoch (weights,
optimiser, selector, history), per-batch progress and cancel checks, and the validation
explanation IoU in the metrics series. Deviation from ``fit``: the shuffling generator is
re-seeded per epoch (``seed + epoch``) so a resumed run sees the same data order as an
uninterrupted one.
"""

from __future__ import annotations

import io
import math
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from modeling.ml.backbones import BackboneConfig, build_classifier, load_weights
from modeling.ml.explain import grad_cam
from modeling.ml.losses import build_loss
from modeling.ml.training import (
    MapSource,
    ModelSelector,
    explanation_report,
    guided_step,
    make_loader,
    map_grid,
    model_predict,
    predict_proba,
    run_epoch,
    validation_metrics,
)
from modeling.models import Job, Method, ModelVersion
from modeling.services import job_runtime
from modeling.services.artifacts import artifact_read, artifact_store
from modeling.worker.common import EVAL_BATCH, Trained, final_metrics, training_state_name
from modeling.worker.dataset import Loaded
from modeling.worker.gradia import with_gradia_weights
from modeling.worker.reporter import JobReporter


class _BatchProgress:
    """``should_cancel`` for ``run_epoch``: called before every batch, so it also reports
    progress within the epoch."""

    def __init__(self, reporter: JobReporter, epoch: int, epochs: int, batches: int) -> None:
        self.reporter, self.epoch, self.epochs, self.batches = reporter, epoch, epochs, batches
        self.done = 0

    def __call__(self) -> bool:
        if self.reporter.should_stop():
            return True
        fraction = (self.epoch + self.done / max(self.batches, 1)) / self.epochs
        self.reporter.progress(
            0.98 * fraction,
            step=self.epoch + 1,
            total=self.epochs,
            message=f"epoch {self.epoch + 1}/{self.epochs}, batch {self.done + 1}/{self.batches}",
        )
        self.done += 1
        return False


def train_guided(
    job: Job,
    reporter: JobReporter,
    device: torch.device,
    backbone: BackboneConfig,
    train: Loaded,
    val: Loaded,
    test: Loaded,
    positive: int | None,
    resume: bool,
) -> Trained:
    params = job.parameters
    method = params["method"]
    epochs = int(params["epochs"])
    torch.manual_seed(int(params["seed"]))
    model = build_classifier(backbone)
    if params.get("parent_version"):
        _load_parent(model, int(params["parent_version"]))
    model.to(device)
    source_kind = "gradcam"
    loss_kwargs: dict[str, Any] = {}
    if method in ("res-g", "res-l"):
        loss_kwargs = {"gamma": params["res_gamma"], "eta": params["res_eta"]}
    probe = build_loss(method, input_size=int(params["input_size"]), grid_size=1, **loss_kwargs)
    source_kind = probe.map_source
    map_source = MapSource(
        kind=source_kind,
        layer=params.get("cam_layer", "layer4"),
        detach_weights=params.get("cam_weights", "detached") == "detached",
    )
    grid = map_grid(model, map_source, train.dataset[0]["image"][None].to(device))
    loss_fn = build_loss(
        method, input_size=int(params["input_size"]), grid_size=grid[0], **loss_kwargs
    )
    loss_fn.to(device)
    lam = float(params.get("lambda_expl", 0.0))
    optimizer = torch.optim.Adam(
        [*model.parameters(), *loss_fn.parameters()],
        lr=float(params["lr"]),
        weight_decay=float(params["weight_decay"]),
    )
    selector = ModelSelector(params.get("patience"))
    history: list[dict[str, Any]] = []
    start = 0
    if resume and job.checkpoint:
        start, history = _restore(job, model, loss_fn, optimizer, selector, device)
        reporter.log(f"resumed after epoch {start} from {job.checkpoint}")
    val_loader = make_loader(val.dataset, batch_size=EVAL_BATCH)
    layer = params.get("cam_layer", "layer4")

    def explain(batch: dict[str, Any]) -> torch.Tensor:
        return grad_cam(model, batch["image"], batch["label"], layer=layer)[0]

    def step(batch: dict[str, Any]) -> dict[str, float]:
        return guided_step(
            model, batch, loss_fn=loss_fn, map_source=map_source, lam=lam, optimizer=optimizer
        )

    batch_size = int(params["batch_size"])
    train_data: Dataset = train.dataset
    if method == Method.GRADIA:
        image_ids = [item.image_id for item in train.items]
        train_data = with_gradia_weights(train.dataset, image_ids, job.snapshot, params)
    for epoch in range(start, epochs):
        generator = torch.Generator().manual_seed(int(params["seed"]) + epoch)
        loader = make_loader(train_data, batch_size=batch_size, shuffle=True, generator=generator)
        progress = _BatchProgress(reporter, epoch, epochs, len(loader))
        train_metrics = run_epoch(model, loader, step=step, device=device, should_cancel=progress)
        reporter.progress(
            0.98 * (epoch + 1) / epochs, message=f"epoch {epoch + 1}/{epochs}: validating"
        )
        model.eval()
        val_metrics = validation_metrics(*predict_proba(model_predict(model), val_loader, device))
        val_expl = explanation_report(explain, val_loader, device)
        improved = selector.update(epoch, val_metrics, model.state_dict())
        record = {
            "epoch": epoch + 1,
            **{f"train_{k}": v for k, v in train_metrics.items()},
            **{f"val_{k}": v for k, v in val_metrics.items()},
            **({"val_expl_iou": val_expl["expl_iou"]} if "expl_iou" in val_expl else {}),
            "best": improved,
        }
        history.append(record)
        reporter.metric(step=epoch + 1, epoch=epoch + 1, values=record)
        _save_resume_state(job, reporter, model, loss_fn, optimizer, selector, history, epoch + 1)
        reporter.log(
            f"epoch {epoch + 1}/{epochs}: loss {train_metrics.get('loss', math.nan):.4f}, "
            f"val accuracy {val_metrics['accuracy']:.3f}" + (" (best)" if improved else "")
        )
        reporter.progress(0.98 * (epoch + 1) / epochs, step=epoch + 1, total=epochs, force=True)
        if selector.should_stop:
            reporter.log(
                f"early stopping: no better validation score for {selector.patience} epochs"
            )
            break
    assert selector.best_state is not None
    model.load_state_dict(selector.best_state)
    model.eval()
    reporter.progress(0.98, message="evaluating the selected epoch", force=True)
    metrics = final_metrics(model_predict(model), explain, val, test, device, positive)
    hyper = {k: v for k, v in params.items() if k != "parent_version"}
    return {"model": selector.best_state}, metrics, history, selector.best_epoch + 1, hyper


def _resume_name(job: Job) -> str:
    return training_state_name(job.pk)


def _save_resume_state(
    job: Job,
    reporter: JobReporter,
    model: torch.nn.Module,
    loss_fn: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    selector: ModelSelector,
    history: list[dict[str, Any]],
    epoch: int,
) -> None:
    """The state a resumed attempt continues from (tensors and plain values only, so it loads
    with ``torch.load(weights_only=True)``)."""
    state = {
        "epoch": epoch,
        "model": model.state_dict(),
        "loss": loss_fn.state_dict(),
        "optimizer": optimizer.state_dict(),
        "selector": {
            "best_key": list(selector.best_key) if selector.best_key else None,
            # When this epoch is the best one, its weights are "model" already.
            "best_state": None if selector.best_epoch == epoch - 1 else selector.best_state,
            "best_epoch": selector.best_epoch,
            "best_score": selector.best_score,
            "stale": selector.stale,
        },
        "history": history,
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    name = artifact_store(_resume_name(job), buffer.getvalue())
    job_runtime.job_checkpoint_set(job_id=job.pk, worker=reporter.worker, name=name, epoch=epoch)


def _restore(
    job: Job,
    model: torch.nn.Module,
    loss_fn: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    selector: ModelSelector,
    device: torch.device,
) -> tuple[int, list[dict[str, Any]]]:
    state = torch.load(
        io.BytesIO(artifact_read(job.checkpoint)), map_location=device, weights_only=True
    )
    model.load_state_dict(state["model"])
    loss_fn.load_state_dict(state["loss"])
    optimizer.load_state_dict(state["optimizer"])
    saved = state["selector"]
    selector.best_key = tuple(saved["best_key"]) if saved["best_key"] else None
    best = saved["best_state"] if saved["best_state"] is not None else state["model"]
    selector.best_state = {k: v.to("cpu") for k, v in best.items()}
    selector.best_epoch = int(saved["best_epoch"])
    selector.best_score = dict(saved["best_score"])
    selector.stale = int(saved["stale"])
    return int(state["epoch"]), list(state["history"])


def _load_parent(model: torch.nn.Module, version_id: int) -> None:
    parent = ModelVersion.objects.get(pk=version_id)
    with tempfile.TemporaryDirectory(prefix="sightline-parent-") as tmp:
        path = Path(tmp) / "parent.safetensors"
        path.write_bytes(artifact_read(parent.checkpoint))
        load_weights(model, path)
