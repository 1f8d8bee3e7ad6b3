"""The Neyman-Pearson statistic ``Noise.log_ratio_samples`` (the oracle of the
certifiers' soundness check and of the report's ``soundness`` sanity check) follows the law
of its family, checked against references written here (closed forms, numpy and scipy
draws), never against the code's own log densities: a wrong statistic would pass an
unsound certifier. Shifts along one axis and along a diagonal (a statistic that averaged
instead of summing over the shifted coordinates would look weaker there), at dim 1 too,
and on the chunked path of large ``samples x dim``.

False-alarm rate: every draw is seeded (the test is deterministic); under a correct
implementation each KS assertion would fail with probability 1e-4 over seeds, each
5-SE mean assertion with probability ~6e-7.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from harness.noise import Exp2, Gaussian, GeneralizedGaussian, Laplace, Pareto

N = 40_000
MIN_P = 1e-4


def _axis(dim: int, s: float) -> np.ndarray:
    d = np.zeros(dim)
    d[0] = s
    return d


@pytest.mark.parametrize("sigma,dim,s", [(0.5, 1, 0.3), (0.5, 5, 0.3), (0.25, 64, 0.4)])
def test_gaussian_log_ratio_is_the_closed_form_normal(sigma, dim, s):
    # Lambda = (||z||^2 - ||z - d||^2) / (2 sigma^2) ~ N(-s^2 / (2 sigma^2), s^2 / sigma^2)
    lam = Gaussian(sigma, dim).log_ratio_samples(_axis(dim, s), N, seed=7)
    ref = stats.norm(-(s**2) / (2 * sigma**2), s / sigma)
    assert stats.kstest(lam, ref.cdf).pvalue > MIN_P


@pytest.mark.parametrize("b,dim,s", [(0.5, 5, 0.3), (0.2, 64, 0.5)])
def test_laplace_log_ratio_against_numpy_draws(b, dim, s):
    lam = Laplace(b, dim).log_ratio_samples(_axis(dim, s), N, seed=7)
    x = np.random.default_rng(123).laplace(0.0, b, N)
    ref = (np.abs(x) - np.abs(x - s)) / b
    # Lambda has atoms at -s/b (x <= 0) and s/b (x >= s), each computed with its own
    # rounding: round both samples before the two-sample KS (ties make it conservative)
    assert stats.ks_2samp(np.round(lam, 9), np.round(ref, 9)).pvalue > MIN_P
    # and E[Lambda] = -KL(P_0 || P_d) = -(s / b + exp(-s / b) - 1), closed form
    kl = s / b + math.exp(-s / b) - 1.0
    assert abs(lam.mean() + kl) <= 5 * lam.std() / math.sqrt(N)


@pytest.mark.parametrize("scale,a,dim,s", [(0.5, 5.0, 5, 0.3), (0.3, 8.0, 16, 0.4)])
def test_pareto_log_ratio_against_numpy_draws(scale, a, dim, s):
    lam = Pareto(scale, a, dim).log_ratio_samples(_axis(dim, s), N, seed=7)
    rng = np.random.default_rng(123)
    x = scale * rng.pareto(a, N) * np.where(rng.random(N) < 0.5, -1.0, 1.0)  # Lomax
    ref = -(a + 1.0) * (np.log1p(np.abs(x - s) / scale) - np.log1p(np.abs(x) / scale))
    assert stats.ks_2samp(lam, ref).pvalue > MIN_P


@pytest.mark.parametrize("dim,k", [(5, 2.0), (16, 6.0)])
def test_generalized_gaussian_log_ratio_against_scipy_draws(dim, k):
    sigma, s = 0.5, 0.4
    lam = GeneralizedGaussian(sigma, k, dim).log_ratio_samples(_axis(dim, s), N, seed=7)
    rng = np.random.default_rng(123)
    R = stats.chi(dim - k, scale=sigma).rvs(N, random_state=rng)
    u = rng.standard_normal((N, dim))
    u1 = u[:, 0] / np.linalg.norm(u, axis=1)
    R2 = np.sqrt(R * R - 2 * s * R * u1 + s * s)
    ref = -k * np.log(R2 / R) - (R2**2 - R**2) / (2 * sigma**2)
    assert stats.ks_2samp(lam, ref).pvalue > MIN_P


@pytest.mark.parametrize(
    "noise",
    [
        Gaussian(0.5, 5),
        Laplace(0.4, 5),
        Pareto(0.5, 6.0, 5),
        GeneralizedGaussian(0.5, 2.0, 5),
        GeneralizedGaussian(0.3, 12.0, 64),
        Exp2(0.5, 2.0, 1.0, 5),
    ],
    ids=lambda n: n.name,
)
def test_importance_weights_of_the_log_ratio_average_to_one(noise):
    # For a density with full support, E_{z ~ pi}[pi(z - d) / pi(z)] = 1 for every d,
    # whatever pi's normalization; a wrong log density in the sampler breaks it.
    c = math.sqrt(noise.second_moment() / noise.dim)
    w = np.exp(noise.log_ratio_samples(_axis(noise.dim, 0.5 * c), 200_000, seed=11))
    se = w.std() / math.sqrt(w.size)
    assert abs(w.mean() - 1.0) <= 5 * se + 1e-3, (w.mean(), se)


@pytest.mark.parametrize("a,b", [(5.0, 4.0), (64.0, 10.0), (3.0, 2.5)])
@pytest.mark.parametrize("y", [1e-160, 1e-200, 1e-280])
def test_beta_quantile_fallback_inverts_the_regularized_incomplete_beta(a, b, y):
    # Below ~1e-150 _beta_quantile uses a closed-form leading term; the independent check
    # is scipy's forward function I_x(a, b), which is accurate there (no inversion).
    from scipy import special

    from harness.noise.pow_inf import _beta_quantile

    x = float(_beta_quantile(a, b, np.array([y]))[0])
    assert 0.0 < x < 1.0
    assert math.isclose(math.log(special.betainc(a, b, x)), math.log(y), rel_tol=1e-6)


@pytest.mark.parametrize(
    "dim,n",
    [(5, 40_000), (100, 200_000)],  # n * dim = 2e7 > 4 * 2^22: the chunked path
    ids=["kept-columns", "chunked"],
)
def test_laplace_log_ratio_of_a_diagonal_shift_has_the_closed_form_mean(dim, n):
    # Lambda = sum_i (|x_i| - |x_i - d_i|) / b over the shifted coordinates; its mean is
    # -KL(P_0 || P_d) = -sum_i (|d_i| / b + exp(-|d_i| / b) - 1)
    b = 0.5
    delta = np.full(dim, 0.2)
    delta[1::2] *= -1.0
    lam = Laplace(b, dim).log_ratio_samples(delta, n, seed=5)
    kl = float(np.sum(np.abs(delta) / b + np.exp(-np.abs(delta) / b) - 1.0))
    se = lam.std() / math.sqrt(n)
    assert abs(lam.mean() + kl) <= 5 * se, (lam.mean(), -kl, se)
    # and its variance: Var = sum_i Var_i, Var_i from a 1-D numpy reference
    x = np.random.default_rng(9).laplace(0.0, b, 400_000)
    var1 = np.var((np.abs(x) - np.abs(x - 0.2)) / b)
    assert lam.var() == pytest.approx(dim * var1, rel=0.05)
