"""The Clopper-Pearson bound and the Monte Carlo table's rank at a tiny alpha (a config
may give any alpha down to 2^-1022), against binomial tails summed in 30-digit
arithmetic (mpmath). scipy's beta quantile (Boost) gave bounds far too large there, and
its binomial cdf 0 where the value is as large as 1e-252: false certificates."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from certifiers.bounds import clopper_pearson_lower
from certifiers.montecarlo import lower_median_rank


def _term(n: int, i: int, q: mp.mpf) -> mp.mpf:
    return mp.exp(
        mp.loggamma(n + 1)
        - mp.loggamma(i + 1)
        - mp.loggamma(n - i + 1)
        + i * mp.log(q)
        + (n - i) * mp.log1p(-q)
    )


def _upper_tail(n: int, k: int, q: float) -> mp.mpf:
    """``P(Bin(n, q) >= k)`` for ``q <= k / n`` (so the terms fall from ``i = k`` on)."""
    with mp.workdps(30):
        q = mp.mpf(q)
        total = mp.mpf(0)
        for i in range(k, n + 1):
            term = _term(n, i, q)
            total += term
            if term < total * mp.mpf(10) ** -25:
                break
        return total


def _lower_tail(n: int, x: int, q: float) -> mp.mpf:
    """``P(Bin(n, q) <= x)`` for ``x <= n q`` (the terms fall from ``i = x`` down)."""
    with mp.workdps(30):
        q = mp.mpf(q)
        total = mp.mpf(0)
        for i in range(x, -1, -1):
            term = _term(n, i, q)
            total += term
            if term < total * mp.mpf(10) ** -25:
                break
        return total


def _assert_sound_and_tight(k: int, n: int, alpha: float) -> None:
    q = float(clopper_pearson_lower(k, n, alpha))
    assert 0.0 < q <= k / n
    tail = _upper_tail(n, k, q)
    # sound: the tail at the bound is alpha, to the relative 1e-4 of the check
    assert tail <= alpha * (1 + 2e-4), (k, n, alpha, q, float(tail))
    assert tail >= alpha * (1 - 1e-3), (k, n, alpha, q, float(tail))  # and not loose


@pytest.mark.parametrize(
    ("k", "n", "alpha"),
    [
        (67_842, 67_871, 1.1593227151015085e-267),  # scipy: 0.98955, tail 1.3e-258
        (29_008, 29_040, 1.8948278000422338e-266),  # scipy: 0.97551, tail 2.9e-257
        (12_500, 12_509, 1.1817254363516869e-297),  # scipy: 0.94387, tail 3.1e-294
        (4, 100, 1e-100),  # scipy: 7.0e-26, tail 9.5e-95
        (1062, 1100, 1e-300),
    ],
)
def test_the_bounds_scipy_got_wrong_at_a_tiny_alpha(k, n, alpha):
    _assert_sound_and_tight(k, n, alpha)


@given(
    n=st.integers(1, 20_000),
    short=st.floats(0.0, 1.0),
    exponent=st.floats(-300.0, -2.0),
)
@example(n=208, short=0.5, exponent=-300.0)  # scipy's bound was 0.5% loose in the tail
@settings(max_examples=60, deadline=None)
def test_the_bound_is_the_exact_one_at_any_alpha(n, short, exponent):
    """Counts near n (where the bound certifies) most of the time."""
    k = max(1, n - int(short**4 * n))
    _assert_sound_and_tight(k, n, 10.0**exponent)


@pytest.mark.parametrize(
    ("n", "alpha", "level"),
    [(1100, 1e-270, 0.5), (1200, 1e-290, 0.5), (2000, 1e-280, 0.5), (5000, 1e-250, 0.45)],
)
def test_the_rank_of_the_table_is_the_exact_one_at_a_tiny_alpha(n, alpha, level):
    """The largest x with ``P(Bin(n, level) <= x) <= alpha``."""
    x = lower_median_rank(n, alpha, level)
    assert _lower_tail(n, x, level) <= alpha < _lower_tail(n, x + 1, level)


def test_the_bound_of_many_counts_at_once_is_each_ones():
    k = np.array([67_842, 5, 0, 100])
    n = np.array([67_871, 10, 10, 100])
    alpha = 1.1593227151015085e-267
    got = clopper_pearson_lower(k, n, alpha)
    assert got[2] == 0.0
    for i in (0, 1, 3):
        assert got[i] == clopper_pearson_lower(int(k[i]), int(n[i]), alpha)


def test_counts_of_one_n_and_one_count_of_several_n_are_found_again_each():
    """Bounds found again are indexed per entry: with one side a scalar the check raised
    IndexError (the benchmarks pass counts of one n)."""
    alpha = 1e-280
    got = clopper_pearson_lower(np.array([99_978, 100_000, 50_000]), 100_000, alpha)
    assert got.shape == (3,)
    for k, q in zip([99_978, 100_000, 50_000], got, strict=True):
        assert q == clopper_pearson_lower(k, 100_000, alpha)
    assert clopper_pearson_lower(4, np.array([100, 100]), 1e-100).shape == (2,)


@pytest.mark.parametrize(
    ("k", "n", "alpha"), [(3, 5, 2.693295881213142e-116), (2, 1232, 3.1e-226), (1, 10**9, 2.3e-308)]
)
def test_a_bound_far_below_1e_30_is_found_to_its_digits(k, n, alpha):
    """Halving the bound itself from k / n reached about 1e-24 and gave 0 below it."""
    _assert_sound_and_tight(k, n, alpha)
