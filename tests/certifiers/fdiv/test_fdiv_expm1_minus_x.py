"""``_expm1_minus_x(x) = e^x - 1 - x`` to a few ulp for every x, against mpmath.

It enters the Renyi Bernoulli divergence (``S = (u + v) + e(u) + e(v)``) and the Laplace KL
(``g(y) = e(-y)``); for ``|x| < 0.1`` it is a truncated Taylor series, whose truncation
must stay below an ulp: a series cut at ``x^6 / 6!`` is off by ``|x|^7 / 7!`` (4e-9
relative at ``|x| = 0.1``), and for ``u < 0`` overestimates the divergence. Just above
``|x| = 0.1`` the direct ``expm1(x) - x`` cancels (7.3 ulp measured at x = -0.134), hence the
looser tolerance there.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from certifiers.fdiv import divergences as fd


def _exact(x: float) -> float:
    # e^x - 1 - x ~ x^2 / 2 cancels ~2 |log10 x| digits against x: carry them
    with mpmath.workdps(40 + 2 * max(0, int(-math.log10(abs(x))))):
        t = mpmath.mpf(x)
        return float(mpmath.expm1(t) - t)


ULP = 2.0**-52


@settings(max_examples=300, deadline=None, database=None)
@given(st.floats(-0.1, 0.1).filter(lambda x: 1e-150 < abs(x) < 0.1))
def test_series_range_to_a_few_ulp(x):
    got = float(fd._expm1_minus_x(np.array(x)))
    want = _exact(x)
    assert math.isclose(got, want, rel_tol=4 * ULP, abs_tol=0.0), (x, got, want)


@settings(max_examples=200, deadline=None, database=None)
@given(st.floats(-40.0, 40.0).filter(lambda x: abs(x) >= 0.1))
def test_direct_range_to_sixteen_ulp(x):
    got = float(fd._expm1_minus_x(np.array(x)))
    assert math.isclose(got, _exact(x), rel_tol=16 * ULP, abs_tol=0.0), x


def test_at_the_switch_between_series_and_direct_formula():
    x = np.array([-0.1, -0.0999999, -0.05, 0.05, 0.0999999, 0.1])
    got = fd._expm1_minus_x(x)
    for xi, gi in zip(x, got, strict=True):
        assert math.isclose(gi, _exact(float(xi)), rel_tol=16 * ULP), xi
