"""For ``Exp2(k = 1, j = 0)`` against l2, ``wulff`` takes the larger of the level-set table
(exact Neyman-Pearson, floored to its shift grid) and the differential closed form
``(d - 1) s / 2 log(B / (1 - B))``, ``B = I^{-1}_p(b, b)``, ``b = (d - 1)/2`` (a valid
lower bound). So its radius is never below that closed form, here evaluated in 40-digit
mpmath (B by bisection on mpmath's regularized incomplete beta) -- also near p = 1/2,
where the table's grid floor would otherwise lose up to 0.8%. (A tightness property:
dropping the closed form would not certify too much, only less.)"""

from __future__ import annotations

import mpmath as mp
import pytest

import certifiers
from harness.noise import Exp2

WULFF = certifiers.get("wulff")


def _closed_form(s, dim, p):
    b = mp.mpf(dim - 1) / 2
    lo, hi = mp.mpf(0), mp.mpf(1)
    for _ in range(140):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mp.betainc(b, b, 0, mid, regularized=True) < p else (lo, mid)
    B = (lo + hi) / 2
    return (dim - 1) * mp.mpf(s) / 2 * mp.log(B / (1 - B))


@pytest.mark.parametrize("dim", [3, 8])
def test_never_below_the_differential_closed_form(dim):
    s = 0.2
    with mp.workdps(40):
        for p in (0.5 + 1e-6, 0.5001, 0.501, 0.52, 0.6):
            got = WULFF.radius(Exp2(s, 1.0, 0.0, dim), p, "l2")
            assert mp.mpf(got) >= _closed_form(s, dim, mp.mpf(p)) * (1 - mp.mpf("1e-9")), (dim, p)
