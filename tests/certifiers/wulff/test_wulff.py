"""The ``wulff`` certifier (Yang et al. 2020): every native (noise, norm) certificate is pinned
against an independent computation -- scipy.stats quantiles, overlap geometry by
quadrature, the differential integral by scipy quadrature -- and against a Monte Carlo
estimate of the Neyman-Pearson bound at small dimension (sound everywhere; tight where the
method is exact)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

import certifiers
from certifiers import norm_conversion as nconv
from certifiers import tables
from certifiers.base import UnsupportedError
from certifiers.testing import neyman_pearson_lower
from certifiers.wulff import closed_forms as cf
from certifiers.wulff import differential as wd
from certifiers.wulff import level_set as ls
from harness.noise import (
    Exp2,
    ExpInf,
    Gaussian,
    Laplace,
    Pareto,
    PowInf,
    UniformBall,
    UniformCube,
)

WULFF = certifiers.get("wulff")
COHEN = certifiers.get("cohen")
P_GRID = np.array([0.5001, 0.51, 0.6, 0.75, 0.9, 0.99, 0.999, 0.99999, 1 - 1e-9])


def quad(f, a, b, epsrel=1e-11, **kw):
    return integrate.quad(f, a, b, limit=400, epsabs=0.0, epsrel=epsrel, **kw)[0]


def nested_quad(f, a, b, **kw):
    """Outer integral whose integrand is itself a quadrature: moderate tolerance."""
    return integrate.quad(f, a, b, limit=100, epsabs=0.0, epsrel=1e-8, **kw)[0]


# --- closed forms against scipy ----------------------------------------------------------


@pytest.mark.parametrize("sigma,dim", [(0.12, 64), (0.5, 3)])
def test_gaussian_is_cohen(sigma, dim):
    noise = Gaussian(sigma, dim)
    for norm in ("l1", "l2", "linf"):
        ref = sigma * stats.norm.ppf(P_GRID) / (math.sqrt(dim) if norm == "linf" else 1.0)
        assert np.allclose(WULFF.radius(noise, P_GRID, norm), ref, rtol=1e-11)


def test_laplace_l1_is_the_laplace_quantile():
    # Along an axis the Neyman-Pearson set is {z_1 <= F^{-1}(p)}, and the shifted law puts
    # mass F(F^{-1}(p) - eps) on it: certified exactly while eps < F^{-1}(p).
    noise = Laplace(0.3, 5)
    ref = stats.laplace(scale=0.3).ppf(P_GRID)
    assert np.allclose(WULFF.radius(noise, P_GRID, "l1"), ref, rtol=1e-10)


def _cube_overlap(delta: np.ndarray, half_width: float) -> float:
    return float(np.prod(np.clip(1 - np.abs(delta) / (2 * half_width), 0, None)))


@pytest.mark.parametrize("dim", [1, 3, 10])
def test_uniform_cube_overlap_equals_three_halves_minus_p(dim):
    noise = UniformCube(0.7, dim)
    for p in P_GRID:
        r1 = WULFF.radius(noise, p, "l1")
        rinf = WULFF.radius(noise, p, "linf")
        assert math.isclose(_cube_overlap(r1 * np.eye(dim)[0], 0.7), 1.5 - p, rel_tol=1e-9)
        assert math.isclose(_cube_overlap(rinf * np.ones(dim), 0.7), 1.5 - p, rel_tol=1e-9)


def _ball_overlap(eps: float, radius: float, dim: int) -> float:
    """Volume fraction shared by two l2 balls whose centres are eps apart (quadrature)."""
    slab = lambda x: (radius**2 - x * x) ** ((dim - 1) / 2)  # noqa: E731
    return 2 * quad(slab, eps / 2, radius) / quad(slab, -radius, radius)


@pytest.mark.parametrize("dim", [1, 2, 5, 20])
def test_uniform_ball_overlap_equals_three_halves_minus_p(dim):
    noise = UniformBall(1.3, dim)
    for p in [0.51, 0.6, 0.8, 0.95, 0.999]:
        r = WULFF.radius(noise, p, "l2")
        assert math.isclose(_ball_overlap(r, 1.3, dim), 1.5 - p, rel_tol=1e-7)


@pytest.mark.parametrize("dim", [2, 3, 8, 64])
def test_exp2_k1_differential_closed_form_against_quadrature(dim):
    # Phi(m) = E[cos 1{cos >= c_m}] / s with (1 + cos)/2 ~ Beta(b, b), integrated by quad
    # with the density's (1 - x)^(b - 1) as an algebraic weight (singular at 1 for dim 2)
    s, b = 0.4, (dim - 1) / 2
    beta = stats.beta(b, b)
    norm = special.beta(b, b)

    def phi(m):
        x_m = beta.isf(m)
        inner = quad(lambda x: (2 * x - 1) * x ** (b - 1) / norm, x_m, 1.0, epsrel=1e-10,
                     weight="alg", wvar=(0.0, b - 1))  # fmt: skip
        return inner / s

    for p in [0.55, 0.99]:
        ref = nested_quad(lambda m: 1 / phi(m), 1 - p, 0.5)
        assert math.isclose(cf.exp2_k1_l2(s, dim, np.array(p)), ref, rel_tol=1e-6)


@pytest.mark.parametrize("a", [0.7, 3.0, 25.0])
def test_pareto_hypergeometric_form_against_quadrature(a):
    s = 0.6
    law = stats.lomax(a, scale=s)  # |z_i|; the density of z_i at x is law.pdf(|x|) / 2

    def phi(m):  # q(0) - q(c) with P(0 < z <= c) = m
        c = law.ppf(2 * m)
        return (law.pdf(0) - law.pdf(c)) / 2

    p = np.array([0.52, 0.6, 0.8, 0.95, 0.999, 1 - 1e-7])
    ref = np.array([quad(lambda m: 1 / phi(m), 1 - q, 0.5) for q in p])
    assert np.allclose(cf.pareto_l1(s, a, p), ref, rtol=1e-7)
    assert np.allclose(WULFF.radius(Pareto(s, a, 4), p, "l1"), ref, rtol=1e-7)


def test_pareto_near_one_against_arbitrary_precision():
    # Where scipy's hyp2f1 overflows (z -> 1) the closed form switches to the logarithmic
    # continuation; mpmath (a dependency of torch's sympy) gives the reference.
    mp = pytest.importorskip("mpmath")
    with mp.workdps(40):
        for a in ("0.7", "3", "25"):
            for p in (0.999, 1 - 1e-7, 1 - 1e-13):
                x = 2 * mp.mpf(p) - 1
                b = 1 + 1 / mp.mpf(a)
                ref = 0.6 / mp.mpf(a) * x * mp.hyp2f1(1, 1 / b, 1 + 1 / b, x**b)
                assert math.isclose(
                    float(cf.pareto_l1(0.6, float(a), np.array(p))), ref, rel_tol=1e-12
                )


def test_exp_inf_k1_closed_forms_against_the_generic_differential_tables():
    for dim in (1, 2, 5, 64):
        for norm, closed in (
            ("l1", cf.exp_inf_k1_l1(1.0, dim, P_GRID)),
            ("linf", cf.exp_inf_k1_linf(1.0, P_GRID)),
        ):
            table = wd.exp_inf_table(1.0, 0.0, dim, norm)(P_GRID)
            assert np.all(table <= closed * (1 + 1e-9))
            assert np.all(table >= closed * (1 - 3e-3)), (dim, norm, table / closed)


def _exp_inf_reference(k, j, dim, norm, p, scale=1.0):
    """Differential radius of ExpInf by quadrature over the radial law (independent of the
    module's incomplete-gamma algebra). h(T) = (j T^{-1/k} + k T^{1-1/k}) / s."""
    a = (dim - j) / k
    law = stats.gamma(a)

    def h(T):
        return (j * T ** (-1 / k) + k * T ** (1 - 1 / k)) / scale

    def top(v):  # mean of h over the fraction v of the law where h is largest (h monotone)
        if j == 0 and k > 1:
            return quad(lambda T: h(T) * law.pdf(T), law.isf(v), np.inf, epsrel=1e-10)
        return quad(lambda T: h(T) * law.pdf(T), 0, law.ppf(v), epsrel=1e-10)

    if norm == "linf":
        phi = lambda m: top(2 * m) / 2  # noqa: E731
    else:
        phi = lambda m: top(min(2 * dim * m, 1.0)) / (2 * dim)  # noqa: E731
    knee = 1 / (2 * dim)
    return nested_quad(lambda m: 1 / phi(m), 1 - p, 0.5, points=[knee] if knee > 1 - p else None)


@pytest.mark.parametrize(
    "k,j,dim,norm",
    [(2.0, 0.0, 3, "l1"), (0.5, 0.0, 2, "linf"), (0.8, 1.5, 4, "l1"), (3.0, 0.0, 8, "linf")],
)
def test_exp_inf_differential_tables_against_quadrature(k, j, dim, norm):
    noise = ExpInf(0.7, k, j, dim)
    for p in [0.55, 0.97]:
        ref = _exp_inf_reference(k, j, dim, norm, p, 0.7)
        got = 0.7 * wd.exp_inf_table(k, j, dim, norm)(np.array(p))
        assert ref * (1 - 3e-3) <= got <= ref * (1 + 1e-7), (norm, p, got, ref)
        assert WULFF.radius(noise, p, norm) >= got * (1 - 1e-9)


def test_exp_inf_non_monotone_h_uses_an_upper_bound_on_phi():
    # j > 0 and k > 1: h is not monotone; the table uses a larger Phi, so a smaller radius
    # than the exact differential integral, which is computed here by brute force.
    k, j, dim = 2.0, 1.0, 4
    a = (dim - j) / k
    T = stats.gamma(a).ppf((np.arange(400_000) + 0.5) / 400_000)
    h = np.sort(j * T ** (-1 / k) + k * T ** (1 - 1 / k))[::-1]
    cum = np.cumsum(h) / len(h)
    top = lambda v: np.interp(v * len(h), np.arange(1, len(h) + 1), cum)  # noqa: E731
    for p in [0.6, 0.9]:
        exact = quad(lambda m: 2 / top(2 * m), 1 - p, 0.5)
        got = wd.exp_inf_table(k, j, dim, "linf")(np.array(p))
        assert got <= exact * (1 + 1e-3)


@pytest.mark.parametrize(
    "a,dim", [(6.0, 2), (9.5, 5), pytest.param(70.0, 64, marks=pytest.mark.slow)]
)
def test_pow_inf_tables_against_quadrature(a, dim):
    s = 0.3
    law = stats.betaprime(dim, a - dim)  # r / s

    def top(v):  # h = a / (s + r) is largest where r is small
        return quad(lambda t: a / (s * (1 + t)) * law.pdf(t), 0, law.ppf(v), epsrel=1e-10)

    for norm in ("l1", "linf"):
        for p in [0.6, 0.999]:
            if norm == "linf":
                ref = nested_quad(lambda m: 2 / top(2 * m), 1 - p, 0.5)
            else:
                knee = 1 / (2 * dim)
                ref = nested_quad(
                    lambda m: 2 * dim / top(min(2 * dim * m, 1.0)),
                    1 - p,
                    0.5,
                    points=[knee] if knee > 1 - p else None,
                )
            got = WULFF.radius(PowInf(s, a, dim), p, norm)
            assert ref * (1 - 3e-3) <= got <= ref * (1 + 1e-7), (norm, p, got, ref)


@pytest.mark.parametrize("dim", [1, 2, 7, 64])
def test_laplace_linf_differential_against_binomial_quadrature(dim):
    b = 0.5
    k = np.arange(dim + 1)
    values, probs = (2 * k - dim)[::-1], stats.binom(dim, 0.5).pmf(k)[::-1]

    def phi(m):  # E[S; top m] / b, S = sum of signs
        out, left = 0.0, m
        for v, q in zip(values, probs, strict=True):
            take = min(q, left)
            out, left = out + take * v, left - take
            if left <= 0:
                break
        return out / b

    for p in [0.55, 0.8, 0.99]:
        breaks = [x for x in np.cumsum(probs) if 1 - p < x < 0.5]
        ref = quad(lambda m: 1 / phi(m), 1 - p, 0.5, points=breaks or None)
        got = b * wd.laplace_linf_table(dim)(np.array(p))
        assert ref * (1 - 3e-3) <= got <= ref * (1 + 1e-8)


# --- Exp2: the level-set method --------------------------------------------------------


@pytest.mark.parametrize("dim", [2, 5, pytest.param(64, marks=pytest.mark.slow)])
def test_exp2_k2_level_set_recovers_cohen(dim):
    # Exp2(s, k=2, j=0) is N(0, s^2/2): the exact Neyman-Pearson table must be Cohen's.
    p, eps = ls.exp2_pairs(2.0, 0.0, dim)
    cohen = stats.norm.ppf(p) / math.sqrt(2)
    inner = p < 1 - 1e-10  # near 1 the margins on 1 - p dominate, and p is coarse in float64
    assert np.all(eps <= cohen * (1 + 1e-12))
    assert np.all(eps[inner] >= cohen[inner] * (1 - 1e-4)), (eps / cohen)[inner].min()
    assert p[-1] > 1 - 1e-12


def test_exp2_k2_equals_the_gaussian_at_the_matching_scale():
    for sigma0 in (0.12, 0.25, 0.5):
        exp2 = Exp2.matched(sigma0, 64, k=2.0, j=0.0)
        for norm in ("l1", "l2", "linf"):
            ours = WULFF.radius(exp2, P_GRID, norm)
            theirs = COHEN.radius(Gaussian(sigma0, 64), P_GRID, norm)
            assert np.allclose(ours, theirs, rtol=1e-11)


@pytest.mark.parametrize("dim", [2, 3, 8])
def test_exp2_k1_level_set_dominates_the_differential_closed_form(dim):
    # The level set is exact Neyman-Pearson; the differential method is a lower bound.
    p, eps = ls.exp2_pairs(1.0, 0.0, dim)
    closed = cf.exp2_k1_l2(1.0, dim, p)
    inner = p < 1 - 1e-12
    assert np.all(eps[inner] >= closed[inner] * (1 - 1e-5))
    assert np.max(eps[inner] / closed[inner]) > 1.01  # and strictly better somewhere


def test_level_set_worst_case_is_monotone_in_the_shift():
    for k, j, dim in [(1.0, 0.0, 3), (0.5, 0.0, 2)]:
        fine, coarse = ls.level_set_rules(k, j, dim)
        eps = np.geomspace(1e-3, 8.0, 200)
        p = ls._certified_p(fine, coarse, eps, 1e-8)
        ok = ~np.isnan(p)
        assert ok.mean() > 0.95 and np.all(np.diff(p[ok]) >= 0)


# --- Monte Carlo Neyman-Pearson at small dimension ---------------------------------------

_MC = 100_000


def _worst_direction(norm: str, dim: int) -> np.ndarray:
    if norm == "l1":
        return np.eye(dim)[0]
    if norm == "linf":
        return np.ones(dim)
    return np.ones(dim) / math.sqrt(dim)  # any direction for the l2-symmetric noises


MC_CASES = [
    # noise, norm, exact (Neyman-Pearson tight)
    (Gaussian(0.5, 3), "l2", True),
    (Laplace(0.4, 2), "l1", True),
    (Laplace(0.4, 4), "linf", False),
    (UniformCube(0.5, 3), "l1", True),
    (UniformCube(0.5, 6), "linf", True),
    (UniformBall(1.0, 4), "l2", True),
    (Exp2(0.5, 1.0, 0.0, 3), "l2", True),
    (Exp2(0.5, 0.5, 0.0, 2), "l2", True),
    (Exp2(0.5, 3.0, 0.0, 8), "l2", True),
    (ExpInf(0.5, 1.0, 0.0, 3), "l1", False),
    (ExpInf(0.5, 1.0, 0.0, 3), "linf", False),
    (ExpInf(0.5, 2.0, 0.0, 5), "linf", False),
    (PowInf(0.5, 8.0, 4), "l1", False),
    (PowInf(0.5, 8.0, 4), "linf", False),
    (Pareto(0.5, 3.0, 3), "l1", False),
]


@pytest.mark.parametrize("noise,norm,exact", MC_CASES, ids=lambda v: getattr(v, "name", str(v)))
def test_monte_carlo_neyman_pearson(noise, norm, exact):
    unit = _worst_direction(norm, noise.dim)
    for p in (0.6, 0.8, 0.95):
        r = WULFF.radius(noise, p, norm)
        assert 0 < r < math.inf
        est, se = neyman_pearson_lower(noise, r * unit, p, _MC, seed=11)
        assert est >= 0.5 - 4 * se - 2e-3, f"unsound at p={p}: {est:.4f} +- {se:.4f}"
        if exact:
            assert est <= 0.5 + 4 * se + 2e-3, f"not tight at p={p}: {est:.4f} +- {se:.4f}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "noise", [Exp2(0.5, 2.0, 1.0, 3), Exp2(0.5, 1.0, 1.5, 4), Exp2(0.5, 0.7, 0.0, 6)]
)
def test_monte_carlo_level_set_with_j(noise):
    for p in (0.6, 0.9):
        r = WULFF.radius(noise, p, "l2")
        est, se = neyman_pearson_lower(noise, r * np.eye(noise.dim)[0], p, 200_000, seed=3)
        assert abs(est - 0.5) <= 4 * se + 2e-3, (p, est, se)


# --- norm conversion and support -----------------------------------------------------------


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.integers(1, 40),
    st.sampled_from(["l1", "l2", "linf"]),
    st.sampled_from(["l1", "l2", "linf"]),
    st.integers(0, 2**31),
)
def test_conversion_factor_is_hoelder(dim, native, target, seed):
    # ||d||_native <= C ||d||_target for every d, with equality for some d.
    order = {"l1": 1, "l2": 2, "linf": np.inf}
    C = nconv.conversion_factor(native, target, dim)
    d = np.random.default_rng(seed).standard_normal(dim)
    assert np.linalg.norm(d, order[native]) <= C * np.linalg.norm(d, order[target]) * (1 + 1e-12)
    extremal = np.ones(dim) if order[native] < order[target] else np.eye(dim)[0]
    assert math.isclose(
        np.linalg.norm(extremal, order[native]), C * np.linalg.norm(extremal, order[target])
    )


def test_converted_norms_take_the_best_native_certificate():
    noise = Laplace(0.5, 9)
    p = np.array([0.6, 0.9])
    native = {"l1": cf.laplace_l1(0.5, p), "linf": 0.5 * wd.laplace_linf_table(9)(p)}
    expected_l2 = np.maximum(native["l1"] / 3.0, native["linf"])
    assert np.allclose(WULFF.radius(noise, p, "l2"), expected_l2, rtol=1e-11)


def test_unsupported_pairs_are_refused():
    for noise in (ExpInf(1.0, 1.0, 2.5, 3), Exp2(1.0, 3.0, 0.0, 1)):
        assert not WULFF.supports(noise, "l1")
        with pytest.raises(UnsupportedError):
            WULFF.radius(noise, 0.9, "l1")
    assert WULFF.supports(Exp2(1.0, 1.0, 0.0, 1), "l2")


def test_tables_are_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("SMOOTHBENCH_CACHE", str(tmp_path))
    table = wd.pow_inf_table(7.5, 3, "linf")
    files = list((tmp_path / "tables").glob("*.npz"))
    assert len(files) == 1
    key = next(k for k, v in tables._MEMORY.items() if v is table)
    del tables._MEMORY[key]
    again = wd.pow_inf_table(7.5, 3, "linf")
    assert again is not table and np.array_equal(again.radius, table.radius)


def test_closed_forms_special_points():
    assert cf.uniform_cube_linf(1.0, 1, np.array(1.0)) == pytest.approx(1.0)
    assert cf.uniform_ball_l2(1.0, 1, np.array(0.75)) == pytest.approx(0.5)  # the 1-ball is [-1, 1]
    assert np.isinf(cf.pareto_l1(1.0, 2.0, np.array(1.0)))


def test_a_level_set_table_that_certifies_nothing_is_a_clear_error():
    """At j close to dim the quadrature's error margin fits under no target: the table
    is refused with a message, not an IndexError (Exp2(k=2, j=1.99, dim=2)); j = 1.9
    still certifies."""
    with pytest.raises(ArithmeticError, match="certifies no l2 shift of Exp2"):
        ls.exp2_pairs(2.0, 1.99, 2)
    p, eps = ls.exp2_pairs(2.0, 1.9, 2)
    assert len(p) > 0 and np.all(np.diff(p) >= 0) and np.all(eps > 0)
