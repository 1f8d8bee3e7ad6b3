"""Reference values of McNemar's test for the report tests, from scipy's binomial
distribution directly or in exact integer arithmetic (no code of ``reports``)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy import stats as sps


def mcnemar_midp(n10: int, n01: int) -> float:
    """Two-sided mid-p of McNemar's test: ``2 P(B <= k) - P(B = k)``, ``B ~ Bin(n10 + n01,
    1/2)``, ``k = min(n10, n01)``, capped at 1; 1 with no discordant pair (no evidence).
    Exact: ``(2 sum_{i < k} C(d, i) + C(d, k)) / 2^d`` in integers, rounded once."""
    d, k = n10 + n01, min(n10, n01)
    if d == 0:
        return 1.0
    tail = 2 * sum(math.comb(d, i) for i in range(k)) + math.comb(d, k)
    return min(1.0, float(Fraction(tail, 2**d)))


def mcnemar_power(n: int, p10: float, p01: float, alpha: float, mid_p: bool) -> float:
    """Power of the two-sided McNemar test (exact, or its mid-p) on n pairs, by enumerating
    every (discordant count d, n10): d ~ Bin(n, p10 + p01), n10 | d ~ Bin(d, q),
    q = p10 / (p10 + p01)."""
    power = 0.0
    q = p10 / (p10 + p01)
    for d in range(1, n + 1):
        b = np.arange(d + 1)
        k = np.minimum(b, d - b)
        p = 2 * sps.binom.cdf(k, d, 0.5) - (sps.binom.pmf(k, d, 0.5) if mid_p else 0.0)
        power += sps.binom.pmf(d, n, p10 + p01) * sps.binom.pmf(b, d, q)[p <= alpha].sum()
    return power


def pooled_ztest_power(n: int, p1: float, p2: float, alpha: float) -> float:
    """Power of the two-sided pooled two-proportion z-test with n images per arm, by
    enumerating every pair of counts (k1, k2): it rejects where
    ``|k1 - k2| / n >= z_{1 - alpha/2} sqrt(pbar (1 - pbar) 2 / n)``,
    ``pbar = (k1 + k2) / 2n``, and never where pbar is 0 or 1."""
    k = np.arange(n + 1, dtype=np.float64)
    k1, k2 = k[:, None], k[None, :]
    pbar = (k1 + k2) / (2 * n)
    se = np.sqrt(pbar * (1 - pbar) * 2 / n)
    reject = (se > 0) & (np.abs(k1 - k2) / n >= sps.norm.isf(alpha / 2) * se)
    weights = np.outer(sps.binom.pmf(k, n, p1), sps.binom.pmf(k, n, p2))
    return float(weights[reject].sum())
