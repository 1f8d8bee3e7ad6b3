"""The l2 framework's functions refuse what lies outside their stated domain
(``certifiers.functional.l2``: ``0 <= k <= d - 2``, where ``||z|| / sigma ~ chi_{d-k}``)
and a radius that is not positive and finite (``p_min(0)`` is 1/2 by definition, not a
tail integral)"""

from __future__ import annotations

import pytest

from certifiers.functional import l2 as fl2


@pytest.mark.parametrize(
    ("k", "dim"), [(1.5, 3), (2.0, 3), (62.5, 64), (-0.5, 8), (float("nan"), 8)]
)
def test_k_beyond_dim_minus_two_is_refused(k, dim):
    with pytest.raises(ValueError, match="k <= dim - 2"):
        fl2.UnitFamily(k, dim)


def test_k_at_dim_minus_two_is_accepted():
    assert fl2.UnitFamily(1.0, 3).m == 1.0


@pytest.mark.parametrize("radius", [0.0, -1.0, float("inf"), float("nan")])
def test_tail_mass_refuses_a_radius_that_is_not_positive_and_finite(radius):
    with pytest.raises(ValueError, match="positive and finite"):
        fl2.tail_mass(1.0, 8, [0.5, radius])
