"""Generalized Laplace noise (Zhang et al. 2020): ``pi_0(z) ~ ||z||_1^{-k} exp(-||z||_1 / scale)``.

``0 <= k < dim``; ``||z||_1 ~ Gamma(dim - k, scale)`` and the direction ``z / ||z||_1`` is
uniform on the l1 sphere (Dirichlet(1, ..., 1) magnitudes with independent random signs),
independent of the radius. ``k = 0`` is i.i.d. ``Laplace(0, scale)``.

Sampler (a transform of the base draw ``G ~ N(0, I)``): coordinate-wise Laplace
``x_i = sign(G_i) * (-log(2 Phi(-|G_i|)))`` with ``2 Phi(-|G|) = erfc(|G| / sqrt 2)``
(relative precision kept in the tail, so it never saturates), computed in the output's
dtype; its l1 norm ``T ~ Gamma(dim)`` (summed in float64) is independent of the direction
``x / T``; then ``T`` is coupled to ``T' ~ Gamma(dim - k)`` by inverse CDFs through a
``MonotoneTable`` evaluated on the draws' device (stated error: ``approximation()``) and
``z = scale * x * T' / T``. For ``k = 0``, ``z = scale * x`` (i.i.d. Laplace).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy import stats

from harness.noise.base import Marginal, Noise
from harness.noise.batch import Batch
from harness.noise.coupling import GammaLaw, log_two_tail_, row_column, write_scaled
from harness.noise.monotone_table import MonotoneTable, cached_table
from harness.noise.numerics import TINY, couple_gamma
from harness.noise.params import check_dim, check_exponent, check_positive_finite
from harness.noise.registry import register_noise

_LOG2 = math.log(2.0)


@register_noise("generalized_laplace")
class GeneralizedLaplace(Noise):
    """``pi_0(z) ~ ||z||_1^{-k} exp(-||z||_1 / scale)``; ``E||z||_1 = (dim - k) scale``;
    ``E||z||_2^2 = 2 scale^2 (d - k)(d - k + 1) / (d + 1)`` (``E||u||_2^2 = 2 / (d + 1)``
    for ``u`` uniform on the l1 sphere)."""

    scale_param = "scale"
    example_params = ({"k": 0.0}, {"k": 1.5})

    def __init__(self, scale: float, k: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.dim = check_dim(dim)
        self.k = check_exponent(k, self.dim)

    def marginals(self) -> list[Marginal]:
        """``||z||_1 ~ Gamma(dim - k, scale)``; ``|z_1| / ||z||_1 ~ Beta(1, dim - 1)`` (a
        Dirichlet(1, ..., 1) coordinate); the sign of ``z_1`` is fair."""
        out = [
            Marginal(
                "l1 norm ||z||_1",
                lambda z: np.abs(z).sum(axis=1),
                stats.gamma(self.dim - self.k, scale=self.scale).cdf,
            )
        ]
        if self.dim >= 2:
            out.append(
                Marginal(
                    "direction |z_1| / ||z||_1",
                    lambda z: np.abs(z[:, 0]) / np.abs(z).sum(axis=1),
                    stats.beta(1.0, self.dim - 1.0).cdf,
                )
            )
        return out

    # the transform -------------------------------------------------------------------------
    def l1_table(self) -> MonotoneTable:
        """``T ~ Gamma(dim) -> T' ~ Gamma(dim - k)`` by inverse CDFs."""

        def build() -> MonotoneTable:
            law = GammaLaw(float(self.dim))
            return MonotoneTable(
                lambda T: couple_gamma(T, float(self.dim), self.dim - self.k),
                law,
                name=f"{self.name} l1 norm",
            )

        return cached_table(self, "l1", build)

    def prepare(self, device: torch.device | str) -> None:
        if self.k:
            self.l1_table().prepare(device)

    def approximation(self) -> dict[str, Any] | None:
        return {"l1 table": self.l1_table().bound.as_dict()} if self.k else None

    def _write(self, batch: Batch, out: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
        G = batch.G
        table = self.l1_table() if self.k else None
        for rows in batch.row_tiles():
            # log erfc(|G| / sqrt 2) = log(2 Phi(-|G|)) <= 0: minus the Laplace magnitude
            n = rows.stop - rows.start
            host = batch.ufunc_scratch("laplace", n, out.dtype)
            a = log_two_tail_(batch.scratch("laplace", n, out.dtype), G[rows], host)
            if table is None:
                scale: torch.Tensor | float = self.scale
            else:
                T = a.sum(dim=1, dtype=torch.float64).neg_().clamp_min_(TINY)
                t = torch.log(T)
                ratio = torch.exp(table.log_phi_of_log(t).sub_(t))
                scale = row_column(ratio.mul_(self.scale), out.dtype)
            torch.copysign(a, G[rows], out=a)
            write_scaled(out[rows], a, scale, x)
        return out

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self.check_G(G)
        return self._write(Batch(G), torch.empty_like(G) if out is None else out, None)

    def perturb(self, x: torch.Tensor, G: torch.Tensor | Batch, out: torch.Tensor) -> torch.Tensor:
        return self._write(Batch.of(G), out, x)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        n1 = z.abs().sum(dim=-1)
        out = -n1 / self.scale
        if self.k:
            out = out - self.k * torch.log(n1)
        return out

    def second_moment(self) -> float:
        d, k = self.dim, self.k
        return 2.0 * self.scale**2 * (d - k) * (d - k + 1) / (d + 1)
