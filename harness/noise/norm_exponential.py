"""The norm-exponential families ``pi(z) ~ ||z||^{-j} exp(-(||z|| / s)^k)`` of Yang et al.
(2020), "Randomized smoothing of all shapes and sizes": ``Exp2`` (l2 norm) and ``ExpInf``
(l-inf norm) differ only in the norm, in how G is coupled to the norm's sphere, and in
the factor relating ``E||z||_2^2`` to ``E||z||^2``; this base class holds the rest.

For either norm, ``(||z|| / s)^k ~ Gamma(a, 1)`` with ``a = (d - j) / k``, so
``E||z||^2 = s^2 Gamma(a + 2/k) / Gamma(a)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from harness.noise.base import Noise, check_dim, check_positive_finite
from harness.noise.coupling import RadiusQuantile, check_nonnegative_finite, finish, gamma_quantile


class NormExponential(Noise):
    """Shared parameters, law and matching of ``Exp2`` and ``ExpInf``. Needs ``k > 0`` and
    ``0 <= j < d``."""

    def __init__(self, scale: float, k: float, j: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.k = check_positive_finite("k", k)
        self.j = check_nonnegative_finite("j", j)
        self.dim = check_dim(dim)
        if self.j >= self.dim:
            raise ValueError(f"j must be < dim for a proper density, got j={self.j}, dim={dim}")

    def _norm(self, z: torch.Tensor) -> torch.Tensor:
        """The family's norm of each row of ``z``."""
        raise NotImplementedError

    def _couple(self, G: torch.Tensor, quantile: RadiusQuantile) -> torch.Tensor:
        """``G`` mapped to the family's norm sphere, scaled by ``quantile`` (float64)."""
        raise NotImplementedError

    def _l2_factor(self) -> float:
        """``E||z||_2^2 / E||z||^2`` for the family's norm."""
        return 1.0

    @property
    def shape(self) -> float:
        """``a = (d - j) / k``: the Gamma shape of ``(||z|| / s)^k``."""
        return (self.dim - self.j) / self.k

    @classmethod
    def matched(cls, sigma0: float, dim: int, k: float = 1.0, j: float = 0.0) -> NormExponential:
        """The member with ``E||z||_2^2 = dim * sigma0^2`` (the second moment scales as s^2)."""
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
        return finish(self._couple(G, self._quantile), G, out)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        r = self._norm(z)
        out = -((r / self.scale) ** self.k)
        if self.j > 0:
            out = out - self.j * torch.log(r)
        return out

    def second_moment(self) -> float:
        a = self.shape
        radial = self.scale**2 * math.exp(math.lgamma(a + 2.0 / self.k) - math.lgamma(a))
        return radial * self._l2_factor()
