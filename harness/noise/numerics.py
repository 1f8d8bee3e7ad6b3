"""Shared numerics of the noise laws and of the certifiers that integrate them.

- ``gamma_quantile``: the quantile of Gamma(shape, 1) at a probability given by both of
  its tails, each used where it is accurate (``gammaincinv`` below the median,
  ``gammainccinv`` above it), so neither end saturates at 0 or 1.
- ``couple_gamma``: the inverse-CDF coupling ``F_to^{-1}(F_from(x))`` of two Gamma laws,
  the radial step of the common-random-numbers transforms.
- ``gauss_legendre_unit`` and ``gauss_legendre_panels``: the Gauss-Legendre rule on
  [0, 1] and its composite form on panels ``[left, left + width]``.
"""

from __future__ import annotations

import numpy as np
from scipy import special

#: The smallest normal double: tail probabilities are floored here so quantiles stay finite.
TINY = float(np.finfo(np.float64).tiny)


def gamma_quantile(shape: float, lower: np.ndarray, upper: np.ndarray | None = None) -> np.ndarray:
    """Quantile of Gamma(shape, 1) at probability ``lower`` (``upper = 1 - lower``, given
    separately where it is known more accurately than ``1 - lower``).

    The lower tail is inverted where ``lower <= 1/2``, the upper tail elsewhere."""
    lower = np.asarray(lower, dtype=np.float64)
    upper = 1.0 - lower if upper is None else np.asarray(upper, dtype=np.float64)
    use_lower = lower <= 0.5
    with np.errstate(all="ignore"):
        return np.where(
            use_lower,
            special.gammaincinv(shape, np.where(use_lower, lower, 0.25)),
            special.gammainccinv(shape, np.where(use_lower, 0.25, upper)),
        )


def couple_gamma(x: np.ndarray, shape_from: float, shape_to: float) -> np.ndarray:
    """``F_to^{-1}(F_from(x))`` for Gamma laws of unit scale: a ``Gamma(shape_from)``
    sample becomes a ``Gamma(shape_to)`` sample, monotonically and exactly in law.

    Both tail probabilities are computed (floored at ``TINY``, which Gaussian base draws
    never reach), so the map stays finite and monotone. Returns a copy of ``x`` when the
    shapes are equal."""
    x = np.asarray(x, dtype=np.float64)
    if shape_from == shape_to:
        return x.copy()
    lower = np.maximum(special.gammainc(shape_from, x), TINY)
    upper = np.maximum(special.gammaincc(shape_from, x), TINY)
    return gamma_quantile(shape_to, lower, upper)


def gauss_legendre_unit(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the ``order``-point Gauss-Legendre rule on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(order)
    return (x + 1.0) / 2.0, w / 2.0


def gauss_legendre_panels(
    left: np.ndarray, width: np.ndarray | float, order: int
) -> tuple[np.ndarray, np.ndarray]:
    """The composite rule on panels ``[left_i, left_i + width_i]``: nodes and weights of
    shape ``(panels, order)``."""
    x, w = gauss_legendre_unit(order)
    left = np.asarray(left, dtype=np.float64)[..., None]
    width = np.asarray(width, dtype=np.float64)[..., None]
    return left + width * x, width * w
