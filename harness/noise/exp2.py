"""The l2 exponential family ``pi(z) ~ ||z||_2^{-j} exp(-(||z||_2 / s)^k)`` ("Exp2" in Yang
et al. 2020, "Randomized smoothing of all shapes and sizes"); k = 2, j = 0 is the Gaussian
with ``sigma = s / sqrt 2``."""

from __future__ import annotations

from harness.noise.norm_exponential import NormExponential
from harness.noise.registry import register_noise
from harness.noise.spherical import SphericalNoise


@register_noise("exp2")
class Exp2(NormExponential, SphericalNoise):
    """Spherically symmetric; ``(||z||_2 / s)^k ~ Gamma((d - j) / k, 1)``
    (``harness.noise.norm_exponential``). Needs ``k > 0`` and ``0 <= j < d``.
    ``E||z||_2^2 = s^2 Gamma(a + 2/k) / Gamma(a)``, ``a = (d - j) / k``.
    """
