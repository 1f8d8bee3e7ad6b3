"""The f-divergence certifiers (Dvijotham et al. 2020): fdiv-kl, fdiv-renyi, fdiv-hockey-stick.

Expected values come from scipy (entropy, quadrature of densities, optimisation over output
laws) or from other certifiers computed along independent code paths (Cohen's formula,
wulff's closed forms), never from the code under test."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

import certifiers
from certifiers.base import UnsupportedError
from certifiers.fdiv import divergences as fd
from certifiers.testing import neyman_pearson_lower
from harness.noise import Gaussian, Laplace, UniformBall, UniformCube
from tests.certifiers.fdiv._renyi_reference import renyi_sup

KL = certifiers.get("fdiv-kl")
RENYI = certifiers.get("fdiv-renyi")
HS = certifiers.get("fdiv-hockey-stick")
COHEN = certifiers.get("cohen")
WULFF = certifiers.get("wulff")

_settings = settings(max_examples=60, deadline=None, database=None)
p_open = st.floats(0.5, 1.0, exclude_min=True, exclude_max=True)


def bern_kl_half(p: float) -> float:
    return float(stats.entropy([0.5, 0.5], [p, 1 - p]))


# --- KL ----------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.51, 0.6, 0.8, 0.95, 0.999999])
def test_kl_gaussian_solves_the_divergence_equation(p):
    # ||d||^2 / (2 sigma^2) = KL(Bern(1/2) || Bern(p)), with KL from scipy.stats.entropy.
    sigma = 0.37
    r = KL.radius(Gaussian(sigma, 10), p, "l2")
    assert math.isclose(r**2 / (2 * sigma**2), bern_kl_half(p), rel_tol=1e-8)
    assert math.isclose(KL.radius(Gaussian(sigma, 10), p, "linf"), r / math.sqrt(10), rel_tol=1e-12)


def test_laplace_kl_of_a_shift_by_quadrature():
    b = 0.7
    for d in (0.05, 0.6, 3.0):
        p_, q_ = stats.laplace(loc=d, scale=b), stats.laplace(scale=b)
        kl = integrate.quad(
            lambda x, p_=p_, q_=q_: p_.pdf(x) * (p_.logpdf(x) - q_.logpdf(x)),
            -40,
            40,
            points=[0, d],
            limit=200,
        )[0]
        assert math.isclose(fd.laplace_kl_coordinate(np.array(d / b)), kl, rel_tol=1e-7)


@pytest.mark.parametrize("dim", [1, 4, 64])
def test_kl_laplace_radii_solve_their_worst_cases(dim):
    b = 0.3
    noise = Laplace(b, dim)
    g = lambda y: y + math.exp(-y) - 1  # noqa: E731
    for p in (0.55, 0.9, 0.999):
        D = bern_kl_half(p)
        r1 = KL.radius(noise, p, "l1")  # all of the shift on one coordinate
        r2 = KL.radius(noise, p, "l2")  # spread evenly
        rinf = KL.radius(noise, p, "linf")  # every coordinate at the radius
        assert math.isclose(g(r1 / b), D, rel_tol=1e-8)
        assert math.isclose(dim * g(rinf / b), D, rel_tol=1e-8)
        if dim > 1:
            assert math.isclose(dim * g(r2 / math.sqrt(dim) / b), D, rel_tol=1e-8)


@settings(max_examples=200, deadline=None, database=None)
@given(st.floats(1e-300, 1e4))
def test_laplace_kl_inverse_never_passes_the_exact_root(D):
    """``g(y) = e^{-y} - 1 + y <= D`` at the returned y, g evaluated in mpmath with 50
    digits beyond y's scale. The root bracket's lower end alone was past the exact root
    for about one D in ten (float ``g`` is a few ulp off: at D = 11 it loses ``e^{-y}``)."""
    y = float(fd.laplace_kl_inverse(np.array([D]))[0])
    assert 0.0 < y < math.inf
    with mpmath.workdps(50 + max(0, int(-math.log10(y)))):
        t = mpmath.mpf(y)
        assert mpmath.expm1(-t) + t <= mpmath.mpf(D), (D, y)


@_settings
@given(st.lists(st.floats(0.0, 3.0), min_size=2, max_size=6))
def test_kl_laplace_l1_worst_case_is_one_coordinate(shares):
    # Convexity of g: spreading a fixed l1 budget never increases the total KL.
    g = lambda y: y + np.exp(-y) - 1  # noqa: E731
    y = np.asarray(shares)
    assert g(y).sum() <= g(y.sum()) + 1e-12


# --- Renyi -------------------------------------------------------------------------------


@_settings
@given(st.floats(1.0001, 60.0), st.floats(0.5, 0.999))
def test_renyi_binary_matches_the_definition(a, p):
    # The definition evaluated in 50-digit arithmetic (in float64 it cancels for a near 1).
    with mpmath.workdps(50):
        A, P = mpmath.mpf(a), mpmath.mpf(p)
        exact = mpmath.log(mpmath.mpf(0.5) ** A * (P ** (1 - A) + (1 - P) ** (1 - A))) / (A - 1)
    got = float(fd.renyi_half(np.array(a), np.array(p)))
    assert math.isclose(got, float(exact), rel_tol=1e-11, abs_tol=1e-40)


def test_renyi_binary_is_kl_as_the_order_tends_to_one():
    for p in (0.51, 0.8, 0.999):
        assert math.isclose(
            float(fd.renyi_half(np.array(1 + 1e-9), np.array(p))), bern_kl_half(p), rel_tol=1e-6
        )


@pytest.mark.parametrize("a", [1.5, 3.0, 12.0])
@pytest.mark.parametrize("probs", [(0.6, 0.3, 0.1), (0.45, 0.25, 0.2, 0.1), (0.9, 0.1)])
def test_renyi_multiclass_minimum_against_an_optimiser(a, probs):
    # min D_a(Q || P) over output laws Q in which class 1 is at least class 0 (the runner-up
    # overtakes the top class), by SLSQP over the simplex from several starting points.
    P = np.asarray(probs)

    def div(Q):
        return math.log(np.sum(np.clip(Q, 1e-300, None) ** a * P ** (1 - a))) / (a - 1)

    cons = [
        {"type": "eq", "fun": lambda Q: Q.sum() - 1.0},
        {"type": "ineq", "fun": lambda Q: Q[1] - Q[0]},
    ]
    results = []
    for x0 in (np.full(P.size, 1 / P.size), (P + P[::-1]) / 2, np.roll(P, 1)):
        res = optimize.minimize(
            div,
            x0,
            method="SLSQP",
            bounds=[(0, 1)] * P.size,
            constraints=cons,
            options={"ftol": 1e-15, "maxiter": 500},
        )
        Q = res.x
        assert abs(Q.sum() - 1) < 1e-9 and Q[1] >= Q[0] - 1e-9 and Q.min() >= -1e-12
        results.append(res.fun)
    closed = float(fd.renyi_multiclass(np.array(a), np.array(P[0]), np.array(P[1])))
    assert math.isclose(closed, min(results), rel_tol=1e-6, abs_tol=1e-10)


@_settings
@given(st.floats(1.01, 30.0), st.floats(0.05, 0.95), st.floats(0.0, 1.0), st.floats(0.0, 0.1))
def test_renyi_multiclass_is_monotone_in_the_bounds(a, pa, frac, step):
    # Plugging a lower bound on p_A and an upper bound on p_B is conservative.
    pb = frac * min(pa, 1 - pa)
    base = fd.renyi_multiclass(np.array(a), np.array(pa), np.array(pb))
    up_a = min(pa + step, 1 - pb)
    assert fd.renyi_multiclass(np.array(a), np.array(up_a), np.array(pb)) >= base - 1e-12
    down_b = max(pb - step, 0.0)
    assert fd.renyi_multiclass(np.array(a), np.array(pa), np.array(down_b)) >= base - 1e-12


def test_renyi_sup_over_order_against_a_dense_grid():
    sigma = 0.5
    noise = Gaussian(sigma, 3)
    a = 1 + np.geomspace(1e-5, 1e3, 20_000)
    for p in (0.55, 0.7, 0.9, 0.99, 0.99999):
        grid = np.max([float(fd.renyi_half(np.array(x), np.array(p))) / x for x in a[::40]])
        grid = max(grid, np.max(fd.renyi_half(a, p) / a))
        ref = sigma * math.sqrt(2 * grid)
        got = RENYI.radius(noise, p, "l2")
        assert ref * (1 - 1e-6) <= got <= ref * (1 + 1e-4), (p, got, ref)


@pytest.mark.parametrize("p", [0.55, 0.7, 0.9, 0.99, 0.99999])
def test_renyi_radius_is_never_above_the_exact_supremum_over_orders(p):
    """Against the supremum computed in mpmath from the divergence's definition: at most
    it (a larger radius would be a false guarantee), and within 1e-8 of it."""
    sigma = 0.5
    exact = sigma * math.sqrt(2 * float(renyi_sup(p)))
    got = float(RENYI.radius(Gaussian(sigma, 3), p, "l2"))
    assert exact * (1 - 1e-8) <= got <= exact, (p, got, exact)


def test_renyi_runner_up_form():
    noise = Gaussian(0.25, 16)
    pa = np.array([0.4, 0.6, 0.6, 0.9, 0.3])
    pb = np.array([0.3, 0.4, 0.1, 0.1, 0.3])
    r = RENYI.radius_with_runner_up(noise, pa, pb)
    assert r[0] > 0  # certifies below one half when the runner-up is bounded
    assert r[4] == 0.0  # p_A <= p_B: abstain
    assert math.isclose(r[1], RENYI.radius(noise, 0.6), rel_tol=1e-9)  # p_B = 1 - p_A
    assert r[2] > r[1] and r[3] > r[2]
    # p_B above 1 - p_A carries no information and is capped.
    assert math.isclose(
        RENYI.radius_with_runner_up(noise, 0.7, 0.9), RENYI.radius(noise, 0.7), rel_tol=1e-9
    )
    assert isinstance(RENYI.radius_with_runner_up(noise, 0.7, 0.2, norm="linf"), float)
    # at p_A = 1 (p_B capped to 0) as in the binary form: no smaller than just below 1
    below = RENYI.radius_with_runner_up(noise, math.nextafter(1.0, 0.0), 0.0)
    for pb_at_one in (0.0, 0.3):
        at_one = RENYI.radius_with_runner_up(noise, 1.0, pb_at_one)
        assert at_one == RENYI.radius(noise, 1.0) == math.inf > below
    for bad in ((float("nan"), 0.1), (0.7, -0.1), ("0.7", 0.1), (0.7, 1.5)):
        with pytest.raises((ValueError, TypeError)):
            RENYI.radius_with_runner_up(noise, *bad)
    with pytest.raises(UnsupportedError):
        RENYI.radius_with_runner_up(Laplace(0.3, 16), 0.7, 0.2)


# --- hockey-stick -------------------------------------------------------------------------


def test_gaussian_privacy_profile_by_quadrature():
    sigma = 0.8
    prof = fd.gaussian_hockey_stick(sigma)
    for eps in (0.05, 0.8, 3.0):
        for gamma in (1.0, 1.7, 12.0):
            p_, q_ = stats.norm(loc=eps, scale=sigma), stats.norm(scale=sigma)
            cross = sigma**2 * math.log(gamma) / eps + eps / 2  # where p = gamma q
            ref = integrate.quad(
                lambda x, p_=p_, q_=q_, g=gamma: p_.pdf(x) - g * q_.pdf(x),
                cross,
                40,
                epsabs=1e-14,
                epsrel=1e-12,
                limit=200,
            )[0]
            got = float(prof(np.array(gamma), np.array(eps)))
            assert math.isclose(got, ref, rel_tol=1e-7, abs_tol=1e-12)


@settings(max_examples=80, deadline=None, database=None)
@given(p_open, st.sampled_from([0.12, 0.25, 0.5, 1.0]))
def test_hockey_stick_recovers_cohen(p, sigma):
    noise = Gaussian(sigma, 64)
    for norm in ("l2", "linf"):
        hs = HS.radius(noise, p, norm)
        cohen = COHEN.radius(noise, p, norm)
        assert hs <= cohen * (1 + 1e-12)
        assert hs >= cohen * (1 - 1e-8) - 2e-12 * sigma, (p, hs, cohen)


@settings(max_examples=120, deadline=None, database=None)
@given(p_open, st.sampled_from([0.12, 0.25, 0.5, 1.0]))
def test_hockey_stick_gaussian_never_above_the_exact_cohen_radius(p, sigma):
    """With no slack: against ``sigma Phi^{-1}(p)`` in mpmath at 40 digits (the optimum of
    the hockey-stick condition for Gaussian noise). The root the solver verifies in float
    can lie past the exact one; the round-down must cover it."""
    hs = HS.radius(Gaussian(sigma, 64), p, "l2")
    with mpmath.workdps(40):
        exact = mpmath.mpf(sigma) * mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(p) - 1)
        assert mpmath.mpf(hs) <= exact, (p, sigma, hs)


@pytest.mark.parametrize(
    "noise,norms",
    [
        (Laplace(0.4, 6), ("l1",)),
        (UniformCube(0.6, 5), ("l1", "linf", "l2")),
        (UniformBall(1.2, 7), ("l2", "l1", "linf")),
    ],
)
def test_hockey_stick_recovers_the_neyman_pearson_closed_forms(noise, norms):
    # wulff computes these from closed forms; the hockey-stick path shares no code with it.
    p = np.array([0.501, 0.55, 0.7, 0.9, 0.99, 0.99999, 1.0])
    for norm in norms:
        hs, closed = HS.radius(noise, p, norm), WULFF.radius(noise, p, norm)
        assert np.allclose(hs, closed, rtol=1e-8, atol=1e-11), (norm, hs, closed)


def test_hockey_stick_laplace_is_sound_by_monte_carlo():
    noise = Laplace(0.5, 3)
    for norm, unit in (("l1", np.eye(3)[0]), ("linf", np.ones(3))):
        for p in (0.6, 0.9):
            r = HS.radius(noise, p, norm)
            est, se = neyman_pearson_lower(noise, r * unit, p, 100_000, seed=5)
            assert est >= 0.5 - 4 * se - 2e-3


# --- orderings ------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, database=None)
@given(p_open, st.sampled_from([(0.25, 64), (0.5, 3), (1.0, 1)]))
def test_ordering_kl_renyi_hockey_stick_cohen(p, params):
    noise = Gaussian(*params)
    kl, renyi = KL.radius(noise, p, "l2"), RENYI.radius(noise, p, "l2")
    hs, cohen = HS.radius(noise, p, "l2"), COHEN.radius(noise, p, "l2")
    assert kl <= renyi * (1 + 1e-9)
    assert renyi <= hs + 2e-12 * params[0]  # hockey-stick radii are rounded down by that
    assert hs <= cohen * (1 + 1e-12) and hs >= cohen * (1 - 1e-8) - 2e-12
    if 0.52 <= p <= 1 - 1e-12:  # the gap is of order (p - 1/2)^3: measurable here
        assert kl < renyi


def test_unsupported_pairs():
    assert not KL.supports(UniformCube(1.0, 3), "l1")
    assert not RENYI.supports(Laplace(1.0, 3), "l1")
    with pytest.raises(UnsupportedError):
        HS.radius(certifiers.testing._AlienNoise(3), 0.9, "l2")


@given(
    p_a=st.floats(0.05, 0.99),
    log_gap=st.floats(-14.0, -0.5),
)
@settings(max_examples=150, deadline=None)
def test_renyi_runner_up_never_above_the_two_class_optimum(p_a, log_gap):
    """With a runner-up bound the best possible l2 radius is Cohen et al.'s Theorem 1,
    ``sigma / 2 (Phi^{-1}(p_A) - Phi^{-1}(p_B))`` (50-digit arithmetic); the Renyi radius,
    a weaker bound, must stay below it, also when ``p_A - p_B`` is tiny (a former bug
    returned 4e-6 sigma there)."""
    p_b = p_a - 10.0**log_gap
    assume(p_b > 1e-6 and p_a + p_b <= 1)
    sigma = 1.0
    r = RENYI.radius_with_runner_up(Gaussian(sigma, 16), p_a, p_b)

    def q(p):
        return mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(p) - 1)

    with mpmath.workdps(50):
        exact = sigma / 2 * (q(p_a) - q(p_b))
        assert mpmath.mpf(r) <= exact, (p_a, p_b, r, exact)


def test_renyi_runner_up_at_a_tiny_gap():
    """The case reported in the audit: p_A = 0.5 + 5e-13, p_B = 0.5 - 5e-13 (exact two-class
    radius 1.25e-12) gave 4.0e-6."""
    r = RENYI.radius_with_runner_up(Gaussian(1.0, 16), 0.5 + 5e-13, 0.5 - 5e-13)
    assert r <= 1.3e-12
