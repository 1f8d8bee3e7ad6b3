"""The fdiv certifiers' l1 and l-inf radii for Gaussian noise never exceed the exact
Neyman-Pearson ones: ``sigma Phi^{-1}(p)`` against l1 (the worst l1 shift, ``eps e_i``, has
l2 norm eps) and ``sigma Phi^{-1}(p) / sqrt(d)`` against l-inf (the vertex; Cohen et al.
2019 with Hoelder), from mpmath. A certifier that forgot the conversion from its native l2
radius would report the l2 radius against l-inf: ``sqrt(d)`` times too large."""

from __future__ import annotations

import mpmath
from hypothesis import given, settings
from hypothesis import strategies as st

import certifiers
from harness.noise import Gaussian

NAMES = ["fdiv-kl", "fdiv-renyi", "fdiv-hockey-stick"]


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.sampled_from(NAMES),
    st.floats(0.5, 1.0, exclude_min=True, exclude_max=True),
    st.sampled_from([(0.25, 4), (1.0, 64), (0.5, 3072)]),
)
def test_l1_and_linf_radii_never_above_neyman_pearson(name, p, params):
    sigma, d = params
    c = certifiers.get(name)
    noise = Gaussian(sigma, d)
    r1, rinf = c.radius(noise, p, "l1"), c.radius(noise, p, "linf")
    with mpmath.workdps(40):
        l2 = mpmath.mpf(sigma) * mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(p) - 1)
        assert mpmath.mpf(r1) <= l2, (name, p, r1)
        assert mpmath.mpf(rinf) <= l2 / mpmath.sqrt(d), (name, p, rinf)
