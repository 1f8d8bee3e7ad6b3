"""``np_table`` on a log ratio with atoms (ties), where the uniform tie-breaker matters:
each ``p_j`` is recomputed from the module docstring's recipe with an explicit
lexicographic order (``np.lexsort``) and scipy's Beta quantiles. The threshold is the
reflection ``(-v, 1 - u)`` of the selected pair ``(v, u)``, and the count of ``B`` below
it includes the tied draws whose tie-breaker is below ``1 - u``: a count that dropped the
tied draws would be smaller, and every ``p_j`` (what p_A must reach) too low."""

from __future__ import annotations

import numpy as np
from scipy import stats

from certifiers.montecarlo import np_table


def _expected(log_ratio, a, b, radii, alpha, seed, tv):
    rng = np.random.default_rng(seed)
    ties_a, ties_b = rng.random(a.size), rng.random(b.size)  # the uniform tie-breakers
    step = alpha / (2 * radii.size)
    cdf = stats.binom.cdf(np.arange(a.size), a.size, 0.5 - tv)
    rank = int(np.flatnonzero(cdf <= step)[-1])
    out = []
    for R in radii:
        lam_a, lam_b = log_ratio(R, a), log_ratio(R, b)
        order = np.lexsort((ties_a, lam_a))
        v, u = lam_a[order[rank]], ties_a[order[rank]]
        below = (lam_b < -v) | ((lam_b == -v) & (ties_b < 1.0 - u))
        count = int(below.sum())
        upper = 1.0 if count == b.size else stats.beta.ppf(1 - step, count + 1, b.size - count)
        out.append(min(upper + tv, 1.0))
    return np.maximum.accumulate(out)


def test_np_table_counts_tied_draws_by_their_reflected_tie_breaker():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(4001), rng.standard_normal(3999)

    def log_ratio(R, z):  # atoms at -R, 0 and R: a symmetric law with heavy ties
        return R * np.clip(np.round(z), -1.0, 1.0)

    radii = np.linspace(0.1, 2.0, 9)
    for tv in (0.0, 0.004):
        got, _ = np_table(
            log_ratio, a, b, a.size, b.size, radii, 0.02, np.random.default_rng(0), tv
        )
        want = _expected(log_ratio, a, b, radii, 0.02, 0, tv)
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_laplace_atoms_need_at_least_the_exact_neyman_pearson_probability():
    """1-d Laplace (b = 1) shifted by R: ``Lambda = |z| - |z - R|`` has atoms at -R and R;
    the exact requirement is ``p = 1 - exp(-R) / 2``. With 200,000 draws every p_j is at
    least that (a failure has probability below alpha)."""
    rng = np.random.default_rng(8)
    a, b = rng.laplace(size=100_000), rng.laplace(size=100_000)

    def log_ratio(R, z):
        return np.abs(z) - np.abs(z - R)

    radii = np.linspace(0.05, 3.0, 30)
    p, _ = np_table(log_ratio, a, b, a.size, b.size, radii, 1e-3, np.random.default_rng(1))
    assert np.all(p >= 1 - np.exp(-radii) / 2)
