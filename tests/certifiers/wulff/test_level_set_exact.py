"""The level-set table's probabilities against mpmath, from the definition.

For ``Exp2(1, k, j, d)`` and a shift ``eps``, the level-set method solves for the
Neyman-Pearson level ``lambda`` and records the pair ``(p, eps)``: ``p`` must be at least
``P_0(A_lambda)`` and ``P_eps(A_lambda)`` above 1/2. Here both probabilities are integrated
again at 30 digits, independently of the method's quadrature (probit panels, graded
rules, the fine/coarse error estimate): over ``s = log T``, ``T = ||z||^k ~ Gamma((d -
j)/k)``, of the regularized incomplete beta of the cap ``{c <= c0(T)}``
(``mpmath.betainc``), with ``ell^{-1}`` through the Lambert W function, split at the kinks
where the cap is empty or the whole sphere (found by bisection in mpmath) and at Gamma
quantiles (``test_level_set_small_shape._exact_probabilities``). Without the method's
error margins ``p`` falls below ``P_0(A)`` by up to 3e-14 at these points."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from certifiers.wulff import level_set as ls
from tests.certifiers.wulff.test_level_set_small_shape import _exact_probabilities


@pytest.mark.parametrize(("k", "j", "dim"), [(1.0, 0.0, 3), (2.0, 1.0, 5)])
def test_each_certified_pair_bounds_the_exact_neyman_pearson_probabilities(k, j, dim):
    fine, coarse = ls.level_set_rules(k, j, dim)
    eps = np.array([0.05, 0.8, 3.0])
    eta = ls.ETAS[0]
    lam = ls._solve_level(fine, eps, 0.5 + eta)
    p = ls._certified_p(fine, coarse, eps, eta)
    assert np.all(np.isfinite(p))
    for e, level, p_i in zip(eps, lam, p, strict=True):
        shifted, tail = _exact_probabilities(k, j, dim, e, level)
        assert shifted > mp.mpf(0.5)  # the shift keeps the class
        assert mp.mpf(p_i) >= 1 - tail  # p is at least P_0(A): the pair is certified
        assert mp.mpf(p_i) - (1 - tail) < 1e-9  # and tight
