"""Perturbation-based prompt refinement ``t(D)`` of VAPL (Zhang et al.; METHODS.md section 4).

Masks. ``M_j = F + U * R_j`` with ``F = [D = +1]`` (always kept), ``U = [D = -1]`` (unclear)
and ``R_j`` the random keep fields of :class:`~modeling.ml.vapl.masks.MaskSet` (``"pixel"``:
Bernoulli pixels kept with probability ``q = 1 - p``; ``"smooth"``: RISE-style grid). Unimportant
pixels (``D = 0``) are 0 in every mask. The fields are shared by every image of a batch (each
image combines them with its own prompt), so refining an image alone or inside a batch gives the
same map, and they are regenerated from the seed chunk by chunk, never stored.

Scores. ``w_j = softmax(f_m(I * M_j))[k]``, ``k`` the label when given; without a label, the
class ``f_m`` predicts for ``I * M_D`` with ``M_D = F`` (important pixels only), or for
``I * (F + U)`` (unclear pixels kept) when the prompt has no important pixel.

Aggregation (deviation from the paper). The paper divides ``sum_j g(w_j) M_j`` by ``N p``, which
with ``p = 0.1`` and ``q = 0.9`` inflates the map about 9x. Here the self-normalised estimator
``S(x) = sum_j g(w_j) R_j(x) / sum_j R_j(x)`` is used on unclear pixels: the
``g``-weighted mean score of the masks that keep ``x``. A constant score gives exactly a flat
``S``. Where no mask keeps ``x`` (``sum_j R_j(x) = 0``), ``S(x)`` is the mean of ``g(w_j)``.

Refined map (deviation: the rescale). ``A = 1`` on important pixels, ``0`` on unimportant
pixels, and on unclear pixels ``S`` mapped to [0, 1] in one of two ways (``rescale``):

* ``"ratio"`` (default): ``min(1, S / mean_j g(w_j))``, the mean weight of the masks that keep
  ``x`` over the mean weight of all masks, capped at 1. A pixel whose presence does not change
  the scores keeps its value (``A`` about 1), one whose presence lowers them is dimmed in
  proportion. Like the paper's normaliser it divides by a constant per image and shifts
  nothing. It keeps what the prompt leaves open unless the scores say it hurts the class, so,
  unlike ``"range"``, it does not rank the pixels that help above those that do not matter.
* ``"range"``: ``(S - min_j g(w_j)) / (max_j g(w_j) - min_j g(w_j))`` per image. ``S`` is a
  convex combination of the ``g(w_j)``, so this lies in [0, 1]; a pixel reaches 1 only if every
  mask that keeps it scored highest.

With either, when the weights are flat (range below :data:`FLAT_TOLERANCE` times their maximum,
all-zero weights included) every unclear pixel gets 1.

A min-max rescale over the image's unclear pixels stretches whatever spread ``S`` has
to [0, 1]; when the scores barely depend on single pixels that spread is the estimator's
sampling noise (about ``std_j g(w_j) / sqrt(N q)``), and ``I * A`` becomes salt-and-pepper
noise over the unclear region (mean ``|A - A'|`` over unclear pixels between two mask seeds
0.207, against 0.095 with ``"range"``; DecoyDigits boundary prompts, quick preset, 32 masks,
``p = 0.5``). Min-max and ``"range"`` also put a pixel that does not matter in the middle of
[0, 1]: with scribble prompts (most of the strokes unclear) ``A`` averaged 0.51 over unclear
pixels, ``I * A`` showed the unmarked strokes at half brightness, and both streams lost a third
of their accuracy on it. Measured on one trained model per prompt style (quick preset trained
with ``"range"``, 300 test images, prediction-time target), ``f_m(I * A)`` with ``"range"`` / a
scale-only ``S / max_j g(w_j)`` / the raw ``S`` / ``"ratio"``: 0.523 / 0.553 / 0.427 / 0.770
(scribble) and 0.743 / 0.760 / 0.743 / 0.757 (boundary); ``f_o`` on the same inputs 0.510 /
0.547 / 0.457 / 0.843 and 0.800 / 0.800 / 0.793 / 0.813, against ``f_o(I)`` 0.853 and 0.837
and ``f_o(I * [D != 0])`` 0.843 and 0.817. Refined at the true label, ``"ratio"`` gives
``f_o(I * A)`` 0.873 (scribble), above ``f_o(I)``. Mean ``A`` over unclear pixels with
``"ratio"``: 0.97-0.99.

Cost: ``N + 1`` forward passes per image without a label (``N`` with one), batched over masks
and images in chunks of ``chunk`` masked images, in ``inference_mode``; on CUDA the masked
batch is written directly in channels-last order and the forward runs under bfloat16 autocast
(both configurable; on the CPU the default is plain NCHW float32, as channels-last showed no
consistent gain there).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

from modeling.ml.vapl.config import RESCALES
from modeling.ml.vapl.masks import MaskSet, aggregate, normalise_estimate

FLAT_TOLERANCE = 1e-4

WeightFunction = Callable[[Tensor], Tensor]


@contextlib.contextmanager
def eval_mode(*models: nn.Module) -> Iterator[None]:
    """Puts modules in eval mode and restores each one's previous mode afterwards."""
    previous = [m.training for m in models]
    try:
        for m in models:
            m.eval()
        yield
    finally:
        for m, mode in zip(models, previous, strict=True):
            m.train(mode)


def _autocast_enabled(device: torch.device, enabled: bool | None) -> bool:
    return device.type == "cuda" if enabled is None else enabled


def _autocast(device: torch.device, enabled: bool | None) -> contextlib.AbstractContextManager:
    if not _autocast_enabled(device, enabled):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _split_prompt(prompt: Tensor) -> tuple[Tensor, Tensor]:
    # [B, 1, H, W] in {-1, 0, 1} -> boolean important and unclear masks
    return prompt > 0.5, prompt < -0.5


def _check_inputs(x: Tensor, prompt: Tensor) -> None:
    if x.ndim != 4 or prompt.ndim != 4 or prompt.shape[1] != 1:
        raise ValueError(
            f"expected x [B, C, H, W] and prompt [B, 1, H, W], got {x.shape}, {prompt.shape}"
        )
    if x.shape[0] != prompt.shape[0] or x.shape[2:] != prompt.shape[2:]:
        raise ValueError(f"x {tuple(x.shape)} and prompt {tuple(prompt.shape)} do not match")


@torch.inference_mode()
def _predict_class(f_m: nn.Module, x: Tensor, autocast: bool | None) -> Tensor:
    with _autocast(x.device, autocast):
        return f_m(x).argmax(dim=1)


def refinement_target(
    f_m: nn.Module, x: Tensor, prompt: Tensor, *, autocast: bool | None = None
) -> Tensor:
    """Class scored by the masks when no label is given: ``argmax f_m(I * M_D)`` [B] long.

    ``M_D`` keeps the important pixels only; for an image without important pixels it keeps the
    unclear ones too (an all-black input carries no information about the image).
    """
    _check_inputs(x, prompt)
    important, unclear = _split_prompt(prompt)
    has_important = important.flatten(1).any(dim=1)[:, None, None, None]
    keep = torch.where(has_important, important, important | unclear)
    with eval_mode(f_m):
        return _predict_class(f_m, x * keep.to(x.dtype), autocast).clone()


def _masked_batch(base: Tensor, free: Tensor, fields: Tensor, channels_last: bool) -> Tensor:
    """``base + free * R_j`` for every image and field, as one [B * n, C, H, W] batch.

    ``base`` (``I * F``) and ``free`` (``I * U``) are contiguous [B, H, W, C] when
    ``channels_last`` (the result is then written once, directly in channels-last order), else
    [B, C, H, W]; ``fields`` is [n, 1, H, W].
    """
    n = fields.shape[0]
    if channels_last:
        batch, h, w, c = base.shape
        out = torch.addcmul(base[:, None], free[:, None], fields.view(1, n, h, w, 1))
        return out.view(batch * n, h, w, c).permute(0, 3, 1, 2)
    batch, c, h, w = base.shape
    out = torch.addcmul(base[:, None], free[:, None], fields.view(1, n, 1, h, w))
    return out.view(batch * n, c, h, w)


def _prompt_parts(x: Tensor, prompt: Tensor, channels_last: bool) -> tuple[Tensor, Tensor]:
    """``(I * F, I * U)`` in the layout :func:`_masked_batch` expects."""
    important, unclear = _split_prompt(prompt)
    base, free = x * important, x * unclear
    if channels_last:
        return base.permute(0, 2, 3, 1).contiguous(), free.permute(0, 2, 3, 1).contiguous()
    return base.contiguous(), free.contiguous()


@torch.inference_mode()
def _stream_scores(
    f_m: nn.Module,
    x: Tensor,
    prompt: Tensor,
    target: Tensor,
    masks: MaskSet,
    *,
    chunk: int,
    autocast: bool | None,
    channels_last: bool | None,
    g: WeightFunction | None,
) -> tuple[Tensor, Tensor | None]:
    """Scores ``w`` [B, N] and, with ``g``, the weighted field sum [B, H*W] in one pass."""
    batch = x.shape[0]
    if channels_last is None:
        channels_last = x.device.type == "cuda"
    base, free = _prompt_parts(x, prompt, channels_last)
    if _autocast_enabled(x.device, autocast) and x.device.type == "cuda":
        # The first convolution would cast to bfloat16 anyway: writing the masked batch in
        # bfloat16 halves its memory traffic. Fields stay float32 for the aggregation.
        base, free = base.to(torch.bfloat16), free.to(torch.bfloat16)
    scores = torch.empty(batch, masks.n_masks, device=x.device)
    weighted = (
        torch.zeros(batch, x.shape[2] * x.shape[3], device=x.device) if g is not None else None
    )
    per_chunk = max(1, chunk // batch)
    index = target[:, None, None]
    for start, fields in masks.chunks(per_chunk, x.device):
        n = fields.shape[0]
        with _autocast(x.device, autocast):
            logits = f_m(_masked_batch(base, free, fields.to(base.dtype), channels_last))
        probs = logits.float().softmax(dim=1).view(batch, n, -1)
        w = probs.gather(2, index.expand(batch, n, 1)).squeeze(2)  # [B, n]
        scores[:, start : start + n] = w
        if weighted is not None:
            weighted += g(w) @ fields.view(n, -1).float()
    return scores, weighted


def mask_scores(
    f_m: nn.Module,
    x: Tensor,
    prompt: Tensor,
    target: Tensor,
    masks: MaskSet,
    *,
    chunk: int = 256,
    autocast: bool | None = None,
    channels_last: bool | None = None,
) -> Tensor:
    """``w_j = softmax(f_m(I * M_j))[target]`` for every image and mask.

    Args:
        f_m: the masked-stream classifier (run in eval mode; its mode is restored).
        x: images [B, C, H, W] in [0, 1] on the model's device.
        prompt: [B, 1, H, W] in {-1, 0, 1}.
        target: class per image [B] long.
        masks: the mask set (``size`` must equal ``(H, W)``).
        chunk: masked images per forward pass.
        autocast: bfloat16 autocast (``None``: on CUDA only).
        channels_last: build the masked batch channels-last (``None``: on CUDA only).

    Returns:
        [B, N] float32 scores in [0, 1] (an ordinary tensor, usable in autograd).
    """
    _check_inputs(x, prompt)
    with eval_mode(f_m):
        scores, _ = _stream_scores(
            f_m,
            x,
            prompt,
            target,
            masks,
            chunk=chunk,
            autocast=autocast,
            channels_last=channels_last,
            g=None,
        )
    return scores.clone()


def compose_refined(
    estimate: Tensor, prompt: Tensor, weights: Tensor, rescale: str = "ratio"
) -> Tensor:
    """``A`` [B, 1, H, W] in [0, 1]: 1 important, 0 unimportant, rescaled ``S`` on unclear pixels.

    ``rescale="ratio"``: ``min(1, S / mean_j g(w_j))``; ``"range"``: ``S`` against the range of
    ``weights`` (see the module docstring). Differentiable in both (``g`` is learnt through it).

    Args:
        estimate: ``S`` [B, 1, H, W] (only its unclear pixels are used).
        prompt: [B, 1, H, W] in {-1, 0, 1}.
        weights: ``g(w_j)`` [B, N], the weights ``S`` averages.
        rescale: ``"ratio"`` or ``"range"``.
    """
    if rescale not in RESCALES:
        raise ValueError(f"unknown rescale {rescale!r}; expected one of {RESCALES}")
    important, unclear = _split_prompt(prompt)
    weights = weights.to(estimate.dtype)
    low = weights.amin(dim=1).view(-1, 1, 1, 1)
    high = weights.amax(dim=1).view(-1, 1, 1, 1)
    spread = high - low
    # Relative test: constant scores give exactly equal weights (and S equal to them); all-zero
    # weights are flat too.
    flat = ~(spread > FLAT_TOLERANCE * high.abs())
    if rescale == "ratio":
        mean = weights.mean(dim=1).view(-1, 1, 1, 1)
        scaled = (estimate / torch.where(flat, torch.ones_like(mean), mean)).clamp(0.0, 1.0)
    else:
        safe_spread = torch.where(flat, torch.ones_like(spread), spread)
        # The clamp only absorbs rounding: S lies between the smallest and largest weight.
        scaled = ((estimate - low) / safe_spread).clamp(0.0, 1.0)
    rescaled = torch.where(flat, torch.ones_like(estimate), scaled)
    zero = torch.zeros_like(estimate)
    return torch.where(important, torch.ones_like(estimate), torch.where(unclear, rescaled, zero))


def refined_map(
    scores: Tensor,
    prompt: Tensor,
    masks: MaskSet,
    g: WeightFunction | None = None,
    rescale: str = "ratio",
) -> Tensor:
    """``A`` from cached scores: ``compose_refined(aggregate(g(w)), D, g(w))``; differentiable
    in ``g``.

    Args:
        scores: ``w`` [B, N] from :func:`mask_scores` with the same ``masks``.
        prompt: [B, 1, H, W] in {-1, 0, 1}.
        masks: the mask set.
        g: weight function (``None``: identity).
        rescale: ``"ratio"`` or ``"range"`` (:func:`compose_refined`).
    """
    weights = scores if g is None else g(scores)
    return compose_refined(aggregate(weights, masks), prompt, weights, rescale)


def refine(
    f_m: nn.Module,
    x: Tensor,
    prompt: Tensor,
    *,
    n_masks: int,
    p: float = 0.1,
    style: str = "pixel",
    g: WeightFunction | None = None,
    label: Tensor | None = None,
    chunk: int = 256,
    seed: int = 0,
    grid: int = 7,
    autocast: bool | None = None,
    channels_last: bool | None = None,
    rescale: str = "ratio",
) -> Tensor:
    """The refined prompt ``A = t(D)`` [B, 1, H, W] in [0, 1] (see the module docstring).

    Args:
        f_m: the masked-stream classifier (eval mode during the call, mode restored).
        x: images [B, C, H, W] in [0, 1], on the model's device.
        prompt: [B, 1, H, W] in {-1, 0, 1}.
        n_masks: ``N``.
        p: the paper's ``p`` (unclear pixels kept with probability ``1 - p``).
        style: ``"pixel"`` or ``"smooth"``.
        g: weight function (``None``: identity, plain confidence weighting).
        label: class per image [B]; ``None``: the class predicted for ``I * M_D``.
        chunk: masked images per forward pass.
        seed: mask-set seed.
        grid: smooth style grid size.
        autocast: bfloat16 autocast (``None``: on CUDA only).
        channels_last: build the masked batch channels-last (``None``: on CUDA only).

    Returns:
        ``A`` [B, 1, H, W] in ``x``'s dtype, an ordinary tensor (no graph).
    """
    _check_inputs(x, prompt)
    masks = MaskSet(n_masks, (x.shape[2], x.shape[3]), p=p, style=style, grid=grid, seed=seed)
    if label is None:
        label = refinement_target(f_m, x, prompt, autocast=autocast)
    target = torch.as_tensor(label, device=x.device).long().reshape(-1)
    g = g if g is not None else _identity
    with eval_mode(f_m), torch.no_grad():
        scores, weighted = _stream_scores(
            f_m,
            x,
            prompt,
            target,
            masks,
            chunk=chunk,
            autocast=autocast,
            channels_last=channels_last,
            g=g,
        )
        weights = g(scores.clone())
        estimate = normalise_estimate(weighted.clone(), weights, masks)
        return compose_refined(estimate, prompt, weights, rescale).to(x.dtype)


def _identity(w: Tensor) -> Tensor:
    return w
