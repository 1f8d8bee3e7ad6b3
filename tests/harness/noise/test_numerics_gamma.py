"""``harness.noise.numerics`` against scipy.stats' Gamma law and closed-form integrals:
the quantile from both tails, the Gamma-to-Gamma coupling (a copy where the shapes are
equal), and the Gauss-Legendre rules' exactness on polynomials."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from harness.noise.numerics import (
    couple_gamma,
    gamma_quantile,
    gauss_legendre_panels,
    gauss_legendre_unit,
)

SHAPES = st.sampled_from([0.05, 0.5, 1.0, 3.5, 64.0, 1536.0])


@settings(max_examples=60, deadline=None)
@given(shape=SHAPES, log_p=st.floats(-69.0, math.log(0.5)))
def test_gamma_quantile_from_either_tail_matches_scipy(shape, log_p):
    p = math.exp(log_p)
    law = stats.gamma(shape)
    lo = gamma_quantile(shape, np.array([p]))
    hi = gamma_quantile(shape, np.array([1.0 - p]), np.array([p]))
    np.testing.assert_allclose(lo, law.ppf(p), rtol=1e-9)
    np.testing.assert_allclose(hi, law.isf(p), rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(a=SHAPES, b=SHAPES, log_p=st.floats(-69.0, math.log(0.5)), upper=st.booleans())
def test_couple_gamma_carries_each_quantile_to_the_same_quantile(a, b, log_p, upper):
    p = math.exp(log_p)
    x = stats.gamma(a).isf(p) if upper else stats.gamma(a).ppf(p)
    assume(x > 1e-280)  # a normal double: x itself carries full relative precision
    want = stats.gamma(b).isf(p) if upper else stats.gamma(b).ppf(p)
    np.testing.assert_allclose(couple_gamma(np.array([x]), a, b), [want], rtol=1e-7)


def test_couple_gamma_of_equal_shapes_is_a_copy():
    x = np.array([0.5, 1.0, 2.0])
    y = couple_gamma(x, 2.0, 2.0)
    np.testing.assert_array_equal(y, x)
    y[0] = 99.0
    assert x[0] == 0.5  # the caller's array is not aliased


@pytest.mark.parametrize("order", [1, 2, 5, 16])
def test_gauss_legendre_is_exact_for_polynomials_up_to_degree_2n_minus_1(order):
    x, w = gauss_legendre_unit(order)
    for k in range(2 * order):
        assert math.isclose(float(np.sum(w * x**k)), 1.0 / (k + 1), rel_tol=1e-12)
    left, width = np.array([-1.0, 2.0]), np.array([0.5, 3.0])
    nodes, weights = gauss_legendre_panels(left, width, order)
    assert nodes.shape == weights.shape == (2, order)
    for k in range(2 * order):
        want = ((left + width) ** (k + 1) - left ** (k + 1)) / (k + 1)
        np.testing.assert_allclose(np.sum(weights * nodes**k, axis=1), want, rtol=1e-11)
