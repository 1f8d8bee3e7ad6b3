"""A radius too small for a normal float64 must still never exceed the exact one.

The relative round-down of ``Certifier.radius`` (``1 - RADIUS_ROUND_DOWN``) does not move a
subnormal number, whose spacing is the absolute ``5e-324``: a radius computed there is
rounded to the nearest subnormal, up by as much as half a spacing (31% above the exact
radius at ``sigma = 1.5e-323``, ``p_A = 0.6``). References: Cohen et al. (2019),
``sigma Phi^{-1}(p)``, and Teng et al. (2020), ``-b log(2(1 - p))``, in mpmath at the exact
float values of the inputs.
"""

from __future__ import annotations

import mpmath as mp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import certifiers
from harness.noise import Gaussian, Laplace

TINY = 5e-324  # the smallest subnormal


def _names(noise, norm: str) -> list[str]:
    return [
        name
        for name in certifiers.available()
        if not certifiers.is_deterministic(name) and certifiers.get(name).supports(noise, norm)
    ]


def _gaussian_exact(sigma: float, p: float) -> mp.mpf:
    with mp.workdps(50):
        return mp.mpf(sigma) * mp.sqrt(2) * mp.erfinv(2 * mp.mpf(p) - 1)


def _laplace_exact(b: float, p: float) -> mp.mpf:
    with mp.workdps(50):
        return -mp.mpf(b) * mp.log(2 * (1 - mp.mpf(p)))


@pytest.mark.parametrize("name", _names(Gaussian(1.0, 1), "l2"))
@pytest.mark.parametrize("sigma", [3 * TINY, 7 * TINY, 1e-320, 1e-310])
@pytest.mark.parametrize("p", [0.6, 0.9])
def test_gaussian_l2_subnormal_radius_not_above_exact(name: str, sigma: float, p: float) -> None:
    radius = certifiers.get(name).radius(Gaussian(sigma, 1), p, "l2")
    assert mp.mpf(radius) <= _gaussian_exact(sigma, p), (name, sigma, p, radius)


@pytest.mark.parametrize("name", _names(Laplace(1.0, 1), "l1"))
@pytest.mark.parametrize("b", [3 * TINY, 7 * TINY, 1e-320])
def test_laplace_l1_subnormal_radius_not_above_exact(name: str, b: float) -> None:
    radius = certifiers.get(name).radius(Laplace(b, 1), 0.6, "l1")
    assert mp.mpf(radius) <= _laplace_exact(b, 0.6), (name, b, radius)


@settings(max_examples=200, deadline=None)
@given(
    units=st.integers(min_value=1, max_value=2**20),
    p=st.floats(min_value=0.5, max_value=1.0, exclude_min=True, exclude_max=True),
)
def test_cohen_subnormal_sigma_never_above_exact(units: int, p: float) -> None:
    sigma = units * TINY
    radius = certifiers.get("cohen").radius(Gaussian(sigma, 1), p, "l2")
    assert mp.mpf(radius) <= _gaussian_exact(sigma, p)
