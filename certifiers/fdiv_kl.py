"""Dvijotham et al. 2020, f-divergence certificates with the KL divergence: ``fdiv-kl``.

Certified when ``KL(P_delta || P_0) < KL(Bern(1/2) || Bern(p_A)) = D`` with
``D = -log(4 p_A (1 - p_A)) / 2`` (see ``certifiers.fdivergence``).

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

from certifiers import fdivergence as fd
from certifiers.base import Certifier
from certifiers.norm_conversion import best_of
from certifiers.registry import register
from harness.noise import Gaussian, Laplace, Noise


@register("fdiv-kl")
class FdivKL(Certifier):
    def supports(self, noise: Noise, norm: str) -> bool:
        return type(noise) in (Gaussian, Laplace) and norm in ("l1", "l2", "linf")

    def _radius(self, noise: Noise, p: np.ndarray, norm: str) -> np.ndarray:
        D = fd.kl_half(p)
        if isinstance(noise, Gaussian):
            native = {"l2": noise.sigma * np.sqrt(2.0 * D)}
        else:
            d, b = noise.dim, noise.scale
            native = {
                "l1": b * fd.laplace_kl_inverse(D),
                "l2": math.sqrt(d) * b * fd.laplace_kl_inverse(D / d),
                "linf": b * fd.laplace_kl_inverse(D / d),
            }
        return best_of(native, norm, noise.dim) * (1.0 - fd.ROUND_DOWN)
