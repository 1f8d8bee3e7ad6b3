"""Helpers shared by the radial families (generalized Gaussian, generalized Laplace).

``couple_gamma`` is the inverse-CDF coupling of two Gamma laws, the radial step of the
common-random-numbers transform (DESIGN.md): ``x ~ Gamma(a)`` is mapped to
``F_b^{-1}(F_a(x)) ~ Gamma(b)``. It works in float64 and in whichever tail is below 1/2
(``gammainc``/``gammaincinv`` below the median, ``gammaincc``/``gammainccinv`` above it),
so neither the probability nor the quantile saturates at 0 or 1. Only beyond probabilities
of about 1e-308 (never reached by Gaussian base draws) does the tail probability underflow;
it is then clamped to the smallest normal double, so the map stays finite and monotone
(flat out there).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special as sp


def check_exponent(k: Any, dim: int) -> float:
    """Validate the radial exponent ``0 <= k < dim`` (the density ``~ ||z||^{-k}`` is
    integrable at the origin exactly when ``k < dim``) and return it as a float."""
    if isinstance(k, bool) or not isinstance(k, int | float):
        raise TypeError(f"k must be a real number, got {type(k).__name__}")
    k = float(k)
    if not math.isfinite(k) or k < 0 or k >= dim:
        raise ValueError(f"k must satisfy 0 <= k < dim = {dim}, got {k!r}")
    return k


def couple_gamma(x: np.ndarray, shape_from: float, shape_to: float) -> np.ndarray:
    """``F_to^{-1}(F_from(x))`` for Gamma laws of unit scale: a ``Gamma(shape_from)``
    sample becomes a ``Gamma(shape_to)`` sample, monotonically and exactly in law.

    Returns ``x`` itself (a copy) when the shapes are equal."""
    x = np.asarray(x, dtype=np.float64)
    if shape_from == shape_to:
        return x.copy()
    tiny = np.finfo(np.float64).tiny
    lower = sp.gammainc(shape_from, x)
    out = np.empty_like(x)
    below = lower < 0.5
    out[below] = sp.gammaincinv(shape_to, np.maximum(lower[below], tiny))
    above = ~below
    upper = sp.gammaincc(shape_from, x[above])
    out[above] = sp.gammainccinv(shape_to, np.maximum(upper, tiny))
    return out
