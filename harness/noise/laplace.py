"""I.i.d. Laplace noise, density ``prod_i exp(-|z_i| / b) / (2 b)`` (Teng et al. 2020;
Yang et al. 2020, "Randomized smoothing of all shapes and sizes", the l1 Wulff noise)."""

from __future__ import annotations

import math
from typing import Any

import torch

from harness.noise.base import Noise, check_dim, check_positive_finite, register_noise
from harness.noise.coupling import finish, symmetric_tail


@register_noise("laplace")
class Laplace(Noise):
    """``z_i = sign(G_i) * b * (-log(2 Phi(-|G_i|)))``: the tail form of ``F^{-1}(Phi(G_i))``
    with ``F^{-1}(u) = b log(2u)`` for ``u < 1/2``. ``E||z||_2^2 = 2 d b^2``."""

    def __init__(self, scale: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.dim = check_dim(dim)

    @classmethod
    def matched(cls, sigma0: float, dim: int) -> Laplace:
        """The Laplace noise with ``E||z||^2 = dim * sigma0^2``: ``b = sigma0 / sqrt 2``."""
        sigma0 = check_positive_finite("sigma0", sigma0)
        return cls(scale=sigma0 / math.sqrt(2.0), dim=dim)

    def params(self) -> dict[str, Any]:
        return {"scale": self.scale, "dim": self.dim}

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self._check_G(G)
        sign, log_tail = symmetric_tail(G)
        magnitude = -(math.log(2.0) + log_tail)  # -log(2 Phi(-|G|)) >= 0
        return finish(sign * (self.scale * magnitude.clamp_min(0.0)), G, out)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -z.abs().sum(dim=-1) / self.scale

    def second_moment(self) -> float:
        return 2.0 * self.dim * self.scale**2
