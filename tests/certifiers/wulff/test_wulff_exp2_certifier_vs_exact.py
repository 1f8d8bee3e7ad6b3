"""Mutation audit: the ``wulff`` certifier's own l2 radius for ``Exp2`` through
the level-set table is never above the exact Neyman-Pearson radius, checked where the
table is tight: at its own nodes ``p_j`` (a lookup at ``p_j`` returns ``eps_j`` itself,
certified there by margins of about 1e-10, so any overclaim of the certifier's path shows).

The existing tests check ``level_set.exp2_pairs`` / ``_certified_p`` (the module), and the
certifier's exp2 output only against Monte Carlo (~1e-3) or from below: a radius 1e-4 too
large on ``_exp2_l2``'s table path survived the whole wulff suite.

Reference: ``Exp2(s, k=2, j)`` has density ``~ ||z||^-j exp(-||z||^2 / s^2)``, which is
``GeneralizedGaussian(sigma = s / sqrt 2, k = j)``; its exact ``1 - p_min(R)`` is
``certifiers.functional.l2.tail_mass`` (a different quadrature, over the chi law, pinned
to QUADPACK by tests/certifiers/functional/test_l2.py). Sound iff ``1 - p <= tail_mass``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import certifiers
from certifiers.functional import l2 as fl2
from certifiers.wulff import level_set
from harness.noise import Exp2

WULFF = certifiers.get("wulff")


@pytest.mark.parametrize(
    "scale,j,dim", [(0.8660254037844386, 1.0, 3), (0.7126966450998026, 1.0, 64)]
)
def test_exp2_k2_radius_at_table_nodes_never_above_exact(scale, j, dim):
    noise = Exp2(scale, 2.0, j, dim)
    table = level_set.exp2_table(2.0, j, dim)
    inner = np.flatnonzero((table.p > 0.5) & (table.p < 1 - 1e-9))
    idx = inner[np.linspace(0, inner.size - 1, 25).astype(int)]
    p = table.p[idx]
    r = WULFF.radius(noise, p, "l2")
    assert np.all(r > 0)
    R = r / (scale / math.sqrt(2.0))  # in units of the matching generalized Gaussian's sigma
    exact_tail = fl2.tail_mass(j, dim, R)  # 1 - p_min(R), rounded down 1e-9
    bad = (1.0 - p) > exact_tail * (1 + 1e-8)
    assert not bad.any(), (
        f"radius above the exact Neyman-Pearson radius at p = {p[bad][:3]}: "
        f"1 - p = {(1 - p)[bad][:3]} > 1 - p_min(R) = {exact_tail[bad][:3]}"
    )
