"""Closed-form certificates at the extremes (p_A a hair above 1/2, a hair below 1, large
dimension) against the same formulas in 50-digit arithmetic (mpmath): every radius the
certifiers return is at or below the exact value, and within 1e-6 of it (the
closed forms have no business losing more)."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import certifiers
from harness.noise import Exp2, ExpInf, Gaussian, Laplace, Pareto, UniformBall, UniformCube

P_EXTREMES = [0.5 + 1e-15, 0.5 + 1e-9, 0.5 + 1e-4, 0.7, 0.99, 1 - 1e-9, 1 - 1e-14]
DIMS = [2, 64, 3072, 150_528]


@pytest.fixture(autouse=True)
def fifty_digits():
    """mpmath's precision for these tests, restored after each."""
    with mp.workdps(50):
        yield


def _betaincinv(a, b, y, steps: int = 190):
    """``I^{-1}_y(a, b)`` by bisection (2^-190 of the unit interval: below the 50 digits)."""
    lo, hi = mp.mpf(0), mp.mpf(1)
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mp.betainc(a, b, 0, mid, regularized=True) < y else (lo, mid)
    return (lo + hi) / 2


def exact(name: str, noise, p: float, norm: str):
    p = mp.mpf(p)
    d = noise.dim
    if name == "gaussian_l2":
        return mp.mpf(noise.sigma) * mp.sqrt(2) * mp.erfinv(2 * p - 1)
    if name == "laplace_l1":
        return -mp.mpf(noise.scale) * mp.log(2 * (1 - p))
    if name == "cube_l1":
        return 2 * mp.mpf(noise.half_width) * (p - mp.mpf(1) / 2)
    if name == "cube_linf":
        return 2 * mp.mpf(noise.half_width) * (1 - (mp.mpf(3) / 2 - p) ** (mp.mpf(1) / d))
    if name == "ball_l2":
        x = _betaincinv(mp.mpf(1) / 2, mp.mpf(d + 1) / 2, p - mp.mpf(1) / 2)
        return 2 * mp.mpf(noise.radius) * mp.sqrt(x)
    if name == "exp_inf_k1_linf":
        return -mp.mpf(noise.scale) * mp.log(2 * (1 - p))
    if name == "kl_gaussian_l2":
        return mp.mpf(noise.sigma) * mp.sqrt(-mp.log(4 * p * (1 - p)))
    raise ValueError(name)


CASES = [
    ("wulff", "gaussian_l2", lambda d: Gaussian(0.3, d), "l2"),
    ("wulff", "laplace_l1", lambda d: Laplace(0.2, d), "l1"),
    ("wulff", "cube_l1", lambda d: UniformCube(0.5, d), "l1"),
    ("wulff", "cube_linf", lambda d: UniformCube(0.5, d), "linf"),
    ("wulff", "ball_l2", lambda d: UniformBall(1.5, d), "l2"),
    ("wulff", "exp_inf_k1_linf", lambda d: ExpInf(0.1, 1.0, 0.0, d), "linf"),
    ("fdiv-kl", "kl_gaussian_l2", lambda d: Gaussian(0.3, d), "l2"),
]


#: mpmath's incomplete beta is slow at 150,528 dimensions: the uniform ball stops at 3072.
PARAMS = [
    (*case, dim) for case in CASES for dim in DIMS if not (case[1] == "ball_l2" and dim > 3072)
]


@pytest.mark.parametrize(
    "certifier,name,make,norm,dim", PARAMS, ids=[f"{p[1]}-d{p[4]}" for p in PARAMS]
)
def test_closed_forms_are_never_above_the_exact_value(certifier, name, make, norm, dim):
    noise = make(dim)
    c = certifiers.get(certifier)
    got = c.radius(noise, np.array(P_EXTREMES), norm=norm)
    for p, r in zip(P_EXTREMES, got, strict=True):
        want = exact(name, noise, p, norm)
        assert mp.mpf(r) <= want, (name, dim, p, r, want)
        assert mp.mpf(r) >= want * (1 - mp.mpf("1e-6")) - mp.mpf("1e-300"), (name, dim, p, r, want)


@pytest.mark.parametrize("dim", [2, 3, 4, 5, 6, 64])
def test_exp2_k1_and_pareto_l1_against_quadrature(dim):
    """The differential-method closed forms through their integrals in 50 digits:
    Exp2 (k = 1): ``(d - 1) s / 2 log(B / (1 - B))``, ``B = I^{-1}_p(b, b)`` (the closed
    form itself, within 1e-13, which the certifiers' rounding down by 1e-12 covers:
    ``wulff`` takes the larger of it and the exact level-set radius); Pareto:
    ``(s / a) integral_0^{2p-1} du / (1 - u^{1 + 1/a})`` (through the certifier).
    Near p = 1/2 scipy's Student quantile was 12% high at d = 5 (p = 1/2 + 1e-8)."""
    from certifiers.wulff import closed_forms as cf

    wulff = certifiers.get("wulff")
    exp2 = Exp2(0.2, 1.0, 0.0, dim)
    pareto = Pareto(0.5, 3.0, dim)
    for p in [0.5 + 1e-9, 0.5 + 1e-8, 0.5 + 1e-6, 0.5 + 1e-4, 0.6, 0.9, 0.999, 1 - 1e-9]:
        b = mp.mpf(dim - 1) / 2
        B = _betaincinv(b, b, mp.mpf(p))
        want = (dim - 1) * mp.mpf(exp2.scale) / 2 * mp.log(B / (1 - B))
        got = float(cf.exp2_k1_l2(exp2.scale, dim, np.array(p)))
        assert abs(mp.mpf(got) - want) <= mp.mpf("1e-13") * abs(want), (dim, p, got, want)
        integral = mp.quad(lambda u: 1 / (1 - u ** (1 + mp.mpf(1) / 3)), [0, 2 * mp.mpf(p) - 1])
        want_p = mp.mpf(0.5) / 3 * integral
        got_p = wulff.radius(pareto, p, norm="l1")
        assert mp.mpf(got_p) <= want_p, (dim, p, got_p, want_p)
        assert mp.mpf(got_p) >= want_p * (1 - mp.mpf("1e-6")), (dim, p, got_p, want_p)


@pytest.mark.parametrize(
    "certifier,make,norm",
    [
        ("cohen", lambda: Gaussian(1e308, 10), "l2"),
        ("functional", lambda: Gaussian(1e308, 10), "l2"),
        ("wulff", lambda: Laplace(1e308, 10), "l1"),
    ],
)
def test_a_radius_that_overflows_is_an_error_not_infinity(certifier, make, norm):
    """``sigma Phi^{-1}(0.99)`` at sigma = 1e308 overflows float64; an infinite radius
    would certify every perturbation, which only p_lower = 1 can."""
    c, noise = certifiers.get(certifier), make()
    with pytest.raises(ArithmeticError, match="overflowed to an infinite radius"):
        c.radius(noise, 0.99, norm)
    with pytest.raises(ArithmeticError, match="overflowed"):
        c.radius(noise, np.array([0.4, 0.99]), norm)
    assert c.radius(noise, 1.0, norm) == np.inf
    assert c.radius(noise, 0.4, norm) == 0.0
