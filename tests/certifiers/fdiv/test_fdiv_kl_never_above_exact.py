"""fdiv-kl radii are never above the exact KL radius, computed in 40-digit arithmetic.

Near ``1 - p = 3.7e-9`` the float ``(2p - 1)^2`` loses up to half an ulp against
``1 - (2p - 1)^2 = 4 p (1 - p)``: through ``log1p(-(2p - 1)^2)`` that was 2e-10 relative on
``KL(Bern(1/2) || Bern(p))``, more than ``ROUND_DOWN`` covers, and radii came out too large
(``divergences.log_4pq`` now takes ``log(4 p (1 - p))`` there). The exact values come from
the definitions (``-log(4 p (1 - p)) / 2``, the root of ``y + e^{-y} - 1 = D``) in mpmath,
sharing no code with the certifier.
"""

from __future__ import annotations

import mpmath
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import certifiers
from harness.noise import Gaussian, Laplace

KL = certifiers.get("fdiv-kl")

#: ``1 - p`` from 1e-12 to 0.49, denser where the float error of ``(2p - 1)^2`` peaks.
one_minus_p = st.one_of(
    st.floats(-12.0, -0.31).map(lambda u: 10.0**u),
    st.floats(-8.6, -8.25).map(lambda u: 10.0**u),
)


def _p(q: float) -> float:
    return 1.0 - q


def _exact_divergence(p: float) -> mpmath.mpf:
    P = mpmath.mpf(p)
    return -mpmath.log(4 * P * (1 - P)) / 2


@settings(max_examples=300, deadline=None, database=None)
@given(one_minus_p, st.sampled_from([0.12, 0.5, 1.0]))
def test_gaussian_kl_radius_never_above_the_exact_one(q, sigma):
    p = _p(q)
    r = KL.radius(Gaussian(sigma, 4), p, "l2")
    with mpmath.workdps(40):
        exact = mpmath.mpf(sigma) * mpmath.sqrt(2 * _exact_divergence(p))
        assert mpmath.mpf(r) <= exact, (p, sigma, r, float(exact))


def test_gaussian_kl_radius_at_the_worst_known_point():
    """A point found by search: the radius was 3.3e-12 relative above the exact one."""
    p = 0.9999999962746062
    r = KL.radius(Gaussian(1.0, 4), p, "l2")
    with mpmath.workdps(40):
        assert mpmath.mpf(r) <= mpmath.sqrt(2 * _exact_divergence(p))


@settings(max_examples=60, deadline=None, database=None)
@given(one_minus_p)
def test_laplace_kl_l1_radius_never_above_the_exact_one(q):
    p = _p(q)
    b = 0.7
    r = KL.radius(Laplace(b, 1), p, "l1")
    with mpmath.workdps(40):
        D = _exact_divergence(p)
        y = mpmath.findroot(lambda y: y + mpmath.exp(-y) - 1 - D, D + 1)
        assert mpmath.mpf(r) <= b * y, (p, r, float(b * y))


def test_kl_half_error_is_covered_for_a_dense_band():
    """Vectorized over 20,000 p near the worst band: every radius below the exact one."""
    rng = np.random.default_rng(2)
    p = 1.0 - 10.0 ** rng.uniform(-8.6, -8.25, 20_000)
    r = KL.radius(Gaussian(1.0, 4), p, "l2")
    with mpmath.workdps(30):
        above = [
            float(pi)
            for pi, ri in zip(p, r, strict=True)
            if mpmath.mpf(ri) > mpmath.sqrt(2 * _exact_divergence(pi))
        ]
    assert not above, (len(above), above[:3])


@settings(max_examples=400, deadline=None, database=None)
@given(st.one_of(one_minus_p, st.floats(0.3, 0.5, exclude_max=True)))
def test_log_4pq_is_within_a_few_ulps_of_the_exact_value(q):
    """``log(4 p (1 - p))`` on both sides of the switch at p = 3/4 and near p = 1/2, where
    it is tiny and only the ``log1p`` form keeps its relative precision."""
    from certifiers.fdiv.divergences import log_4pq

    p = _p(q)
    got = float(log_4pq(p))
    with mpmath.workdps(40):
        exact = mpmath.log(4 * mpmath.mpf(p) * (1 - mpmath.mpf(p)))
        if exact == 0:
            assert got == 0.0
        else:
            assert abs((mpmath.mpf(got) - exact) / exact) <= 8 * 2.0**-53, (p, got)
