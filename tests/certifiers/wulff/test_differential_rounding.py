"""The differential tables' radii are never above the exact differential integral, even
where the lower Riemann sum has no slack of its own: for ``ExpInf(k, j = 0)`` against l1,
``Phi(m) = E[h] / (2d)`` is constant for ``m >= 1/(2d)``, so below the knee
``p <= 1 - 1/(2d)`` the integral is exactly linear, ``R = 2 d (p - 1/2) / E[h]`` with
``E[h] = k Gamma(a + 1 - 1/k) / Gamma(a)``, ``a = d / k`` (written here in 40-digit
mpmath). There the sum is exact but for float rounding (the summation of 2^18 pieces), and
only the table's relative round-down keeps every pair at or below the exact value."""

from __future__ import annotations

import mpmath as mp
import pytest

from certifiers.wulff import differential as wd


@pytest.mark.parametrize("k,dim", [(2.0, 3), (0.5, 2), (3.0, 8)])
def test_pairs_below_the_knee_are_at_or_below_the_exact_linear_radius(k, dim):
    p, radius = wd.lower_riemann_radii(
        wd.linf_family_phi(wd.exp_inf_top_mean(k, 0.0, dim), "l1", dim), True
    )
    knee = 1.0 - 0.5 / dim
    inner = (p > 0.5) & (p <= knee)
    assert inner.sum() > 100
    with mp.workdps(40):
        a = mp.mpf(dim) / k
        mean_h = k * mp.gamma(a + 1 - 1 / mp.mpf(k)) / mp.gamma(a)
        for p_i, r_i in zip(p[inner], radius[inner], strict=True):
            exact = 2 * dim * (mp.mpf(p_i) - mp.mpf(1) / 2) / mean_h
            assert mp.mpf(r_i) <= exact, (p_i, r_i, exact)
