"""``RadiusTable``: each pair ``(p_j, R_j)`` certifies ``R_j`` at every ``p >= p_j``, so the
lookup at ``p`` is the largest ``R_j`` with ``p_j <= p`` and 0 where there is none -- never
a radius of a pair whose ``p_j`` is above ``p`` (that would certify what ``p`` does not).
Checked against a brute-force maximum over the pairs, for pairs given in any order, with
radii that need not grow with p, at the grid points themselves and between them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certifiers.tables import RadiusTable

probs = st.floats(0.5, 1.0)
radii = st.floats(0.0, 10.0)


def brute(ps, rs, q):
    best = [r for p, r in zip(ps, rs, strict=True) if p <= q]
    return max(best) if best else 0.0


@settings(max_examples=200, deadline=None, database=None)
@given(
    pairs=st.lists(st.tuples(probs, radii), min_size=1, max_size=12),
    extra=st.lists(probs, max_size=8),
)
def test_lookup_is_the_best_pair_at_or_below_p(pairs, extra):
    ps = [p for p, _ in pairs]
    rs = [r for _, r in pairs]
    table = RadiusTable(np.array(ps), np.array(rs))
    queries = np.array(sorted(set(ps) | set(extra) | {np.nextafter(min(ps), 0.0)}))
    got = table(queries)
    want = np.array([brute(ps, rs, q) for q in queries])
    np.testing.assert_array_equal(got, want)


def test_hand_worked():
    table = RadiusTable(np.array([0.9, 0.6, 0.75]), np.array([1.0, 2.0, 0.5]))
    # at 0.6 the pair (0.6, 2.0) already certifies 2.0, and it stays the best above
    assert table(np.array([0.5, 0.59, 0.6, 0.7, 0.75, 0.95])).tolist() == [0, 0, 2, 2, 2, 2]
    ordered = RadiusTable(np.array([0.6, 0.7, 0.8]), np.array([0.1, 0.2, 0.3]))
    assert ordered(np.array([0.599, 0.6, 0.69, 0.7, 0.8, 1.0])).tolist() == [
        0.0, 0.1, 0.1, 0.2, 0.3, 0.3,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "p,r", [([0.6, np.nan], [0.1, 0.2]), ([0.6, 0.7], [0.1, -0.2]), ([0.6, 0.7], [np.nan, 1.0])]
)
def test_invalid_pairs_are_refused(p, r):
    with pytest.raises(ValueError):
        RadiusTable(np.array(p), np.array(r))


def test_a_level_set_table_certifies_nothing_below_its_first_pair():
    """Exp2(k = 2, j = 0) at scale 1 is N(0, 1/2): its exact radius is
    ``Phi^{-1}(p) / sqrt(2)`` (scipy). Just above 1/2, below the probability the smallest
    grid shift needs, the level-set table must not certify more than that."""
    from scipy import stats

    from certifiers.wulff import level_set

    table = level_set.exp2_table(2.0, 0.0, 3)
    p = np.array([0.5 + 1e-9, 0.5 + 1e-7, 0.5 + 1e-5, 0.5 + 1e-4, 0.6, 0.9])
    exact = stats.norm.ppf(p) / np.sqrt(2.0)
    assert np.all(table(p) <= exact), (table(p), exact)
