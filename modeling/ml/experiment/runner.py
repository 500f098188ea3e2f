"""Runs every method on one interchange-format dataset and collects test metrics.

Protocol (per method and seed): train on the train split with the prompts present there, select
the epoch on val (never test), then measure on test. Test images are classified without their
prompts; the only use of test prompts is the ``vapl-p`` row (``f_m(I * t(D))``) and, for images
without a ground-truth explanation, as the reference mask of the explanation metrics.
Explanations of the CE-trained methods are Grad-CAM maps of the true class at ``eval.layer``
(the same for every method, so the rows compare); VAPL's are Grad-CAM maps of the stream that
predicts (``VaplModel.explain``), also of the true class.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from modeling.ml.backbones import BackboneConfig, build_classifier
from modeling.ml.data import InterchangeDataset, augmentation
from modeling.ml.experiment.config import METHODS, Config
from modeling.ml.explain import grad_cam
from modeling.ml.losses import build_loss
from modeling.ml.training import (
    MapSource,
    TrainConfig,
    evaluate,
    fit,
    make_loader,
    map_grid,
    model_predict,
    seed_everything,
)

Log = Callable[[str], None]


def log_to_stderr(line: str) -> None:
    """Default progress sink: one line on stderr."""
    print(line, file=sys.stderr, flush=True)


@dataclass
class Splits:
    """The three splits of a dataset, sharing class names and channels."""

    train: InterchangeDataset
    val: InterchangeDataset
    test: InterchangeDataset

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in index order."""
        return self.train.class_names

    @property
    def input_size(self) -> tuple[int, int]:
        """(H, W) of the model input."""
        return tuple(self.train[0]["image"].shape[-2:])  # type: ignore[return-value]


def load_splits(root: Path, config: Config) -> Splits:
    """Reads the three splits with the data settings of ``config``; checks sizes agree.

    Raises:
        ValueError: an empty split, or images of different sizes while ``data.size`` is null.
    """
    data = config["data"]
    window = tuple(data["window"]) if data["window"] else None
    common: dict[str, Any] = {"size": data["size"], "window": window, "cache": True}
    train = InterchangeDataset(root, "train", **common)
    shared = {"channels": train.channels, "class_names": train.class_names}
    val = InterchangeDataset(root, "val", **common, **shared)
    test = InterchangeDataset(root, "test", **common, **shared)
    sizes = set()
    for name, split in (("train", train), ("val", val), ("test", test)):
        if len(split) == 0:
            raise ValueError(f"the {name} split of {root} is empty")
        sizes |= {tuple(split[i]["image"].shape[-2:]) for i in range(len(split))}
    if len(sizes) > 1:
        raise ValueError(f"images have different sizes {sorted(sizes)}; set data.size")
    if data["crop_padding"] or data["hflip"]:
        size = next(iter(sizes))
        train.transform = augmentation(size, crop_padding=data["crop_padding"], hflip=data["hflip"])
    return Splits(train, val, test)


def positive_class(config: Config, class_names: Sequence[str]) -> int | None:
    """Index of the positive class for binary metrics (None: multi-class, macro averages)."""
    value = config["data"]["positive_class"]
    if value is None:
        return 1 if len(class_names) == 2 else None
    if isinstance(value, str):
        if value not in class_names:
            raise ValueError(f"positive_class {value!r} is not one of {list(class_names)}")
        return list(class_names).index(value)
    return int(value)


def backbone_config(config: Config, splits: Splits) -> BackboneConfig:
    """The classifier architecture for these splits."""
    section = dict(config["backbone"])
    extra = {k: tuple(section.pop(k)) for k in ("mean", "std") if section.get(k) is not None}
    section.pop("mean", None), section.pop("std", None)
    return BackboneConfig(
        num_classes=len(splits.class_names), in_channels=splits.train.channels, **section, **extra
    )


def train_config(config: Config, method: str) -> TrainConfig:
    """Optimisation settings of a CE-trained method (``lam`` from its own section)."""
    lam = 0.0 if method == "baseline" else float(config[method]["lam"])
    return TrainConfig(**config["train"], lam=lam)


def _loss_and_source(method: str, config: Config, model: torch.nn.Module, sample: Tensor) -> Any:
    if method == "baseline":
        return build_loss("baseline"), MapSource()
    section = dict(config[method])
    section.pop("lam")
    source = MapSource(section.pop("map"), **config["map"])
    grid = map_grid(model, source, sample)
    loss = build_loss(method, input_size=sample.shape[-1], grid_size=grid[-1], **section)
    return loss, source


def _epoch_logger(log: Log, tag: str, epochs: int) -> Callable[[float, dict[str, Any]], None]:
    def on_epoch(progress: float, m: dict[str, Any]) -> None:
        mark = " *" if m.get("best") else ""
        log(
            f"[{tag}] epoch {m['epoch']}/{epochs} loss {m['train_loss']:.4f} "
            f"(ce {m['train_loss_ce']:.4f}, expl {m['train_loss_expl']:.4f}) "
            f"train acc {m['train_accuracy']:.3f} val acc {m['val_accuracy']:.3f} "
            f"val loss {m['val_loss']:.4f} {m['seconds']:.1f}s{mark}"
        )

    return on_epoch


def run_guided(
    method: str, seed: int, splits: Splits, config: Config, *, device: str, log: Log
) -> dict[str, dict[str, Any]]:
    """Trains one CE-based method (baseline or an explanation loss) and tests it."""
    seed_everything(seed)
    model = build_classifier(backbone_config(config, splits))
    sample = splits.train[0]["image"][None]
    loss, source = _loss_and_source(method, config, model, sample)
    settings = train_config(config, method)
    tag = f"{method} seed {seed}"
    result = fit(
        model,
        splits.train,
        splits.val,
        loss_fn=loss,
        map_source=source,
        config=settings,
        device=device,
        seed=seed,
        on_epoch=_epoch_logger(log, tag, settings.epochs),
    )
    model.load_state_dict(result.best_state)
    model.eval()
    layer = config["eval"]["layer"]

    def explain(batch: dict[str, Any]) -> Tensor:
        return grad_cam(model, batch["image"], batch["label"], layer=layer)[0]

    loader = make_loader(splits.test, batch_size=settings.eval_batch_size)
    metrics = evaluate(
        model_predict(model),
        explain,
        loader,
        device=device,
        positive_class=positive_class(config, splits.class_names),
    )
    metrics["best_epoch"] = result.best_epoch
    return {method: metrics}


def run_vapl(
    seed: int, splits: Splits, config: Config, *, device: str, log: Log
) -> dict[str, dict[str, Any]]:
    """Trains VAPL and tests it without prompts (``vapl``) and with them (``vapl-p``)."""
    from modeling.ml.vapl import VaplConfig, train_vapl

    vapl_config = VaplConfig(**config["vapl"])
    tag = f"vapl seed {seed}"

    def on_epoch(epoch: int, m: dict[str, Any]) -> None:
        shown = " ".join(
            f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in m.items()
            if k != "epoch"
        )
        log(f"[{tag}] epoch {epoch}/{vapl_config.epochs} {shown}")

    model = train_vapl(
        splits.train,
        splits.val,
        backbone=backbone_config(config, splits),
        config=vapl_config,
        device=device,
        seed=seed,
        on_epoch=on_epoch,
    )
    model.eval()
    batch_size = config["train"]["eval_batch_size"]
    layer = config["eval"]["layer"]
    positive = positive_class(config, splits.class_names)
    plain = make_loader(splits.test, batch_size=batch_size)
    # t(D) once per test image: the prediction and the explanation of vapl-p share it.
    refined = _refined_maps(model, plain, device)
    prompted = make_loader(_WithRefined(splits.test, refined), batch_size=batch_size)
    rows: dict[str, dict[str, Any]] = {}
    for row, loader, with_prompt in (("vapl", plain, False), ("vapl-p", prompted, True)):

        def predict(batch: dict[str, Any], with_prompt: bool = with_prompt) -> Tensor:
            if not with_prompt:
                return model.predict_proba(batch["image"])
            return model.predict_proba(
                batch["image"],
                batch["prompt"],
                has_prompt=batch["has_prompt"],
                refined=batch["refined"],
            )

        def explain(batch: dict[str, Any], with_prompt: bool = with_prompt) -> Tensor:
            if not with_prompt:
                return model.explain(batch["image"], target=batch["label"], layer=layer)
            return model.explain(
                batch["image"],
                batch["prompt"],
                target=batch["label"],
                has_prompt=batch["has_prompt"],
                layer=layer,
                refined=batch["refined"],
            )

        rows[row] = evaluate(predict, explain, loader, device=device, positive_class=positive)
    return rows


def _refined_maps(model: Any, loader: Any, device: str) -> Tensor:
    """``t(D)`` [N, 1, H, W] (CPU) of every item of ``loader``, in order (ones where no prompt)."""
    maps = []
    for batch in loader:
        x, prompt = batch["image"].to(device), batch["prompt"].to(device)
        refined = torch.ones_like(x[:, :1])
        has = batch["has_prompt"].bool().to(device)
        if has.any():
            refined[has] = model.refine(x[has], prompt[has]).to(refined.dtype)
        maps.append(refined.cpu())
    return torch.cat(maps)


class _WithRefined(torch.utils.data.Dataset):
    """Items of ``dataset`` with their precomputed refined prompt under ``"refined"``."""

    def __init__(self, dataset: Any, refined: Tensor) -> None:
        self.dataset, self.refined = dataset, refined

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {**self.dataset[index], "refined": self.refined[index]}


def run_method(
    method: str, seed: int, splits: Splits, config: Config, *, device: str, log: Log
) -> dict[str, dict[str, Any]]:
    """Rows (``{row: metrics}``) of one method and seed."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    if method == "vapl":
        return run_vapl(seed, splits, config, device=device, log=log)
    return run_guided(method, seed, splits, config, device=device, log=log)


def resolve_device(device: str | None) -> str:
    """``"cuda"`` when asked for or available (``None`` / ``"auto"``), else ``"cpu"``."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but is not available")
    return device


def run_experiment(
    root: Path,
    *,
    methods: Sequence[str],
    seeds: int,
    config: Config,
    device: str | None = None,
    log: Log = log_to_stderr,
    on_summary: Callable[[dict[str, Any]], None] | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Runs ``methods`` x ``range(seeds)`` on the dataset at ``root``.

    ``on_summary`` receives the summary of the runs finished so far after every method and
    seed, so that a caller can save partial results of a long experiment. With ``workers > 1``
    (CPU only) the runs are spread over that many processes, each with ``cpu_count // workers``
    torch threads: on a small CPU, two single-threaded runs of a small network finish sooner
    than the same runs one after the other with two threads each. Every run seeds itself, so
    the order does not change what a run computes.

    Returns:
        ``{"methods": {row: {metric: {"mean", "std"}}}, "config": {...}, "runs": [...]}`` (see
        :func:`modeling.ml.experiment.report.summarise`).
    """
    from modeling.ml.experiment.report import summarise

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; expected some of {list(METHODS)}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    device = resolve_device(device)
    if workers > 1 and device != "cpu":
        raise ValueError("several workers run on the CPU only; use one worker on a GPU")
    started = time.perf_counter()
    splits = load_splits(Path(root), config)
    log(
        f"dataset {root}: {len(splits.train)} train ({_prompted(splits.train)} prompted), "
        f"{len(splits.val)} val, {len(splits.test)} test, classes {list(splits.class_names)}, "
        f"input {splits.input_size}, device {device}"
    )
    meta = {
        "data": str(root),
        "methods": list(methods),
        "seeds": seeds,
        "device": device,
        "workers": workers,
        "class_names": list(splits.class_names),
        "positive_class": positive_class(config, splits.class_names),
        "input_size": list(splits.input_size),
        "split_sizes": {name: len(getattr(splits, name)) for name in ("train", "val", "test")},
        "train_prompted": _prompted(splits.train),
        "val_prompted": _prompted(splits.val),
    }
    tasks = [(method, seed) for method in methods for seed in range(seeds)]
    finished: dict[tuple[str, int], tuple[dict[str, dict[str, Any]], float]] = {}

    def record(task: tuple[str, int], rows: dict[str, dict[str, Any]], seconds: float) -> None:
        finished[task] = (rows, seconds)
        for row, metrics in rows.items():
            log(
                f"[{row} seed {task[1]}] test accuracy {metrics['accuracy']:.3f} "
                f"expl_iou {metrics.get('expl_iou', float('nan')):.3f} ({seconds:.0f}s)"
            )
        meta["seconds"] = time.perf_counter() - started
        if on_summary is not None:
            on_summary(summarise(_runs(tasks, finished), config=config, meta=meta))

    if workers == 1:
        for method, seed in tasks:
            t0 = time.perf_counter()
            rows = run_method(method, seed, splits, config, device=device, log=log)
            record((method, seed), rows, time.perf_counter() - t0)
    else:
        from modeling.ml.experiment.parallel import run_in_processes

        run_in_processes(root, config, tasks, workers, record)
    meta["seconds"] = time.perf_counter() - started
    return summarise(_runs(tasks, finished), config=config, meta=meta)


def _runs(
    tasks: Sequence[tuple[str, int]],
    finished: dict[tuple[str, int], tuple[dict[str, dict[str, Any]], float]],
) -> list[dict[str, Any]]:
    """The finished runs in task order (one entry per row)."""
    runs = []
    for method, seed in tasks:
        if (method, seed) in finished:
            rows, seconds = finished[(method, seed)]
            for row, metrics in rows.items():
                runs.append({"method": row, "seed": seed, "seconds": seconds, "metrics": metrics})
    return runs


def _prompted(dataset: InterchangeDataset) -> int:
    return sum(bool(dataset[i]["has_prompt"]) for i in range(len(dataset)))
