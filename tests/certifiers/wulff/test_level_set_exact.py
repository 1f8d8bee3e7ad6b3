"""The level-set table's probabilities against mpmath, from the definition.

For ``Exp2(1, k, j, d)`` and a shift ``eps``, the level-set method solves for the
Neyman-Pearson level ``lambda`` and records the pair ``(p, eps)``: ``p`` must be at least
``P_0(A_lambda)`` and ``P_eps(A_lambda)`` above 1/2. Here both probabilities are integrated
again at 25 digits, independently of the method's quadrature (probit panels, graded
rules, the fine/coarse error estimate): over ``T = ||z||^k ~ Gamma((d - j)/k)`` of the
regularized incomplete beta of the cap ``{c <= c0(T)}`` (``mpmath.betainc``), with
``ell^{-1}`` through the Lambert W function, split at the kinks where the cap is empty or
the whole sphere (found by bisection in mpmath) and at Gamma quantiles. Without the
method's error margins ``p`` falls below ``P_0(A)`` by up to 3e-14 at these points."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from scipy import stats

from certifiers.wulff import level_set as ls


def exact_probabilities(k, j, dim, eps, lam, dps=25):
    """``(P_eps(A_lambda), 1 - P_0(A_lambda))`` for ``Exp2(1, k, j, dim)``, with ``dps``
    digits (mpmath's precision restored after)."""
    with mp.workdps(dps):
        return _exact_probabilities(k, j, dim, eps, lam)


def _exact_probabilities(k, j, dim, eps, lam):
    k, j, eps, lam = mp.mpf(k), mp.mpf(j), mp.mpf(eps), mp.mpf(lam)
    a, b = (dim - j) / k, mp.mpf(dim - 1) / 2
    log_gamma_a = mp.loggamma(a)

    def ell(T):
        return (j / k) * mp.log(T) + T if j else T

    def ell_inv(y):
        if not j:
            return max(y, mp.mpf(0))
        ratio = k / j  # ell(T) = y  <=>  ratio T = W(ratio exp(ratio y))
        return mp.re(mp.lambertw(ratio * mp.exp(ratio * y))) / ratio

    def cap(T, sign):  # sign -1: c0 of P_0(A); +1: c1 of P_eps(A)
        r = T ** (1 / k)
        rho = ell_inv(ell(T) + sign * lam) ** (1 / k)
        if sign < 0:
            return (r * r + eps * eps - rho * rho) / (2 * r * eps)
        return (rho * rho - r * r - eps * eps) / (2 * r * eps)

    def cosine_cdf(c):
        if c <= -1:
            return mp.mpf(0)
        if c >= 1:
            return mp.mpf(1)
        return mp.betainc(b, b, 0, (1 + c) / 2, regularized=True)

    def density(T):
        return mp.exp((a - 1) * mp.log(T) - T - log_gamma_a)

    quantiles = [float(stats.gamma.ppf(q, float(a))) for q in (1e-30, 1e-12, 1e-4, 0.1, 0.5)]
    quantiles += [float(stats.gamma.isf(q, float(a))) for q in (0.1, 1e-4, 1e-12, 1e-30)]
    dense = np.geomspace(quantiles[0], quantiles[-1], 1500)
    out = []
    for sign in (+1, -1):
        kinks = []
        for level in (1, -1):
            above = [cap(mp.mpf(t), sign) >= level for t in dense]
            for i in np.flatnonzero(np.array(above[1:]) != np.array(above[:-1])):
                lo, hi = mp.mpf(dense[i]), mp.mpf(dense[i + 1])
                for _ in range(90):
                    mid = (lo + hi) / 2
                    lo, hi = (mid, hi) if (cap(mid, sign) >= level) == above[i] else (lo, mid)
                kinks.append((lo + hi) / 2)
        points = sorted({mp.mpf(0), *map(mp.mpf, quantiles), *kinks}) + [mp.inf]
        if sign > 0:
            out.append(mp.quad(lambda T: cosine_cdf(cap(T, +1)) * density(T), points))
        else:  # 1 - P_0(A) from the complementary caps: 1 - F(c) = F(-c)
            out.append(mp.quad(lambda T: cosine_cdf(-cap(T, -1)) * density(T), points))
    return out


@pytest.mark.parametrize(("k", "j", "dim"), [(1.0, 0.0, 3), (2.0, 1.0, 5)])
def test_each_certified_pair_bounds_the_exact_neyman_pearson_probabilities(k, j, dim):
    fine, coarse = ls.level_set_rules(k, j, dim)
    eps = np.array([0.05, 0.8, 3.0])
    eta = ls.ETAS[0]
    lam = ls._solve_level(fine, eps, 0.5 + eta)
    p = ls._certified_p(fine, coarse, eps, eta)
    assert np.all(np.isfinite(p))
    for e, level, p_i in zip(eps, lam, p, strict=True):
        shifted, tail = exact_probabilities(k, j, dim, e, level)
        assert shifted > mp.mpf(0.5)  # the shift keeps the class
        assert mp.mpf(p_i) >= 1 - tail  # p is at least P_0(A): the pair is certified
        assert mp.mpf(p_i) - (1 - tail) < 1e-9  # and tight
