"""The learnable weight function ``g`` of VAPL's prompt refinement (METHODS.md section 4.4).

``g`` maps a mask score ``w`` in [0, 1] (a softmax probability) to its weight in the refined map.
It must be monotone non-decreasing with ``g(0) = 0`` and ``g(1) = 1``.

Construction: one hidden layer, ``h(w) = sum_i v_i sigma_i(u_i w)``, with ``u_i = softplus(.)`` and
``v_i = softplus(.)`` positive and no biases, and ``g(w) = h(w) / h(1)``.

* Monotone: positive weights and increasing activations make ``h`` increasing, so ``g`` is.
* ``g(0) = 0`` exactly because every ``sigma_i(0) = 0`` and there is no bias; ``g(1) = 1``
  exactly by the division by ``h(1)`` (chosen instead of the paper's penalty
  ``lambda_3 (g(1) - 1)^2``, which then is identically 0).
* Curved both ways: with non-negative inputs, positive weights and no bias a ReLU network is the
  identity, and one activation family is not enough either: tanh is concave on ``[0, inf)`` and a
  positive combination of concave functions stays concave, while the curvature of
  ``softplus(t) - ln 2`` sits near ``t = 0``, so a bias-free network of such units cannot bend
  near ``w = 1`` (a fit of ``w^2`` stays about 0.1 off). Half the units are therefore ``tanh``
  (concave) and half are shifted softplus ``softplus(t - c_i) - softplus(-c_i)`` with FIXED
  offsets ``c_i`` spread over ``[0, 8]`` (convex, ``sigma(0) = 0``, no learnable bias): positive
  sums of these are smooth hinges, which reach convex targets such as ``w^2`` and concave ones
  such as ``sqrt(w)`` within about 0.03 (steep S shapes such as
  ``sigmoid(10 (w - 0.5))`` fit only to about 0.17).
* Initialisation: almost all output weight on a tanh unit with a small slope, so ``g`` starts
  within 1e-2 of the identity (plain confidence weighting).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_MAX_OFFSET = 8.0


def _inverse_softplus(value: Tensor) -> Tensor:
    return torch.log(torch.expm1(value))


class MonotoneG(nn.Module):
    """Monotone ``g: [0, 1] -> [0, 1]`` with ``g(0) = 0`` and ``g(1) = 1`` exactly.

    Args:
        hidden: number of hidden units (at least 2: half tanh, half shifted softplus).
    """

    def __init__(self, hidden: int = 16) -> None:
        super().__init__()
        if hidden < 2:
            raise ValueError(f"hidden must be >= 2, got {hidden}")
        self.n_tanh = hidden // 2
        n_soft = hidden - self.n_tanh
        offsets = torch.linspace(0.0, _MAX_OFFSET, n_soft)
        self.register_buffer("offsets", offsets)
        # Slopes spread over decades so that both gentle and sharp bends are reachable.
        tanh_slopes = torch.logspace(-1.0, math.log10(30.0), self.n_tanh)
        soft_slopes = offsets + 1.0
        self.raw_slope = nn.Parameter(_inverse_softplus(torch.cat([tanh_slopes, soft_slopes])))
        raw_out = torch.full((hidden,), -8.0)
        raw_out[0] = _inverse_softplus(torch.tensor(1.0))  # the near-linear tanh(0.1 w) unit
        self.raw_out = nn.Parameter(raw_out)

    def _h(self, w: Tensor) -> Tensor:
        z = w.unsqueeze(-1) * F.softplus(self.raw_slope)  # [..., hidden], >= 0
        concave = torch.tanh(z[..., : self.n_tanh])
        soft = z[..., self.n_tanh :]
        convex = F.softplus(soft - self.offsets) - F.softplus(-self.offsets)
        return torch.cat([concave, convex], dim=-1) @ F.softplus(self.raw_out)

    def forward(self, w: Tensor) -> Tensor:
        """``g(w)`` elementwise, same shape and dtype as ``w``; in [0, 1] for ``w`` in [0, 1]."""
        dtype = w.dtype
        w = w.to(self.raw_slope.dtype)
        one = torch.ones((), dtype=w.dtype, device=w.device)
        return (self._h(w) / self._h(one)).to(dtype)

    def endpoint_penalty(self) -> Tensor:
        """``(g(1) - 1)^2``, the paper's ``L_MLP``; zero up to rounding by construction."""
        one = torch.ones((), dtype=self.raw_slope.dtype, device=self.raw_slope.device)
        return (self(one) - 1.0) ** 2


class IdentityG(nn.Module):
    """``g(w) = w``: plain confidence weighting (the ``"no-g"`` ablation); no parameters."""

    def forward(self, w: Tensor) -> Tensor:
        """Returns ``w`` unchanged."""
        return w

    def endpoint_penalty(self) -> Tensor:
        """Always 0."""
        return torch.zeros(())
