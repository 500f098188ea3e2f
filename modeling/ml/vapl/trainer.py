"""VAPL training (Zhang et al., Eq. 6-14; METHODS.md section 4), alternating phases F and G.

Objective ``L_pred + lambda1 L_param + lambda2 L_feature + lambda3 L_MLP`` with

* ``L_pred = CE(f_m(I * A), y) + CE(f_o(I), y)``; each CE is the mean over its images. Images
  without a prompt train ``f_o`` only: ``f_m`` sees their unmasked image and they enter
  ``L_feature`` but not ``f_m``'s CE.
* ``L_param = ||W_o - W_m||_F^2`` summed over every convolution weight (as in the paper;
  ``param_reduction="mean"`` divides it by the weight count). Both streams start from the same
  initialisation (as two copies of one pretrained network would), so the term starts at 0.
* ``L_feature``: squared difference between the globally average-pooled layer4 features (the
  vector the ``fc`` head consumes) of ``f_o(I)`` and ``f_m(I * A)``, averaged over features and
  images. Deviation: the paper sums over features, see
  :func:`~modeling.ml.vapl.phases.feature_distance`; its ``S(.)`` is not specified further;
  pooling keeps the term's scale independent of the input size.
* ``L_MLP = (g(1) - 1)^2`` is identically 0 here because :class:`MonotoneG` divides by ``h(1)``.

Rounds. An epoch has ``rounds`` rounds. A round (1) draws a fresh mask set (seed derived from the
run seed and the round index), (2) caches, for every prompted training image, its view (image,
prompt) and the scores ``w_j`` of ``f_m`` (eval mode) at the true label, (3) runs ``K_F`` phase-F
steps: Adam on ``f_o`` and ``f_m`` with ``g`` fixed, prompted images taken in their cached view
(so scores and map refer to the same pixels under random augmentation) with ``A`` rebuilt from the
cached scores, and (4) runs ``K_G`` phase-G steps: Adam on ``g`` alone over batches of cached
prompted images, ``f_m`` in eval mode and frozen, loss ``CE(f_m(I * A(g)), y) + lambda3 L_MLP``
back-propagated through the refinement (masks regenerated, never stored).

Precise BN (not in the paper; :mod:`modeling.ml.training.batchnorm`): with ``precise_bn`` the
BatchNorm statistics of both streams are re-estimated with the current weights at the start of
every round (the scores are computed in eval mode) and before every validation: ``f_o`` over the
training images, ``f_m`` over its phase-F inputs. With a few steps an epoch the running averages
otherwise lag the weights, and validation accuracy and the cached scores are close to random.

Model selection: after every epoch ``f_o`` is evaluated on the validation set; the state with the
highest validation accuracy (ties: lower validation loss) is returned. Deviation: the paper does
not state its selection rule; ``f_o`` is the stream every test image can use.

Resuming (not in the paper): with ``on_state`` the trainer hands over, after every epoch, the
state a later call continues from with ``resume_from`` (:mod:`modeling.ml.vapl.resume`): the
weights of ``f_o``, ``f_m`` and ``g``, both Adam states, the selector's best state, epoch and
score, the history, the phase-F data order (generator state at the start of its pass and the
batches taken), the phase-G order generator, the global torch RNG (random augmentation) and the
next round index. Mask sets are regenerated from their seeds, the round cache is rebuilt at the
start of every round, so a resumed run continues exactly as an uninterrupted one.

Ablations: ``"no-refine"`` (``A = [D != 0]``, no scores, no phase G), ``"no-share"``
(``lambda1 = lambda2 = 0``), ``"no-g"`` (``g`` = identity, no phase G).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset

from modeling.ml.backbones import BackboneConfig
from modeling.ml.training import (
    Cancelled,
    ModelSelector,
    model_predict,
    predict_proba,
    seed_everything,
    validation_metrics,
)
from modeling.ml.vapl.config import VaplConfig
from modeling.ml.vapl.masks import MaskSet, derive_seed
from modeling.ml.vapl.model import VaplModel
from modeling.ml.vapl.phases import (
    RoundCache,
    cache_round,
    loader_for,
    phase_f_step,
    phase_g_step,
    prompted_indices,
    recalibrate_streams,
)
from modeling.ml.vapl.refinement import eval_mode
from modeling.ml.vapl.resume import STATE_VERSION, DataOrder, cpu_copy

EpochCallback = Callable[[int, dict[str, Any]], None]
# ``on_state(epoch, state)``: the resumable state after ``epoch`` (tensors on the CPU, plain
# values otherwise; :func:`modeling.ml.vapl.resume.save_training_state` writes it).
StateCallback = Callable[[int, dict[str, Any]], None]


def evaluate_f_o(model: VaplModel, dataset: Dataset, config: VaplConfig) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``f_o`` (unprompted prediction) on ``dataset``."""
    with eval_mode(model.f_o):
        probs, labels = predict_proba(
            model_predict(model.f_o), loader_for(dataset, config), model.device
        )
    return validation_metrics(probs, labels)


def _image_size(dataset: Dataset) -> tuple[int, int]:
    image = dataset[0]["image"]
    return int(image.shape[-2]), int(image.shape[-1])


def _mask_set(config: VaplConfig, size: tuple[int, int], seed: int, index: int) -> MaskSet:
    return MaskSet(
        config.n_masks,
        size,
        p=config.p,
        style=config.style,
        grid=config.grid,
        seed=derive_seed(seed, index),
    )


@dataclass
class _Run:
    """The state of one training run shared by its rounds."""

    model: VaplModel
    config: VaplConfig
    device: torch.device
    seed: int
    train_ds: Dataset
    prompted: list[int]
    size: tuple[int, int]
    opt_f: torch.optim.Optimizer
    opt_g: torch.optim.Optimizer | None
    batches: DataOrder
    g_order: torch.Generator
    k_f: int
    k_g: int
    should_cancel: Callable[[], bool] | None
    cache: RoundCache | None = None
    calibrated: bool = False


def _start_run(
    train_ds: Dataset,
    backbone: BackboneConfig,
    config: VaplConfig,
    device: torch.device,
    seed: int,
    should_cancel: Callable[[], bool] | None,
) -> _Run:
    order = seed_everything(seed)
    model = VaplModel.build(backbone, config).to(device)
    cnn = [*model.f_o.parameters(), *model.f_m.parameters()]
    opt_f = torch.optim.Adam(cnn, lr=config.lr, weight_decay=config.weight_decay)
    g_params = list(model.g.parameters())
    opt_g = torch.optim.Adam(g_params, lr=config.g_lr) if g_params and config.learns_g else None
    prompted = prompted_indices(train_ds, config)
    batches = DataOrder(train_ds, config.batch_size, order)
    k_f = config.k_f or max(1, math.ceil(len(batches) / config.rounds))
    g_batches = math.ceil(len(prompted) / config.batch_size)
    k_g = config.k_g or max(1, math.ceil(g_batches / config.rounds))
    return _Run(
        model=model,
        config=config,
        device=device,
        seed=seed,
        train_ds=train_ds,
        prompted=prompted,
        size=_image_size(train_ds),
        opt_f=opt_f,
        opt_g=opt_g,
        batches=batches,
        g_order=torch.Generator().manual_seed(seed),
        k_f=k_f,
        k_g=k_g,
        should_cancel=should_cancel,
    )


def _check_cancel(run: _Run) -> None:
    if run.should_cancel is not None and run.should_cancel():
        raise Cancelled("training cancelled")


def _run_round(run: _Run, index: int, sums: dict[str, float], g_losses: list[float]) -> int:
    """One round (refresh scores, phase F, phase G); returns the number of phase-F steps."""
    config = run.config
    masks = _mask_set(config, run.size, run.seed, index)
    refines = config.ablation != "no-refine"
    if config.precise_bn and not run.calibrated:
        recalibrate_streams(run.model, run.train_ds, run.cache, config)
    run.cache = cache = cache_round(
        run.model, run.train_ds, run.prompted, masks if refines else None, config, run.device
    )
    for _ in range(run.k_f):
        _check_cancel(run)
        batch = next(run.batches)
        stats = phase_f_step(run.model, batch, cache, run.opt_f, config, run.device)
        run.calibrated = False
        for key, value in stats.items():
            sums[key] = sums.get(key, 0.0) + value
    if cache is not None and run.opt_g is not None:
        order = torch.randperm(len(run.prompted), generator=run.g_order)
        for step in range(run.k_g):
            _check_cancel(run)
            first = (step * config.batch_size) % len(run.prompted)
            rows = order[first : first + config.batch_size]
            g_losses.append(phase_g_step(run.model, cache, rows, run.opt_g, config, run.device))
    return run.k_f


def train_vapl(
    train_ds: Dataset,
    val_ds: Dataset,
    *,
    backbone: BackboneConfig,
    config: VaplConfig,
    device: torch.device | str,
    seed: int,
    on_epoch: EpochCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
    on_state: StateCallback | None = None,
    resume_from: dict[str, Any] | None = None,
) -> VaplModel:
    """Trains ``f_o``, ``f_m`` and ``g`` (see the module docstring) and returns the best model.

    Args:
        train_ds: items as in :mod:`modeling.ml.data` (image, prompt, has_prompt, label, ...).
        val_ds: validation items (model selection on ``f_o`` accuracy, ties: lower loss).
        backbone: architecture of both streams.
        config: hyperparameters.
        device: where to train.
        seed: seeds initialisation, data order and every round's mask set.
        on_epoch: called as ``on_epoch(epoch, metrics)`` after every epoch (1-based); an
            exception raised there cancels training and propagates.
        should_cancel: polled between steps; True raises
            :class:`modeling.ml.training.Cancelled`.
        on_state: called as ``on_state(epoch, state)`` after every epoch (after ``on_epoch``)
            with the state to resume from (see the module docstring).
        resume_from: a state given to ``on_state`` by an earlier call with the same data,
            ``backbone``, ``config`` and ``seed``; training continues after its epoch.

    Returns:
        The model of the best validation epoch, in eval mode on ``device``, with its history
        (``model.history``: one metrics dict per epoch).
    """
    run = _start_run(train_ds, backbone, config, torch.device(device), seed, should_cancel)
    selector = ModelSelector(config.patience)
    history: list[dict[str, Any]] = []
    start = 0
    if resume_from is not None:
        start, history = _restore(run, selector, resume_from)
    for epoch in range(start + 1, config.epochs + 1):
        if selector.should_stop:  # the resumed state stopped early already
            break
        started = time.perf_counter()
        sums: dict[str, float] = {}
        g_losses: list[float] = []
        steps = sum(
            _run_round(run, (epoch - 1) * config.rounds + r, sums, g_losses)
            for r in range(config.rounds)
        )
        if config.precise_bn:
            recalibrate_streams(run.model, run.train_ds, run.cache, config)
            run.calibrated = True  # until the next phase-F step (phase G leaves the CNNs alone)
        val = evaluate_f_o(run.model, val_ds, config)
        improved = selector.update(epoch, val, run.model.state_dict())
        record: dict[str, Any] = {
            "epoch": epoch,
            **{f"train_{key}": value / steps for key, value in sums.items()},
            "train_loss_g": sum(g_losses) / len(g_losses) if g_losses else None,
            "g_at_half": _g_value(run.model, 0.5),
            **{f"val_{key}": value for key, value in val.items()},
            "best": improved,
            "seconds": time.perf_counter() - started,
        }
        history.append(record)
        if on_epoch is not None:
            on_epoch(epoch, dict(record))
        if on_state is not None:
            on_state(epoch, _capture(run, selector, history, epoch))
        if selector.should_stop:
            break
    assert selector.best_state is not None
    run.model.load_state_dict(selector.best_state)
    run.model.history = history
    run.model.run = {
        "k_f": run.k_f,
        "k_g": run.k_g if run.opt_g is not None else 0,
        "rounds_per_epoch": config.rounds,
        "n_masks": config.n_masks,
        "q": config.keep_probability,
        "style": config.style,
        "prompted_train_images": len(run.prompted),
        "best_epoch": selector.best_epoch,
        "seed": seed,
    }
    return run.model.eval()


def _capture(
    run: _Run, selector: ModelSelector, history: list[dict[str, Any]], epoch: int
) -> dict[str, Any]:
    """The state after ``epoch`` (1-based) that :func:`_restore` continues from."""
    model = run.model
    # At an epoch's end the round cache is not needed: the next round rebuilds it, and with
    # precise BN the streams were just recalibrated (``calibrated``).
    state: dict[str, Any] = {
        "version": STATE_VERSION,
        "epoch": epoch,
        "next_round": epoch * run.config.rounds,
        "seed": run.seed,
        "config": run.config.to_dict(),
        "f_o": model.f_o.state_dict(),
        "f_m": model.f_m.state_dict(),
        "g": model.g.state_dict(),
        "opt_f": run.opt_f.state_dict(),
        "opt_g": run.opt_g.state_dict() if run.opt_g is not None else None,
        "selector": {
            "best_key": list(selector.best_key) if selector.best_key else None,
            # When this epoch is the best one, its weights are the streams' already.
            "best_state": None if selector.best_epoch == epoch else selector.best_state,
            "best_epoch": selector.best_epoch,
            "best_score": selector.best_score,
            "stale": selector.stale,
        },
        "history": history,
        "data_order": run.batches.state(),
        "g_order": run.g_order.get_state(),
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(run.device) if run.device.type == "cuda" else None,
        "calibrated": run.calibrated,
    }
    return cpu_copy(state)


def _restore(
    run: _Run, selector: ModelSelector, state: dict[str, Any]
) -> tuple[int, list[dict[str, Any]]]:
    """Loads a state of :func:`_capture` into a fresh run; returns (epoch, history)."""
    epoch, config = int(state["epoch"]), run.config
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"not a VAPL training state of version {STATE_VERSION}")
    if state["seed"] != run.seed or state["config"] != config.to_dict():
        raise ValueError("the training state was saved with another seed or configuration")
    if int(state["next_round"]) != epoch * config.rounds:
        raise ValueError("the training state's round index does not match its epoch")
    model = run.model
    model.f_o.load_state_dict(state["f_o"])
    model.f_m.load_state_dict(state["f_m"])
    model.g.load_state_dict(state["g"])
    run.opt_f.load_state_dict(state["opt_f"])
    if run.opt_g is not None:
        run.opt_g.load_state_dict(state["opt_g"])
    saved = state["selector"]
    best = saved["best_state"] if saved["best_state"] is not None else model.state_dict()
    selector.best_key = tuple(saved["best_key"]) if saved["best_key"] else None
    selector.best_state = cpu_copy(dict(best))
    selector.best_epoch = int(saved["best_epoch"])
    selector.best_score = dict(saved["best_score"])
    selector.stale = int(saved["stale"])
    run.batches.restore(state["data_order"])
    run.g_order.set_state(state["g_order"].to("cpu", torch.uint8))
    run.calibrated = bool(state["calibrated"])
    # Last: building the run drew from the global RNG (initialisation, prompted_indices).
    torch.set_rng_state(state["rng"].to("cpu", torch.uint8))
    if state.get("cuda_rng") is not None and run.device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"].to("cpu", torch.uint8), run.device)
    return epoch, list(state["history"])


@torch.no_grad()
def _g_value(model: VaplModel, w: float) -> float:
    reference = next(iter(model.g.parameters()), None)
    device = reference.device if reference is not None else torch.device("cpu")
    return float(model.g(torch.tensor(w, device=device)))
