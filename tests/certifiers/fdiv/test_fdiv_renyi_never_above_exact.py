"""fdiv-renyi (Gaussian, binary form) never above the exact supremum over orders, with no
slack, where ``log(4 p (1 - p))`` is hardest to compute: near ``1 - p = 3.7e-9``, where
``log1p(-(2p - 1)^2)`` (used before ``divergences.log_4pq``) lost 2e-10 relative and so
used up 98% of the radius's ``ROUND_DOWN`` (1e-10). The reference is
``sup_{a > 1} D_a / a`` from the definition at 40 digits (golden-section search over
``log(a - 1)``, on which it is unimodal).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

import certifiers
from harness.noise import Gaussian

RENYI = certifiers.get("fdiv-renyi")


def _sup_over_orders(p: float) -> mpmath.mpf:
    q = mpmath.mpf(p)

    def f(t):
        a = 1 + mpmath.exp(t)
        return mpmath.log((q ** (1 - a) + (1 - q) ** (1 - a)) / 2**a) / (a - 1) / a

    lo, hi = mpmath.mpf(-14), mpmath.mpf(4)
    ratio = (mpmath.sqrt(5) - 1) / 2
    for _ in range(110):
        x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if f(x1) < f(x2):
            lo = x1
        else:
            hi = x2
    return f((lo + hi) / 2)


_RNG = np.random.default_rng(7)
P = 1.0 - 10.0 ** np.concatenate([_RNG.uniform(-8.6, -8.25, 24), [-3.0, -6.0, -12.0]])


@pytest.mark.parametrize("sigma", [0.25, 1.0])
def test_renyi_radius_never_above_the_exact_supremum(sigma):
    radii = RENYI.radius(Gaussian(sigma, 3), P, "l2")
    with mpmath.workdps(40):
        above = [
            float(p)
            for p, r in zip(P, radii, strict=True)
            if mpmath.mpf(r) > sigma * mpmath.sqrt(2 * _sup_over_orders(p))
        ]
    assert not above, above
