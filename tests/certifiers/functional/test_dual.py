"""The dual view (Eq. 9): at the optimum the dual equals the Neyman-Pearson bound
(Theorem 1, tightness), and its accuracy and robustness terms add up to it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import certifiers
from certifiers.functional import Functional, dual
from certifiers.functional import l2 as functional_l2
from certifiers.testing import neyman_pearson_lower
from harness.noise import Gaussian, GeneralizedGaussian, MixedNorm


def _axis(dim: int, size: float) -> np.ndarray:
    return size * np.eye(dim)[0]


@pytest.mark.parametrize("p", [0.6, 0.9, 0.99])
def test_gaussian_dual_equals_neyman_pearson(p):
    """Gaussian: the NP value is Phi(Phi^{-1}(p) - R/sigma) and the optimal lambda is the
    p-quantile of the ratio, exp(R/sigma Phi^{-1}(p) - R^2/(2 sigma^2)). Monte Carlo dual
    within 4 standard errors, exact dual (numerical maximization) to 1e-9."""
    sigma, d, R = 0.5, 10, 0.4
    np_value = stats.norm.cdf(stats.norm.ppf(p) - R / sigma)
    lam = math.exp(R / sigma * stats.norm.ppf(p) - R * R / (2 * sigma**2))
    mc = dual.solve_dual(Gaussian(sigma, d), _axis(d, R), p)
    assert abs(mc.value - np_value) < 4 * mc.stderr + 1e-3
    assert mc.lam == pytest.approx(lam, rel=0.02)
    exact = dual.solve_dual_l2(sigma, 0.0, d, R, p)
    assert exact.value == pytest.approx(np_value, abs=1e-9)
    assert exact.lam == pytest.approx(lam, rel=1e-4)
    for sol in (mc, exact):
        assert sol.value == pytest.approx(sol.accuracy_term + sol.robustness_term, abs=1e-15)
        assert sol.accuracy_term == pytest.approx(-sol.lam * (1 - p), rel=1e-15)
        assert 0.0 <= sol.robustness_term <= min(1.0, sol.lam) + 1e-12


def test_monte_carlo_lambda_is_the_maximizer():
    """The returned lambda maximizes the Monte Carlo objective (concave in lambda)."""
    noise, p = GeneralizedGaussian(0.5, 3.0, 6), 0.8
    delta = _axis(6, 0.3)
    ratios = dual.likelihood_ratios(noise, delta, 100_000, seed=3)
    best = dual.solve_dual(noise, delta, p, 100_000, seed=3)
    for factor in (0.5, 0.9, 0.99, 1.01, 1.1, 2.0):
        assert dual.dual_objective(best.lam * factor, p, ratios).value <= best.value + 1e-12


@pytest.mark.parametrize("d,k,R", [(3, 1.0, 0.4), (6, 3.0, 0.25), (64, 40.0, 0.5)])
def test_generalized_gaussian_dual_at_the_certified_probability(d, k, R):
    """At p = p_min(R) the dual optimum is 1/2: exactly (solve_dual_l2 maximizes the exact
    objective numerically; >= 1/2 since p_min is rounded up) and by Monte Carlo from
    noise.sample + log_prob (within Monte Carlo error)."""
    p = float(functional_l2.p_min(k, d, R))
    exact = dual.solve_dual_l2(1.0, k, d, R, p)
    assert 0.5 <= exact.value < 0.5 + 1e-8
    mc = dual.solve_dual(GeneralizedGaussian(1.0, k, d), _axis(d, R), p, seed=d)
    assert abs(mc.value - 0.5) < 4 * mc.stderr + 1e-3
    # the same optimum as the Neyman-Pearson minimization (independent draws, from the
    # radius-and-one-coordinate reduction of the spherical law)
    est, se = neyman_pearson_lower(GeneralizedGaussian(1.0, k, d), _axis(d, R), p, seed=d)
    assert abs(mc.value - est) <= 4 * math.hypot(mc.stderr, se) + 1e-4


def test_mixed_norm_dual_at_the_certified_radius():
    """Mixed norm, vertex shift at the Monte Carlo certified radius: the dual optimum is at
    least 1/2 (up to Monte Carlo error), as the certificate promises."""
    noise, p = MixedNorm(0.5, 2.0, 4), 0.9
    eps = Functional(mc_samples=200_000, mc_grid=150).radius(noise, p, "linf")
    sol = dual.solve_dual(noise, np.full(4, eps), p, seed=11)
    assert sol.value >= 0.5 - 4 * sol.stderr - 1e-3
    assert sol.value < 0.6


def test_accuracy_robustness_trade_off():
    """Eq. 9: with a larger shift the robustness term (for the same lambda) shrinks, and the
    optimum decreases; at delta = 0 the bound is p itself."""
    noise, p = Gaussian(1.0, 5), 0.9
    zero = dual.solve_dual(noise, np.zeros(5), p)
    assert zero.value == pytest.approx(p, abs=1e-12)
    small = dual.solve_dual(noise, _axis(5, 0.2), p)
    large = dual.solve_dual(noise, _axis(5, 0.8), p)
    assert large.value < small.value < p
    ratios_small = dual.likelihood_ratios(noise, _axis(5, 0.2))
    ratios_large = dual.likelihood_ratios(noise, _axis(5, 0.8))
    lam = 1.0
    assert (
        dual.dual_objective(lam, p, ratios_large).robustness_term
        < dual.dual_objective(lam, p, ratios_small).robustness_term
    )


def test_input_validation():
    with pytest.raises(ValueError):
        dual.solve_dual(Gaussian(1.0, 3), np.zeros(2), 0.9)
    with pytest.raises(ValueError):
        dual.solve_dual(Gaussian(1.0, 3), np.zeros(3), 1.0)
    with pytest.raises(ValueError):
        dual.solve_dual_l2(1.0, 0.0, 3, 0.1, 0.0)
    assert certifiers.get("functional").supports(Gaussian(1.0, 3), "l2")
