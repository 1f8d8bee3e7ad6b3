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


def test_never_above_the_exact_radius_in_high_precision():
    """Cohen's radius (and the functional certifier's closed form) is at or below
    sigma * Phi^{-1}(p) computed with 50 digits, at p near 1/2, near 1 and in between:
    the round-down covers the float error of ndtri and the product."""
    import mpmath as mp

    with mp.workdps(50):
        rng = np.random.default_rng(0)
        ps = np.concatenate(
            [0.5 + 10.0 ** -rng.uniform(1, 15, 300), 1 - 10.0 ** -rng.uniform(1, 15, 300),
             rng.uniform(0.5, 1.0, 400)]
        )  # fmt: skip
        ps = ps[(ps > 0.5) & (ps < 1)]
        noise = Gaussian(0.37, 3072)
        for name in ("cohen", "functional"):
            c = certifiers.get(name)
            for norm_name, scale in (("l2", 1.0), ("linf", 1 / mp.sqrt(3072))):
                got = c.radius(noise, ps, norm=norm_name)
                for p, r in zip(ps, got, strict=True):
                    exact = mp.mpf("0.37") * mp.sqrt(2) * mp.erfinv(2 * mp.mpf(p) - 1) * scale
                    assert mp.mpf(r) <= exact, (name, norm_name, p, r, exact)


@pytest.mark.parametrize(
    "bad",
    [
        True,
        np.True_,
        ["0.7"],
        np.array(["0.7"]),
        0.7 + 0j,
        np.array([0.7 + 0j]),
        None,
        [None],
        object(),
    ],  # fmt: skip
    ids=[
        "True",
        "np.True_",
        "list-of-str",
        "str-array",
        "complex",
        "complex-array",
        "None",
        "list-of-None",
        "object",
    ],  # fmt: skip
)
def test_radius_refuses_what_is_not_a_real_number(bad):
    with pytest.raises(TypeError, match="real number"):
        certifiers.get("cohen").radius(Gaussian(0.5, 4), bad)
