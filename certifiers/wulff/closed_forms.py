"""Closed-form certified radii of Yang et al. 2020 ("Randomized smoothing of all shapes and
sizes", Table 1 and its appendix), in float64. ``p`` is the lower bound ``p_A`` of the
top-class probability, an array with entries in (1/2, 1]; every function returns radii of
the same shape (``inf`` where the certificate is unbounded at ``p = 1``).

Derivations, where the formula is not the paper's verbatim:

- Neyman-Pearson for uniform noises: the likelihood ratio takes the values 0, 1 and
  infinity, so the worst classifier puts its missing mass ``1 - p`` inside the overlap of
  the two supports: certified when ``overlap(delta) > 3/2 - p``.
- The differential method (Yang et al., Section 4): ``R = integral_{1-p}^{1/2} dm / Phi(m)``
  with ``Phi(m)`` the largest directional derivative of a smoothed [0, 1] classifier whose
  value is ``m``. For ``ExpInf`` with ``k = 1, j = 0`` in l1, ``Phi(m) = min(m, 1/(2d)) / s``;
  for ``Exp2`` with ``k = 1, j = 0`` in l2, ``Phi(m) = E[cos 1{cos >= c_m}] / s`` with
  ``(1 + cos)/2 ~ Beta((d-1)/2, (d-1)/2)``, which integrates to an arctanh.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def gaussian_l2(sigma: float, p: np.ndarray) -> np.ndarray:
    """Cohen et al. 2019: ``R = sigma * Phi^{-1}(p)``."""
    return sigma * special.ndtri(p)


def laplace_l1(scale: float, p: np.ndarray) -> np.ndarray:
    """Laplace, l1 (Teng et al. 2020; Yang et al. Table 1): ``R = -b * log(2 (1 - p))``."""
    with np.errstate(divide="ignore"):
        return -scale * np.log(2.0 * (1.0 - p))


def uniform_cube_l1(half_width: float, p: np.ndarray) -> np.ndarray:
    """Uniform cube ``[-l, l]^d``, l1: overlap ``>= 1 - ||delta||_1 / (2l)`` (attained on an
    axis), so ``R = 2 l (p - 1/2)``."""
    return 2.0 * half_width * (p - 0.5)


def uniform_cube_linf(half_width: float, dim: int, p: np.ndarray) -> np.ndarray:
    """Uniform cube, l-inf: overlap ``prod_i (1 - |delta_i| / (2l)) >= (1 - eps/(2l))^d``, so
    ``R = 2 l (1 - (3/2 - p)^{1/d})``, computed as ``-2 l expm1(log1p(1/2 - p) / d)``."""
    return -2.0 * half_width * np.expm1(np.log1p(0.5 - p) / dim)


def uniform_ball_l2(radius: float, dim: int, p: np.ndarray) -> np.ndarray:
    """Uniform l2 ball of radius R: two balls at distance eps overlap in the fraction
    ``I_{1 - eps^2/(4R^2)}((d+1)/2, 1/2)`` of their volume. Setting it to ``3/2 - p`` and
    using ``1 - I_x(a, b) = I_{1-x}(b, a)``:
    ``R_cert = 2 R sqrt(I^{-1}_{p - 1/2}(1/2, (d+1)/2))``."""
    return 2.0 * radius * np.sqrt(special.betaincinv(0.5, (dim + 1.0) / 2.0, p - 0.5))


def exp_inf_k1_l1(scale: float, dim: int, p: np.ndarray) -> np.ndarray:
    """``ExpInf`` with k = 1, j = 0, l1 (differential method):
    ``R = 2 d s (p - 1/2)`` for ``p <= 1 - 1/(2d)``, else ``s (d - 1) + s log(1 / (2d(1-p)))``."""
    knee = 1.0 - 0.5 / dim
    with np.errstate(divide="ignore"):
        tail = scale * (dim - 1.0) - scale * np.log(2.0 * dim * (1.0 - p))
    return np.where(p <= knee, 2.0 * dim * scale * (p - 0.5), tail)


def exp_inf_k1_linf(scale: float, p: np.ndarray) -> np.ndarray:
    """``ExpInf`` with k = 1, j = 0, l-inf (differential method, ``Phi(m) = m / s`` along a
    vertex direction): ``R = -s log(2 (1 - p))``."""
    return laplace_l1(scale, p)


def exp2_k1_l2(scale: float, dim: int, p: np.ndarray) -> np.ndarray:
    """``Exp2`` with k = 1, j = 0, l2 (differential method), ``d >= 2``:
    ``R = (d - 1) s arctanh(2 B - 1)`` with ``B = I^{-1}_p(b, b)``, ``b = (d - 1)/2``.

    Computed without the cancellation of ``log B - log(1 - B)`` near ``p = 1/2``: for
    ``B ~ Beta(b, b)``, ``X = (2B - 1)^2 ~ Beta(1/2, b)`` (``X = T^2 / (2b + T^2)`` for a
    Student ``T`` with ``2b`` degrees of freedom), so for ``p > 1/2`` ``2B - 1 = sqrt(x)`` with
    ``I_x(1/2, b) = 2p - 1`` (exact in float64 near 1/2) and ``R = (d - 1) s arctanh(sqrt x)``;
    above ``p = 3/4`` through ``y = 1 - x``, ``I_y(b, 1/2) = 2 (1 - p)``:
    ``arctanh(sqrt x) = log(1 + sqrt(1 - y)) - log(y) / 2``. (scipy's ``stdtrit``, used
    before, is 12% high at d = 5, p = 1/2 + 1e-8: a false certificate.) For d = 2 the
    Cauchy quantile, ``R = s asinh(tan(pi (p - 1/2)))``."""
    if dim < 2:
        return laplace_l1(scale, p)
    p = np.asarray(p, dtype=np.float64)
    df = dim - 1.0
    with np.errstate(over="ignore", divide="ignore"):
        if dim == 2:  # tan(pi (p - 1/2)) = 1 / tan(pi (1 - p)): the exact small argument
            t = np.where(p <= 0.75, np.tan(np.pi * (p - 0.5)), 1.0 / np.tan(np.pi * (1.0 - p)))
            return scale * np.arcsinh(t)
        low = p <= 0.75
        x = special.betaincinv(0.5, df / 2.0, np.where(low, 2.0 * p - 1.0, 0.25))
        y = special.betaincinv(df / 2.0, 0.5, np.where(low, 0.25, 2.0 * (1.0 - p)))
        half_log = np.where(low, np.arctanh(np.sqrt(x)), np.log1p(np.sqrt(1.0 - y)) - np.log(y) / 2)
    return df * scale * half_log


def pareto_l1(scale: float, a: float, p: np.ndarray) -> np.ndarray:
    """I.i.d. Pareto ``(a / 2s)(1 + |x|/s)^{-(a+1)}``, l1 (differential method on one
    coordinate, ``Phi(m) = (a / 2s)(1 - (1 - 2m)^{1 + 1/a})``):
    ``R = (s / a) integral_0^{2p-1} du / (1 - u^{1+1/a})
        = (s / a) (2p - 1) 2F1(1, c; 1 + c; z)``, ``c = a/(a+1)``, ``z = (2p - 1)^{1/c}``.

    Near ``z = 1`` (where scipy's ``hyp2f1`` overflows) the logarithmic continuation
    (Abramowitz & Stegun 15.3.10) with ``w = 1 - z``:
    ``2F1(1, c; 1 + c; z) = c sum_n (c)_n / n! [psi(n + 1) - psi(c + n) - log w] w^n``.
    """
    p = np.asarray(p, dtype=np.float64)
    x = 2.0 * p - 1.0
    c = a / (a + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -np.expm1(np.log1p(-2.0 * (1.0 - p)) / c)  # 1 - z without cancellation
        direct = special.hyp2f1(1.0, c, 1.0 + c, 1.0 - w)
        n = np.arange(40.0).reshape((40,) + (1,) * p.ndim)
        pochhammer = np.exp(special.gammaln(c + n) - special.gammaln(c) - special.gammaln(n + 1))
        terms = pochhammer * (special.digamma(n + 1) - special.digamma(c + n) - np.log(w)) * w**n
        continued = c * terms.sum(axis=0)
        f = np.where(w > 0.1, direct, continued)
        out = (scale / a) * x * f
    return np.where(p >= 1.0, np.inf, out)


def pow_inf_l1_linear(scale: float, a: float, dim: int, p: np.ndarray) -> np.ndarray:
    """``PowInf`` l1 (differential method) for ``p <= 1 - 1/(2d)``, where
    ``Phi(m) = E[h] / (2d)`` with ``h = a / (s + ||z||_inf)`` and ``E[h] = (a - d) / s``:
    ``R = 2 d s (p - 1/2) / (a - d)``. (Beyond that knee see ``certifiers.wulff.differential``.)"""
    return 2.0 * dim * scale * (p - 0.5) / (a - dim)
