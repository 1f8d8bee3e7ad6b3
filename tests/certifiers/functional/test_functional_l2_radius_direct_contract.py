"""``l2.radius_direct`` keeps its documented postcondition: the radius it returns is one at
which ``p_min(R) <= p`` was verified (it steps down from the root until it is). Checked at
``k = 0`` against Cohen's ``Phi^{-1}(p)`` in 40-digit arithmetic (never above it), and for
``k > 0`` against the tail integral ``1 - p_min`` that ``test_l2.py`` pins to an independent
quadrature."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from certifiers.functional import l2 as fl2

P = np.array([0.6, 0.9, 0.999, 1 - 1e-9])


@pytest.mark.parametrize(("k", "d"), [(1.0, 3), (8.0, 64)])
def test_radius_direct_is_verified_certified(k, d):
    R = fl2.radius_direct(1.0, k, d, P)
    assert np.all(fl2.tail_mass(k, d, R) >= 1.0 - P)


def test_radius_direct_never_above_cohen_at_k0():
    R = fl2.radius_direct(1.0, 0.0, 3, P)
    with mpmath.workdps(40):
        for r, p in zip(R, P, strict=True):
            assert mpmath.mpf(r) <= mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(p) - 1)
