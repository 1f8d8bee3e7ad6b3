"""fdiv-hockey-stick radii near ``p = 1/2`` and near ``p = 1`` against the exact
Neyman-Pearson radius in 40-digit arithmetic, with no slack.

Near ``p = 1/2`` the radius is tiny (``sigma sqrt(2 pi) (p - 1/2)``) and the condition is a
difference of numbers near 1/2: its float error moves the root by an *absolute* amount of
order 1e-17 sigma, which a relative round-down cannot cover. The uniform families are
checked too: their exact radii are closed forms (``2 l (p - 1/2)`` against l1 for the
cube, ``sigma Phi^{-1}(p)`` for the Gaussian).
"""

from __future__ import annotations

import mpmath
from hypothesis import given, settings
from hypothesis import strategies as st

import certifiers
from harness.noise import Gaussian, UniformCube

HS = certifiers.get("fdiv-hockey-stick")

near_half = st.floats(-15.5, -2.0).map(lambda u: 0.5 + 10.0**u)
near_one = st.floats(-15.5, -2.0).map(lambda u: 1.0 - 10.0**u)


@settings(max_examples=150, deadline=None, database=None)
@given(st.one_of(near_half, near_one), st.sampled_from([0.12, 0.5, 1.0, 3.0]))
def test_gaussian_never_above_cohen_near_the_ends(p, sigma):
    r = HS.radius(Gaussian(sigma, 8), p, "l2")
    with mpmath.workdps(40):
        exact = mpmath.mpf(sigma) * mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(p) - 1)
        assert mpmath.mpf(r) <= exact, (p, sigma, r, float(exact))


@settings(max_examples=100, deadline=None, database=None)
@given(st.one_of(near_half, near_one), st.sampled_from([0.3, 1.0, 2.5]))
def test_uniform_cube_l1_never_above_the_closed_form(p, half_width):
    """Uniform on ``[-l, l]^d`` against l1: the exact radius is ``2 l (p - 1/2)``."""
    r = HS.radius(UniformCube(half_width, 4), p, "l1")
    with mpmath.workdps(40):
        assert mpmath.mpf(r) <= 2 * mpmath.mpf(half_width) * (mpmath.mpf(p) - 0.5), (p, r)
