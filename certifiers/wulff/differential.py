"""The differential method of Yang et al. 2020 ("Randomized smoothing of all shapes and
sizes", Section 4), computed as conservative, cached radius tables.

Let ``g(x) = E f(x + z)`` be the smoothed [0, 1] classifier and ``psi_v = -<grad log q, v>``.
Then ``<grad g(x), v> = E[f(x + z) psi_v(z)]``, and among all f with ``E f = m`` this is
largest for the indicator of the top-m set of ``psi_v``. Writing ``Phi(m)`` for the largest
such value over unit vectors v of the adversary's norm (``Phi(m) = Phi(1 - m)`` for symmetric
noise), ``g`` cannot fall from ``p`` to 1/2 along a path shorter than

    R(p) = integral_{1-p}^{1/2} dm / Phi(m),

which is therefore a certified radius, valid for every shorter shift as well.

``Phi`` for the families here (m in (0, 1/2]):

- l-inf symmetric noise ``q(z) = phi(||z||_inf)`` (ExpInf, PowInf), ``h = -phi'/phi``:
  ``psi_v = h(r) v_{i*} sign(z_{i*})`` with ``i*`` the largest coordinate, uniform and
  independent of ``r = ||z||_inf``. For l1 (v = e_1) the coordinate is the largest with
  probability 1/d: ``Phi(m) = E[h; top min(2dm, 1)] / (2d)``. For l-inf (v a vertex):
  ``Phi(m) = E[h; top 2m] / 2``. ``E[h; top v]`` is the mean of h over the fraction v of
  the radial law where h is largest.
- i.i.d. Laplace, l-inf (v a vertex): ``psi = S / b`` with ``S = sum_i sign(z_i)`` = 2K - d,
  K ~ Binomial(d, 1/2): ``Phi(m) = E[S; top m] / b``.
- i.i.d. Pareto, l1 (one coordinate; used to cross-check the closed form):
  ``Phi(m) = q(0) - q(F^{-1}(1/2 + m))``.

The integral is evaluated as a lower Riemann sum on a fine grid of m: ``Phi`` is
non-decreasing in m on (0, 1/2], so ``(m_i - m_{i+1}) / Phi(m_i)`` under-estimates each
piece and the sum never overestimates R (up to float rounding, which is rounded down).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special
from scipy.stats import binom

from certifiers.tables import RadiusTable, cached_table
from harness.noise.numerics import gamma_quantile

VERSION = 3
#: Fine-grid size for the Riemann sum; the table keeps a pair whenever the radius has grown
#: by ``KEEP_STEP`` (relative) since the last pair kept, so lookups lose at most that much.
GRID = 2**18
KEEP_STEP = 1e-3
#: The m grid is ``Phi_N(-x)`` with ``x = X_MAX u^2``, u uniform in [0, 1]: p up to
#: 1 - 1e-17, with steps in x that are small relative to x near p = 1/2 as well.
X_MAX = 8.5
#: Relative amount by which every computed radius is rounded down (float rounding).
ROUND_DOWN = 1e-9

PhiFn = Callable[[np.ndarray], np.ndarray]
TopMean = Callable[[np.ndarray], np.ndarray]


def lower_riemann_radii(phi: PhiFn, diverges_at_one: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(p_i, R_i)`` with ``R_i <= integral_{1-p_i}^{1/2} dm / Phi(m)``.

    ``phi`` must be non-decreasing on (0, 1/2]. When the integral diverges as p -> 1 the
    pair ``(1, inf)`` is appended; otherwise p = 1 keeps the last (smaller) radius.
    """
    x = X_MAX * np.linspace(0.0, 1.0, GRID) ** 2
    m = special.ndtr(-x)  # decreasing from 1/2
    # On [m_{i+1}, m_i] Phi is at most Phi(m_i) (non-decreasing), so 1/Phi is at least
    # 1/Phi(m_i): the larger end gives the lower sum.
    values = phi(m[:-1])
    if np.any(~np.isfinite(values)) or np.any(values <= 0):
        raise ArithmeticError("Phi must be positive and finite on (0, 1/2]")
    pieces = (m[:-1] - m[1:]) / values  # integral over [m_{i+1}, m_i] >= this
    radius = np.concatenate([[0.0], np.cumsum(pieces)]) * (1.0 - ROUND_DOWN)
    p = np.nextafter(1.0 - m, 2.0)  # round p up: the radius is valid at every larger p
    p, radius = _thin(p, radius)
    if diverges_at_one:
        p, radius = np.append(p, 1.0), np.append(radius, np.inf)
    return p, radius


def _thin(p: np.ndarray, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A subset of the pairs (each pair is a certificate on its own) in which consecutive
    radii differ by about ``KEEP_STEP`` relative."""
    positive = radius > 0
    if not positive.any():
        return p[:1], radius[:1]
    first = int(np.argmax(positive))
    steps = np.log(radius[positive] / radius[first]) / math.log1p(KEEP_STEP)
    _, keep = np.unique(np.floor(steps), return_index=True)
    idx = np.concatenate([[0], first + keep, [len(p) - 1]])
    idx = np.unique(idx)
    return p[idx], radius[idx]


# --- E[h; top v] for the l-inf radial families (scale 1; Phi scales as 1/s) ---------------


def exp_inf_top_mean(k: float, j: float, dim: int) -> TopMean:
    """``E[h; top v]`` for ``phi(r) = r^{-j} exp(-r^k)`` (s = 1), with ``T = r^k ~ Gamma(a)``,
    ``a = (d - j)/k`` and ``h = j T^{-1/k} + k T^{1 - 1/k}``.

    Uses ``E[T^c; T <= tau] = Gamma(a + c)/Gamma(a) P(a + c, tau)``. The j-term is largest
    where T is small; the k-term where T is small if ``k <= 1``, where T is large if
    ``k > 1``. The top-v mean of a sum is at most the sum of the top-v means, so the result
    is exact when h is monotone (j = 0 or k <= 1) and an upper bound otherwise (which only
    lowers the radius).
    """
    a = (dim - j) / k
    if j > 0 and a - 1.0 / k <= 0:
        raise ValueError("E[h] is infinite unless d - j > 1: no differential certificate")
    g1 = math.exp(math.lgamma(a - 1.0 / k) - math.lgamma(a)) if j > 0 else 0.0
    c2 = a + 1.0 - 1.0 / k
    g2 = math.exp(math.lgamma(c2) - math.lgamma(a))

    def top_mean(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        tau_lo = gamma_quantile(a, v)  # P(T <= tau_lo) = v
        out = np.zeros_like(v)
        if j > 0:
            out += j * g1 * _lower_gamma_at_quantile(a - 1.0 / k, a, v, tau_lo)
        if k <= 1.0:
            out += k * g2 * _lower_gamma_at_quantile(c2, a, v, tau_lo)
        else:
            tau_hi = gamma_quantile(a, 1.0 - v, v)  # P(T >= tau_hi) = v
            out += k * g2 * special.gammaincc(c2, tau_hi)
        return out

    return top_mean


def _lower_gamma_at_quantile(s: float, a: float, v: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``P(s, tau)`` (regularized lower incomplete gamma) where ``P(a, tau) = v``: scipy's
    where the quantile ``tau`` is positive; where it underflowed to 0 at ``v > 0`` (a tiny
    shape ``a``: the true quantile lies below the smallest double, and ``P(s, 0) = 0``
    dropped a term of order 1, a radius 53% too large at k = 1e4, j = 8.5, d = 10), an
    upper bound, which only lowers the radius. For ``tau <= 1``: ``P(a, tau) >= tau^a
    e^-1 / Gamma(a + 1)`` (``e^-t >= e^-1``), so ``tau^a <= e v Gamma(a + 1)``, and
    ``P(s, tau) <= tau^s / Gamma(s + 1)`` (``e^-t <= 1``)."""
    out = np.array(special.gammainc(s, tau), dtype=np.float64)  # 0-d for a 0-d v
    lost = np.asarray((tau <= 0.0) & (v > 0.0))
    if lost.any():
        if not np.all(special.gammainc(a, 1.0) >= v[lost]):  # tau <= 1 where it is lost
            raise ValueError(f"Gamma({a:g}) quantile lost to underflow beyond 1")
        log_tau_a = 1.0 + np.log(v[lost]) + math.lgamma(a + 1.0)
        out[lost] = np.minimum(1.0, np.exp(s / a * log_tau_a - math.lgamma(s + 1.0)))
    return out


def pow_inf_top_mean(a: float, dim: int) -> TopMean:
    """``E[h; top v]`` for ``phi(r) = (1 + r)^{-a}`` (s = 1): ``h = a / (1 + r) = a (1 - B)``
    with ``B = r / (1 + r) ~ Beta(d, a - d)``, largest where B is small:
    ``E[h; B <= beta] = (a - d) I_beta(d, a - d + 1)``."""
    d, b = float(dim), a - dim

    def top_mean(v: np.ndarray) -> np.ndarray:
        beta = special.betaincinv(d, b, np.asarray(v, dtype=np.float64))
        return b * special.betainc(d, b + 1.0, beta)

    return top_mean


def linf_family_phi(top_mean: TopMean, norm: str, dim: int) -> PhiFn:
    """``Phi`` of an l-inf symmetric noise against ``norm`` (see the module docstring)."""
    if norm == "l1":
        return lambda m: top_mean(np.minimum(2.0 * dim * m, 1.0)) / (2.0 * dim)
    if norm == "linf":
        return lambda m: top_mean(2.0 * m) / 2.0
    raise ValueError(f"the differential method here certifies l1 and linf, not {norm!r}")


def laplace_linf_phi(dim: int) -> PhiFn:
    """``Phi(m) = E[S; top m]`` (b = 1) with ``S = 2K - d``, ``K ~ Binomial(d, 1/2)``."""
    k = np.arange(dim, -1, -1)  # S descending
    values = 2.0 * k - dim
    probs = binom.pmf(k, dim, 0.5)
    cum_p = np.concatenate([[0.0], np.cumsum(probs)])
    cum_s = np.concatenate([[0.0], np.cumsum(probs * values)])

    def phi(m: np.ndarray) -> np.ndarray:
        m = np.asarray(m, dtype=np.float64)
        idx = np.clip(np.searchsorted(cum_p, m, side="right") - 1, 0, dim)
        return cum_s[idx] + (m - cum_p[idx]) * values[idx]

    return phi


def pareto_l1_phi(a: float) -> PhiFn:
    """``Phi(m) = (a/2)(1 - (1 - 2m)^{1 + 1/a})`` (s = 1): one coordinate of i.i.d. Pareto."""
    return lambda m: 0.5 * a * -np.expm1((1.0 + 1.0 / a) * np.log1p(-2.0 * m))


# --- cached tables ---------------------------------------------------------------------


def _table(key: dict, phi_factory: Callable[[], PhiFn], diverges: bool) -> RadiusTable:
    key = {"method": "wulff-differential", "version": VERSION, "grid": GRID, **key}
    return cached_table(key, lambda: lower_riemann_radii(phi_factory(), diverges))


def exp_inf_table(k: float, j: float, dim: int, norm: str) -> RadiusTable:
    """Radii of ``ExpInf(scale=1, k, j, dim)``; multiply by the scale."""
    # h is bounded near the top (k >= 1, j = 0) exactly when the integral diverges at p = 1.
    diverges = j == 0 and k >= 1.0
    return _table(
        {"family": "exp_inf", "k": k, "j": j, "dim": dim, "norm": norm},
        lambda: linf_family_phi(exp_inf_top_mean(k, j, dim), norm, dim),
        diverges,
    )


def pow_inf_table(a: float, dim: int, norm: str) -> RadiusTable:
    """Radii of ``PowInf(scale=1, a, dim)``; multiply by the scale."""
    return _table(
        {"family": "pow_inf", "a": a, "dim": dim, "norm": norm},
        lambda: linf_family_phi(pow_inf_top_mean(a, dim), norm, dim),
        True,
    )


def laplace_linf_table(dim: int) -> RadiusTable:
    """Radii of ``Laplace(scale=1, dim)`` against l-inf; multiply by the scale."""
    key = {"family": "laplace", "dim": dim, "norm": "linf"}
    return _table(key, lambda: laplace_linf_phi(dim), True)
