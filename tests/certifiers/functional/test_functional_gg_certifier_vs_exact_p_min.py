"""Mutation audit: the ``functional`` certifier's *own output* for generalized
Gaussian noise with k > 0 (the table path of ``_gen_gaussian_l2`` and the l1 / l-inf
entries derived from it) is never above the exact Neyman-Pearson radius.

The existing tests pin ``certifiers.functional.l2.radius_table`` / ``build_table`` against
``radius_direct`` and ``p_min``, but nothing pins ``Functional.radius(GeneralizedGaussian(k>0))``
itself tighter than Monte Carlo (~1e-3): a radius 1e-4 (and 1e-6) too large on that path
survived the whole functional suite.

Where: at the table's own nodes ``p_j`` (the lookup returns ``R_j`` itself, certified at
``p_j`` by the spline's padding only, a few 1e-7 relative) and at random p.

Reference: a sound radius ``R`` at ``p`` needs ``1 - p <= P_0(Lambda > -L_med(R))``
(``p >= p_min(R)``), with ``R`` the largest l2 shift of the certified ball (``radius /
sigma``, times ``sqrt(dim)`` for l-inf). The median and the tail are computed by an
independent QUADPACK quadrature (``reference_mass`` of tests/certifiers/functional/test_l2.py:
``scipy.integrate.quad`` over the chi law, ``brentq`` on the raw log ratio, Student-t law of
the cosine), the median found here by ``brentq`` on that reference.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

import certifiers
from harness.noise import GeneralizedGaussian
from tests.certifiers.functional.test_l2 import reference_mass

#: the reference quadrature's own accuracy (relative, on the tail mass; see test_l2)
REF_RTOL = 1e-8
CASES = [(3, 1.0, 0.6123724356957945), (64, 1.0, 0.5039526306789697), (8, 4.0, 0.9)]


def reference_tail(d: int, k: float, R: float) -> float:
    """``1 - p_min(R)`` at sigma = 1, entirely from the independent reference quadrature."""
    lo, hi = -R * R / 2 - 12 * R - 1, -R * R / 2 + 12 * R + 1
    L_med = optimize.brentq(
        lambda L: reference_mass(d, k, R, L) - 0.5, lo, hi, xtol=1e-14, rtol=1e-14
    )
    return reference_mass(d, k, R, -L_med, upper=True)


def check_sound(noise: GeneralizedGaussian, p: float) -> None:
    c = certifiers.get("functional")
    d, k, sigma = noise.dim, noise.k, noise.sigma
    radii = {norm: c.radius(noise, p, norm) for norm in ("l2", "l1", "linf")}
    # the largest l2 shift of each certified ball; the law of Lambda depends on it only
    R = max(radii["l2"], radii["l1"], radii["linf"] * math.sqrt(d)) / sigma
    assert R > 0
    tail = reference_tail(d, k, R)
    assert 1.0 - p <= tail * (1 + REF_RTOL), (
        f"radii {radii} at p={p!r} ({noise.name}) need 1 - p <= {tail!r}: above the exact "
        "Neyman-Pearson radius"
    )


@pytest.mark.parametrize("d,k,sigma", CASES)
def test_radius_at_the_table_nodes_never_above_exact(d, k, sigma):
    noise = GeneralizedGaussian(sigma, k, d)
    table = certifiers.get("functional").table(noise, "l2")
    idx = np.flatnonzero((table.p > 0.5 + 1e-3) & (table.p < 1 - 1e-9))
    for p in table.p[idx[np.linspace(0, idx.size - 1, 8).astype(int)]]:
        check_sound(noise, float(p))


@pytest.mark.parametrize("d,k,sigma", CASES)
@settings(max_examples=4, deadline=None, derandomize=True, database=None)
@given(u=st.floats(0.5, 7.0))
def test_radius_at_random_p_never_above_exact(d, k, sigma, u):
    check_sound(GeneralizedGaussian(sigma, k, d), 1.0 - 10.0**-u)
