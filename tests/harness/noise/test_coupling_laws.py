"""The row-statistic laws of ``harness.noise.coupling`` against scipy's independent
implementations, deep in both tails (the monotone tables reach probability 1e-30 there),
and ``finish``'s clamp and dtype."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from harness.noise.coupling import (
    ChiSquareLaw,
    GammaLaw,
    GaussianMaxLaw,
    finish,
    log_erf,
    row_column,
)

RTOL = 1e-10


@settings(max_examples=40, deadline=None)
@given(dim=st.sampled_from([1, 2, 3, 64, 784, 3072]), log_p=st.floats(-69.0, -1.0))
def test_chi_square_tails_match_scipy_in_both_tails(dim, log_p):
    """Both tails at the quantiles of probability ``p`` (down to 1e-30) equal scipy's
    chi2 cdf and sf to 1e-10 relative: neither is computed as ``1 - the other``."""
    p = math.exp(log_p)
    law = stats.chi2(dim)
    s = np.array([law.ppf(p), law.isf(p)])
    lower, upper = ChiSquareLaw(dim).tails(s)
    np.testing.assert_allclose(lower, law.cdf(s), rtol=RTOL)
    np.testing.assert_allclose(upper, law.sf(s), rtol=RTOL)
    np.testing.assert_allclose([lower[0], upper[1]], [p, p], rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(dim=st.sampled_from([1, 2, 5, 64, 784, 3072]), log_p=st.floats(-69.0, -1.0))
def test_gaussian_max_law_against_the_maximum_of_d_half_normals(dim, log_p):
    """``||G||_inf`` of ``d`` i.i.d. normals: ``F(m) = H(m)^d`` with ``H`` scipy's
    half-normal cdf. The tails and quantiles of ``GaussianMaxLaw`` against that closed
    form (the upper tail through ``H``'s survival function, without cancellation)."""
    p = math.exp(log_p)
    law = GaussianMaxLaw(dim)
    lo, hi = law.quantile(p, False), law.quantile(p, True)

    half = stats.halfnorm()  # |G_i|: cdf erf(m / sqrt 2), sf erfc(m / sqrt 2)
    np.testing.assert_allclose(half.cdf(lo) ** dim, p, rtol=1e-8)
    np.testing.assert_allclose(-math.expm1(dim * math.log1p(-half.sf(hi))), p, rtol=1e-8)
    lower, upper = law.tails(np.array([lo, hi]))
    np.testing.assert_allclose(lower[0], p, rtol=1e-8)
    np.testing.assert_allclose(upper[1], p, rtol=1e-8)
    np.testing.assert_allclose(law.tail(lo, False), p, rtol=1e-8)
    np.testing.assert_allclose(law.tail(hi, True), p, rtol=1e-8)


@pytest.mark.parametrize("dim", [1, 3, 64, 3072])
def test_gaussian_max_log_density_of_log_m_integrates_its_tails(dim):
    """The density of ``t = log m`` is the derivative of ``F(e^t)`` (closed form above):
    checked by a central difference, and its integral against ``F``."""
    law = GaussianMaxLaw(dim)
    t = np.log(np.linspace(law.quantile(1e-6, False), law.quantile(1e-6, True), 50))

    def cdf(tt):
        return np.exp(dim * np.log1p(-2.0 * np.exp(special.log_ndtr(-np.exp(tt)))))

    h = 1e-5
    numeric = (cdf(t + h) - cdf(t - h)) / (2 * h)
    np.testing.assert_allclose(np.exp(law.log_density_t(t)), numeric, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("shape", [0.3, 1.0, 7.5, 1536.0])
def test_frozen_laws_quantiles_tails_and_density(shape):
    """``GammaLaw`` (and ``ChiSquareLaw``'s generic part) are unit-scale Gamma laws:
    quantiles invert the tails at 1e-30, and the log density of ``log s`` is the Gamma
    density times the Jacobian ``s``."""
    law = GammaLaw(shape)
    ref = stats.gamma(shape)
    for p in (1e-30, 1e-8, 0.3):
        assert math.isclose(law.quantile(p, False), ref.ppf(p), rel_tol=1e-9)
        assert math.isclose(law.quantile(p, True), ref.isf(p), rel_tol=1e-9)
        assert math.isclose(law.tail(law.quantile(p, True), True), p, rel_tol=1e-8)
        assert math.isclose(law.tail(law.quantile(p, False), False), p, rel_tol=1e-8)
    t = np.linspace(math.log(ref.ppf(1e-6)), math.log(ref.isf(1e-6)), 20)
    want = (shape * t) - np.exp(t) - special.gammaln(shape)
    np.testing.assert_allclose(law.log_density_t(t), want, rtol=1e-9, atol=1e-9)
    chi = ChiSquareLaw(8)
    assert math.isclose(chi.quantile(1e-30, True), stats.chi2(8).isf(1e-30), rel_tol=1e-9)


def test_log_erf_against_its_accurate_form_on_each_side():
    x = np.concatenate([np.geomspace(1e-8, 0.99, 50), np.linspace(1.0, 9.0, 50)])
    # log erf(x) where erf is small; log1p(-erfc(x)) where erf is near 1 (no cancellation)
    want = np.where(x < 0.5, np.log(special.erf(x)), np.log1p(-special.erfc(x)))
    np.testing.assert_allclose(log_erf(x), want, rtol=1e-13, atol=1e-300)
    # erfc(6 / sqrt 2) = 1.97e-9: log erf there is -1.97e-9 to full relative precision
    np.testing.assert_allclose(
        log_erf(np.array([6 / math.sqrt(2)])), -special.erfc(6 / math.sqrt(2)), rtol=1e-8
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_finish_clamps_to_the_output_dtype_and_keeps_sign(dtype):
    """Beyond the output dtype's largest finite number a value is clamped to it (with its
    sign); below, it is the value rounded to the dtype."""
    big = float(torch.finfo(dtype).max)
    z = torch.tensor([math.inf, -math.inf, 1e6, -1e6, 3e38, -0.5], dtype=torch.float64)
    want = torch.tensor([big, -big, 1e6, -1e6, min(3e38, big), -0.5], dtype=torch.float64).to(dtype)
    out = torch.empty(6, dtype=dtype)
    assert finish(z.clone(), torch.zeros(6, dtype=dtype), out) is out
    assert torch.equal(out, want)
    got = finish(z.clone(), torch.zeros(6, dtype=dtype), None)
    assert got.dtype == dtype and torch.equal(got, want)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_row_column_is_a_clamped_column_of_the_dtype(dtype):
    big = float(torch.finfo(dtype).max)
    values = torch.tensor([2.5, -2.5, math.inf, -math.inf, 0.0], dtype=torch.float64)
    col = row_column(values, dtype)
    assert col.shape == (5, 1) and col.dtype == dtype
    want = torch.tensor([[2.5], [-2.5], [big], [-big], [0.0]], dtype=torch.float64).to(dtype)
    assert torch.equal(col, want)
