"""The l-inf exponential family ``pi(z) ~ ||z||_inf^{-j} exp(-(||z||_inf / s)^k)``
("ExpInf" in Yang et al. 2020, "Randomized smoothing of all shapes and sizes"): the Wulff
noise of the l1 norm (its level sets are cubes)."""

from __future__ import annotations

import torch

from harness.noise.base import register_noise
from harness.noise.coupling import RadiusQuantile, linf_norm, linf_spherical
from harness.noise.norm_exponential import NormExponential


@register_noise("exp_inf")
class ExpInf(NormExponential):
    """l-inf symmetric; ``(||z||_inf / s)^k ~ Gamma((d - j) / k, 1)`` (the surface of the
    cube of half-width r grows like ``r^{d-1}``), and given its l-inf norm, z is uniform on
    the cube's surface.

    Transform (exact in G): ``U = erf(G / sqrt 2)`` is uniform in ``[-1, 1]^d``,
    ``V = U / ||U||_inf`` is uniform on the surface and independent of ``||U||_inf^d ~ U(0,1)``;
    z = ``s * T^{1/k} * V`` with T the Gamma quantile at that probability.
    ``E||z||_2^2 = s^2 Gamma(a + 2/k) / Gamma(a) * (d + 2) / 3``, ``a = (d - j) / k``.
    """

    def _norm(self, z: torch.Tensor) -> torch.Tensor:
        return linf_norm(z)

    def _couple(self, G: torch.Tensor, quantile: RadiusQuantile) -> torch.Tensor:
        return linf_spherical(G, quantile)

    def _l2_factor(self) -> float:
        """Given its l-inf norm r, z is uniform on the cube's surface:
        ``E||z||_2^2 = r^2 (d + 2) / 3``."""
        return (self.dim + 2.0) / 3.0
