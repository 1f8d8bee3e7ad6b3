"""Near ``p = 1/2`` the l2 table's entries still need at least the exact ``p_min``.

``build_table`` validates its spline of ``g / R`` to ``1e-7 (g + 1e-3)`` and pads ``g`` by
four times the worst validated error, relative *and* absolute: near ``p = 1/2`` (``g`` of
order 1e-5, d = 150528, k = 2.5) only the absolute part covers the spline's error. Every
entry with ``p_j < 0.51`` is checked against ``p_min(R_j)`` from the tail integral, which
``test_l2.py`` pins to an independent adaptive quadrature; the comparison is made on
``g = Phi^{-1}(p)`` from ``1 - p`` (exact in float64), so it has no cancellation.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from certifiers.functional import l2 as fl2


@pytest.mark.parametrize(("k", "d"), [(2.5, 150528), (1.0, 3)])
def test_table_entries_near_one_half_need_the_exact_p_min(k, d):
    p, R = fl2.build_table(k, d)
    near = np.flatnonzero(p < 0.51)
    idx = near[np.linspace(0, near.size - 1, min(near.size, 300)).astype(int)]
    g_table = -special.ndtri(1.0 - p[idx])
    g_exact = fl2.quantile_gap(k, d, R[idx])
    assert np.all(g_table >= g_exact), float(np.max(g_exact - g_table))
