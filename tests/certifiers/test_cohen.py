import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm

import certifiers
from certifiers.testing import check_certifier
from harness.noise import Gaussian

sigmas = st.floats(0.01, 5.0)
dims = st.integers(1, 200_000)
probs = st.floats(0.5, 1.0, exclude_min=True, exclude_max=True)


@given(sigma=sigmas, dim=dims, p=probs)
def test_l2_is_sigma_times_normal_quantile(sigma, dim, p):
    r = certifiers.get("cohen").radius(Gaussian(sigma, dim), p, norm="l2")
    assert r == pytest.approx(sigma * norm.ppf(p), rel=1e-12, abs=1e-300)


@given(sigma=sigmas, dim=dims, p=probs)
def test_linf_divides_by_sqrt_dim_and_l1_equals_l2(sigma, dim, p):
    c = certifiers.get("cohen")
    noise = Gaussian(sigma, dim)
    r2 = sigma * norm.ppf(p)
    assert c.radius(noise, p, norm="linf") == pytest.approx(r2 / math.sqrt(dim), rel=1e-12)
    assert c.radius(noise, p, norm="l1") == pytest.approx(r2, rel=1e-12)


@given(p=st.floats(0.0, 0.5))
def test_abstains_at_or_below_half(p):
    assert certifiers.get("cohen").radius(Gaussian(0.5, 10), p) == 0.0


def test_shapes_and_types():
    c = certifiers.get("cohen")
    noise = Gaussian(0.25, 64)
    assert isinstance(c.radius(noise, 0.9), float)
    out = c.radius(noise, np.full((2, 3), 0.9))
    assert out.shape == (2, 3)


def test_supports_only_gaussian():
    from certifiers.testing import _AlienNoise

    c = certifiers.get("cohen")
    assert c.supports(Gaussian(1.0, 3), "l2")
    assert not c.supports(_AlienNoise(3), "l2")
    with pytest.raises(ValueError, match="does not certify"):
        c.radius(_AlienNoise(3), 0.9)


def test_conformance_kit():
    checked = check_certifier(
        certifiers.get("cohen"), [Gaussian(0.5, 2), Gaussian(0.25, 8), Gaussian(0.12, 3072)]
    )
    assert len(checked) == 9
