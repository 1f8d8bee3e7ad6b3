"""I.i.d. symmetric Pareto (Lomax) noise, density ``prod_i (a / 2s) (1 + |z_i| / s)^{-(a+1)}``
(Yang et al. 2020, "Randomized smoothing of all shapes and sizes")."""

from __future__ import annotations

import math

import torch
from scipy import stats

from harness.noise.batch import Batch
from harness.noise.coordinatewise import CoordinateNoise, SymmetricLaw
from harness.noise.coupling import expm1_, log_two_tail_, write_scaled
from harness.noise.params import check_dim, check_positive_finite
from harness.noise.registry import register_noise


@register_noise("pareto")
class Pareto(CoordinateNoise):
    """``P(|z_i| > x) = (1 + x / s)^{-a}`` (``|z_i|`` is Lomax); tail form of the inverse CDF:
    ``|z_i| = s * ((2 Phi(-|G_i|))^{-1/a} - 1)``, computed as an ``expm1`` of logs
    (``coupling.expm1_``: numpy's vectorized one on an AVX512 CPU, else torch's).
    ``E||z||_2^2 = 2 d s^2 / ((a - 1)(a - 2))`` for ``a > 2`` (infinite otherwise, and then
    the family cannot be matched in variance).
    """

    scale_param = "scale"
    example_params = ({"a": 5.0}, {"a": 8.0})

    def __init__(self, scale: float, a: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.a = check_positive_finite("a", a)
        self.dim = check_dim(dim)

    def coordinate_law(self) -> SymmetricLaw:
        return SymmetricLaw(stats.lomax(self.a, scale=self.scale))

    def coordinate_map(self, G: torch.Tensor) -> torch.Tensor:
        a = log_two_tail_(torch.empty_like(G), G).mul_(-1.0 / self.a)
        return torch.copysign(a.expm1_(), G, out=a).mul_(self.scale)

    def _fused(self, batch: Batch, out: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
        G = batch.G
        for rows in batch.row_tiles():
            # -log(2 Phi(-|G|)) = -log erfc(|G| / sqrt 2) >= 0, precise in the tail
            n = rows.stop - rows.start
            host = batch.ufunc_scratch("pareto", n, out.dtype)
            a = log_two_tail_(batch.scratch("pareto", n, out.dtype), G[rows], host)
            a.mul_(-1.0 / self.a)
            expm1_(a, host)
            torch.copysign(a, G[rows], out=a)
            write_scaled(out[rows], a, self.scale, x)
        return out

    def coordinate_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return -(self.a + 1.0) * torch.log1p(x.abs() / self.scale)

    def second_moment(self) -> float:
        if self.a <= 2:
            return math.inf
        return 2.0 * self.dim * self.scale**2 / ((self.a - 1.0) * (self.a - 2.0))
