"""Hyperparameters of VAPL (Zhang et al., "Visual Attention-Prompted Prediction and Learning")."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

Ablation = Literal["no-refine", "no-share", "no-g"]
MaskStyle = Literal["pixel", "smooth"]
ABLATIONS = ("no-refine", "no-share", "no-g")
MASK_STYLES = ("pixel", "smooth")
Rescale = Literal["ratio", "range"]
RESCALES = ("ratio", "range")


@dataclass(frozen=True)
class VaplConfig:
    """Everything a VAPL run needs besides the backbone; defaults are the paper's.

    Attributes:
        lambda1: weight of ``L_param = ||W_o - W_m||_F^2`` (convolution weights).
        lambda2: weight of ``L_feature`` (pooled features before the head).
        lambda3: weight of ``L_MLP = (g(1) - 1)^2``. :class:`MonotoneG` meets ``g(1) = 1``
            exactly, so this term is identically 0; the weight is kept for the run record.
        batch_size: images per phase-F and phase-G step.
        lr: Adam learning rate of ``f_o`` and ``f_m``.
        g_lr: Adam learning rate of ``g``. The paper gives one learning rate; ``g``'s parameters
            live in softplus space, where Adam steps of 1e-4 would leave ``g`` at its
            initialisation for a whole run, so ``g`` has its own (1e-2).
        weight_decay: Adam weight decay of the CNNs.
        epochs: passes over the training set (phase-F steps); validation after each.
        n_masks: ``N``, masks per refinement.
        p: the paper's ``p``; an unclear pixel is kept with probability ``q = 1 - p``.
        style: ``"pixel"`` (independent Bernoulli pixels) or ``"smooth"`` (RISE-style grid).
        grid: cells per side of the smooth style's Bernoulli grid.
        k_f: phase-F steps per round (``None``: the epoch's steps split evenly over ``rounds``).
        k_g: phase-G steps per round (``None``: one pass over the prompted training images,
            split evenly over ``rounds``).
        rounds: rounds per epoch; each round refreshes the cached mask scores with the
            current ``f_m``, then runs phase F and phase G.
        ablation: ``None`` (full VAPL), ``"no-refine"`` (``A`` = the prompt with unclear pixels
            kept), ``"no-share"`` (``lambda1 = lambda2 = 0``), ``"no-g"`` (``g`` = identity).
        g_hidden: hidden units of :class:`MonotoneG` (half tanh, half shifted softplus).
        chunk: masked images per forward pass during refinement (bounds memory).
        mask_seed: seed of the mask set used at prediction time (``predict_proba``, ``refine``).
        autocast: bfloat16 autocast for refinement forwards (``None``: on for CUDA only).
        channels_last: channels-last masked batches in refinement (``None``: CUDA only).
        patience: stop after this many epochs without a better validation score (``None``:
            never stop early).
        param_reduction: ``"sum"`` (the paper's ``||W_o - W_m||_F^2``) or ``"mean"`` (divided by
            the number of convolution weights) for ``L_param``.
        precise_bn: re-estimate both streams' BatchNorm statistics with the current weights at
            the start of every round and before every validation (not in the paper; see
            :mod:`modeling.ml.vapl.trainer`).
        rescale: how the estimate ``S`` becomes ``A`` on unclear pixels: ``"ratio"``
            (``min(1, S / mean_j g(w_j))``) or ``"range"`` (against the weights' range); see
            :mod:`modeling.ml.vapl.refinement`. A record without it (written before it existed)
            reads as ``"range"``, the rescale it was trained with.
    """

    lambda1: float = 0.1
    lambda2: float = 1.0
    lambda3: float = 10.0
    batch_size: int = 16
    lr: float = 1e-4
    g_lr: float = 1e-2
    weight_decay: float = 0.0
    epochs: int = 30
    n_masks: int = 5000
    p: float = 0.1
    style: MaskStyle = "pixel"
    grid: int = 7
    k_f: int | None = None
    k_g: int | None = None
    rounds: int = 1
    ablation: Ablation | None = None
    g_hidden: int = 16
    chunk: int = 256
    mask_seed: int = 0
    autocast: bool | None = None
    channels_last: bool | None = None
    patience: int | None = None
    param_reduction: Literal["sum", "mean"] = "sum"
    precise_bn: bool = True
    rescale: Rescale = "ratio"

    def __post_init__(self) -> None:
        if self.param_reduction not in ("sum", "mean"):
            raise ValueError(
                f"param_reduction must be 'sum' or 'mean', got {self.param_reduction!r}"
            )
        if self.rescale not in RESCALES:
            raise ValueError(f"unknown rescale {self.rescale!r}; expected one of {RESCALES}")
        if self.ablation is not None and self.ablation not in ABLATIONS:
            raise ValueError(f"unknown ablation {self.ablation!r}; expected one of {ABLATIONS}")
        if self.style not in MASK_STYLES:
            raise ValueError(f"unknown mask style {self.style!r}; expected one of {MASK_STYLES}")
        if not 0.0 <= self.p < 1.0:
            raise ValueError(f"p must be in [0, 1), got {self.p}")
        for name in ("batch_size", "epochs", "n_masks", "rounds", "chunk", "grid", "g_hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.g_hidden < 2:
            raise ValueError("g_hidden must be >= 2 (one concave and one convex unit)")
        for name in ("k_f", "k_g", "patience"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {value}")

    @classmethod
    def quick(cls, **overrides: Any) -> VaplConfig:
        """A CPU-friendly setting (DecoyDigits calibration: Adam 1e-3, batch 32, 128 masks)."""
        values: dict[str, Any] = {
            "batch_size": 32,
            "lr": 1e-3,
            "epochs": 15,
            "n_masks": 128,
            "chunk": 256,
        }
        values.update(overrides)
        return cls(**values)

    @property
    def keep_probability(self) -> float:
        """``q = 1 - p``: probability that a mask keeps an unclear pixel."""
        return 1.0 - self.p

    @property
    def effective_lambda1(self) -> float:
        """``lambda1`` after the ablation (0 for ``"no-share"``)."""
        return 0.0 if self.ablation == "no-share" else self.lambda1

    @property
    def effective_lambda2(self) -> float:
        """``lambda2`` after the ablation (0 for ``"no-share"``)."""
        return 0.0 if self.ablation == "no-share" else self.lambda2

    @property
    def learns_g(self) -> bool:
        """Whether phase G runs (not for ``"no-g"`` nor ``"no-refine"``)."""
        return self.ablation not in ("no-g", "no-refine")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (the run record)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VaplConfig:
        """Inverse of :meth:`to_dict` (a record without ``rescale`` reads as ``"range"``)."""
        return cls(**{"rescale": "range", **data})

    def with_changes(self, **changes: Any) -> VaplConfig:
        """A copy with some fields replaced."""
        return replace(self, **changes)
