"""The l-inf exponential family ``pi(z) ~ ||z||_inf^{-j} exp(-(||z||_inf / s)^k)``
("ExpInf" in Yang et al. 2020, "Randomized smoothing of all shapes and sizes"): the Wulff
noise of the l1 norm (its level sets are cubes)."""

from __future__ import annotations

from harness.noise.linf_radial import LinfRadialNoise
from harness.noise.norm_exponential import NormExponential
from harness.noise.registry import register_noise


@register_noise("exp_inf")
class ExpInf(NormExponential, LinfRadialNoise):
    """l-inf symmetric; ``(||z||_inf / s)^k ~ Gamma((d - j) / k, 1)`` and, given its l-inf
    norm, z is uniform on the cube's surface (``harness.noise.linf_radial``).
    ``E||z||_2^2 = s^2 Gamma(a + 2/k) / Gamma(a) * (d + 2) / 3``, ``a = (d - j) / k``.
    """
