"""MixedNorm: parameters, the exact sampler (KS of ||z||_inf against its CDF integrated
independently with scipy.integrate.quad; the conditional law of the other coordinates),
k = 0 is the Gaussian, moments and the log density."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from harness.draws import DrawStream
from harness.noise import Gaussian, MixedNorm, from_spec, mixed_norm
from harness.noise.mixed_norm import MAX_MASS_BELOW_GRID, MaxLaw, gaussian_max_logs, max_law


def _draws(n: int, d: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def reference_cdf(k: float, dim: int):
    """CDF of M = ||z||_inf / sigma, density ~ m^{-k} phi(m) (2 Phi(m) - 1)^{dim-1}, by
    adaptive quadrature (independent of the sampler's grid), normalized at the mode."""

    def log_f(m):
        return -k * np.log(m) - m * m / 2 + (dim - 1) * np.log(special.erf(m / np.sqrt(2)))

    grid = np.linspace(1e-3, 12, 4000)
    mode = grid[np.argmax(log_f(grid))]
    c = log_f(mode)

    def f(m):
        return np.exp(log_f(m) - c) if m > 0 else 0.0

    total = integrate.quad(f, 0, mode, limit=400)[0] + integrate.quad(f, mode, 40, limit=400)[0]

    def cdf(x):
        x = np.atleast_1d(x)
        out = np.empty(x.size)
        # integrate between sorted points and accumulate (one quad per gap)
        order = np.argsort(x)
        acc, prev = 0.0, 0.0
        for i in order:
            acc += integrate.quad(f, prev, x[i], limit=400)[0]
            prev = x[i]
            out[i] = acc / total
        return out

    return cdf


def test_spec_round_trip_and_validation():
    noise = MixedNorm(0.5, 2, 10)
    assert from_spec(noise.spec()) == noise
    for bad in [(0.5, -0.1, 3), (0.5, 3, 3), (-1.0, 1, 3)]:
        with pytest.raises(ValueError):
            MixedNorm(*bad)


def test_k_so_close_to_dim_that_the_law_leaves_its_table_is_refused():
    """With ``dim - k`` near 0 nearly all of ``||z||_inf / sigma`` lies below ``e^-60``,
    beyond the tabulated law (it failed inside scipy's spline); ``k <= dim - 0.5``, the
    bound the message gives, leaves below the grid at most ``MAX_MASS_BELOW_GRID``."""
    for dim, k in [(1, 0.999), (3, 2.9), (64, 63.9)]:
        with pytest.raises(ValueError, match=r"take k <= dim - 0.5"):
            MixedNorm(1.0, k, dim)
    from scipy import integrate

    for dim in (1, 2, 64, 3072):
        k = dim - 0.5
        max_law(k, dim)  # builds
        # P(M < e^-60) by scipy's quadrature of the density of t = log M, not the table's
        shift = MaxLaw.log_density_t_of(k, dim, np.linspace(-60.0, 4.5, 20001)).max()

        def density(t, k=k, dim=dim, shift=shift):
            return math.exp(float(MaxLaw.log_density_t_of(k, dim, np.array([t]))[0]) - shift)

        below = integrate.quad(density, -np.inf, -60.0)[0]
        rest = integrate.quad(density, -60.0, 4.5, limit=500)[0]
        rest += integrate.quad(density, 4.5, np.inf)[0]
        assert below / (below + rest) <= MAX_MASS_BELOW_GRID


def test_k0_is_the_gaussian_sample_for_sample():
    G = _draws(100, 12)
    assert torch.equal(MixedNorm(0.4, 0, 12).transform(G), Gaussian(0.4, 12).transform(G))


@pytest.mark.parametrize("dim,k", [(2, 1), (10, 5), (64, 32), (64, 63), (256, 250)])
def test_max_norm_ks_against_quadrature(dim, k):
    sigma = 0.3
    z = MixedNorm(sigma, k, dim).transform(_draws(3000, dim, seed=dim))
    M = (z.abs().amax(dim=1) / sigma).numpy()
    res = stats.kstest(M, reference_cdf(k, dim))
    assert res.pvalue > 1e-3


@pytest.mark.parametrize("dim,k", [(3, 2), (64, 40)])
def test_quantile_function_against_quadrature(dim, k):
    """The sampler's inverse CDF, at probabilities from 1e-12 to 1 - 1e-12, lands where the
    independently integrated CDF says (to 1e-7)."""
    law = max_law(k, dim)
    u = np.array([1e-12, 1e-6, 0.01, 0.3, 0.5, 0.7, 0.99])
    m = law.quantile_from_logs(np.log(u), np.log1p(-u))
    assert reference_cdf(k, dim)(m) == pytest.approx(u, rel=1e-7, abs=1e-12)
    s = np.array([1e-12, 1e-6])  # upper tail: 1 - u small
    m_hi = law.quantile_from_logs(np.log1p(-s), np.log(s))
    assert 1 - reference_cdf(k, dim)(m_hi) == pytest.approx(s, rel=1e-4)


@pytest.mark.parametrize("dim,k", [(3, 2), (64, 8), (64, 48)])
def test_the_stated_distance_of_the_max_law_bounds_its_cdf_error(dim, k):
    """Total variation bounds the Kolmogorov distance: at every quantile the spline gives,
    the independently integrated CDF is within ``tv_bound`` of the probability asked for,
    across both tails and the median where the two splines meet. The bound is far below
    the Monte Carlo error (not vacuous)."""
    law = max_law(k, dim)
    u = np.concatenate(
        [np.geomspace(1e-9, 0.3, 12), [0.49, 0.5, 0.51], 1 - np.geomspace(1e-6, 0.3, 8)]
    )
    m = law.quantile_from_logs(np.log(u), np.log1p(-u))
    error = np.abs(reference_cdf(k, dim)(m) - u)
    assert error.max() <= law.tv_bound < 1e-7
    noise = MixedNorm(0.25, k, dim)
    assert noise.law_distance() == noise.max_table().bound.tv_bound + law.tv_bound


def _spline_tv_by_partition(law: MaxLaw, parts: int = 8, order: int = 20) -> float:
    """A lower estimate of the total variation between the law of ``log M`` that the
    splines produce and the exact one, independent of ``tv_bound``'s integral: each
    spline cell cut in ``parts``; on a piece ``[x_j, x_j+1]`` of the lower spline the
    produced mass is that of ``log U``, ``e^x_j+1 - e^x_j`` (of ``-log(1 - U)`` above the
    median), the exact one the density integrated over ``[S(x_j), S(x_j+1)]`` by an
    ``order``-point Gauss-Legendre rule in ``t``, normalized by the sum over all pieces
    (not by the law's own constant). Half the sum of the differences."""
    x_nodes, w_nodes = np.polynomial.legendre.leggauss(order)
    pieces = []
    for spline, start, stop, mass in (
        (law._lower, law._lower.x[0], math.log(0.5), lambda a, b: np.exp(b) - np.exp(a)),
        (law._upper, math.log(2.0), law._upper.x[-1], lambda a, b: np.exp(-a) - np.exp(-b)),
    ):
        knots = np.concatenate([[start], spline.x[(spline.x > start) & (spline.x < stop)], [stop]])
        edges = np.concatenate(
            [np.linspace(a, b, parts + 1)[:-1] for a, b in zip(knots[:-1], knots[1:], strict=True)]
            + [[stop]]
        )
        t = spline(edges)
        mid, half = (t[1:] + t[:-1]) / 2, (t[1:] - t[:-1]) / 2
        points = mid[:, None] + half[:, None] * x_nodes
        log_exact = special.logsumexp(
            law.log_density_t(points) + np.log(half[:, None] * w_nodes), axis=1
        )
        pieces.append((mass(edges[:-1], edges[1:]), log_exact))
    top = max(float(e.max()) for _, e in pieces)
    total = sum(float(np.exp(e - top).sum()) for _, e in pieces)
    return 0.5 * sum(float(np.abs(m - np.exp(e - top) / total).sum()) for m, e in pieces)


@pytest.mark.parametrize("dim,k", [(3, 2), (64, 8), (64, 48), (3072, 384)])
def test_the_splines_stated_distance_is_the_distance_found_by_partition_within_three(dim, k):
    """``MaxLaw.tv_bound`` (twice its integral, plus the clipped ends and the gap at the
    median) lies between the distance a partition finds and three times it (it is 2.05
    times it): it holds, and a bound that dropped the upper spline's integral, or took a
    hundredth of it, would fail on these shapes."""
    law = MaxLaw(float(k), dim)
    found = _spline_tv_by_partition(law)
    assert found <= law.tv_bound <= 3.0 * found, (found, law.tv_bound)


@pytest.fixture(params=["moved only", "every coordinate"])
def path(request, monkeypatch):
    """Both ways the transform computes: gathering the coordinates above ``m`` (the CPU's
    way when few move) and mapping every coordinate (a GPU's way, and the CPU's when many
    move), each forced here whatever the share."""
    share = 1.0 if request.param == "moved only" else -1.0
    monkeypatch.setattr(mixed_norm, "SPARSE_SHARE", share)
    return request.param


@pytest.mark.parametrize("dim,k", [(6, 4.0), (64, 8.0), (64, 48.0)])
def test_other_coordinates_are_truncated_normals(path, dim, k):
    """Given M = m, the other coordinates are i.i.d. N(0, 1) truncated to [-m, m]:
    (Phi(z_i) - Phi(-m)) / (1 - 2 Phi(-m)) is uniform; the extreme coordinate's sign is
    fair and its place uniform."""
    rows = 40000 // dim + 2000
    z = MixedNorm(1.0, k, dim).transform(_draws(rows, dim, seed=5)).numpy()
    arg = np.abs(z).argmax(axis=1)
    m = np.abs(z).max(axis=1)
    others = np.ones_like(z, dtype=bool)
    others[np.arange(len(z)), arg] = False
    tail = special.ndtr(-m)[:, None]
    u = ((special.ndtr(z) - tail) / (1 - 2 * tail))[others]
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    signs = np.sign(z[np.arange(len(z)), arg])
    assert abs(signs.mean()) < 4 / math.sqrt(len(z))
    counts = np.bincount(arg, minlength=dim)
    assert stats.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("dim,k", [(6, 4.0), (64, 8.0), (64, 60.0)])
def test_the_coupling_keeps_every_coordinate_at_most_m(path, dim, k):
    """``z_i = sigma G_i`` exactly wherever ``|G_i| <= m = ||z||_inf / sigma``; the others
    keep their sign and land in ``[0, m]``, the largest ``|G_i|`` at ``m`` itself, and those
    moved below it are themselves ``N(0, 1)`` truncated to ``[-m, m]`` (KS of their
    probability transform, as above); ``m`` never exceeds ``||G||_inf``; and the share of
    coordinates moved is the expected one (``moved_share``, integrated over the law of
    ``||G||_inf``) within Monte Carlo error."""
    sigma = 0.7
    G = _draws(8000, dim, seed=dim)
    z = MixedNorm(sigma, k, dim).transform(G)
    m = z.abs().amax(dim=1, keepdim=True) / sigma
    assert torch.all(m <= G.abs().amax(dim=1, keepdim=True))
    kept = G.abs() <= m
    assert torch.equal(z[kept], sigma * G[kept])
    moved = ~kept
    assert torch.all(z[moved].abs() <= sigma * m.expand_as(z)[moved] * (1 + 1e-12))
    assert torch.all((torch.sign(z) == torch.sign(G)) | (z == 0))
    top = G.abs().argmax(dim=1, keepdim=True)
    assert torch.allclose(z.gather(1, top).abs(), sigma * m, rtol=1e-15, atol=0)
    below = moved.clone().scatter_(1, top, False)
    tail = torch.special.ndtr(-m).expand_as(z)[below].numpy()
    u = (special.ndtr(z[below].numpy() / sigma) - tail) / (1 - 2 * tail)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    share = moved.double().mean(dim=1).numpy()
    error = share.std() / math.sqrt(share.size)
    assert abs(share.mean() - mixed_norm.moved_share(k, dim)) < 5 * error + 1e-9


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dim,k", [(6, 4.0), (64, 8.0), (784, 98.0)])
def test_both_ways_give_the_same_noise(monkeypatch, dim, k, dtype):
    """Gathering the moved coordinates and mapping every coordinate write the same values
    (to one rounding of the output), with and without an input added, in place too."""
    noise = MixedNorm(0.5, k, dim)
    G = DrawStream(3, 1, 1, dim, dtype=dtype).rows(0, 600)
    G[0, :2] = torch.tensor([8.57, -8.57], dtype=dtype)  # a tie at the extreme
    x = torch.rand(dim, dtype=dtype, generator=torch.Generator().manual_seed(1))
    results = []
    for share in (1.0, -1.0):
        monkeypatch.setattr(mixed_norm, "SPARSE_SHARE", share)
        in_place = G.clone()
        noise.transform(in_place, out=in_place)
        results.append((noise.transform(G), noise.perturb(x, G, torch.empty_like(G)), in_place))
    ulp = torch.finfo(dtype).eps
    for a, b in zip(*results, strict=True):
        assert torch.allclose(a, b, rtol=2 * ulp, atol=2 * ulp)
    assert torch.equal(results[0][0], results[0][2])


@given(
    dim=st.integers(1, 4000),
    share=st.floats(0.0, 1.0),
    q=st.floats(1e-6, 1 - 1e-6),
)
@settings(max_examples=40, deadline=None)
def test_the_law_of_m_lies_below_that_of_the_gaussian_max(dim, share, q):
    """The coupling's premise, ``F_k^{-1}(F_0(m_G)) <= m_G``: the exact map (the host
    quantile the table interpolates) never raises ``||G||_inf``, for any ``0 < k <= dim -
    0.5`` and any quantile of ``m_G``; and the law of ``M`` sits above ``F_0`` at that
    point by the independent quadrature of its density."""
    k = max(1e-3, share * (dim - 0.5))
    m_G = math.sqrt(2.0) * special.erfinv(q ** (1.0 / dim))
    m = max_law(k, dim).quantile_from_logs(*gaussian_max_logs(np.array([m_G]), dim))[0]
    assert m <= m_G * (1 + 1e-9)
    if dim <= 300:  # the quadrature is slow for large dim
        assert reference_cdf(k, dim)(m_G)[0] >= q - 1e-7


@pytest.mark.parametrize("dim,k", [(4, 3.5), (64, 32), (64, 48)])
def test_second_moment_and_matched(dim, k):
    """E||z||^2 = (dim - k) sigma^2: the closed form, the MaxLaw's own numerical integral and
    a Monte Carlo mean agree."""
    law = max_law(k, dim)
    assert law.second_moment == pytest.approx(dim - k, rel=1e-7)
    noise = MixedNorm.matched(0.25, dim, k=k)
    assert noise.second_moment() == pytest.approx(dim * 0.25**2, rel=1e-12)
    z = noise.transform(_draws(20000, dim, seed=2))
    r2 = (z * z).sum(1).numpy()
    assert abs(r2.mean() - dim * 0.25**2) < 5 * r2.std() / math.sqrt(r2.size)


def test_float32_in_place_and_log_prob():
    noise = MixedNorm(0.5, 3, 8)
    G = _draws(50, 8, dtype=torch.float32)
    expected = noise.transform(G.clone())
    assert expected.dtype == torch.float32
    buf = G.clone()
    noise.transform(buf, out=buf)
    assert torch.equal(buf, expected)
    z = _draws(5, 8)
    want = -3 * torch.log(z.abs().amax(1)) - (z * z).sum(1) / (2 * 0.25)
    assert torch.allclose(noise.log_prob(z), want, rtol=1e-12)
