"""I.i.d. symmetric Pareto (Lomax) noise, density ``prod_i (a / 2s) (1 + |z_i| / s)^{-(a+1)}``
(Yang et al. 2020, "Randomized smoothing of all shapes and sizes")."""

from __future__ import annotations

import math
from typing import Any

import torch

from harness.noise.base import Noise, check_dim, check_positive_finite, register_noise
from harness.noise.coupling import finish, symmetric_tail


@register_noise("pareto")
class Pareto(Noise):
    """``P(|z_i| > x) = (1 + x / s)^{-a}``; tail form of the inverse CDF:
    ``|z_i| = s * ((2 Phi(-|G_i|))^{-1/a} - 1)``, computed as an ``expm1`` of logs.
    ``E||z||_2^2 = 2 d s^2 / ((a - 1)(a - 2))`` for ``a > 2`` (infinite otherwise).
    """

    def __init__(self, scale: float, a: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.a = check_positive_finite("a", a)
        self.dim = check_dim(dim)

    @classmethod
    def matched(cls, sigma0: float, dim: int, a: float) -> Pareto:
        """The member with ``E||z||^2 = dim * sigma0^2``:
        ``s = sigma0 * sqrt((a - 1)(a - 2) / 2)`` (needs ``a > 2``)."""
        sigma0 = check_positive_finite("sigma0", sigma0)
        a = check_positive_finite("a", a)
        if a <= 2:
            raise ValueError(f"Pareto has no finite second moment unless a > 2, got a={a}")
        return cls(scale=sigma0 * math.sqrt((a - 1.0) * (a - 2.0) / 2.0), a=a, dim=dim)

    def params(self) -> dict[str, Any]:
        return {"scale": self.scale, "a": self.a, "dim": self.dim}

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self._check_G(G)
        sign, log_tail = symmetric_tail(G)
        minus_log_2u = -(math.log(2.0) + log_tail)  # -log(2 Phi(-|G|)) >= 0
        magnitude = torch.expm1(minus_log_2u.clamp_min(0.0) / self.a)
        return finish(sign * (self.scale * magnitude), G, out)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -(self.a + 1.0) * torch.log1p(z.abs() / self.scale).sum(dim=-1)

    def second_moment(self) -> float:
        if self.a <= 2:
            return math.inf
        return 2.0 * self.dim * self.scale**2 / ((self.a - 1.0) * (self.a - 2.0))
