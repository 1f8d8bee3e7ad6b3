"""A p_lower given in extended precision (np.longdouble) must never be rounded up.

``check_probabilities`` narrows every real input to float64. Narrowing to the nearest
float64 can move p_A up, and the radius is increasing in p_A: the certificate is then
that of a larger probability than the one bounded. The references below are the exact
Neyman-Pearson radii (Cohen et al. 2019, ``sigma Phi^{-1}(p)`` for the Gaussian against
l2; Teng et al. 2020, ``-b log(2(1 - p))`` for the Laplace against l1), evaluated in
mpmath at the exact value of the long double, so they do not depend on the code under
test. Every certificate for these pairs must be at most the exact radius.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import certifiers
from certifiers.base import check_probabilities
from harness.noise import Gaussian, Laplace

LONG = np.longdouble
pytestmark = pytest.mark.skipif(
    np.finfo(LONG).nmant <= np.finfo(np.float64).nmant,
    reason="np.longdouble is float64 on this platform: nothing is rounded",
)

SIGMA = 0.5
SCALE = 0.5


def _exact(p: np.longdouble) -> mp.mpf:
    num, den = LONG(p).as_integer_ratio()  # exact: a long double is a dyadic rational
    with mp.workdps(60):
        return mp.mpf(num) / den


def _gaussian_np(p: np.longdouble) -> mp.mpf:
    with mp.workdps(60):
        return SIGMA * mp.sqrt(2) * mp.erfinv(2 * _exact(p) - 1)


def _laplace_np(p: np.longdouble) -> mp.mpf:
    with mp.workdps(60):
        return -SCALE * mp.log(2 * (1 - _exact(p)))


def _certifiers_for(noise, norm: str) -> list[str]:
    """The registered smoothing certifiers that certify ``noise`` against ``norm``."""
    return [
        name
        for name in certifiers.available()
        if not certifiers.is_deterministic(name) and certifiers.get(name).supports(noise, norm)
    ]


def _assert_at_most(radius: float, exact: mp.mpf, p: np.longdouble) -> None:
    assert not np.isnan(radius)
    assert mp.mpf(radius) <= exact, (
        f"radius {radius!r} at p_lower = {p!r} (long double) exceeds the exact radius "
        f"{mp.nstr(exact, 17)}"
    )


EDGE_P = [
    LONG(1) - LONG(2) ** -60,  # just below 1: rounds to 1.0 in float64
    LONG(1) - LONG(2) ** -55,  # halfway case below 1
    LONG(0.5) + LONG(0.75) * LONG(2) ** -53,  # just above 1/2: rounds up to 1/2 + 2^-53
    LONG(0.9) + LONG(0.6) * np.spacing(0.9),
]


@pytest.mark.parametrize("name", _certifiers_for(Gaussian(SIGMA, 4), "l2"))
@pytest.mark.parametrize("p", EDGE_P, ids=repr)
def test_gaussian_l2_long_double_edges(name: str, p: np.longdouble) -> None:
    radius = certifiers.get(name).radius(Gaussian(SIGMA, 4), p, "l2")
    _assert_at_most(radius, _gaussian_np(p), p)


@pytest.mark.parametrize("name", _certifiers_for(Laplace(SCALE, 4), "l1"))
@pytest.mark.parametrize("p", EDGE_P, ids=repr)
def test_laplace_l1_long_double_edges(name: str, p: np.longdouble) -> None:
    radius = certifiers.get(name).radius(Laplace(SCALE, 4), p, "l1")
    _assert_at_most(radius, _laplace_np(p), p)


def test_long_double_below_one_is_not_an_infinite_radius() -> None:
    p = LONG(1) - LONG(2) ** -60
    assert np.isfinite(certifiers.get("cohen").radius(Gaussian(SIGMA, 4), p, "l2"))


def test_long_double_array_is_never_rounded_up() -> None:
    p = np.array(EDGE_P, dtype=LONG)
    radii = certifiers.get("cohen").radius(Gaussian(SIGMA, 4), p, "l2")
    for r, q in zip(radii, p, strict=True):
        _assert_at_most(float(r), _gaussian_np(q), q)


@settings(max_examples=300, deadline=None)
@given(
    base=st.floats(min_value=0.5, max_value=1.0, exclude_min=True, exclude_max=True),
    frac=st.integers(min_value=1, max_value=2**11 - 1),
    near_one=st.booleans(),
)
def test_cohen_long_double_never_above_exact(base: float, frac: int, near_one: bool) -> None:
    # a long double strictly between two neighbouring float64 values
    lo = LONG(base)
    gap = LONG(np.nextafter(base, 1.0)) - lo
    p = lo + gap * LONG(frac) / LONG(2**11)
    if near_one:
        p = LONG(1) - (LONG(1) - p) * LONG(2) ** -20
    assume(LONG(0.5) < p < LONG(1))
    radius = certifiers.get("cohen").radius(Gaussian(SIGMA, 4), p, "l2")
    _assert_at_most(radius, _gaussian_np(p), p)


def test_a_long_double_upper_bound_is_never_rounded_down() -> None:
    """Rényi's runner-up form takes an upper bound ``p_b_upper``: narrowed up, not to the
    nearest float64, which can lower it and widen the gap the radius grows with."""
    below = LONG(0.4) + LONG(0.25) * LONG(np.spacing(0.4))  # nearest float64: 0.4, below it
    (pb,) = check_probabilities(np.array([below]), "p_b_upper", bound="upper")
    assert LONG(pb) >= below and pb == np.nextafter(0.4, 1.0)
    (pa,) = check_probabilities(np.array([below]))
    assert LONG(pa) <= below and pa == 0.4


def test_a_long_double_just_outside_the_unit_interval_is_refused() -> None:
    for p in (LONG(1) + LONG(2) ** -60, -(LONG(2) ** -16445)):
        with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
            check_probabilities(p)
