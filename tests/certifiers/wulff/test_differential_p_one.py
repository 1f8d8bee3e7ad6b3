"""At p_A = 1 a noise with full support certifies every shift (the shifted law gives the
top class probability 1 as well); the differential tables of ExpInf with j = 0 and k >= 1
(where the integral diverges as p -> 1) say so with an infinite radius, and below 1 they
stay finite."""

from __future__ import annotations

import math

import pytest

import certifiers
from harness.noise import ExpInf

WULFF = certifiers.get("wulff")


@pytest.mark.parametrize("k,dim,norm", [(2.0, 5, "linf"), (2.0, 3, "l1"), (1.5, 4, "linf")])
def test_full_support_certifies_everything_at_p_one(k, dim, norm):
    noise = ExpInf(0.5, k, 0.0, dim)
    assert WULFF.radius(noise, 1.0, norm) == math.inf
    assert math.isfinite(WULFF.radius(noise, 1 - 1e-12, norm))
