"""ExpInf (Yang et al. 2020) with a tiny Gamma shape ``a = (d - j)/k`` (k = 1e4, j = 8.5,
d = 10: a = 1.5e-4): the quantile ``tau`` with ``P(a, tau) = v`` lies below the smallest
double, scipy returns 0, and ``P(a - 1/k, 0) = 0`` dropped the j-term of ``E[h; top v]``,
a term of order 1: ``Phi`` far too small, and the l1 radius at p = 0.97 was 0.533 where
the exact one is 0.349 (found by a numerics audit). Here against ``E[h; top v]`` in
30-digit arithmetic (mpmath), its quantiles found by bisection on the log scale."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from certifiers.wulff import differential

K, J, D = 1e4, 8.5, 10


def _top_mean(v: float) -> mp.mpf:
    """``E[h; top v]``, ``h = j T^{-1/k} + k T^{1 - 1/k}``, ``T ~ Gamma(a)``: the j-term
    over ``T <= tau_lo``, the k-term (k > 1) over ``T >= tau_hi``."""
    with mp.workdps(30):
        k, j = mp.mpf(K), mp.mpf(J)
        a = (D - j) / k

        def reg(s, x):
            return mp.gammainc(s, 0, x, regularized=True)

        def quantile(target, upper):
            lo, hi = mp.mpf(-1e5), mp.mpf(10)
            for _ in range(150):
                mid = (lo + hi) / 2
                below = (
                    (1 - reg(a, mp.exp(mid)) > target) if upper else reg(a, mp.exp(mid)) < target
                )
                lo, hi = (mid, hi) if below else (lo, mid)
            return mp.exp((lo + hi) / 2)

        g1 = mp.exp(mp.loggamma(a - 1 / k) - mp.loggamma(a))
        c2 = a + 1 - 1 / k
        g2 = mp.exp(mp.loggamma(c2) - mp.loggamma(a))
        v = mp.mpf(v)
        low = j * g1 * reg(a - 1 / k, quantile(v, False))
        return low + k * g2 * mp.gammainc(c2, quantile(v, True), mp.inf, regularized=True)


@pytest.mark.parametrize("v", [0.3, 0.01, 0.9])
def test_the_top_mean_is_not_below_the_exact_one(v):
    got = float(differential.exp_inf_top_mean(K, J, D)(np.array(v)))
    assert got >= float(_top_mean(v)) * (1 - 1e-9)


def test_the_l1_radius_is_not_above_the_exact_one():
    """0.34927253: ``int_{1 - p}^{1/2} dm / Phi(m)``, ``Phi(m) = E[h; top min(2 d m, 1)] /
    (2 d)``, by the auditor's mpmath quadrature at p = 0.97."""
    radius = float(differential.exp_inf_table(K, J, D, "l1")(np.array(0.97)))
    assert 0.33 < radius <= 0.34927253
