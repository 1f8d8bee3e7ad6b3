"""Cohen, Rosenfeld and Kolter (2019): Gaussian randomized smoothing.

l2: ``R = sigma * Phi^{-1}(p_A)`` (Theorem 1, binary form with p_B = 1 - p_A).
linf: ``||d||_2 <= sqrt(d) ||d||_inf`` gives ``R_inf = R_2 / sqrt(d)``.
l1: ``||d||_2 <= ||d||_1`` gives ``R_1 = R_2``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from certifiers.base import Certifier
from certifiers.registry import register
from harness.noise import Gaussian, Noise


@register("cohen")
class Cohen(Certifier):
    def supports(self, noise: Noise, norm: str) -> bool:
        return isinstance(noise, Gaussian) and norm in ("l1", "l2", "linf")

    def _radius(self, noise: Noise, p: np.ndarray, norm: str) -> np.ndarray:
        r2 = noise.sigma * ndtri(p)
        if norm == "linf":
            return r2 / np.sqrt(noise.dim)
        return r2
