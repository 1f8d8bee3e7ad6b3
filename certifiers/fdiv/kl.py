"""Dvijotham et al. 2020, f-divergence certificates with the KL divergence: ``fdiv-kl``.

Certified when ``KL(P_delta || P_0) < KL(Bern(1/2) || Bern(p_A)) = D`` with
``D = -log(4 p_A (1 - p_A)) / 2`` (see ``certifiers.fdiv.divergences``).

- Gaussian, l2: ``||delta||^2 / (2 sigma^2) < D``, so ``R = sigma sqrt(-log(4 p (1 - p)))``;
  l1 = l2 radius; linf = l2 radius / sqrt(d) (norm conversion).
- Laplace (scale b): KL is a sum of ``g(|delta_i| / b)``, ``g(y) = y + e^{-y} - 1``. g is
  convex, so on the l1 sphere the worst case is one coordinate: ``R_1 = b g^{-1}(D)``; it is
  concave in ``delta_i^2``, so on the l2 sphere the worst case is the even spread:
  ``R_2 = sqrt(d) b g^{-1}(D / d)``; on the l-inf sphere every coordinate at eps:
  ``R_inf = b g^{-1}(D / d)``. The best over these and their conversions is returned.
"""

from __future__ import annotations

import math

import numpy as np

from certifiers.base import NORMS, Certificate, Certifier
from certifiers.fdiv import divergences as fd
from certifiers.norm_conversion import best_of
from certifiers.registry import register
from harness.noise import Noise


def _gaussian(noise: Noise, D: np.ndarray) -> dict[str, np.ndarray]:
    return {"l2": noise.sigma * np.sqrt(2.0 * D)}


def _laplace(noise: Noise, D: np.ndarray) -> dict[str, np.ndarray]:
    d, b = noise.dim, noise.scale
    return {
        "l1": b * fd.laplace_kl_inverse(D),
        "l2": math.sqrt(d) * b * fd.laplace_kl_inverse(D / d),
        "linf": b * fd.laplace_kl_inverse(D / d),
    }


#: family -> native radii at the Bernoulli divergence ``D = KL(Bern(1/2) || Bern(p_A))``.
KL_FAMILIES = {"gaussian": _gaussian, "laplace": _laplace}


def _certificate(native, norm: str) -> Certificate:
    def radius(c: Certifier, noise: Noise, p: np.ndarray) -> np.ndarray:
        return best_of(native(noise, fd.kl_half(p)), norm, noise.dim) * (1.0 - fd.ROUND_DOWN)

    return Certificate(radius)


@register("fdiv-kl")
class FdivKL(Certifier):
    certificates = {
        (family, norm): _certificate(native, norm)
        for family, native in KL_FAMILIES.items()
        for norm in NORMS
    }
