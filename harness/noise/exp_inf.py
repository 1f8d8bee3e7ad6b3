"""The l-inf exponential family ``pi(z) ~ ||z||_inf^{-j} exp(-(||z||_inf / s)^k)``
("ExpInf" in Yang et al. 2020, "Randomized smoothing of all shapes and sizes"): the Wulff
noise of the l1 norm (its level sets are cubes)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from harness.noise.base import Noise, check_dim, check_positive_finite, register_noise
from harness.noise.coupling import (
    check_nonnegative_finite,
    finish,
    gamma_quantile,
    linf_norm,
    linf_spherical,
)


@register_noise("exp_inf")
class ExpInf(Noise):
    """l-inf symmetric; ``(||z||_inf / s)^k ~ Gamma((d - j) / k, 1)`` (the surface of the
    cube of half-width r grows like ``r^{d-1}``), and given its l-inf norm, z is uniform on
    the cube's surface.

    Transform (exact in G): ``U = erf(G / sqrt 2)`` is uniform in ``[-1, 1]^d``,
    ``V = U / ||U||_inf`` is uniform on the surface and independent of ``||U||_inf^d ~ U(0,1)``;
    z = ``s * T^{1/k} * V`` with T the Gamma quantile at that probability.
    ``E||z||_2^2 = s^2 Gamma(a + 2/k) / Gamma(a) * (d + 2) / 3``, ``a = (d - j) / k``.
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
        """``a = (d - j) / k``: the Gamma shape of ``(||z||_inf / s)^k``."""
        return (self.dim - self.j) / self.k

    @classmethod
    def matched(cls, sigma0: float, dim: int, k: float = 1.0, j: float = 0.0) -> ExpInf:
        """The member with ``E||z||^2 = dim * sigma0^2``."""
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
        return finish(linf_spherical(G, self._quantile), G, out)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        r = linf_norm(z)
        out = -((r / self.scale) ** self.k)
        if self.j > 0:
            out = out - self.j * torch.log(r)
        return out

    def second_moment(self) -> float:
        a = self.shape
        radial = self.scale**2 * math.exp(math.lgamma(a + 2.0 / self.k) - math.lgamma(a))
        return radial * (self.dim + 2.0) / 3.0
