"""The generalized-Gaussian l2 table at ``k = 0`` against Cohen's exact bound, in mpmath.

At ``k = 0`` the exact ``p_min(R)`` is ``Phi(R)``: every table entry ``(p_j, R_j)`` must
satisfy ``p_j >= Phi(R_j)`` *exactly* (no tolerance), evaluated at 40 digits. In the far
tail (``1 - p_j`` down to 1e-16) one ulp of ``p_j`` is a large fraction of ``1 - p_j``, so
this also pins the direction in which ``p_j`` is rounded. And the tail mass behind the
table is never above ``Phi(-R)`` (it is rounded down), at any radius.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from certifiers.functional import l2 as fl2


@pytest.mark.parametrize("dim", [5])
def test_every_k0_table_entry_is_at_least_phi_of_its_radius(dim):
    p, R = fl2.build_table(0.0, dim)
    tail = 1.0 - p  # exact in float64 for p in [1/2, 1]
    with mpmath.workdps(40):
        bad = [
            (float(pj), float(rj))
            for pj, rj, tj in zip(p, R, tail, strict=True)
            if mpmath.mpf(tj) > mpmath.ncdf(-mpmath.mpf(rj))
        ]
    assert not bad, (len(bad), bad[:3])


@pytest.mark.parametrize("dim", [2, 3, 64])
def test_tail_mass_never_above_the_gaussian_tail(dim):
    R = np.concatenate([np.geomspace(1e-5, 8.0, 60), [0.5, 1.0, 2.0]])
    q = fl2.tail_mass(0.0, dim, R)
    with mpmath.workdps(40):
        for r, qi in zip(R, q, strict=True):
            exact = mpmath.ncdf(-mpmath.mpf(r))
            assert mpmath.mpf(qi) <= exact, (dim, r)
            assert mpmath.mpf(qi) >= exact * (1 - mpmath.mpf(1e-8)), (dim, r)
