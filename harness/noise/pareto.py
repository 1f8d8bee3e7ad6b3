"""I.i.d. symmetric Pareto (Lomax) noise, density ``prod_i (a / 2s) (1 + |z_i| / s)^{-(a+1)}``
(Yang et al. 2020, "Randomized smoothing of all shapes and sizes")."""

from __future__ import annotations

import math

import torch
from scipy import stats

from harness.noise.coordinatewise import CoordinateNoise, SymmetricLaw
from harness.noise.coupling import symmetric_tail
from harness.noise.params import check_dim, check_positive_finite
from harness.noise.registry import register_noise


@register_noise("pareto")
class Pareto(CoordinateNoise):
    """``P(|z_i| > x) = (1 + x / s)^{-a}`` (``|z_i|`` is Lomax); tail form of the inverse CDF:
    ``|z_i| = s * ((2 Phi(-|G_i|))^{-1/a} - 1)``, computed as an ``expm1`` of logs.
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
        sign, log_tail = symmetric_tail(G)
        minus_log_2u = -(math.log(2.0) + log_tail)  # -log(2 Phi(-|G|)) >= 0
        magnitude = torch.expm1(minus_log_2u.clamp_min(0.0) / self.a)
        return sign * (self.scale * magnitude)

    def coordinate_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return -(self.a + 1.0) * torch.log1p(x.abs() / self.scale)

    def second_moment(self) -> float:
        if self.a <= 2:
            return math.inf
        return 2.0 * self.dim * self.scale**2 / ((self.a - 1.0) * (self.a - 2.0))
