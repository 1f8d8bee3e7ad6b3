"""McNemar's mid-p far in the tail, where one row certifies a thousand images more than
the other: a probability in [0, 1] and the exact value (integer arithmetic) to float
precision. As ``2 P(B <= k) - P(B = k)`` its two tiny terms cancelled: at ``n10 = 1068,
n01 = 7`` it came out -8e-307, and the report of a 2,000-image store stopped on it."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from reports.stats import mcnemar, mcnemar_pvalues
from tests.reports._references import mcnemar_midp

#: Where the report prints "< 1e-300" (``smoothbench.p_values``), and down to which the
#: p-values are held to the reference. scipy's binomial cdf (Boost's incomplete beta)
#: returned 0 for N = n10 + n01 from about 1,075 to 1,240 and values up to 1e-252, and
#: lost 7% at 1e-254 elsewhere; the tails are Cephes' now (``reports.stats._half_cdf``).
TINY = 1e-300


def _close(p: float, reference: float) -> bool:
    if reference < TINY:
        return 0.0 <= p < 2 * TINY
    return abs(p - reference) <= 1e-9 * reference


def test_the_case_that_stopped_the_report():
    _, midp = mcnemar_pvalues([1068], [7])
    assert 0.0 < midp[0] <= 1.0 and _close(float(midp[0]), mcnemar_midp(1068, 7))
    table = [[500, 1068], [7, 425]]
    assert _close(mcnemar(table).pvalue_midp, mcnemar_midp(1068, 7))


@given(st.integers(0, 2500), st.integers(0, 2500))
def test_the_mid_p_is_the_exact_probability(n10, n01):
    exact, midp = mcnemar_pvalues(np.array([n10]), np.array([n01]))
    reference = mcnemar_midp(n10, n01)
    assert 0.0 <= midp[0] <= 1.0 and 0.0 <= exact[0] <= 1.0
    assert _close(float(midp[0]), reference), (float(midp[0]), reference)
    one = mcnemar([[0, n10], [n01, 0]])
    assert _close(one.pvalue_midp, reference)
    # the mid-p is the less conservative
    assert midp[0] <= exact[0] or n10 + n01 == 0 or midp[0] < TINY


def test_a_p_value_far_in_the_tail_is_not_printed_as_below_1e_300():
    """N = 1,075, min = 38: 2 P(B <= 38) = 7.9e-254, which scipy's binomial cdf gave as 0."""
    exact, midp = mcnemar_pvalues([1037], [38])
    reference = mcnemar_midp(1037, 38)
    assert 1e-254 < reference < 1e-252
    assert _close(float(midp[0]), reference) and float(exact[0]) > float(midp[0])
