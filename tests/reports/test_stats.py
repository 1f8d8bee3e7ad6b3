"""reports.stats pinned against hand computations and direct scipy/statsmodels calls."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import power_proportions_2indep

from reports import stats

FAST = settings(max_examples=60, deadline=None, database=None)


# --- two-proportion z-test (unpaired) -------------------------------------------------
def test_ztest_reproduces_rebuttal_p_value():
    # 50% vs 49% on 50,000 images each: the rebuttal's p = 0.001565
    res = stats.two_proportion_ztest(25_000, 50_000, 24_500, 50_000)
    assert round(res.pvalue, 6) == 0.001565
    assert res.label.startswith("unpaired")


def test_ztest_same_gap_on_500_images_is_not_significant():
    res = stats.two_proportion_ztest(250, 500, 245, 500)
    assert round(res.pvalue, 2) == 0.75


def test_ztest_matches_pooled_formula_by_hand():
    k1, n1, k2, n2 = 130, 200, 112, 210
    pool = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
    p = math.erfc(abs(z) / math.sqrt(2))  # 2 * (1 - Phi(|z|))
    res = stats.two_proportion_ztest(k1, n1, k2, n2)
    assert res.statistic == pytest.approx(z, rel=1e-12)
    assert res.pvalue == pytest.approx(p, rel=1e-10)


def test_ztest_degenerate_and_bad_input():
    assert stats.two_proportion_ztest(0, 10, 0, 20).pvalue == 1.0
    assert stats.two_proportion_ztest(10, 10, 20, 20).pvalue == 1.0
    with pytest.raises(ValueError):
        stats.two_proportion_ztest(11, 10, 1, 10)
    with pytest.raises(ValueError):
        stats.two_proportion_ztest(1, 0, 1, 10)
    with pytest.raises(TypeError):
        stats.two_proportion_ztest(1.5, 10, 1, 10)


# --- McNemar ---------------------------------------------------------------------------
def test_mcnemar_known_table_by_hand():
    # n10 = 8, n01 = 2: N = 10 discordant pairs, k = 2, X ~ Bin(10, 1/2)
    cdf = sum(math.comb(10, i) for i in range(3)) / 2**10  # P(X <= 2) = 56/1024
    pmf = math.comb(10, 2) / 2**10  # P(X = 2) = 45/1024
    res = stats.mcnemar([[50, 8], [2, 40]])
    assert res.pvalue_exact == pytest.approx(2 * cdf)  # 112/1024 = 0.109375
    assert res.pvalue_midp == pytest.approx(2 * cdf - pmf)  # 67/1024 = 0.0654296875
    assert res.pvalue_midp == pytest.approx(67 / 1024)
    assert res.pvalue == res.pvalue_midp
    assert stats.mcnemar([[50, 8], [2, 40]], mid_p=False).pvalue == pytest.approx(112 / 1024)
    assert (res.n10, res.n01, res.discordant, res.nobs) == (8, 2, 10, 100)


def test_mcnemar_pairs_equal_table():
    rng = np.random.default_rng(1)
    x = rng.random(300) < 0.7
    y = rng.random(300) < 0.6
    table = [[np.sum(x & y), np.sum(x & ~y)], [np.sum(~x & y), np.sum(~x & ~y)]]
    a = stats.mcnemar((x, y))
    b = stats.mcnemar(np.array(table))
    c = stats.mcnemar(np.stack([x, y]))
    assert a == b == c
    assert a.pvalue_exact == pytest.approx(sm_mcnemar(table, exact=True).pvalue)


def test_a_tuple_is_always_two_outcome_arrays():
    """Two images as a tuple of 0/1 outcomes are pairs, never the table they look like:
    image 1 right only for the first, image 2 right only for the second."""
    res = stats.mcnemar((np.array([1, 0]), np.array([0, 1])))
    assert (res.n11, res.n10, res.n01, res.n00) == (0, 1, 1, 0)
    assert stats.mcnemar(([True, False], [False, True])) == res
    with pytest.raises(ValueError, match="booleans or 0/1"):
        stats.mcnemar(([50, 8], [2, 40]))  # a table given as a tuple of its rows
    with pytest.raises(ValueError, match="tuple"):
        stats.mcnemar((np.ones(3, bool), np.ones(3, bool), np.ones(3, bool)))


def test_mcnemar_no_or_balanced_discordance():
    assert stats.mcnemar([[5, 0], [0, 5]]).pvalue_midp == 1.0
    assert stats.mcnemar([[5, 0], [0, 5]]).pvalue_exact == 1.0
    res = stats.mcnemar([[5, 4], [4, 5]])
    assert res.pvalue_exact == 1.0 and res.pvalue_midp == pytest.approx(1.0)


def test_mcnemar_rejects_bad_input():
    with pytest.raises(ValueError):
        stats.mcnemar([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    with pytest.raises(ValueError):
        stats.mcnemar([[1, -2], [3, 4]])
    with pytest.raises(ValueError):
        stats.mcnemar((np.ones(3, bool), np.ones(4, bool)))


@FAST
@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), st.integers(0, 40))
def test_mcnemar_properties(a, b, c, d):
    res = stats.mcnemar([[a, b], [c, d]])
    swapped = stats.mcnemar([[d, c], [b, a]])  # swap the two classifiers' roles
    transposed = stats.mcnemar([[a, c], [b, d]])
    assert res.pvalue_midp == pytest.approx(transposed.pvalue_midp)
    assert res.pvalue_exact == pytest.approx(swapped.pvalue_exact)
    assert 0.0 <= res.pvalue_midp <= res.pvalue_exact <= 1.0
    # mid-p = exact minus P(X = k) (uncapped), from the binomial formula by hand
    n, k = b + c, min(b, c)
    pmf = math.comb(n, k) / 2**n
    cdf = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    assert res.pvalue_midp == pytest.approx(min(1.0, 2 * cdf - pmf), abs=1e-12)


# --- intervals -------------------------------------------------------------------------
def test_wilson_matches_closed_form():
    k, n, alpha = 37, 120, 0.05
    z = sps.norm.ppf(1 - alpha / 2)
    center = (k + z**2 / 2) / (n + z**2)
    half = z / (n + z**2) * math.sqrt(k * (n - k) / n + z**2 / 4)
    lo, hi = stats.wilson_interval(k, n, alpha)
    assert lo == pytest.approx(center - half, rel=1e-10)
    assert hi == pytest.approx(center + half, rel=1e-10)


def test_clopper_pearson_matches_beta_quantiles():
    k, n, alpha = 7, 50, 0.05
    lo, hi = stats.clopper_pearson_interval(k, n, alpha)
    assert lo == pytest.approx(sps.beta.ppf(alpha / 2, k, n - k + 1), rel=1e-9)
    assert hi == pytest.approx(sps.beta.ppf(1 - alpha / 2, k + 1, n - k), rel=1e-9)
    assert stats.clopper_pearson_interval(0, 50)[0] == 0.0
    assert stats.clopper_pearson_interval(50, 50)[1] == 1.0


def test_interval_vectorized_and_bad_input():
    lo, hi = stats.wilson_interval(np.array([0, 5, 10]), 10)
    assert lo.shape == (3,) and lo[0] == 0.0 and hi[-1] == 1.0
    with pytest.raises(ValueError):
        stats.wilson_interval(11, 10)
    with pytest.raises(ValueError):
        stats.proportion_interval(1, 10, method="normal")


@FAST
@given(st.integers(1, 5000), st.data())
def test_intervals_contain_point_estimate(n, data):
    k = data.draw(st.integers(0, n))
    for lo, hi in (stats.wilson_interval(k, n), stats.clopper_pearson_interval(k, n)):
        assert lo <= k / n <= hi  # exactly: no ulp off at k = 0 or k = n
        assert 0.0 <= lo <= hi <= 1.0


# --- multiple comparisons --------------------------------------------------------------
def test_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03]
    # Holm: sorted 0.01, 0.03, 0.04 -> 3*0.01, max(.03, 2*.03), max(.06, 1*.04)
    assert stats.holm(p) == pytest.approx([0.03, 0.06, 0.06])
    # BH: m p_(i) / i = .03, .045, .04 -> step-up minima .03, .04, .04
    assert stats.benjamini_hochberg(p) == pytest.approx([0.03, 0.04, 0.04])


def test_holm_is_not_statsmodels_default():
    p = [0.01, 0.02, 0.03, 0.2]
    default = multipletests(p)[1]  # Holm-Sidak
    assert not np.allclose(stats.holm(p), default)
    assert np.allclose(stats.holm(p), multipletests(p, method="holm")[1])


def test_adjust_keeps_nan_out_of_the_family():
    out = stats.holm([0.01, np.nan, 0.02])
    assert np.isnan(out[1])
    assert out[[0, 2]] == pytest.approx([0.02, 0.02])
    with pytest.raises(ValueError):
        stats.adjust_pvalues([0.1], "")


@FAST
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_adjusted_p_at_least_raw(p):
    raw = np.array(p)
    h = stats.holm(raw)
    b = stats.benjamini_hochberg(raw)
    assert (h >= raw - 1e-12).all() and (b >= raw - 1e-12).all()
    assert (h >= b - 1e-12).all() and (h <= 1).all()


# --- paired ACR test -------------------------------------------------------------------
def test_paired_difference_matches_scipy():
    rng = np.random.default_rng(3)
    x = rng.exponential(0.5, 150)
    y = x - rng.normal(0.05, 0.1, 150)
    res = stats.paired_difference_test(x, y)
    assert res.wilcoxon_pvalue == pytest.approx(sps.wilcoxon(x, y).pvalue)
    assert res.diff == pytest.approx(np.mean(x - y))
    assert res.ci_low <= res.diff <= res.ci_high
    again = stats.paired_difference_test(x, y)
    assert (again.ci_low, again.ci_high) == (res.ci_low, res.ci_high)  # seeded


def test_paired_difference_identical_rows():
    x = np.r_[np.zeros(50), np.linspace(0.1, 1, 50)]
    res = stats.paired_difference_test(x, x)
    assert res.wilcoxon_pvalue == 1.0 and res.ci_low == res.ci_high == 0.0


def sign_flip_pvalue(d: np.ndarray) -> float:
    """The exact two-sided sign-flip permutation p-value of mean(d), by enumeration."""
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * d.size)).reshape(d.size, -1).T
    means = np.abs(signs @ np.abs(d)) / d.size
    return float(np.mean(means >= abs(d.mean()) * (1 - 1e-12)))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("gap", [0.25, -1.5])
def test_identical_nonzero_differences_take_the_sign_flip_pvalue(n, gap):
    """Every image shifted by the same gap: the t statistic is infinite, and one image
    (no degree of freedom) used to give p = 0, a significant mark from one image."""
    y = np.linspace(0.0, 1.0, n) + 2.0
    p = stats.paired_ttest_pvalue(y + gap, y)
    assert p == pytest.approx(sign_flip_pvalue(np.full(n, gap)))
    assert p == min(1.0, 2.0 ** (1 - n))
    assert stats.paired_ttest_pvalue([0.5], [0.25]) == 1.0


def test_the_paired_t_test_is_scipys_two_sided_test_with_round_down_as_ties():
    rng = np.random.default_rng(4)
    x = rng.exponential(0.5, 120)
    y = x - rng.normal(0.03, 0.1, 120)
    want = sps.ttest_rel(x, y).pvalue  # two-sided
    assert stats.paired_ttest_pvalue(x, y) == pytest.approx(want, rel=1e-12)
    assert stats.paired_difference_test(x, y).ttest_pvalue == pytest.approx(want, rel=1e-12)
    # a radius 1e-10 below another on every image (a round-down): ties, not a difference
    assert stats.paired_ttest_pvalue(x, x * (1 - 1e-10)) == 1.0
    assert stats.paired_difference_test(x, x * (1 - 1e-10)).ttest_pvalue == 1.0


def test_wilcoxon_drops_the_zero_differences():
    """Images where both rows give the same score say nothing about which is larger
    (zero_method "wilcox", Wilcoxon 1945): the p-value is that of the others alone (by
    the normal approximation, which scipy takes where there were zeros)."""
    rng = np.random.default_rng(6)
    x = rng.exponential(0.5, 80)
    y = x.copy()
    y[:50] -= rng.normal(0.05, 0.1, 50)
    res = stats.paired_difference_test(x, y)
    others = sps.wilcoxon((x - y)[:50], method="asymptotic").pvalue
    assert res.wilcoxon_pvalue == pytest.approx(others, rel=1e-12)


@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_the_interval_has_the_width_of_its_confidence_level(confidence):
    """On 2,000 normal differences the interval of the mean is close to the
    normal-theory one, ``mean +- z_{(1+c)/2} sd / sqrt(n)`` (a two-sided level)."""
    rng = np.random.default_rng(5)
    x = rng.normal(1.0, 1.0, 2000)
    res = stats.paired_difference_test(x, np.zeros_like(x), confidence=confidence)
    half = (res.ci_high - res.ci_low) / 2
    normal = sps.norm.ppf((1 + confidence) / 2) * x.std(ddof=1) / math.sqrt(x.size)
    assert half == pytest.approx(normal, rel=0.07)
    assert res.ci_low < x.mean() < res.ci_high


def test_the_mcnemar_rejection_bound_includes_a_p_value_equal_to_the_level():
    """With d discordant pairs all on one side the exact two-sided p-value is 2^(1-d),
    exactly representable (scipy's binomial cdf gives it exactly): at that level, k = 0
    rejects (p <= alpha), and just below it nothing does."""
    for d in range(2, 25):
        alpha = 2.0 ** (1 - d)
        assert stats._mcnemar_rejection_bound(np.array([d]), alpha, False).tolist() == [0]
        below = alpha * (1 - 1e-9)
        assert stats._mcnemar_rejection_bound(np.array([d]), below, False).tolist() == [-1]


def test_no_interval_from_one_image():
    res = stats.paired_difference_test([0.9], [0.2])
    assert np.isnan(res.ci_low) and np.isnan(res.ci_high)
    assert res.diff == pytest.approx(0.7)


@pytest.mark.parametrize("n", [2, 5, 6, 9])
def test_images_that_all_differ_by_the_same_amount_give_an_interval_once_their_signs_tell(n):
    """Every image 0.25 apart: the sign-flip p-value is 2^(1-n) (the t-test has none), so
    the interval is that amount once 2^(1-n) < 0.05 (n >= 6), and none before, when the
    test cannot tell the sign."""
    y = np.linspace(0.0, 1.0, n)
    res = stats.paired_difference_test(y + 0.25, y)
    if 2.0 ** (1 - n) < 0.05:
        assert res.ci_low == res.ci_high == pytest.approx(0.25)
    else:
        assert np.isnan(res.ci_low) and np.isnan(res.ci_high)


# --- sample-size planning --------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    p1=st.floats(1e-6, 1 - 1e-6),
    p2=st.floats(1e-6, 1 - 1e-6),
    alpha=st.sampled_from([1e-6, 0.001, 0.05, 0.5]),
    power=st.sampled_from([0.51, 0.8, 0.99, 0.999999]),
)
def test_unpaired_sample_size_crosses_the_power_it_states(p1, p2, alpha, power):
    """At n the plan's power (exact where it says so, else Fleiss' approximation, by
    statsmodels' ``power_proportions_2indep``) reaches the target, and at n - 1 it does
    not; no warning (statsmodels' own solvers probe n < 0)."""
    assume(abs(p1 - p2) > 1e-3 and power > alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = stats.unpaired_sample_size(p1, p2, alpha, power)

    def achieved(n: int) -> float:
        if plan.exact:
            return stats.ztest_power(n, p1, p2, alpha)
        return float(power_proportions_2indep(p1 - p2, p2, n, alpha=alpha, return_results=False))

    assert plan.n >= 1 and achieved(plan.n) >= power and plan.power == achieved(plan.n)
    assert plan.n == 1 or achieved(plan.n - 1) < power


def test_a_power_at_most_the_level_is_refused():
    for plan in (stats.unpaired_sample_size, stats.mcnemar_sample_size):
        with pytest.raises(ValueError, match="between the level"):
            plan(0.3, 0.1, 0.05, 0.05)
    assert stats.mcnemar_power(100, 0.3, 0.1, alpha=0.9) > 0.9  # a level above 1/2 is fine


def _simulated_mcnemar_power(n, p10, p01, alpha, reps, seed):
    rng = np.random.default_rng(seed)
    cells = rng.multinomial(n, [p10, p01, 1 - p10 - p01], size=reps)
    b, c = cells[:, 0], cells[:, 1]
    k, m = np.minimum(b, c), b + c
    p = np.minimum(1.0, 2 * sps.binom.cdf(k, m, 0.5))
    return float(np.mean(p <= alpha))


def test_mcnemar_power_matches_simulation():
    exact = stats.mcnemar_power(200, 0.08, 0.03, alpha=0.05)
    sim = _simulated_mcnemar_power(200, 0.08, 0.03, 0.05, reps=20_000, seed=0)
    assert exact == pytest.approx(sim, abs=0.015)


@FAST
@given(st.floats(0.3, 0.95), st.floats(0.0, 0.05), st.sampled_from([0.05, 0.01]))
def test_a_small_mcnemar_plan_reaches_the_target_by_the_exact_power(p10, p01, alpha):
    """Large gaps give Connor's approximation a handful of images, where the exact test
    is discrete (at 5%, it cannot reject on fewer than 6 discordant pairs): the plan is
    where the exact power crosses the target."""
    plan = stats.mcnemar_sample_size(p10, p01, alpha=alpha, power=0.8)
    assert plan.exact and plan.power >= 0.8
    assert plan.power == stats.mcnemar_power(plan.n, p10, p01, alpha)
    assert plan.n == 1 or stats.mcnemar_power(plan.n - 1, p10, p01, alpha) < 0.8


def test_mcnemar_sample_size_moves_connors_n_to_the_exact_power():
    """Connor's n for 6% vs 3% falls short of 80% by the exact test; the plan is moved up
    to where the exact power crosses it (and the mid-p test, less conservative, has more)."""
    plan = stats.mcnemar_sample_size(0.06, 0.03, alpha=0.05, power=0.8)
    pd_, delta = 0.09, 0.03
    n = (sps.norm.ppf(0.975) * math.sqrt(pd_) + sps.norm.ppf(0.8) * math.sqrt(pd_ - delta**2)) ** 2
    connor = math.ceil(n / delta**2)
    assert stats.mcnemar_power(connor, 0.06, 0.03) < 0.8 <= plan.power
    assert plan.n > connor and stats.mcnemar_power(plan.n - 1, 0.06, 0.03) < 0.8
    assert stats.mcnemar_power(plan.n, 0.06, 0.03, mid_p=True) >= plan.power
    with pytest.raises(ValueError):
        stats.mcnemar_sample_size(0.05, 0.05)


# --- Monte Carlo error bound ---------------------------------------------------------
def test_false_certificate_bound_by_hand():
    # n = 200, alpha = 0.001: P(X = 0) = 0.999^200 = 0.8186 < 0.95,
    # P(X <= 1) = 0.8186 + 200 * 0.001 * 0.999^199 = 0.9825 >= 0.95  ->  1
    assert 0.999**200 < 0.95 <= 0.999**200 + 200 * 0.001 * 0.999**199
    assert stats.false_certificate_bound(200, 0.001) == 1
    assert stats.false_certificate_bound(0, 0.001) == 0


@FAST
@given(st.integers(1, 100_000), st.sampled_from([0.001, 0.01, 0.05]))
def test_false_certificate_bound_is_the_binomial_quantile(n, alpha):
    k = stats.false_certificate_bound(n, alpha, 0.95)
    assert sps.binom.cdf(k, n, alpha) >= 0.95
    assert k == 0 or sps.binom.cdf(k - 1, n, alpha) < 0.95


@FAST
@given(
    st.integers(1, 100_000),
    st.sampled_from([0.001, 0.01, 0.05]),
    st.floats(0.001, 0.04),
)
def test_a_shared_failure_probability_is_spent_from_the_confidence(n, alpha, shared):
    """``P(#false > k) <= shared + P(Bin(n, alpha) > k) <= 1 - confidence``: the bound is
    the binomial quantile at ``confidence + shared``."""
    k = stats.false_certificate_bound(n, alpha, 0.95, shared)
    assert sps.binom.sf(k, n, alpha) <= 1 - 0.95 - shared + 1e-12
    assert k == 0 or sps.binom.sf(k - 1, n, alpha) > 1 - 0.95 - shared


def test_false_certificate_column_holds_on_images_whose_top_class_is_below_half():
    """The report's bound is on false certificates among the row's images, each false with
    probability <= alpha whether or not it is certified: 1000 images whose class 0 has
    p_A = 0.49 (the smoothed classifier predicts class 1), certified by
    ``certify_top_class``. Every certificate of class 0 is false, and almost every
    certificate issued is one; a bound taken over the certificates issued (1 here) was
    exceeded in 59% of the trials, the column's may be in at most 5% of them (300 trials:
    0.05 + 3 standard errors)."""
    from certifiers.bounds import certify_top_class
    from reports.columns import COLUMNS, Context
    from reports.rows import Row

    column = next(c for c in COLUMNS if c.key == "false_cert")
    rng = np.random.default_rng(1)
    images, n0, n, alpha, trials = 1000, 100, 100, 0.01, 300
    exceeded = 0
    for _ in range(trials):
        sel0, est0 = rng.binomial(n0, 0.49, images), rng.binomial(n, 0.49, images)
        sel = np.stack([sel0, n0 - sel0], 1)
        est = np.stack([est0, n - est0], 1)
        out = certify_top_class(sel, est, alpha)
        abstained = out.prediction < 0
        row = Row(
            "m", "gaussian", ("cohen",), "gaussian", "gaussian", np.arange(images),
            np.where(abstained, 0.0, 0.1), out.prediction == 1, abstained,
            np.zeros(images), 0.0, 0.0,
        )  # fmt: skip
        bound = column.value(row, Context(alpha))
        assert bound <= int((~abstained).sum())
        exceeded += int((out.prediction == 0).sum()) > bound
    assert exceeded / trials <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / trials)


def test_false_certificate_bound_never_exceeds_the_certificates_issued():
    assert stats.false_certificate_bound(1000, 0.2, 0.95) > 200
    assert stats.false_certificate_bound(1000, 0.2, 0.95, issued=7) == 7
    assert stats.false_certificate_bound(1000, 0.2, 0.95, issued=0) == 0
    assert stats.false_certificate_bound(1000, 0.2, 0.95, shared=0.06, issued=9) == 9
    with pytest.raises(ValueError):
        stats.false_certificate_bound(10, 0.2, issued=-1)


def test_acr_test_treats_numerical_round_down_as_ties():
    """A certifier equal to another up to 1e-10 relative round-down on every image is not
    significantly different, although every difference has the same sign."""
    from reports.stats import paired_difference_test

    x = np.linspace(0.1, 1.0, 200)
    res = paired_difference_test(x * (1 - 1e-10), x)
    assert res.wilcoxon_pvalue == 1.0
    real = paired_difference_test(x * 0.99, x)
    assert real.wilcoxon_pvalue < 1e-10


def test_vectorized_mcnemar_and_ztest_agree_with_the_single_calls():
    """The grid's vectorized p-values equal statsmodels' (through the single-call API)."""
    rng = np.random.default_rng(3)
    n10, n01 = rng.integers(0, 40, 60), rng.integers(0, 40, 60)
    exact, midp = stats.mcnemar_pvalues(n10, n01)
    for b, c, e, m in zip(n10, n01, exact, midp, strict=True):
        one = stats.mcnemar(np.array([[5, b], [c, 7]]))
        assert np.isclose(e, one.pvalue_exact, rtol=1e-12) and np.isclose(m, one.pvalue_midp)
    n = 200
    k1, k2 = rng.integers(0, n + 1, 60), rng.integers(0, n + 1, 60)
    k1[:3], k2[:3] = 0, 0  # pooled 0: z = 0, p = 1
    z, p = stats.ztest_pvalues(k1, k2, np.full(60, n))
    for a, b, zz, pp in zip(k1, k2, z, p, strict=True):
        one = stats.two_proportion_ztest(int(a), n, int(b), n)
        assert np.isclose(zz, one.statistic, atol=1e-12) and np.isclose(pp, one.pvalue)


def test_false_certificate_bound_spends_a_shared_failure_once():
    """A Monte Carlo table serves every image: its failure probability is added once, not
    per certificate. By hand: P(Bin(n, a) > k) <= 1 - confidence - shared."""
    from scipy.stats import binom

    n, alpha, shared = 500, 0.001, 0.01
    k = stats.false_certificate_bound(n, alpha, 0.95, shared=shared)
    assert binom.sf(k, n, alpha) <= 0.05 - shared + 1e-12
    assert binom.sf(k - 1, n, alpha) > 0.05 - shared
    assert k >= stats.false_certificate_bound(n, alpha, 0.95)
    assert stats.false_certificate_bound(n, alpha, 0.95, shared=0.06) == n  # nothing left


def _exact_mcnemar_bound(d: int, alpha: float, mid_p: bool) -> tuple[int, list[Fraction]]:
    """The largest k below d/2 whose two-sided McNemar p-value (exact or mid-p) is at most
    alpha, in integer arithmetic (-1: none), with the p-values of 0..ceil(d/2)-1."""
    total, cdf, pvals = 2**d, 0, []
    for k in range(-(-d // 2)):
        pmf = math.comb(d, k)
        cdf += pmf
        pvals.append(Fraction(2 * cdf - (pmf if mid_p else 0), total))
    level = Fraction(alpha)
    return max((k for k, p in enumerate(pvals) if p <= level), default=-1), pvals


@given(
    d=st.integers(1, 2500),
    exponent=st.floats(-300.0, math.log10(0.5)),
    mid_p=st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_the_mcnemar_rejection_bound_is_the_exact_one_at_any_level(d, exponent, mid_p):
    """Against integer arithmetic, down to level 1e-300, where scipy's quantile search
    starts one below the quantile (d near 1,000) or gives up (d from 1,124 to 1,240)."""
    alpha = 10.0**exponent
    (got,) = stats._mcnemar_rejection_bound(np.array([float(d)]), alpha, mid_p).tolist()
    want, pvals = _exact_mcnemar_bound(d, alpha, mid_p)
    if got != want:  # only where the floating p-value ties the level to rounding
        near = pvals[min(got, want) + 1]
        assert abs(near - Fraction(alpha)) <= 1e-12 * Fraction(alpha), (got, want)


@pytest.mark.parametrize("d", [998, 1000, 1119, 1124, 1180, 1240])
@pytest.mark.parametrize("mid_p", [False, True])
def test_the_mcnemar_rejection_bound_where_the_quantile_search_fails(d, mid_p):
    assert stats._mcnemar_rejection_bound(np.array([float(d)]), 1e-300, mid_p).tolist() == [
        _exact_mcnemar_bound(d, 1e-300, mid_p)[0]
    ]
