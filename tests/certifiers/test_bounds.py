import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import beta, binom

from certifiers.bounds import (
    certify_probability,
    clopper_pearson_lower,
    draws_certifying_from_on,
    estimation_draws_needed,
)


@given(
    n=st.integers(1, 200_000),
    frac=st.floats(0.0, 1.0),
    alpha=st.floats(1e-6, 0.5),
)
def test_matches_beta_quantile(n, frac, alpha):
    k = int(round(frac * n))
    expected = 0.0 if k == 0 else beta.ppf(alpha, k, n - k + 1)
    assert clopper_pearson_lower(k, n, alpha) == pytest.approx(expected, rel=1e-10, abs=1e-15)


def test_edges():
    assert clopper_pearson_lower(0, 10, 0.05) == 0.0
    # k = n: Beta(n, 1) quantile is alpha^(1/n)
    assert clopper_pearson_lower(100, 100, 0.001) == pytest.approx(0.001 ** (1 / 100))


def test_is_a_lower_not_an_upper_bound():
    lo = clopper_pearson_lower(900, 1000, 0.001)
    assert lo < 0.9


def test_vectorized_equals_scalar():
    k = np.array([0, 10, 500, 999, 1000])
    vec = clopper_pearson_lower(k, 1000, 0.01)
    assert vec.shape == k.shape
    assert np.allclose(vec, [clopper_pearson_lower(int(c), 1000, 0.01) for c in k])


@pytest.mark.parametrize("p", [0.3, 0.9, 0.99])
@pytest.mark.parametrize("n", [50, 1000])
def test_coverage_is_at_least_one_minus_alpha(p, n):
    """Exact coverage: P_K~Bin(n,p)(lower(K) > p) <= alpha, summed over all outcomes."""
    alpha = 0.05
    k = np.arange(n + 1)
    lower = clopper_pearson_lower(k, n, alpha)
    miss = binom.pmf(k[lower > p], n, p).sum()
    assert miss <= alpha + 1e-12


@pytest.mark.parametrize(
    "args",
    [(5, 10, 0.0), (5, 10, 1.0), (5, 10, float("nan")), (11, 10, 0.1), (-1, 10, 0.1),
     (5, 0, 0.1), (2.5, 10, 0.1)],
)  # fmt: skip
def test_bad_input(args):
    with pytest.raises((ValueError, TypeError)):
        clopper_pearson_lower(*args)


def test_certify_top_class_selects_from_selection_and_bounds_from_estimation():
    """Cohen et al.'s CERTIFY: the class comes from the selection counts even where the
    estimation counts would pick another one; the bound is scipy's Beta quantile."""
    from scipy import stats

    from certifiers.bounds import certify_top_class

    selection = np.array([[0, 90, 10], [50, 0, 50], [1, 2, 97]])
    estimation = np.array([[600, 400, 0], [100, 800, 100], [0, 0, 1000]])
    out = certify_top_class(selection, estimation, 0.01)
    assert out.top.tolist() == [1, 0, 2]  # ties to the lowest index
    want = [stats.beta.ppf(0.01, k, 1000 - k + 1) for k in (400, 100, 1000)]
    assert np.allclose(out.p_lower, want, rtol=1e-12)
    assert out.prediction.tolist() == [-1, -1, 2]
    single = certify_top_class(selection[2], estimation[2], 0.01)
    assert int(single.prediction) == 2 and np.isclose(float(single.p_lower), want[2])
    with pytest.raises(ValueError, match="same shape"):
        certify_top_class(selection, estimation[:, :2], 0.01)
    with pytest.raises(ValueError, match="non-negative integers"):
        certify_top_class(selection * 1.0, estimation, 0.01)


@given(
    st.floats(0.55, 0.9999),
    st.floats(0.0, 1.0),
    st.sampled_from([0.001, 0.01, 0.05]),
)
def test_estimation_draws_needed_is_the_smallest_n_and_every_larger_n_certifies(p, share, alpha):
    """Against a scan of n = 1, 2, ... with scipy's regularized incomplete beta inverse (the
    Clopper-Pearson bound at the real-valued expected count p n): the answer is the first
    n that certifies, and no larger n (up to twice it, and 100 beyond) fails."""
    from scipy.special import betaincinv

    p_needed = 0.5 + share * (p - 0.5) * 0.9
    n = estimation_draws_needed(p, p_needed, alpha)
    assert n is not None
    scan = np.arange(1, max(2 * n, n + 100) + 1, dtype=np.float64)
    bound = betaincinv(p * scan, scan - p * scan + 1, alpha)
    ok = bound >= p_needed
    assert ok[n - 1] and not ok[: n - 1].any() and ok[n - 1 :].all()


@given(
    n=st.integers(1, 100_000),
    frac=st.floats(0.0, 1.0),
    alpha=st.sampled_from([1e-4, 0.001, 0.05]),
    distance=st.floats(0.0, 0.2),
)
def test_a_law_distance_lowers_p_lower_by_itself(n, frac, alpha, distance):
    """Counts sampled from a law within total variation ``distance`` of the certified one
    bound its probability by scipy's Beta quantile less ``distance`` (never below 0), and
    abstain where that is at most 1/2."""
    from certifiers.bounds import certify_top_class

    k = int(round(frac * n))
    out = certify_top_class(np.array([0, 1]), np.array([n - k, k]), alpha, distance)
    want = max((beta.ppf(alpha, k, n - k + 1) if k else 0.0) - distance, 0.0)
    assert float(out.p_lower) == pytest.approx(want, rel=1e-10, abs=1e-15)
    assert int(out.prediction) == (1 if want > 0.5 else -1)


def test_the_lowered_bound_covers_every_law_within_the_distance():
    """The worst law within total variation ``t`` of the sampled one moves ``t`` of the top
    class's mass elsewhere: ``p = q - t``. Exact coverage over every count of Bin(n, q):
    the lowered bound exceeds ``q - t`` with probability at most alpha, while the bound
    without the distance exceeds it almost always."""
    from certifiers.bounds import certify_top_class

    n, q, t, alpha = 2000, 0.9, 0.02, 0.01
    k = np.arange(n + 1)
    counts = np.stack([n - k, k], axis=1)
    selection = np.tile([0, 1], (n + 1, 1))
    lowered = certify_top_class(selection, counts, alpha, t).p_lower
    plain = certify_top_class(selection, counts, alpha).p_lower
    assert binom.pmf(k[lowered > q - t], n, q).sum() <= alpha
    assert binom.pmf(k[plain > q - t], n, q).sum() > 0.5


@pytest.mark.parametrize("distance", [-1e-9, 1.0, float("nan"), float("inf"), True, "0"])
def test_a_law_distance_outside_zero_one_is_refused(distance):
    from certifiers.bounds import certify_top_class

    with pytest.raises((ValueError, TypeError), match="law distance"):
        certify_top_class(np.array([0, 5]), np.array([1, 9]), 0.01, distance)


@given(
    p_needed=st.floats(0.55, 0.995),
    gap=st.floats(0.05, 0.9),
    target=st.sampled_from([0.5, 0.8, 0.9, 0.99]),
    alpha=st.sampled_from([1e-2, 1e-3, 1e-6]),
)
@settings(max_examples=40, deadline=None)
def test_every_budget_from_the_one_found_on_certifies_as_often_as_asked(
    p_needed, gap, target, alpha
):
    """The share of runs that certify zig-zags with the budget; from the budget found on
    it stays at or above the target (checked over several teeth of the saw), and the
    budget before it falls short."""
    p = p_needed + gap * (1.0 - p_needed)
    n = draws_certifying_from_on(target, p, p_needed, alpha, limit=30_000)
    assume(n is not None)
    assert certify_probability(n - 1, p, p_needed, alpha) < target
    teeth = int(4 / (1.0 - p_needed)) + 50
    for m in range(n, n + teeth):
        assert certify_probability(m, p, p_needed, alpha) >= target, m
