"""VAPL training jobs: ``modeling.ml.vapl.train_vapl`` with the job's cancel check polled between
its steps. It has an epoch callback only, so progress within an epoch is counted from the
training images it reads. As with the guided methods, the state after every epoch goes to
storage (:func:`~modeling.worker.common.training_state_name`) and the job row points at it, so
a VAPL job taken over after its worker died continues after its last finished epoch.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from django.core.files.storage import default_storage
from torch.utils.data import Dataset

from modeling.ml.backbones import BackboneConfig
from modeling.ml.training import evaluate, make_loader
from modeling.models import Job
from modeling.services import job_runtime
from modeling.services.artifacts import artifact_read, artifact_store
from modeling.worker.common import EVAL_BATCH, Trained, final_metrics, training_state_name
from modeling.worker.dataset import Loaded
from modeling.worker.reporter import JobReporter


class _Watched(Dataset):
    """A dataset that reports progress whenever training reads one of its items (``train_vapl``
    has an epoch callback only; its reads give the progress within an epoch)."""

    def __init__(
        self, dataset: Dataset, reporter: JobReporter, epochs: int, per_epoch: int
    ) -> None:
        self.dataset, self.reporter = dataset, reporter
        self.epochs, self.per_epoch = epochs, max(per_epoch, 1)
        self.reads = 0

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        if name == "dataset":
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, index: int) -> dict[str, Any]:
        self.reads += 1
        fraction = min(self.reads / (self.per_epoch * self.epochs), 1.0)
        epoch = min(int(self.reads / self.per_epoch) + 1, self.epochs)
        self.reporter.progress(
            0.98 * fraction, step=epoch, total=self.epochs, message=f"epoch {epoch}/{self.epochs}"
        )
        return self.dataset[index]


def train_vapl_job(
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
    from modeling.ml.vapl import VaplConfig, train_vapl
    from modeling.ml.vapl.resume import load_training_state

    params = job.parameters
    fields = set(VaplConfig.__dataclass_fields__)
    config = VaplConfig(**{k: v for k, v in params.items() if k in fields})
    prompted = int(train.dataset.has_prompt.sum())
    # Items read per epoch: the phase-F batches plus each round's cache of prompted images.
    per_epoch = math.ceil(len(train.items) / config.batch_size) * config.batch_size
    per_epoch += prompted * config.rounds
    watched = _Watched(train.dataset, reporter, config.epochs, per_epoch)
    resume_from = None
    if resume and job.checkpoint:
        resume_from = load_training_state(artifact_read(job.checkpoint), map_location="cpu")
        if resume_from["config"] != config.to_dict() or resume_from["seed"] != int(params["seed"]):
            # Saved by a worker of another version (its configuration has other fields).
            reporter.log(f"{job.checkpoint} does not match this job's settings: starting again")
            resume_from = None
        else:
            watched.reads = int(resume_from["epoch"]) * per_epoch
            reporter.log(f"resumed after epoch {resume_from['epoch']} from {job.checkpoint}")

    def on_epoch(epoch: int, record: dict[str, Any]) -> None:
        reporter.metric(step=epoch, epoch=epoch, values=record)
        accuracy = record.get("val_accuracy", math.nan)
        best = " (best)" if record.get("best") else ""
        reporter.log(f"epoch {epoch}/{config.epochs}: val accuracy {accuracy:.3f}{best}")
        reporter.progress(0.98 * epoch / config.epochs, step=epoch, total=config.epochs, force=True)

    model = train_vapl(
        watched,
        val.dataset,
        backbone=backbone,
        config=config,
        device=device,
        seed=int(params["seed"]),
        on_epoch=on_epoch,
        should_cancel=reporter.should_stop,
        on_state=lambda epoch, state: _save_resume_state(job, reporter, state, epoch),
        resume_from=resume_from,
    )
    model.eval()
    reporter.progress(0.98, message="evaluating", force=True)

    def explain(batch: dict[str, Any]) -> torch.Tensor:
        return model.explain(batch["image"], target=batch["label"])

    def predict(batch: dict[str, Any]) -> torch.Tensor:
        return model.predict_proba(batch["image"])

    metrics = final_metrics(predict, explain, val, test, device, positive)
    if len(test.items) and bool(test.dataset.has_prompt.any()):
        loader = make_loader(test.dataset, batch_size=EVAL_BATCH)

        def predict_prompted(batch: dict[str, Any]) -> torch.Tensor:
            return model.predict_proba(
                batch["image"], batch["prompt"], has_prompt=batch["has_prompt"]
            )

        metrics["test_prompted"] = evaluate(
            predict_prompted, None, loader, device=device, positive_class=positive
        )
        metrics["test_prompted"]["definition"] = (
            "VAPL-P: f_m(I * t(D)) where a prompt exists, else f_o"
        )
    history = list(model.history)
    best = max(
        (r for r in history if r.get("best")), key=lambda r: r["epoch"], default={"epoch": 0}
    )
    states = {
        "f_o": model.f_o.state_dict(),
        "f_m": model.f_m.state_dict(),
        "g": model.g.state_dict(),
    }
    return states, metrics, history, int(best["epoch"]), config.to_dict()


def _save_resume_state(job: Job, reporter: JobReporter, state: dict[str, Any], epoch: int) -> None:
    """Stores the state after ``epoch`` where a resumed attempt finds it (as the guided methods
    do) and points the job row at it.

    On a local file system the file is replaced atomically (a worker killed while saving leaves
    the previous epoch's state readable); other storage backends go through ``artifact_store``.
    """
    from modeling.ml.vapl.resume import save_training_state, training_state_bytes

    name = training_state_name(job.pk)
    try:
        local = Path(default_storage.path(name))
    except NotImplementedError:
        name = artifact_store(name, training_state_bytes(state))
    else:
        local.parent.mkdir(parents=True, exist_ok=True)
        save_training_state(state, local)
    job_runtime.job_checkpoint_set(job_id=job.pk, worker=reporter.worker, name=name, epoch=epoch)
