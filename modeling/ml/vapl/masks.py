"""Random keep fields of VAPL's refinement masks and the estimator over them.

A mask is ``M_j = F + U * R_j`` (``F = [D = +1]``, ``U = [D = -1]``); this module owns the fields
``R_j`` [1, H, W] and the self-normalised estimator ``S = sum_j g(w_j) R_j / sum_j R_j``.

Styles: ``"pixel"``, independent Bernoulli pixels kept with probability ``q = 1 - p`` (the
paper's "set to +1 when p' >= p"); ``"smooth"``, the RISE construction (an ``s x s``
Bernoulli(``q``) grid, bilinear upsampling, random shift; see
:func:`modeling.ml.explain.rise.rise_masks`), values in [0, 1] with mean about ``q``.

Reproducibility: the fields are a function of ``(seed, N, H, W, p, style, grid)`` only. They are
generated on the requested device in blocks of :data:`FIELD_BLOCK`, block ``k`` from a
``torch.Generator`` seeded with :func:`derive_seed` ``(seed, k)``, so any chunk is regenerated
without the others, the chunk size never changes the masks, and a mask set is never stored.
CPU and CUDA generators give different (equally valid) fields for the same seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from modeling.ml.explain.rise import rise_masks

FIELD_BLOCK = 64
_MASK64 = (1 << 64) - 1


def derive_seed(seed: int, index: int) -> int:
    """A 63-bit generator seed for item ``index`` of a stream seeded with ``seed``."""
    # splitmix64 finaliser: neighbouring (seed, block) pairs get unrelated generator seeds.
    z = (seed * 0x9E3779B97F4A7C15 + (index + 1) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (z ^ (z >> 31)) >> 1  # 63 bits: manual_seed takes a signed 64-bit value


@dataclass(frozen=True)
class MaskSet:
    """``N`` random keep fields ``R_j`` [1, H, W] for the unclear region, reproducible from a seed.

    Attributes:
        n_masks: ``N``.
        size: ``(H, W)``.
        p: the paper's ``p``; keep probability ``q = 1 - p``.
        style: ``"pixel"`` or ``"smooth"``.
        grid: cells per side of the smooth style's grid.
        seed: the mask set's seed.
    """

    n_masks: int
    size: tuple[int, int]
    p: float = 0.1
    style: str = "pixel"
    grid: int = 7
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_masks < 1:
            raise ValueError(f"n_masks must be >= 1, got {self.n_masks}")
        if not 0.0 <= self.p < 1.0:
            raise ValueError(f"p must be in [0, 1), got {self.p}")
        if self.style not in ("pixel", "smooth"):
            raise ValueError(f"unknown mask style {self.style!r}")
        object.__setattr__(self, "size", (int(self.size[0]), int(self.size[1])))

    @property
    def q(self) -> float:
        """Keep probability of an unclear pixel."""
        return 1.0 - self.p

    def block(self, index: int, device: torch.device, dtype: torch.dtype) -> Tensor:
        """Fields of block ``index``: masks ``index * FIELD_BLOCK ..`` as [n, 1, H, W]."""
        start = index * FIELD_BLOCK
        n = min(FIELD_BLOCK, self.n_masks - start)
        generator = torch.Generator(device=device)
        generator.manual_seed(derive_seed(self.seed, index))
        if self.style == "smooth":
            return rise_masks(
                n, self.size, grid=self.grid, p1=self.q, generator=generator, dtype=dtype
            )
        uniform = torch.rand((n, 1, *self.size), generator=generator, device=device)
        return (uniform < self.q).to(dtype)

    def chunks(
        self, size: int, device: torch.device | str, dtype: torch.dtype = torch.float32
    ) -> Iterator[tuple[int, Tensor]]:
        """Yields ``(start, fields [n, 1, H, W])`` covering masks ``0 .. N-1`` in order.

        Args:
            size: masks per chunk (the last chunk may be smaller).
            device: where the fields are generated.
            dtype: floating dtype of the fields.
        """
        device = torch.device(device)
        size = max(1, int(size))
        pending: list[Tensor] = []
        buffered = 0
        start = 0
        n_blocks = -(-self.n_masks // FIELD_BLOCK)
        for index in range(n_blocks):
            pending.append(self.block(index, device, dtype))
            buffered += pending[-1].shape[0]
            last = index == n_blocks - 1
            while buffered >= size or (last and buffered > 0):
                joined = pending[0] if len(pending) == 1 else torch.cat(pending)
                head, rest = joined[:size], joined[size:]
                yield start, head
                start += head.shape[0]
                pending = [rest] if rest.shape[0] else []
                buffered = rest.shape[0]

    def coverage(self, device: torch.device | str) -> Tensor:
        """``sum_j R_j`` [1, H, W] in float32 (cached per device)."""
        return _coverage(self, str(torch.device(device)))


@lru_cache(maxsize=16)
def _coverage(masks: MaskSet, device: str) -> Tensor:
    total = torch.zeros(1, *masks.size, device=device)
    for _, fields in masks.chunks(4 * FIELD_BLOCK, device):
        total += fields.sum(0)
    return total


class _WeightedFieldSum(torch.autograd.Function):
    """``weights [B, N] @ R [N, H*W]`` streamed over regenerated fields, forward and backward."""

    @staticmethod
    def forward(ctx: object, weights: Tensor, masks: MaskSet, chunk: int) -> Tensor:  # type: ignore[override]
        ctx.masks, ctx.chunk = masks, chunk  # type: ignore[attr-defined]
        out = torch.zeros(weights.shape[0], masks.size[0] * masks.size[1], device=weights.device)
        for start, fields in masks.chunks(chunk, weights.device):
            n = fields.shape[0]
            out += weights[:, start : start + n].float() @ fields.view(n, -1)
        return out

    @staticmethod
    def backward(ctx: object, grad: Tensor) -> tuple[Tensor, None, None]:  # type: ignore[override]
        masks: MaskSet = ctx.masks  # type: ignore[attr-defined]
        grad_weights = torch.empty(grad.shape[0], masks.n_masks, device=grad.device)
        for start, fields in masks.chunks(ctx.chunk, grad.device):  # type: ignore[attr-defined]
            n = fields.shape[0]
            grad_weights[:, start : start + n] = grad.float() @ fields.view(n, -1).T
        return grad_weights, None, None


def normalise_estimate(weighted: Tensor, weights: Tensor, masks: MaskSet) -> Tensor:
    """Self-normalised estimator ``S`` [B, 1, H, W] from ``sum_j g(w_j) R_j`` [B, H*W]."""
    coverage = masks.coverage(weighted.device).view(1, -1)  # [1, H*W]
    fallback = weights.float().mean(dim=1, keepdim=True)  # no mask keeps the pixel
    covered = coverage > 0
    estimate = torch.where(covered, weighted / coverage.clamp_min(1e-12), fallback)
    return estimate.view(-1, 1, *masks.size)


def aggregate(weights: Tensor, masks: MaskSet, *, chunk: int = 4 * FIELD_BLOCK) -> Tensor:
    """``S = sum_j weights_j R_j / sum_j R_j`` [B, 1, H, W], differentiable in ``weights``.

    Args:
        weights: ``g(w_j)`` [B, N] (may require grad; the fields are regenerated in backward,
            never kept).
        masks: the mask set the scores were computed with.
        chunk: fields per streamed chunk.
    """
    if weights.ndim != 2 or weights.shape[1] != masks.n_masks:
        raise ValueError(f"weights must be [B, {masks.n_masks}], got {tuple(weights.shape)}")
    weighted = _WeightedFieldSum.apply(weights, masks, chunk)
    return normalise_estimate(weighted, weights, masks)
