"""The parameterization shared by the norm-exponential families of Yang et al. 2020
("Randomized smoothing of all shapes and sizes"): ``pi(z) ~ ||z||^{-j} exp(-(||z|| / s)^k)``
for a norm ``||.||`` (l2 for ``Exp2``, l-inf for ``ExpInf``).

Whatever the norm, the surface of its sphere of radius r grows like ``r^{d-1}``, so
``(||z|| / s)^k ~ Gamma(a, 1)`` with ``a = (d - j) / k``: ``||z||`` follows the
generalized Gamma law ``s * Gamma(a)^{1/k}``. The radius quantile is
``s * T^{1/k}`` with T the Gamma quantile at the coupled probability (both tails exact).
``E||z||_2^2 = s^2 Gamma(a + 2/k) / Gamma(a) * E||u||_2^2`` for ``u`` on the norm's
unit sphere (1 for l2, ``(d + 2) / 3`` for l-inf).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats

from harness.noise.numerics import gamma_quantile
from harness.noise.params import check_dim, check_nonnegative_finite, check_positive_finite


class NormExponential:
    """Mixin of ``Exp2`` and ``ExpInf`` (combined with ``SphericalNoise`` resp.
    ``LinfRadialNoise``). Needs ``k > 0`` and ``0 <= j < d``; ``k = 1, j = 0`` by default."""

    scale_param = "scale"
    example_params = ({"k": 1.0, "j": 0.0}, {"k": 2.0, "j": 1.0})

    def __init__(self, scale: float, k: float = 1.0, j: float = 0.0, dim: int | None = None):
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

    def radius_law(self) -> stats.rv_continuous:
        return stats.gengamma(self.shape, self.k, scale=self.scale)

    def radius_quantile(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        T = gamma_quantile(self.shape, lower, upper)
        return self.scale * T ** (1.0 / self.k)

    def radial_log_prob(self, r: torch.Tensor) -> torch.Tensor:
        out = -((r / self.scale) ** self.k)
        if self.j > 0:
            out = out - self.j * torch.log(r)
        return out

    def second_moment(self) -> float:
        a = self.shape
        radial = self.scale**2 * math.exp(math.lgamma(a + 2.0 / self.k) - math.lgamma(a))
        return radial * self.unit_sphere_l2_moment()
