"""Statistics for leaderboards: tests, intervals, multiplicity, power and Monte Carlo error.

Every number comes from statsmodels or scipy; this module only chooses the right call,
fixes the conventions and returns small result objects.

Paired vs unpaired. All rows of a leaderboard certify the same test images, and all
noises of a model see the same seeded base draws, so per-image outcomes of two rows are
*paired*: McNemar's test (exact conditional, or its mid-p version) is the comparison.
The two-proportion z-test treats the two accuracies as independent samples; papers use
it, so the report shows it too, labelled *unpaired*.
"""

from __future__ import annotations

import gc
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special
from scipy import stats as sps
from scipy.optimize import brentq
from statsmodels.stats.contingency_tables import mcnemar as _sm_mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from smoothbench.crossing import crossing

__all__ = [
    "McNemarResult",
    "PairedDiffResult",
    "PowerPlan",
    "ZTestResult",
    "adjust_pvalues",
    "benjamini_hochberg",
    "clopper_pearson_interval",
    "false_certificate_bound",
    "holm",
    "mcnemar",
    "mcnemar_power",
    "mcnemar_pvalues",
    "mcnemar_sample_size",
    "paired_difference_test",
    "paired_ttest_pvalue",
    "proportion_interval",
    "two_proportion_ztest",
    "unpaired_sample_size",
    "wilson_interval",
    "ztest_power",
    "ztest_pvalues",
]


# --------------------------------------------------------------------------------------
# Unpaired two-proportion z-test
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ZTestResult:
    """Result of the (unpaired) two-proportion z-test."""

    statistic: float
    pvalue: float
    p1: float
    p2: float
    nobs1: int
    nobs2: int
    alternative: str
    label: str = "unpaired two-proportion z-test"


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float | np.floating) and float(value).is_integer():
            return int(value)
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


def two_proportion_ztest(
    count1: int, nobs1: int, count2: int, nobs2: int, alternative: str = "two-sided"
) -> ZTestResult:
    """Two-proportion z-test with pooled variance (statsmodels ``proportions_ztest``).

    ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))`` with the pooled ``p = (k1 + k2) /
    (n1 + n2)``; two-sided ``p = 2 (1 - Phi(|z|))`` (e.g. Agresti, *Categorical Data
    Analysis*, 3rd ed., sec. 2.1). It assumes independent samples: for two certifiers on
    the same images it is the *unpaired* test papers report, not the right one (use
    :func:`mcnemar`). 50% vs 49% on 50,000 images each gives p = 0.001565; on 500
    images each, p = 0.75.

    When both proportions are equal and the pooled proportion is 0 or 1 the statistic is
    0/0; there is no evidence of a difference and the result is z = 0, p = 1.
    """
    k1, n1, k2, n2 = (
        _count("count1", count1),
        _count("nobs1", nobs1),
        _count("count2", count2),
        _count("nobs2", nobs2),
    )
    for k, n, which in ((k1, n1, "1"), (k2, n2, "2")):
        if n < 1:
            raise ValueError(f"nobs{which} must be >= 1, got {n}")
        if not 0 <= k <= n:
            raise ValueError(f"count{which} must lie in [0, nobs{which}], got {k}")
    if alternative not in ("two-sided", "larger", "smaller"):
        raise ValueError(f"alternative must be two-sided, larger or smaller, got {alternative!r}")
    pooled = (k1 + k2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        z, p = 0.0, 1.0
    else:
        z, p = proportions_ztest([k1, k2], [n1, n2], alternative=alternative)
    return ZTestResult(float(z), float(p), k1 / n1, k2 / n2, n1, n2, alternative)


# --------------------------------------------------------------------------------------
# McNemar (paired)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test on paired binary outcomes of a *first* and a *second* classifier.

    ``n10``: images only the first gets right; ``n01``: only the second; ``n11`` both,
    ``n00`` neither. ``statistic`` is ``min(n10, n01)`` (the exact test's statistic).
    ``pvalue`` is the mid-p value when ``mid_p`` is set, else the exact one; both are
    always available.
    """

    n11: int
    n10: int
    n01: int
    n00: int
    statistic: float
    pvalue_exact: float
    pvalue_midp: float
    mid_p: bool

    @property
    def pvalue(self) -> float:
        return self.pvalue_midp if self.mid_p else self.pvalue_exact

    @property
    def discordant(self) -> int:
        return self.n10 + self.n01

    @property
    def nobs(self) -> int:
        return self.n11 + self.n10 + self.n01 + self.n00

    @property
    def table(self) -> np.ndarray:
        return np.array([[self.n11, self.n10], [self.n01, self.n00]], dtype=np.int64)


def _as_table(table_or_pairs: ArrayLike | Sequence[ArrayLike]) -> np.ndarray:
    """A 2x2 count table, from a table or from two per-image outcome arrays.

    A tuple is always the two outcome arrays (so that ``([1, 0], [0, 1])``, two images,
    is never read as the table ``[[1, 0], [0, 1]]``); a list or an array is a table,
    unless it is boolean or of shape ``(2, n_images)`` with ``n_images != 2`` and 0/1
    entries."""
    if isinstance(table_or_pairs, tuple):
        if len(table_or_pairs) != 2:
            raise ValueError(
                f"paired outcomes are a tuple (first, second), got {len(table_or_pairs)} arrays"
            )
        first = np.asarray(table_or_pairs[0])
        second = np.asarray(table_or_pairs[1])
        if first.shape != second.shape or first.ndim != 1:
            raise ValueError(
                "paired outcomes must be two 1-D arrays of the same length, got shapes "
                f"{first.shape} and {second.shape}"
            )
        arr = np.stack([first, second])
        if arr.dtype != np.bool_ and not np.isin(arr, (0, 1)).all():
            raise ValueError(
                "paired outcomes (a tuple) hold booleans or 0/1; give a 2x2 table of counts "
                "as a list or an array"
            )
        return _pairs_table(arr)
    arr = np.asarray(table_or_pairs)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2x2 table or two 1-D outcome arrays, got shape {arr.shape}")
    is_pairs = arr.dtype == np.bool_ or (
        arr.shape[0] == 2 and arr.shape != (2, 2) and np.isin(arr, (0, 1)).all()
    )
    if is_pairs:
        if arr.shape[0] != 2:
            raise ValueError(f"paired outcomes must have shape (2, n_images), got {arr.shape}")
        return _pairs_table(arr)
    if arr.shape != (2, 2):
        raise ValueError(f"a McNemar table is 2x2, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or not np.all(np.mod(arr, 1) == 0):
        raise TypeError("a McNemar table holds integer counts")
    if (arr < 0).any():
        raise ValueError("a McNemar table holds non-negative counts")
    return arr.astype(np.int64)


def _pairs_table(arr: np.ndarray) -> np.ndarray:
    """The 2x2 table of two rows of per-image outcomes (``arr``, shape ``(2, n)``)."""
    x = arr[0].astype(bool)
    y = arr[1].astype(bool)
    return np.array(
        [[np.sum(x & y), np.sum(x & ~y)], [np.sum(~x & y), np.sum(~x & ~y)]], dtype=np.int64
    )


def _half_cdf(k: ArrayLike, n: ArrayLike) -> np.ndarray:
    """``P(Bin(n, 1/2) <= k)`` (0 for ``k < 0``), from Cephes' binomial distribution
    (``scipy.special.bdtr``). Boost's incomplete beta function, behind
    ``scipy.stats.binom.cdf``, returns 0 for ``n`` from about 1,075 to 1,240 and ``k`` up to
    about 38, where the value is as large as 1e-252 (n = 1,075, k = 38: 3.9e-254): a
    McNemar p-value printed as below 1e-300."""
    k, n = np.asarray(k, dtype=np.int64), np.asarray(n, dtype=np.int64)
    return np.where(k < 0, 0.0, special.bdtr(np.clip(k, 0, n), n, 0.5))


def mcnemar(table_or_pairs: ArrayLike | Sequence[ArrayLike], mid_p: bool = True) -> McNemarResult:
    """McNemar's test, exact conditional and mid-p.

    Input: a 2x2 table ``[[n11, n10], [n01, n00]]`` (rows: first classifier right/wrong,
    columns: second right/wrong) as a list or an array, or the two per-image outcome
    arrays ``(first, second)`` as a tuple (booleans or 0/1), or an array of shape
    ``(2, n_images)`` of booleans.

    Conditional on the ``N = n10 + n01`` discordant pairs, ``n10 ~ Bin(N, 1/2)`` under
    the null. With ``k = min(n10, n01)`` and ``X ~ Bin(N, 1/2)``:

    - exact: ``p = min(1, 2 P(X <= k))`` (statsmodels ``mcnemar(table, exact=True)``
      gives the statistic, ``k``; the p-value is taken from ``_half_cdf``, whose tail
      scipy's binomial loses for some ``N`` near 1,100);
    - mid-p: ``p = 2 [P(X <= k) - P(X = k) / 2] = 2 P(X < k) + P(X = k)``, capped at 1
      (Fagerland, Lydersen and Laake 2013, "The McNemar test for binary matched-pairs
      data: mid-p and asymptotic are better than exact conditional", BMC Med. Res.
      Methodol. 13:91), ``P(X = k)`` from ``scipy.stats.binom``; statsmodels has no mid-p.
      Taken as the sum, not as ``2 P(X <= k) - P(X = k)``, whose two tiny terms cancel:
      at ``n10 = 1068, n01 = 7`` the difference came out negative (-8e-307).
    """
    table = _as_table(table_or_pairs)
    n10, n01 = int(table[0, 1]), int(table[1, 0])
    exact, midp = mcnemar_pvalues(n10, n01)
    return McNemarResult(
        n11=int(table[0, 0]),
        n10=n10,
        n01=n01,
        n00=int(table[1, 1]),
        statistic=float(_sm_mcnemar(table, exact=True).statistic),
        pvalue_exact=float(exact),
        pvalue_midp=float(midp),
        mid_p=bool(mid_p),
    )


def mcnemar_pvalues(n10: ArrayLike, n01: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Exact and mid-p McNemar p-values for arrays of discordant counts at once (the
    formulas of :func:`mcnemar`, vectorized with ``scipy.stats.binom``): for the many
    cells of a leaderboard's comparison grid."""
    b = np.asarray(n10, dtype=np.int64)
    c = np.asarray(n01, dtype=np.int64)
    k, n = np.minimum(b, c), b + c
    exact = np.minimum(1.0, 2.0 * _half_cdf(k, n))
    midp = np.minimum(1.0, 2.0 * _half_cdf(k - 1, n) + sps.binom.pmf(k, n, 0.5))
    return np.where(n == 0, 1.0, exact), np.where(n == 0, 1.0, midp)


def ztest_pvalues(
    count1: ArrayLike, count2: ArrayLike, nobs: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """``(z, two-sided p)`` of :func:`two_proportion_ztest` for arrays of counts out of
    ``nobs`` each, vectorized (pooled variance; z = 0, p = 1 where it is 0/0)."""
    k1 = np.asarray(count1, dtype=np.float64)
    k2 = np.asarray(count2, dtype=np.float64)
    n = np.asarray(nobs, dtype=np.float64)
    pooled = (k1 + k2) / (2 * n)
    se = np.sqrt(pooled * (1 - pooled) * (2 / n))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (k1 / n - k2 / n) / se, 0.0)
    return z, np.where(se > 0, 2 * sps.norm.sf(np.abs(z)), 1.0)


# --------------------------------------------------------------------------------------
# Confidence intervals for a proportion (certified accuracy)
# --------------------------------------------------------------------------------------
def proportion_interval(
    count: ArrayLike, nobs: ArrayLike, alpha: float = 0.05, method: str = "wilson"
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Two-sided ``(1 - alpha)`` interval for a binomial proportion (statsmodels
    ``proportion_confint``), ``method`` "wilson" or "beta" (Clopper-Pearson).

    Trap (statsmodels): with ``alternative="larger"`` ``proportion_confint`` returns the
    *upper* one-sided bound; the one-sided lower bound is ``alternative="smaller"``
    (see ``certifiers.bounds.clopper_pearson_lower``). This function is two-sided only.
    """
    if method not in ("wilson", "beta"):
        raise ValueError(f"method must be 'wilson' or 'beta', got {method!r}")
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    k = np.asarray(count, dtype=np.float64)
    n = np.asarray(nobs, dtype=np.float64)
    if (n < 1).any() or (k < 0).any() or (k > n).any():
        raise ValueError("need nobs >= 1 and 0 <= count <= nobs")
    lo, hi = proportion_confint(k, n, alpha=alpha, method=method)
    lo = np.clip(np.asarray(lo, dtype=np.float64), 0.0, 1.0)
    hi = np.clip(np.asarray(hi, dtype=np.float64), 0.0, 1.0)
    # both methods give exactly 0 at k = 0 and 1 at k = n; rounding can leave an ulp off
    lo, hi = np.where(k == 0, 0.0, lo), np.where(k == n, 1.0, hi)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def wilson_interval(
    count: ArrayLike, nobs: ArrayLike, alpha: float = 0.05
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Wilson score interval (Wilson 1927): the roots in ``p`` of
    ``(p_hat - p)^2 = z^2 p (1 - p) / n`` with ``z = Phi^{-1}(1 - alpha/2)``; used for
    display. statsmodels ``proportion_confint(method="wilson")``."""
    return proportion_interval(count, nobs, alpha, "wilson")


def clopper_pearson_interval(
    count: ArrayLike, nobs: ArrayLike, alpha: float = 0.05
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Clopper-Pearson (1934) exact interval ``[B(alpha/2; k, n-k+1), B(1-alpha/2;
    k+1, n-k)]`` (Beta quantiles), guaranteed coverage; statsmodels
    ``proportion_confint(method="beta")``."""
    return proportion_interval(count, nobs, alpha, "beta")


# --------------------------------------------------------------------------------------
# Multiple comparisons
# --------------------------------------------------------------------------------------
def adjust_pvalues(pvalues: ArrayLike, method: str) -> np.ndarray:
    """Adjusted p-values by statsmodels ``multipletests`` with ``method`` named
    explicitly ("holm", "fdr_bh", ...; its default "hs" is Holm-Sidak, not Holm).
    NaN entries are left out of the family and stay NaN."""
    if not isinstance(method, str) or not method:
        raise ValueError("name the multiple-testing method explicitly, e.g. 'holm' or 'fdr_bh'")
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        if ((p[finite] < 0) | (p[finite] > 1)).any():
            raise ValueError("p-values must lie in [0, 1]")
        # statsmodels' Holm branch calls gc.collect() (0.1 s with torch loaded); freezing
        # the existing objects first keeps that collection to the few new ones.
        gc.freeze()
        try:
            out[finite] = multipletests(p[finite], method=method)[1]
        finally:
            gc.unfreeze()
    return out


def holm(pvalues: ArrayLike) -> np.ndarray:
    """Holm (1979) step-down: ``p_(i) -> max_{j <= i} min(1, (m - j + 1) p_(j))``.
    Controls the family-wise error rate; used for headline claims."""
    return adjust_pvalues(pvalues, "holm")


def benjamini_hochberg(pvalues: ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg (1995) step-up: ``p_(i) -> min_{j >= i} min(1, m p_(j) / j)``.
    Controls the false discovery rate; used for per-radius grids."""
    return adjust_pvalues(pvalues, "fdr_bh")


# --------------------------------------------------------------------------------------
# Paired test of a real-valued per-image score (ACR)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PairedDiffResult:
    """Paired comparison of per-image scores ``x`` and ``y`` (e.g. radius x correct)."""

    mean_x: float
    mean_y: float
    diff: float
    wilcoxon_statistic: float
    wilcoxon_pvalue: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    ttest_pvalue: float = float("nan")


def paired_difference_test(
    x: ArrayLike,
    y: ArrayLike,
    *,
    confidence: float = 0.95,
    tie_rtol: float = 1e-7,
    interval: bool = True,
) -> PairedDiffResult:
    """Paired test for a difference of means of per-image scores, e.g. ACR.

    Differences within ``tie_rtol`` (relative to the larger score) count as ties, i.e.
    zero: two certifiers that agree up to numerical round-down (a hockey-stick radius
    1e-10 below Cohen's on every image) must not be called significantly different
    because every one of their differences has the same sign.

    - Paired t-test of ``mean(d) = 0`` on ``d_i = x_i - y_i``
      (:func:`paired_ttest_pvalue`, Student 1908), and the interval it inverts:
      ``mean(d) +- t_{n-1, (1+c)/2} sd(d) / sqrt(n)`` (``scipy.stats.ttest_1samp``'s
      ``confidence_interval``), so the interval leaves out 0 exactly where the two-sided
      test rejects at ``1 - confidence``. Where every difference is the same value the
      test is the sign-flip test, whose interval is that value once ``2^(1-n)`` is below
      ``1 - confidence`` (or the value is 0, every image a tie), else no interval (NaN
      bounds, as with one image or ``interval=False``).
    - Wilcoxon signed-rank test on ``d`` (``scipy.stats.wilcoxon``, zero differences
      dropped: Wilcoxon 1945, zero_method "wilcox"); p = 1 when all differences are zero.
      It asks another question (are the differences symmetric about 0, weighted by
      rank), so it can disagree with the t-test when most differences are tiny and of
      one sign and a few are large.
    """
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape or xa.size == 0:
        raise ValueError("x and y must be non-empty and of the same length")
    d = xa - ya
    d[np.abs(d) <= tie_rtol * np.maximum(np.abs(xa), np.abs(ya))] = 0.0
    if np.all(d == 0):
        stat, pval = 0.0, 1.0
    else:
        res = sps.wilcoxon(d, zero_method="wilcox")
        stat, pval = float(res.statistic), float(res.pvalue)
    lo = hi = float("nan")
    if not interval or d.size < 2:
        pass  # no interval from one image (no degree of freedom)
    elif np.ptp(d) == 0:
        if d[0] == 0 or 2.0 ** (1 - d.size) < 1 - confidence:
            lo = hi = float(d[0])
    else:
        ci = sps.ttest_1samp(d, 0.0).confidence_interval(confidence_level=confidence)
        lo, hi = float(ci.low), float(ci.high)
    t_p = paired_ttest_pvalue(xa, ya, tie_rtol)
    return PairedDiffResult(
        float(xa.mean()),
        float(ya.mean()),
        float(d.mean()),
        stat,
        pval,
        lo,
        hi,
        confidence,
        d.size,
        t_p,
    )


def paired_ttest_pvalue(x: ArrayLike, y: ArrayLike, tie_rtol: float = 1e-7) -> float:
    """Two-sided paired t-test of ``mean(x - y) = 0`` (``scipy.stats.ttest_1samp`` on the
    differences), ties within ``tie_rtol`` counted as zero as in
    :func:`paired_difference_test`; 1 when every difference is zero.

    Where every difference is the same non-zero value, the t statistic is infinite and
    the t-test says nothing (one image: no degree of freedom). The p-value is then the
    exact two-sided sign-flip permutation p-value, ``min(1, 2^(1 - n))``: the observed
    signs are the most extreme of the ``2^n`` patterns (Fisher 1935). One image gives 1,
    never a significant difference."""
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape or xa.size == 0:
        raise ValueError("x and y must be non-empty and of the same length")
    d = xa - ya
    d[np.abs(d) <= tie_rtol * np.maximum(np.abs(xa), np.abs(ya))] = 0.0
    if np.ptp(d) == 0:
        return 1.0 if d[0] == 0 else min(1.0, 2.0 ** (1 - d.size))
    return float(sps.ttest_1samp(d, 0.0).pvalue)


# --------------------------------------------------------------------------------------
# Sample-size planning
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PowerPlan:
    """How many test images a comparison needs; ``power`` is reached at ``n``, exactly
    computed where ``exact`` (else by the normal approximation the method names)."""

    n: int
    power: float
    alpha: float
    method: str
    detail: str
    exact: bool = True


def unpaired_sample_size(
    p1: float, p2: float, alpha: float = 0.05, power: float = 0.8
) -> PowerPlan:
    """Images per arm for the unpaired two-sided two-proportion z-test papers use (pooled
    standard error, ``statsmodels.stats.proportion.proportions_ztest``).

    First Fleiss' normal approximation of that test's power (pooled variance under the
    null, unpooled under the alternative: ``power_proportions_2indep``; Fleiss, Levin and
    Paik 2003, sec. 4.2), solved for the smallest real n by ``scipy.optimize.brentq``
    and rounded up; then, where the two counts' binomial laws are small enough to
    enumerate (``_EXACT_Z_CELLS``), the test's exact power (``ztest_power``): n is moved
    to where it crosses the target (the last n below it, by doubling steps and
    bisection), so that the stated power is reached at n, not only approximately. The
    approximation alone fell short of the exact power by up to 0.001 (50% vs 70%: 93
    images give 0.7991) and overshot it by up to 0.05 far from 1/2 (95% vs 99%: 285 where
    the exact test needs 255). 50% vs 49% at 80% power needs 39,237 images per arm.
    """
    _check_planner(alpha, power)
    for name, p in (("p1", p1), ("p2", p2)):
        if not 0.0 < p < 1.0:
            raise ValueError(f"{name} must lie in (0, 1), got {p!r}")
    if p1 == p2:
        raise ValueError("p1 and p2 are equal: no sample size detects a zero gap")

    def shortfall(n: float) -> float:
        achieved = power_proportions_2indep(p1 - p2, p2, n, alpha=alpha, return_results=False)
        return float(achieved) - power

    if shortfall(1.0) >= 0:
        n = 1
    else:
        high = 2.0
        while shortfall(high) < 0:
            if high > 1e30:
                raise ValueError(f"{p1:g} vs {p2:g}: the gap is too small to plan for")
            high *= 2.0
        n = math.ceil(brentq(shortfall, high / 2.0, high, xtol=1e-9, rtol=1e-13))
    method = "unpaired two-proportion z-test (Fleiss' normal approximation)"
    achieved, exact = power + shortfall(n), _z_cells(n, p1, p2) <= _EXACT_Z_CELLS
    if exact:
        n = _exact_crossing(n, lambda m: ztest_power(m, p1, p2, alpha) >= power)
        achieved, method = ztest_power(n, p1, p2, alpha), "unpaired two-proportion z-test (exact)"
    return PowerPlan(
        n, achieved, alpha, method, f"{p1:.3f} vs {p2:.3f}; images per arm; power at n: "
        f"{achieved:.3f} (target {power:g})", exact,
    )  # fmt: skip


def _exact_crossing(n: int, reaches: Callable[[int], bool]) -> int:
    """Where an exact power reaches its target, searched from an approximation's ``n``
    (``smoothbench.crossing``: it grows with n but for a small saw-tooth)."""
    found = crossing(n, reaches, limit=10**15)
    if found is None:
        raise ValueError("the exact power never reaches the target")
    return found


#: The most (k1, k2) cells ``ztest_power`` enumerates for a plan (about 0.1 s a call).
_EXACT_Z_CELLS = 4_000_000
_TAIL = 1e-13  # binomial mass left out at each end of an enumerated range


def _binomial_range(n: int, p: float, tail: float = _TAIL) -> np.ndarray:
    """The counts of ``Bin(n, p)`` but for at most ``tail`` of mass at each end."""
    lo, hi = sps.binom.ppf(tail, n, p), sps.binom.isf(tail, n, p)
    return np.arange(max(int(lo), 0), min(int(hi), n) + 1)


def _z_cells(n: int, p1: float, p2: float) -> int:
    """The (k1, k2) cells ``ztest_power`` enumerates at ``n``: first estimated from the
    normal widths (scipy's ``binom.ppf`` searches for minutes at ``n`` near 1e18), the
    exact ranges only where the estimate is near ``_EXACT_Z_CELLS``."""
    z = sps.norm.isf(_TAIL)
    estimate = math.prod(2.0 * z * math.sqrt(n * p * (1.0 - p)) + 1.0 for p in (p1, p2))
    if estimate > 4.0 * _EXACT_Z_CELLS:
        return math.ceil(estimate)
    return _binomial_range(n, p1).size * _binomial_range(n, p2).size


def ztest_power(n: int, p1: float, p2: float, alpha: float = 0.05) -> float:
    """Exact power of the two-sided pooled two-proportion z-test with ``n`` images per
    arm: the probability, with the counts ``k1 ~ Bin(n, p1)`` and ``k2 ~ Bin(n, p2)``
    independent, that ``|k1 - k2| / (n sqrt(2 pbar (1 - pbar) / n)) >= z_{1 - alpha/2}``,
    ``pbar = (k1 + k2) / (2 n)`` (no rejection where ``pbar`` is 0 or 1), by enumeration
    of the counts (``scipy.stats.binom``; at most ``2e-13`` of mass left out)."""
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    _check_level(alpha)
    k1, k2 = _binomial_range(n, p1), _binomial_range(n, p2)
    w1, w2 = sps.binom.pmf(k1, n, p1), sps.binom.pmf(k2, n, p2)
    critical = sps.norm.isf(alpha / 2.0)
    total = 0.0
    for start in range(0, k1.size, 512):  # a block of k1 at a time: bounded memory
        a = k1[start : start + 512, None].astype(np.float64)
        pooled = (a + k2) / (2.0 * n)
        se = np.sqrt(pooled * (1.0 - pooled) * (2.0 / n))
        with np.errstate(divide="ignore", invalid="ignore"):
            reject = (se > 0) & (np.abs(a - k2) / n >= critical * se)
        total += float(w1[start : start + 512] @ (reject @ w2))
    return min(max(total, 0.0), 1.0)


def _check_level(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")


def _check_planner(alpha: float, power: float) -> None:
    """A level in (0, 1) and a power in (alpha, 1): a test rejects with probability alpha
    with no data at all, so a power at most alpha asks for no images."""
    _check_level(alpha)
    if not alpha < power < 1.0:
        raise ValueError(
            f"power must lie between the level alpha = {alpha!r} and 1 (a test rejects with "
            f"probability alpha even without data), got {power!r}"
        )


def _check_discordance(p10: float, p01: float) -> None:
    if p10 < 0 or p01 < 0 or p10 + p01 > 1 or p10 + p01 == 0:
        raise ValueError("discordance rates need p10, p01 >= 0 and 0 < p10 + p01 <= 1")


def _mcnemar_rejection_bound(d: np.ndarray, alpha: float, mid_p: bool) -> np.ndarray:
    """For each number of discordant pairs ``d``: the largest ``k`` whose two-sided
    (exact or mid-p) McNemar p-value, ``min(n10, n01) = k``, is ``<= alpha`` (-1: none)."""

    def pval(k: np.ndarray) -> np.ndarray:  # min(n10, n01) = k of d: the test's own
        exact, midp = mcnemar_pvalues(k, d - k)
        return midp if mid_p else exact

    with warnings.catch_warnings():
        # at tiny levels Boost's quantile search gives up (at 1e-300 for d from 1,124 to
        # 1,240), warns and returns its best guess, elsewhere it can be one below the
        # quantile: the walks below make any start exact
        warnings.simplefilter("ignore", RuntimeWarning)
        k = sps.binom.ppf(alpha / 2.0, d, 0.5)  # smallest k with cdf >= alpha/2
    cap = np.ceil(d / 2.0) - 1
    k = np.minimum(np.where(np.isnan(k), -1, k) + 1, cap)
    # the p-value grows with k below d/2: each k moves one way only, and stops
    while True:
        up = (k < cap) & (pval(k + 1) <= alpha)
        down = (k >= 0) & (pval(k) > alpha)
        if not (up.any() or down.any()):
            return k.astype(np.int64)
        k = k + up - down


def mcnemar_power(
    n: int, p10: float, p01: float, alpha: float = 0.05, mid_p: bool = False
) -> float:
    """Exact power of the two-sided McNemar test on ``n`` paired images.

    ``p10``/``p01``: probabilities that only the first/only the second row is right on
    an image. The number of discordant pairs is ``D ~ Bin(n, p10 + p01)`` and, given D,
    ``n10 ~ Bin(D, q)`` with ``q = p10 / (p10 + p01)``; the power is
    ``sum_D P(D) [P(n10 <= k*(D)) + P(n10 >= D - k*(D))]`` where ``k*(D)`` is the
    rejection bound of the exact (or mid-p) test (all terms from ``scipy.stats.binom``;
    the conditional-power construction of e.g. Fagerland et al. 2013).
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    _check_level(alpha)
    _check_discordance(p10, p01)
    pd = p10 + p01
    q = p10 / pd
    d = _binomial_range(n, pd, tail=1e-12).astype(np.float64)
    k = _mcnemar_rejection_bound(d, alpha, mid_p).astype(np.float64)
    reject = np.where(
        k >= 0, sps.binom.cdf(k, d, q) + sps.binom.sf(d - k - 1, d, q), 0.0
    )  # both tails; disjoint since k < d/2
    return float(np.clip(np.sum(sps.binom.pmf(d, n, pd) * reject), 0.0, 1.0))


#: Up to this many expected discordant images the planner moves Connor's n to the exact
#: power's crossing (a call of ``mcnemar_power`` then takes at most about 20 ms; at
#: 2 x 10^6, Connor's n had an exact power of 0.7998 for a target of 0.8).
EXACT_DISCORDANT = 10**6


def mcnemar_sample_size(
    p10: float, p01: float, alpha: float = 0.05, power: float = 0.8, mid_p: bool = False
) -> PowerPlan:
    """Paired images needed by McNemar's test to detect discordance ``p10`` vs ``p01``.

    First Connor's (1987, Biometrics 43:207) normal approximation
    ``n = (z_{1-alpha/2} sqrt(p_d) + z_{power} sqrt(p_d - delta^2))^2 / delta^2`` with
    ``p_d = p10 + p01`` and ``delta = p10 - p01`` (``scipy.stats.norm`` quantiles),
    rounded up; then n is moved to where the exact power (:func:`mcnemar_power`)
    crosses the target (``_exact_crossing``: doubling steps and bisection), so that the
    plan reaches its power at n. The approximation overstates the power of the discrete
    exact test: at about 125 expected discordant images it gave 3,138 images for 4%
    discordance and a 1-point gap, whose exact power is 0.780 (3,290 reach 0.8), and a
    gap of 90 points 4 images, where the exact test cannot reject at all. Beyond
    ``EXACT_DISCORDANT`` expected discordant images (where it is accurate) n stays
    Connor's and ``power`` is the target, approximate.
    """
    _check_planner(alpha, power)
    _check_discordance(p10, p01)
    delta = p10 - p01
    if delta == 0:
        raise ValueError("p10 equals p01: no sample size detects a zero gap")
    pd = p10 + p01
    za = sps.norm.isf(alpha / 2.0)
    zb = sps.norm.ppf(power)
    n_real = (za * math.sqrt(pd) + zb * math.sqrt(pd - delta**2)) ** 2 / delta**2
    if not n_real < 1e30:
        raise ValueError(f"p10 = {p10:g} vs p01 = {p01:g}: the gap is too small to plan for")
    n = max(1, math.ceil(n_real))
    method = "paired McNemar (Connor 1987)"
    exact = n * pd <= EXACT_DISCORDANT
    achieved = power
    if exact:
        n = _exact_crossing(n, lambda m: mcnemar_power(m, p10, p01, alpha, mid_p) >= power)
        achieved = mcnemar_power(n, p10, p01, alpha, mid_p)
        method += ", moved to the exact power"
    return PowerPlan(
        n,
        achieved,
        alpha,
        method,
        f"p10 = {p10:.4f}, p01 = {p01:.4f}; {'exact' if exact else 'normal approximation'} "
        f"{'mid-p ' if mid_p else ''}power at n: {achieved:.3f} (target {power:g})",
        exact,
    )


# --------------------------------------------------------------------------------------
# Monte Carlo error of the certificates themselves
# --------------------------------------------------------------------------------------
def false_certificate_bound(
    n_images: int,
    alpha: float,
    confidence: float = 0.95,
    shared: float = 0.0,
    issued: int | None = None,
) -> int:
    """An upper bound, holding with probability ``>= confidence``, on the number of false
    certificates a certifier issues on ``n_images`` images (at most ``issued``, those it
    did not abstain on, when given).

    Each image's certificate rests on a one-sided ``(1 - alpha)`` Clopper-Pearson bound on
    its own draws: the probability that the image gets a false certificate is at most
    ``alpha`` (Cohen et al. 2019, Theorem 2), over the draws, whatever its true ``p_A``.
    That holds per image, not per certificate issued: given that a certificate is issued,
    it can be false far more often (an image whose top class has ``p_A`` just below 1/2 is
    certified only when its bound errs). So the number of false ones is stochastically
    dominated by ``Bin(n_images, alpha)``. A failure probability ``shared`` by every image
    at once (the Monte Carlo table of a certifier, which serves every image) is not
    independent per image: it is spent once, so ``P(#false > k) <= shared +
    P(Bin(n_images, alpha) > k)``, and the bound is the smallest ``k`` with
    ``P(Bin(n_images, alpha) > k) <= 1 - confidence - shared`` (``scipy.stats.binom.ppf``),
    ``n_images`` where no such ``k`` exists; never above ``issued``.
    """
    n = _count("n_images", n_images)
    if n < 0:
        raise ValueError(f"n_images must be >= 0, got {n}")
    if not 0.0 < alpha < 1.0 or not 0.0 < confidence < 1.0 or not 0.0 <= shared < 1.0:
        raise ValueError("alpha and confidence must lie in (0, 1), shared in [0, 1)")
    cap = n if issued is None else min(n, _count("issued", issued))
    if cap < 0:
        raise ValueError(f"issued must be >= 0, got {issued}")
    if cap == 0:
        return 0
    if confidence + shared >= 1.0:
        return cap
    return min(cap, int(sps.binom.ppf(confidence + shared, n, alpha)))
