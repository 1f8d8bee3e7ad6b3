"""fdiv-renyi (Gaussian, binary form) never above the exact supremum over orders, with no
slack, where ``log(4 p (1 - p))`` is hardest to compute: near ``1 - p = 3.7e-9``, where
``log1p(-(2p - 1)^2)`` (used before ``divergences.log_4pq``) lost 2e-10 relative and so
used up 98% of the radius's ``ROUND_DOWN`` (1e-10). The reference is
``sup_{a > 1} D_a / a`` from the definition at 40 digits (``_renyi_reference``).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

import certifiers
from harness.noise import Gaussian
from tests.certifiers.fdiv._renyi_reference import renyi_sup

RENYI = certifiers.get("fdiv-renyi")

_RNG = np.random.default_rng(7)
P = 1.0 - 10.0 ** np.concatenate([_RNG.uniform(-8.6, -8.25, 24), [-3.0, -6.0, -12.0]])


@pytest.mark.parametrize("sigma", [0.25, 1.0])
def test_renyi_radius_never_above_the_exact_supremum(sigma):
    radii = RENYI.radius(Gaussian(sigma, 3), P, "l2")
    with mpmath.workdps(40):
        above = [
            float(p)
            for p, r in zip(P, radii, strict=True)
            if mpmath.mpf(r) > sigma * mpmath.sqrt(2 * renyi_sup(p))
        ]
    assert not above, above
