"""Cohen, Rosenfeld and Kolter (2019): Gaussian randomized smoothing, registered as ``cohen``.

l2: ``R = sigma * Phi^{-1}(p_A)`` (Theorem 1, binary form with p_B = 1 - p_A).
linf: ``||d||_2 <= sqrt(d) ||d||_inf`` gives ``R_inf = R_2 / sqrt(d)``.
l1: ``||d||_2 <= ||d||_1`` gives ``R_1 = R_2``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from certifiers.base import Certificate, Certifier
from certifiers.registry import register
from harness.noise import Noise


def gaussian_l2(certifier: Certifier, noise: Noise, p: np.ndarray) -> np.ndarray:
    return noise.sigma * ndtri(p)


def gaussian_linf(certifier: Certifier, noise: Noise, p: np.ndarray) -> np.ndarray:
    return noise.sigma * ndtri(p) / np.sqrt(noise.dim)


@register("cohen")
class Cohen(Certifier):
    certificates = {
        ("gaussian", "l2"): Certificate(gaussian_l2),
        ("gaussian", "l1"): Certificate(gaussian_l2),
        ("gaussian", "linf"): Certificate(gaussian_linf),
    }
