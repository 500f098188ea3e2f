"""VAPL training jobs: ``modeling.ml.vapl.train_vapl`` as it is, with the job's cancel check
polled between its steps. It has an epoch callback only, so progress within an epoch is counted
from the training images it reads, and it keeps no resumable state: a VAPL job taken over after
a worker died starts again from its first epoch.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.utils.data import Dataset

from modeling.ml.backbones import BackboneConfig
from modeling.ml.training import evaluate, make_loader
from modeling.models import Job
from modeling.worker.common import EVAL_BATCH, Trained, final_metrics
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
) -> Trained:
    from modeling.ml.vapl import VaplConfig, train_vapl

    params = job.parameters
    fields = set(VaplConfig.__dataclass_fields__)
    config = VaplConfig(**{k: v for k, v in params.items() if k in fields})
    prompted = int(train.dataset.has_prompt.sum())
    # Items read per epoch: the phase-F batches plus each round's cache of prompted images.
    per_epoch = math.ceil(len(train.items) / config.batch_size) * config.batch_size
    per_epoch += prompted * config.rounds
    watched = _Watched(train.dataset, reporter, config.epochs, per_epoch)

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
