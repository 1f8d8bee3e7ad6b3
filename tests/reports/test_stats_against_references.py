"""reports.stats against scipy/statsmodels directly: the cases the mutation audit found
unpinned (zero discordant pairs in the vectorized grid, the z-test's result fields, the
paired t interval, the means of the ACR test, the mid-p sample-size plan)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.proportion import proportions_ztest

from reports import stats
from tests.reports._references import mcnemar_power

FAST = settings(max_examples=80, deadline=None, database=None)


@FAST
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=20))
def test_vectorized_mcnemar_is_statsmodels_exact_and_the_binomial_mid_p(pairs):
    """Every cell, with zero discordant pairs included (no evidence: p = 1, never 0)."""
    pairs = [(0, 0), *pairs]  # always a cell with no discordant pair
    b = np.array([p[0] for p in pairs])
    c = np.array([p[1] for p in pairs])
    exact, midp = stats.mcnemar_pvalues(b, c)
    for bi, ci, e, m in zip(b, c, exact, midp, strict=True):
        want = min(1.0, sm_mcnemar([[3, bi], [ci, 4]], exact=True).pvalue)
        assert e == pytest.approx(want, rel=1e-10, abs=1e-15)
        n, k = int(bi + ci), int(min(bi, ci))
        if n == 0:
            assert e == 1.0 and m == 1.0
            continue
        assert e == pytest.approx(sps.binomtest(int(bi), n, 0.5).pvalue, rel=1e-10)
        mid = 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n - math.comb(n, k) / 2**n
        assert m == pytest.approx(min(1.0, mid), rel=1e-10, abs=1e-15)


def test_ztest_result_fields_and_statsmodels():
    k1, n1, k2, n2 = 130, 200, 112, 210
    res = stats.two_proportion_ztest(k1, n1, k2, n2)
    z, p = proportions_ztest([k1, k2], [n1, n2])
    assert (res.statistic, res.pvalue) == pytest.approx((z, p), rel=1e-12)
    assert (res.p1, res.p2, res.nobs1, res.nobs2) == (k1 / n1, k2 / n2, n1, n2)
    assert res.alternative == "two-sided"
    for bad in ((0, 0, 1, 10), (1, 10, 0, 0)):  # no observations: an error, not 0/0
        with pytest.raises(ValueError):
            stats.two_proportion_ztest(*bad)


def test_the_interval_is_paired():
    """Two rows share a large per-image component: the interval of the mean difference
    has the width of the differences' spread (normal theory on d), not of the rows'."""
    rng = np.random.default_rng(11)
    base = rng.exponential(1.0, 1500)
    x = base + rng.normal(0.02, 0.05, base.size)
    res = stats.paired_difference_test(x, base)
    d = x - base
    half = sps.norm.ppf(0.975) * d.std(ddof=1) / math.sqrt(d.size)
    assert (res.ci_high - res.ci_low) / 2 == pytest.approx(half, rel=0.1)


def test_the_acr_test_reports_each_rows_own_mean():
    rng = np.random.default_rng(12)
    x, y = rng.exponential(0.6, 40), rng.exponential(0.4, 40)
    res = stats.paired_difference_test(x, y)
    assert (res.mean_x, res.mean_y) == pytest.approx((x.mean(), y.mean()), rel=1e-12)
    assert res.ttest_pvalue == pytest.approx(sps.ttest_rel(x, y).pvalue, rel=1e-10)


@pytest.mark.parametrize("p10,p01", [(0.5, 0.05), (0.06, 0.03)])
@pytest.mark.parametrize("mid_p", [False, True])
def test_a_plan_states_the_power_of_its_own_test(p10, p01, mid_p):
    """The power a plan states is that of the test it plans for (mid-p or exact), at n."""
    plan = stats.mcnemar_sample_size(p10, p01, alpha=0.05, power=0.8, mid_p=mid_p)
    want = mcnemar_power(plan.n, p10, p01, 0.05, mid_p)
    assert plan.power == pytest.approx(want, abs=1e-9)


def test_a_p_value_outside_the_unit_interval_is_refused():
    for bad in ([0.2, 1.5], [-0.1, 0.3]):
        for adjust in (stats.holm, stats.benjamini_hochberg):
            with pytest.raises(ValueError, match=r"\[0, 1\]"):
                adjust(bad)


@FAST
@given(st.integers(0, 40), st.integers(0, 40))
def test_the_mcnemar_statistic_is_the_smaller_discordant_count(b, c):
    res = stats.mcnemar([[7, b], [c, 9]])
    assert res.statistic == min(b, c) == sm_mcnemar([[7, b], [c, 9]], exact=True).statistic


def test_the_interval_is_the_one_the_t_test_inverts():
    """The documented interval: ``mean(d) +- t_{n-1, 0.975} sd(d) / sqrt(n)``, by hand."""
    rng = np.random.default_rng(13)
    x = rng.exponential(0.5, 60)
    y = x - rng.normal(0.05, 0.2, 60)
    res = stats.paired_difference_test(x, y)
    d = x - y
    half = sps.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    assert (res.ci_low, res.ci_high) == pytest.approx((d.mean() - half, d.mean() + half), rel=1e-12)


@FAST
@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")  # near-equal d
@given(
    st.lists(st.floats(-1.0, 1.0, allow_subnormal=False), min_size=2, max_size=40),
    st.floats(-0.3, 0.3),
)
def test_the_interval_leaves_out_zero_exactly_where_the_t_test_rejects(d, shift):
    """What the headline shows beside the test never contradicts it: 0 lies outside the
    95% interval if and only if the paired t-test's p lies below 0.05 (away from ties
    with the boundary, which rounding decides)."""
    y = np.linspace(1.0, 2.0, len(d))
    x = y + np.asarray(d) + shift
    res = stats.paired_difference_test(x, y)
    assume(abs(res.ttest_pvalue - 0.05) > 1e-9)
    if np.isnan(res.ci_low):  # no interval: the test cannot reject either
        assert res.ttest_pvalue >= 0.05
    else:
        assert (res.ci_low > 0 or res.ci_high < 0) == (res.ttest_pvalue < 0.05)
