"""The l2 exponential family ``pi(z) ~ ||z||_2^{-j} exp(-(||z||_2 / s)^k)`` ("Exp2" in Yang
et al. 2020, "Randomized smoothing of all shapes and sizes"); k = 2, j = 0 is the Gaussian
with ``sigma = s / sqrt 2``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from harness.noise.base import Noise, check_dim, check_positive_finite, register_noise
from harness.noise.coupling import check_nonnegative_finite, finish, gamma_quantile, spherical


@register_noise("exp2")
class Exp2(Noise):
    """Spherically symmetric; the radius satisfies ``(||z|| / s)^k ~ Gamma((d - j) / k, 1)``.

    Transform: direction ``G / ||G||``, radius ``s * T^{1/k}`` with T the Gamma quantile at
    ``F_chi_d(||G||)`` (both tails kept exact). Needs ``k > 0`` and ``0 <= j < d``.
    ``E||z||_2^2 = s^2 Gamma(a + 2/k) / Gamma(a)``, ``a = (d - j) / k``.
    """

    def __init__(self, scale: float, k: float, j: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.k = check_positive_finite("k", k)
        self.j = check_nonnegative_finite("j", j)
        self.dim = check_dim(dim)
        if self.j >= self.dim:
            raise ValueError(f"j must be < dim for a proper density, got j={self.j}, dim={dim}")

    @property
    def shape(self) -> float:
        """``a = (d - j) / k``: the Gamma shape of ``(||z|| / s)^k``."""
        return (self.dim - self.j) / self.k

    @classmethod
    def matched(cls, sigma0: float, dim: int, k: float = 1.0, j: float = 0.0) -> Exp2:
        """The member with ``E||z||^2 = dim * sigma0^2``:
        ``s = sigma0 * sqrt(d * Gamma(a) / Gamma(a + 2/k))``."""
        sigma0 = check_positive_finite("sigma0", sigma0)
        probe = cls(scale=1.0, k=k, j=j, dim=dim)
        return cls(scale=sigma0 * math.sqrt(dim / probe.second_moment()), k=k, j=j, dim=dim)

    def params(self) -> dict[str, Any]:
        return {"scale": self.scale, "k": self.k, "j": self.j, "dim": self.dim}

    def _quantile(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        T = gamma_quantile(self.shape)(lower, upper)
        return self.scale * T ** (1.0 / self.k)

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self._check_G(G)
        return finish(spherical(G, self._quantile), G, out)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        r = torch.linalg.vector_norm(z, dim=-1)
        out = -((r / self.scale) ** self.k)
        if self.j > 0:
            out = out - self.j * torch.log(r)
        return out

    def second_moment(self) -> float:
        a = self.shape
        return self.scale**2 * math.exp(math.lgamma(a + 2.0 / self.k) - math.lgamma(a))
