"""The f-divergence framework of Dvijotham et al. 2020 ("A framework for robustness
certification of smoothed classifiers using f-divergences"), shared by the ``fdiv-*``
certifiers.

Let ``P_0`` be the smoothing noise and ``P_delta`` the noise shifted by ``delta``. A classifier
f turns them into Bernoulli laws of "predicts the top class": ``Bern(p)`` with ``p >= p_A``
and ``Bern(q)``. By the data-processing inequality, ``D(Bern(q) || Bern(p)) <=
D(P_delta || P_0)`` for every f-divergence D, and every Bernoulli divergence below is
smallest over ``q <= 1/2 <= p_A <= p`` at ``q = 1/2, p = p_A``. Hence the prediction cannot
flip when

    D(P_delta || P_0) < D(Bern(1/2) || Bern(p_A)).

Bernoulli side (``p = p_A``):

- KL: ``KL(Bern(1/2) || Bern(p)) = -log(4 p (1 - p)) / 2``;
- Renyi of order a > 1: ``D_a = log((e^u + e^v) / 2) / (a - 1)`` with
  ``u = -(a - 1) log(2p)``, ``v = -(a - 1) log(2(1 - p))``, computed without cancellation;
  the multi-class form with a runner-up bound ``p_B`` (Li et al. 2019, "Certified
  adversarial robustness with additive noise"): the smallest ``D_a(Q || P)`` over output
  laws Q whose top class differs is
  ``-log(1 - p_A - p_B + 2 ((p_A^{1-a} + p_B^{1-a})/2)^{1/(1-a)})``;
- hockey-stick, ``D_gamma(P || Q) = sup_A P(A) - gamma Q(A)``, for gamma >= 1:
  ``(1/2 - gamma (1 - p))_+`` (the other term vanishes for p >= 1/2).

Noise side (worst case over the norm ball of radius eps):

- Gaussian: ``KL = eps^2 / (2 sigma^2)``, ``D_a = a eps^2 / (2 sigma^2)``,
  ``D_gamma = Phi(mu/2 - log(gamma)/mu) - gamma Phi(-mu/2 - log(gamma)/mu)``, ``mu = eps/sigma``
  (the privacy profile of the Gaussian mechanism, Balle and Wang 2018);
- Laplace, per coordinate ``KL = |d|/b + exp(-|d|/b) - 1`` (convex, so on the l1 sphere the
  worst case puts the shift on one coordinate; concave in ``d^2``, so on the l2 sphere the
  worst case spreads it evenly); for the hockey-stick, the likelihood ratio is at most
  ``exp(||d||_1 / b)``, so ``D_gamma <= (1 - gamma exp(-eps/b))_+``;
- uniform noises: the ratio is 0, 1 or infinite, so ``D_gamma = 1 - overlap`` for gamma >= 1.

The hockey-stick family is tight: with the best gamma it recovers the Neyman-Pearson
bound (for the Gaussian, Cohen's radius).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special
from scipy.optimize import elementwise

#: Relative amount by which computed radii are rounded down (float rounding).
ROUND_DOWN = 1e-10
#: Absolute round-down of hockey-stick radii, in units of the noise's scale.
ABS_ROUND_DOWN = 1e-12


# --- Bernoulli divergences ------------------------------------------------------------


def log_4pq(p: np.ndarray) -> np.ndarray:
    """``log(4 p (1 - p))`` for ``p`` in [1/2, 1], to a few ulps relative.

    Below ``p = 3/4`` it is ``log1p(-(2p - 1)^2)``: ``2p - 1`` is exact and the square
    at most 1/4, so the argument of ``log1p`` keeps its relative precision. Above, the
    square nears 1 and ``1 - (2p - 1)^2`` would cancel (near ``1 - p = 4e-9`` its half-ulp
    rounding is 2e-10 relative on the result), so it is ``log(4 p (1 - p))``: ``1 - p`` is
    exact (Sterbenz), the product is at most 3/4 and the logarithm well conditioned there.
    """
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        near_half = np.log1p(-((2.0 * p - 1.0) ** 2))
        near_one = np.log(4.0 * p * (1.0 - p))
    return np.where(p < 0.75, near_half, near_one)


def kl_half(p: np.ndarray) -> np.ndarray:
    """``KL(Bern(1/2) || Bern(p)) = -log(4 p (1 - p)) / 2`` (:func:`log_4pq`)."""
    return -0.5 * log_4pq(p)


def _expm1_minus_x(x: np.ndarray) -> np.ndarray:
    """``exp(x) - 1 - x``: a Taylor series for ``|x| < 0.1`` (no cancellation, to 4 ulps);
    ``expm1(x) - x`` above, where the subtraction costs at most a few ulps (7.3 measured
    just above 0.1), far below ``ROUND_DOWN``."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) < 0.1
    xs = np.where(small, x, 0.0)
    # Horner form of sum_{n=2}^{10} x^n / n!; the next term is below 1e-16 of the first.
    series = np.zeros_like(xs)
    for n in range(10, 1, -1):
        series = (series + 1.0 / math.factorial(n)) * xs
    series = series * xs
    with np.errstate(over="ignore"):
        direct = np.expm1(np.where(small, 0.0, x)) - np.where(small, 0.0, x)
    return np.where(small, series, direct)


def renyi_half(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``D_a(Bern(1/2) || Bern(p))`` for ``a > 1`` and ``p`` in [1/2, 1) (broadcasting).

    With ``u = -(a-1) log(2p) <= 0 <= v = -(a-1) log(2(1-p))``:
    ``D_a = log((e^u + e^v)/2) / (a - 1) = log1p(S/2) / (a - 1)``,
    ``S = (u + v) + (e^u - 1 - u) + (e^v - 1 - v)`` and ``u + v = -(a-1) log(4p(1-p))``.
    """
    a = np.asarray(a, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    am1 = a - 1.0
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        u = -am1 * np.log(2.0 * p)
        v = -am1 * np.log(2.0 * (1.0 - p))
        uv = -am1 * log_4pq(p)
        S = uv + _expm1_minus_x(u) + _expm1_minus_x(np.minimum(v, 30.0))
        gentle = np.log1p(0.5 * S) / am1
        steep = (np.logaddexp(u, v) - math.log(2.0)) / am1
    return np.where(v < 30.0, gentle, steep)


def renyi_multiclass(a: np.ndarray, p_a: np.ndarray, p_b: np.ndarray) -> np.ndarray:
    """``min D_a(Q || P)`` over output laws Q whose top class is not A, given P with top
    probability ``p_A`` and runner-up ``p_B`` (``p_A + p_B <= 1``):
    ``-log(1 - p_A - p_B + 2 M)``, ``M = ((p_A^{1-a} + p_B^{1-a}) / 2)^{1/(1-a)}``.
    (Lagrange: the other classes keep their proportions; Q_A = Q_B = kappa M.)"""
    a = np.asarray(a, dtype=np.float64)
    p_a = np.asarray(p_a, dtype=np.float64)
    p_b = np.asarray(p_b, dtype=np.float64)
    one_minus_a = 1.0 - a
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_sum = np.logaddexp(one_minus_a * np.log(p_a), one_minus_a * np.log(p_b))
        log_mean = log_sum - math.log(2.0)
        M = np.exp(log_mean / one_minus_a)
        rest = np.maximum(1.0 - p_a - p_b, 0.0)
        return -np.log(rest + 2.0 * M)


def renyi_multiclass_lower(a: np.ndarray, p_a: np.ndarray, p_b: np.ndarray) -> np.ndarray:
    """:func:`renyi_multiclass` minus a bound on its float error, so it is never above the
    exact value. ``log M`` is a difference of logarithms of size ``O(a - 1)`` divided by
    ``1 - a``: its absolute error, and so that of the divergence, is at most a few
    ``eps / (a - 1)`` (32 of them here, and 4 eps for the final logarithm). Near ``a = 1``
    and ``p_A = p_B`` the error dominates and the bound is 0 or below: no certificate."""
    a = np.asarray(a, dtype=np.float64)
    eps = float(np.finfo(np.float64).eps)
    return renyi_multiclass(a, p_a, p_b) - (32.0 * eps / (a - 1.0) + 4.0 * eps)


# --- Renyi: the supremum over the order ----------------------------------------------

#: Orders are searched over ``t = log(a - 1)`` in this range (any order is a valid bound).
RENYI_T = (-12.0, 9.0)
RENYI_GRID = 85


def best_renyi_over_order(objective: Callable[[np.ndarray, np.ndarray], np.ndarray], n: int):
    """``sup_{a > 1} objective(a, i)`` for problems ``i = 0..n-1``, from below.

    ``objective(a, i)`` broadcasts an array of orders against an integer array of problem
    indices. A grid in ``log(a - 1)`` locates the best order of each problem and
    ``scipy.optimize.elementwise.find_minimum`` refines it inside the bracket of its
    neighbours. Every evaluated order gives a valid certificate, so the maximum over the
    evaluated orders is one too.
    """
    t = np.linspace(*RENYI_T, RENYI_GRID)
    rows = np.arange(n)
    values = objective(1.0 + np.exp(t)[None, :], rows[:, None])
    values = np.where(np.isfinite(values), values, -np.inf)
    best_i = np.argmax(values, axis=1)
    best = values[rows, best_i]
    interior = (best_i > 0) & (best_i < t.size - 1) & np.isfinite(best)
    if interior.any():
        sub = rows[interior]
        i = best_i[interior]

        def neg(tt: np.ndarray, idx: np.ndarray) -> np.ndarray:
            return -objective(1.0 + np.exp(tt), idx.astype(np.int64))

        res = elementwise.find_minimum(neg, (t[i - 1], t[i], t[i + 1]), args=(sub.astype(float),))
        refined = -np.asarray(res.f_x, dtype=np.float64)
        best[sub] = np.maximum(best[sub], np.where(np.isfinite(refined), refined, -np.inf))
    return best


# --- hockey-stick: the Neyman-Pearson-recovering solver --------------------------------

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
_GOLDEN_STEPS = 64


def min_over_gamma(
    profile: Callable[[np.ndarray, np.ndarray], np.ndarray], eps: np.ndarray, p: np.ndarray
) -> np.ndarray:
    """``min_{gamma >= 1} D_gamma(eps) + gamma (1 - p) - 1/2`` (certified iff < 0).

    ``D_gamma`` is convex in gamma (a supremum of affine functions of gamma), so the
    objective is unimodal in ``log gamma``; golden-section search over
    ``log gamma in [0, log(1 / (2(1 - p)))]`` (beyond it the objective is positive). The
    returned value is attained at a specific gamma, so a negative value is a certificate.
    """
    eps, p = np.broadcast_arrays(np.asarray(eps, float), np.asarray(p, float))
    q = 1.0 - p
    with np.errstate(divide="ignore"):
        hi = np.where(q > 0, np.log(0.5 / np.where(q > 0, q, 1.0)), 700.0)
    hi = np.clip(hi, 0.0, 700.0)
    lo = np.zeros_like(hi)

    def f(u: np.ndarray) -> np.ndarray:
        gamma = np.exp(u)
        return profile(gamma, eps) + gamma * q - 0.5

    best = np.minimum(f(lo), f(hi))
    x1 = hi - _GOLDEN * (hi - lo)
    x2 = lo + _GOLDEN * (hi - lo)
    f1, f2 = f(x1), f(x2)
    for _ in range(_GOLDEN_STEPS):
        best = np.minimum(best, np.minimum(f1, f2))
        left = f1 <= f2  # the minimum lies in [lo, x2]
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x2n = np.where(left, x1, lo + _GOLDEN * (hi - lo))
        x1n = np.where(left, hi - _GOLDEN * (hi - lo), x2)
        fn = f(np.where(left, x1n, x2n))
        f1, f2 = np.where(left, fn, f2), np.where(left, f1, fn)
        x1, x2 = x1n, x2n
    return np.minimum(best, np.minimum(f1, f2))


def hockey_stick_radius(
    profile: Callable[[np.ndarray, np.ndarray], np.ndarray],
    limit: Callable[[np.ndarray], np.ndarray],
    p: np.ndarray,
    scale: float,
    eps_cap: float = math.inf,
    gamma_free: bool = False,
) -> np.ndarray:
    """The largest eps with ``min_gamma D_gamma(eps) + gamma(1 - p) - 1/2 < 0``.

    ``profile(gamma, eps)`` is the worst-case hockey-stick divergence over the norm ball
    of radius eps (non-decreasing in eps); ``limit(eps)`` is its limit as gamma grows
    (used at p = 1, where the condition is ``D_gamma(eps) < 1/2`` for some gamma).
    ``scale`` sets the first bracket; ``eps_cap`` is a radius known not to be certified
    (infinite if none). ``gamma_free`` declares that ``D_gamma`` does not depend on gamma
    (uniform noises), so gamma = 1 is best and no search is needed. The returned radius is
    a point at which the condition was verified, rounded down.
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.zeros_like(p)
    inner = p < 1.0
    if inner.any():
        if gamma_free:
            F = lambda e, pp: profile(1.0, e) + (1.0 - pp) - 0.5  # noqa: E731
        else:
            F = lambda e, pp: min_over_gamma(profile, e, pp)  # noqa: E731
        out[inner] = _root(F, p[inner], scale, eps_cap)
    if (~inner).any():
        ones = p[~inner]
        out[~inner] = _root(lambda e, pp: limit(e) - 0.5 + 0.0 * pp, ones, scale, eps_cap)
    # Divergences near 1/2 are differences of numbers near 1/2: an absolute error of a few
    # 1e-17 in the condition moves the root by about that much times the scale.
    return np.maximum(out * (1.0 - ROUND_DOWN) - ABS_ROUND_DOWN * scale, 0.0)


def _root(F, p: np.ndarray, scale: float, eps_cap: float) -> np.ndarray:
    """Largest eps with F(eps, p) < 0, F increasing in eps and F(0, p) < 0."""
    n = p.size
    hi = np.full(n, scale)
    # Expand the upper end until the condition fails (or give up: infinite radius).
    failing = F(hi, p) >= 0
    for _ in range(200):
        if failing.all():
            break
        grow = ~failing & (hi < eps_cap)
        if not grow.any():
            break
        hi = np.where(grow, np.minimum(hi * 2.0, eps_cap), hi)
        failing = failing | (F(hi, p) >= 0)
    radius = np.full(n, np.inf)
    if failing.any():
        res = elementwise.find_root(
            F,
            (np.zeros(int(failing.sum())), hi[failing]),
            args=(p[failing],),
            tolerances={"xrtol": 1e-13, "xatol": 0.0},
        )
        xl, _ = res.bracket
        fl, _ = res.f_bracket
        # F increases with eps: a point where F < 0 was evaluated is certified. Try just
        # below the root first (F is flat to rounding there), then the bracket's lower end.
        pf = p[failing]
        chosen = np.where(fl < 0, xl, 0.0)
        for step in (1e-12, 1e-10, 1e-8):
            candidate = res.x * (1.0 - step)
            ok = (candidate > chosen) & (F(candidate, pf) < 0)
            chosen = np.where(ok, candidate, chosen)
        radius[failing] = chosen
    return radius


# --- noise-side divergences --------------------------------------------------------------


def gaussian_hockey_stick(sigma: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``D_gamma(N(delta, sigma^2 I) || N(0, sigma^2 I))`` for ``||delta||_2 = eps``."""

    def profile(gamma: np.ndarray, eps: np.ndarray) -> np.ndarray:
        mu = np.asarray(eps, dtype=np.float64) / sigma
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.log(gamma) / mu
            value = special.ndtr(0.5 * mu - t) - gamma * special.ndtr(-0.5 * mu - t)
        return np.where(mu > 0, np.maximum(value, 0.0), np.maximum(1.0 - gamma, 0.0))

    return profile


def laplace_kl_coordinate(y: np.ndarray) -> np.ndarray:
    """``g(y) = y + exp(-y) - 1``: KL between unit Laplace laws whose means differ by y >= 0."""
    return _expm1_minus_x(-np.asarray(y, dtype=np.float64))


#: The relative step below a root bracket's lower end that covers the rounding of ``g``:
#: float64 ``g(y)`` is within a few ulp of ``g(y)``, and ``g(y) / (y g'(y))`` lies in
#: [1/2, 1] (small y) or tends to 1 (large y), so a root found through float ``g`` moves by
#: at most a few ulp of y.
KL_INVERSE_STEP_DOWN = 8.0 * float(np.finfo(np.float64).eps)


def laplace_kl_inverse(D: np.ndarray) -> np.ndarray:
    """The y >= 0 with ``g(y) = D``, rounded down: the largest point the root solver
    found with float ``g(y) <= D``, less ``KL_INVERSE_STEP_DOWN`` of it (float ``g`` is a
    few ulp off, at large y it loses ``e^{-y}``: such a point can lie an ulp past the
    exact root)."""
    D = np.asarray(D, dtype=np.float64)
    out = np.where(np.isinf(D), np.inf, 0.0)
    todo = np.isfinite(D) & (D > 0)
    if todo.any():
        d = D[todo]

        def f(y: np.ndarray, target: np.ndarray) -> np.ndarray:
            return laplace_kl_coordinate(y) - target

        res = elementwise.find_root(
            f, (np.zeros_like(d), d + 1.0), args=(d,), tolerances={"xrtol": 1e-14, "xatol": 0.0}
        )
        # the largest point at which float g(y) <= D: the solver stops at once, its
        # bracket still (0, D + 1), where g(D + 1) rounds to D (from about D = 33 on)
        best = np.zeros_like(d)
        for x, fx in zip((*res.bracket, res.x), (*res.f_bracket, res.f_x), strict=True):
            best = np.where(fx <= 0, np.maximum(best, x), best)
        out[todo] = best * (1.0 - KL_INVERSE_STEP_DOWN)
    return out
