"""The l2 exponential family ``pi(z) ~ ||z||_2^{-j} exp(-(||z||_2 / s)^k)`` ("Exp2" in Yang
et al. 2020, "Randomized smoothing of all shapes and sizes"); k = 2, j = 0 is the Gaussian
with ``sigma = s / sqrt 2``."""

from __future__ import annotations

import torch

from harness.noise.base import register_noise
from harness.noise.coupling import RadiusQuantile, spherical
from harness.noise.norm_exponential import NormExponential


@register_noise("exp2")
class Exp2(NormExponential):
    """Spherically symmetric; the radius satisfies ``(||z|| / s)^k ~ Gamma((d - j) / k, 1)``.

    Transform: direction ``G / ||G||``, radius ``s * T^{1/k}`` with T the Gamma quantile at
    ``F_chi_d(||G||)`` (both tails kept exact). Needs ``k > 0`` and ``0 <= j < d``.
    ``E||z||_2^2 = s^2 Gamma(a + 2/k) / Gamma(a)``, ``a = (d - j) / k``.
    """

    def _norm(self, z: torch.Tensor) -> torch.Tensor:
        return torch.linalg.vector_norm(z, dim=-1)

    def _couple(self, G: torch.Tensor, quantile: RadiusQuantile) -> torch.Tensor:
        return spherical(G, quantile)
