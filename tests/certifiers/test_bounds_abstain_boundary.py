"""Cohen et al.'s CERTIFY abstains where the lower bound on p_A is at most 1/2 -- at
exactly 1/2 as well -- and the Clopper-Pearson bound refuses an empty sample.

Hand-worked cases: with n = 1 draw and k = 1 success the one-sided Clopper-Pearson lower
bound is the alpha quantile of Beta(1, 1), the uniform law, i.e. alpha itself; with n = 2,
k = 2 it is the alpha quantile of Beta(2, 1), i.e. sqrt(alpha)."""

from __future__ import annotations

import numpy as np
import pytest

from certifiers import bounds
from certifiers.bounds import certify_top_class, clopper_pearson_lower


def test_hand_worked_bounds():
    assert clopper_pearson_lower(1, 1, 0.75) == pytest.approx(0.75, rel=1e-14)
    assert clopper_pearson_lower(2, 2, 0.5625) == pytest.approx(0.75, rel=1e-14)


@pytest.mark.parametrize("k,n,alpha", [(1, 1, 0.75), (2, 2, 0.5625)])
def test_a_lower_bound_of_exactly_one_half_abstains(k, n, alpha):
    """p_lower = 3/4 less a law distance of 1/4 is exactly 1/2: not above 1/2, so abstain."""
    out = certify_top_class(np.array([0, 1]), np.array([n - k, k]), alpha, 0.25)
    assert float(out.p_lower) == 0.5
    assert int(out.prediction) == -1


@pytest.mark.parametrize(
    "p_lower,predicted",
    [(0.5, False), (np.nextafter(0.5, 0.0), False), (np.nextafter(0.5, 1.0), True), (0.9, True)],
)
def test_the_abstain_rule_is_strictly_above_one_half(monkeypatch, p_lower, predicted):
    """Whatever the bound, the class is predicted exactly when p_lower > 1/2 (rows and a
    single row alike)."""
    monkeypatch.setattr(
        bounds, "clopper_pearson_lower", lambda count, n, alpha: np.full(np.shape(count), p_lower)
    )
    rows = certify_top_class(np.array([[3, 1], [0, 4]]), np.array([[5, 5], [5, 5]]), 0.01)
    assert rows.prediction.tolist() == ([0, 1] if predicted else [-1, -1])
    single = certify_top_class(np.array([0, 4]), np.array([5, 5]), 0.01)
    assert int(single.prediction) == (1 if predicted else -1)


def test_an_empty_sample_is_refused():
    with pytest.raises(ValueError, match="n must be"):
        clopper_pearson_lower(0, 0, 0.1)
    with pytest.raises(ValueError):
        clopper_pearson_lower(np.array([0, 1]), np.array([0, 2]), 0.1)
